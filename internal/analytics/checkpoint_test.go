package analytics

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/fsutil"
)

// randomEvents returns n events of every type for a few tenants, in
// roughly increasing time, with some duplicates, late, future (a century
// ahead) and invalid records. Their times run ahead of a second per event:
// send them with ckOpts' max-future.
func randomEvents(seed uint64, n int, start time.Time) []string {
	rng := rand.New(rand.NewPCG(seed, 7))
	var out []string
	at := start
	for i := range n {
		at = at.Add(time.Duration(rng.IntN(600)) * time.Second)
		tn := fmt.Sprintf("t%d", rng.IntN(7))
		u := fmt.Sprintf("u%d", rng.IntN(5))
		s := fmt.Sprintf("s%d", rng.IntN(9))
		j := fmt.Sprintf("j%d", rng.IntN(30))
		when := at
		if rng.IntN(20) == 0 {
			when = at.Add(-time.Duration(rng.IntN(200)) * time.Hour) // late
		} else if rng.IntN(60) == 0 {
			when = at.AddDate(100, 0, 0) // a dead letter: past any max-future
		}
		var e string
		switch rng.IntN(12) {
		case 0:
			e = created(tn, when, float64(100+rng.IntN(5)*50))
		case 1:
			e = ev("tenant.updated", tn, when, fmt.Sprintf(`{"monthlyFee":%d,"sentiment":"neutral"}`, 100+rng.IntN(9)*10))
		case 2:
			e = ev("user.added", tn, when, fmt.Sprintf(`{"userId":%q}`, u))
		case 3:
			e = ev("user.deleted", tn, when, fmt.Sprintf(`{"userId":%q}`, u))
		case 4, 5:
			e = ev("user.login", tn, when, fmt.Sprintf(`{"userId":%q,"sessionId":%q}`, u, s))
		case 6:
			e = ev("user.logoff", tn, when, fmt.Sprintf(`{"userId":%q,"sessionId":%q}`, u, s))
		case 7:
			e = ev("user.session_timeout", tn, when, fmt.Sprintf(`{"userId":%q,"sessionId":%q}`, u, s))
		case 8, 9:
			e = submitted(tn, when, j)
		case 10:
			e = ev("job.terminated", tn, when, fmt.Sprintf(`{"jobId":%q,"status":"failed","durationMs":3}`, j))
		case 11:
			e = ev("job.cancelled", tn, when, fmt.Sprintf(`{"jobId":%q,"userId":%q}`, j, u))
		}
		if i > 0 && rng.IntN(25) == 0 {
			e = out[rng.IntN(len(out))] // a repeat
		}
		if rng.IntN(100) == 0 {
			e = `{"specversion":"1.0","bad":true}`
		}
		out = append(out, e)
	}
	return out
}

// ckOpts keep the events of randomEvents (dated up to 600 s apart, sent a
// second apart) within max-future but for the century-ahead ones.
var ckOpts = Options{DeadLetterKeep: 10, MaxFuture: 10 * 365 * 24 * time.Hour}

func TestCheckpointRoundTrip(t *testing.T) {
	start := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	evs := randomEvents(1, 4000, start)
	ts := NewTester(ckOpts)
	for i, e := range evs[:3000] {
		ts.Send(start.Add(time.Duration(i)*time.Second), e)
	}
	for _, s := range []*ShardState{ts.Companies, ts.Jobs} {
		ck := s.Checkpoint()
		r, err := RestoreShardState(ck, ckOpts)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(r.Checkpoint(), ck) {
			t.Fatalf("%s: a restored state checkpoints differently", s.Stream)
		}
		if r.Position != s.Position || r.Counts != s.Counts || r.Watermark != s.Watermark {
			t.Fatalf("%s: restored %s %+v %d, want %s %+v %d", s.Stream, r.Position, r.Counts, r.Watermark, s.Position, s.Counts, s.Watermark)
		}
	}
	// Restore both, apply the rest to the original and the restored: same
	// views, same checkpoints (the dedupe window came along too).
	rc, _ := RestoreShardState(ts.Companies.Checkpoint(), ckOpts)
	rj, _ := RestoreShardState(ts.Jobs.Checkpoint(), ckOpts)
	ts2 := &Tester{Companies: rc, Jobs: rj, seq: ts.seq}
	for i, e := range evs[3000:] {
		at := start.Add(time.Duration(3000+i) * time.Second)
		a, b := ts.Send(at, e), ts2.Send(at, e)
		if a[0] != b[0] {
			t.Fatalf("event %d: outcome %d before, %d after restoring", 3000+i, a[0], b[0])
		}
	}
	asOf := start.Add(60 * 24 * time.Hour)
	if a, b := ts.Tenants(asOf), ts2.Tenants(asOf); !reflect.DeepEqual(a, b) {
		t.Fatal("the restored state's views differ")
	}
	if !bytes.Equal(ts.Jobs.Checkpoint(), ts2.Jobs.Checkpoint()) || !bytes.Equal(ts.Companies.Checkpoint(), ts2.Companies.Checkpoint()) {
		t.Fatal("the restored state's checkpoints differ after the same events")
	}
	if c := ts.Jobs.Counts; c.Duplicates == 0 || c.Late == 0 || c.Future == 0 || ts.Companies.Counts.Invalid == 0 {
		t.Fatalf("the events lacked duplicates, late, future or invalid records: %+v %+v", ts.Jobs.Counts, ts.Companies.Counts)
	}
}

func TestCheckpointCorrupt(t *testing.T) {
	ts := NewTester(ckOpts)
	ts.Send(t0, randomEvents(2, 200, t0)...)
	ck := ts.Jobs.Checkpoint()
	for _, b := range [][]byte{nil, ck[:len(ck)-1], append(bytes.Clone(ck[:20]), 0xff)} {
		if _, err := RestoreShardState(b, Options{}); !errors.Is(err, ErrCorruptCheckpoint) {
			t.Errorf("restore of %d bytes: %v", len(b), err)
		}
	}
}

func FuzzRestoreShardState(f *testing.F) {
	ts := NewTester(ckOpts)
	ts.Send(t0, randomEvents(3, 100, t0)...)
	small := Options{DedupeMaxBytes: 1 << 16} // cheap to allocate per run
	// The fuzzer writes payloads; framing them here gets past the CRC.
	v1, err := os.ReadFile("testdata/checkpoint-v1.bin")
	if err != nil {
		f.Fatal(err)
	}
	for _, ck := range [][]byte{ts.Jobs.Checkpoint(), ts.Companies.Checkpoint(), v1} {
		version, payload, err := fsutil.Unframe(checkpointMagic, ck)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(version == 1, payload)
	}
	f.Fuzz(func(t *testing.T, v1 bool, payload []byte) {
		version := uint8(checkpointVersion)
		if v1 {
			version = 1
		}
		s, err := RestoreShardState(fsutil.Frame(checkpointMagic, version, payload), small)
		if err != nil {
			if !errors.Is(err, ErrCorruptCheckpoint) {
				t.Fatalf("error %v is not ErrCorruptCheckpoint", err)
			}
			return
		}
		ck := s.Checkpoint()
		s2, err := RestoreShardState(ck, small)
		if err != nil || !bytes.Equal(s2.Checkpoint(), ck) {
			t.Fatalf("re-encoding is not stable: %v", err)
		}
	})
}

// A checkpoint of version 1 (testdata/checkpoint-v1.bin, written by the
// build before max-future: a jobs shard with jobs of tenant a at t0 and
// t0-2d, and tenant b's job at t0-10d dead-lettered as too late) still
// restores; its too-late count and dead letter are kept, and it is
// written again as the current version.
func TestCheckpointVersion1(t *testing.T) {
	b, err := os.ReadFile("testdata/checkpoint-v1.bin")
	if err != nil {
		t.Fatal(err)
	}
	if v, _, err := fsutil.Unframe(checkpointMagic, b); err != nil || v != 1 {
		t.Fatalf("the test file is version %d (%v), want 1", v, err)
	}
	s, err := RestoreShardState(b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := Counts{Records: 3, Events: 2, Late: 1, TooLate: 1}
	if s.Counts != want || fmtTime(s.Watermark) != "2026-11-25T12:00:00.000Z" {
		t.Fatalf("counts %+v watermark %s, want %+v at t0", s.Counts, fmtTime(s.Watermark), want)
	}
	if dl := s.DeadLetters(nil); len(dl) != 1 || !strings.HasPrefix(dl[0].Reason, "late:") || dl[0].TenantID != "b" {
		t.Fatalf("dead letters %+v", dl)
	}
	var tn Tenant
	if !s.FillTenant("a", &tn, nil, nil, t0) || tn.JobsSubmitted != 2 || tn.Jobs30d != 2 {
		t.Fatalf("tenant a: %+v", tn)
	}
	// Tenant b's job counts when sent again: nothing is too late now.
	if out := s.Apply([]byte(submitted("b", t0.Add(-10*24*time.Hour), "j3b")), t0.UnixMilli(), "4"); out != Applied {
		t.Fatalf("a late event after restoring version 1: outcome %d", out)
	}
	ck := s.Checkpoint()
	if v, _, _ := fsutil.Unframe(checkpointMagic, ck); v != checkpointVersion {
		t.Fatalf("written as version %d, want %d", v, checkpointVersion)
	}
	r, err := RestoreShardState(ck, Options{})
	if err != nil || r.Counts != s.Counts || r.Counts.DeadLetters() != 1 {
		t.Fatalf("restored %+v (%v), want %+v", r.Counts, err, s.Counts)
	}
}
