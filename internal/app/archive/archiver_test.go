package archive

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/tenantpulse/tenantpulse/internal/analytics"
	"github.com/tenantpulse/tenantpulse/internal/archive/parquetfile"
	"github.com/tenantpulse/tenantpulse/internal/event"
	"github.com/tenantpulse/tenantpulse/internal/objstore"
	"github.com/tenantpulse/tenantpulse/internal/sim"
	"github.com/tenantpulse/tenantpulse/internal/stream"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

type fixture struct {
	store   *streamlog.Store
	objects objstore.Store
	dir     string
	layout  objstore.Layout
	records map[string]string   // stream/shard/seq -> "event" or "error"
	where   map[string][]string // stream/shard/seq -> the files holding it, by archived
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	store, err := streamlog.Open(streamlog.Options{Dir: t.TempDir(), MinFreeBytes: 1, Fsync: streamlog.FsyncInterval, FsyncInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	for _, name := range []string{event.StreamCompanies, event.StreamJobs} {
		if _, err := store.CreateStream(streamlog.StreamConfig{Name: name, ShardCount: 2}); err != nil {
			t.Fatal(err)
		}
	}
	objects, err := objstore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{store: store, objects: objects, dir: t.TempDir(), layout: objstore.Layout{Prefix: "tenantpulse-", Mode: "bucket"}, records: map[string]string{}}
}

// append writes data to stream, routed by key, and remembers it.
func (f *fixture) append(t *testing.T, streamName, key string, data []byte, kind string) {
	t.Helper()
	st, err := f.store.Stream(streamName)
	if err != nil {
		t.Fatal(err)
	}
	sh := st.ShardFor(streamlog.HashPartitionKey([]byte(key)))
	seqs := make([]streamlog.Seq, 1)
	if _, err := sh.Append([]streamlog.Entry{{PartitionKey: []byte(key), Data: data}}, seqs); err != nil {
		t.Fatal(err)
	}
	f.records[streamName+"/"+sh.ID()+"/"+seqs[0].String()] = kind
}

// feed appends n simulator events, a few records that are not events, and
// a few events written twice.
func (f *fixture) feed(t *testing.T, g *sim.Generator, n int) {
	for i := range n {
		data, info, ok := g.Next(nil)
		if !ok {
			t.Fatal("the simulator ran out")
		}
		f.append(t, info.Stream, info.TenantID, data, "event")
		if i%997 == 0 {
			f.append(t, info.Stream, info.TenantID, data, "event") // a producer's retry: two records
		}
		if i%1499 == 0 {
			f.append(t, event.StreamJobs, "junk", []byte(`{"not":"an event"}`), "error")
		}
	}
}

func (f *fixture) options() Options {
	return Options{Reader: stream.NewEmbedded(f.store), Store: f.objects, Layout: f.layout, Dir: f.dir,
		FileBytes: 32 << 10, FileAge: 20 * time.Millisecond}
}

// archived reads every file back and counts each record.
func (f *fixture) archived(t *testing.T) map[string]int {
	t.Helper()
	ctx := context.Background()
	count := map[string]int{}
	f.where = map[string][]string{}
	buckets, err := f.objects.Buckets(ctx, f.layout.Prefix)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range buckets {
		objs, err := f.objects.List(ctx, b, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			body, err := f.objects.Get(ctx, b, o.Key)
			if err != nil {
				t.Fatal(err)
			}
			_, errPrefix := f.layout.Errors()
			switch {
			case strings.Contains(o.Key, "events/"):
				rows, err := parquetfile.ReadEvents(body)
				if err != nil {
					t.Fatalf("%s/%s: %v", b, o.Key, err)
				}
				for _, r := range rows {
					if bucket, prefix := f.layout.Tenant(r.TenantID); bucket != b || !strings.HasPrefix(o.Key, prefix+"events/") {
						t.Errorf("%s/%s holds a row of tenant %s", b, o.Key, r.TenantID)
					}
					count[r.Stream+"/"+r.Shard+"/"+r.SequenceNumber]++
					f.where[r.Stream+"/"+r.Shard+"/"+r.SequenceNumber] = append(f.where[r.Stream+"/"+r.Shard+"/"+r.SequenceNumber], b+"/"+o.Key)
				}
			case strings.HasPrefix(o.Key, errPrefix+"errors/stream="):
				rows, err := parquetfile.ReadErrors(body)
				if err != nil {
					t.Fatalf("%s/%s: %v", b, o.Key, err)
				}
				for _, r := range rows {
					count[r.Stream+"/"+r.Shard+"/"+r.SequenceNumber]++
					if r.ErrorCode == "" || r.ErrorMessage == "" || r.AttemptsMade != 1 || r.RawData == "" {
						t.Errorf("error row %+v lacks Firehose's fields", r)
					}
				}
			}
		}
	}
	return count
}

func (f *fixture) check(t *testing.T, count map[string]int) {
	t.Helper()
	lost, twice := 0, 0
	var example string
	for k := range f.records {
		switch count[k] {
		case 0:
			lost++
			example = "; " + k + " is in no file"
		case 1:
		default:
			twice++
			example = fmt.Sprintf("; %s is in %q", k, f.where[k])
		}
	}
	if lost+twice > 0 || len(count) != len(f.records) {
		t.Fatalf("%d records lost, %d stored twice, %d stored of %d%s", lost, twice, len(count), len(f.records), example)
	}
}

// waitRead waits until every shard has read its last record (or one crashed).
func (f *fixture) waitRead(t *testing.T, s *Service) {
	t.Helper()
	waitFor(t, "the archiver to read every record", func() bool { return f.allRead(s) })
}

// allRead reports whether every shard has read its last record, or one
// crashed.
func (f *fixture) allRead(s *Service) bool {
	last := map[string]string{}
	for k := range f.records {
		i := strings.LastIndexByte(k, '/')
		if sh, seq := k[:i], k[i+1:]; seqLess(last[sh], seq) {
			last[sh] = seq
		}
	}
	s.mu.RLock()
	shards := s.shards
	s.mu.RUnlock()
	for _, a := range shards {
		if a.crashed.Load() {
			return true
		}
		want := last[a.stream+"/"+a.shard]
		if p := a.readPos.Load(); want != "" && *p != want {
			return false
		}
	}
	return true
}

// waitFor polls cond until it holds, failing the test after 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestArchiveEveryRecordOnce(t *testing.T) {
	f := newFixture(t)
	g := sim.New(sim.Config{Seed: 3, Tenants: 20, Start: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)})
	f.feed(t, g, 20000)
	s, err := New(context.Background(), f.options())
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	f.waitRead(t, s)
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	f.check(t, f.archived(t))
	// Started again, it reads on after its checkpoints: one new record is
	// all it reads, and one file all it stores.
	files := s.Stats().Files.Load()
	s2, err := New(context.Background(), f.options())
	if err != nil {
		t.Fatal(err)
	}
	s2.Start()
	f.append(t, event.StreamJobs, "junk", []byte(`{"not":"an event"}`), "error")
	f.waitRead(t, s2)
	if err := s2.Stop(); err != nil {
		t.Fatal(err)
	}
	if n, read := s2.Stats().Files.Load(), s2.Stats().Records.Load(); n != 1 || read != 1 || files == 0 {
		t.Fatalf("a restart after a clean stop read %d records and stored %d files, want 1 and 1 (the first run stored %d)", read, n, files)
	}
	f.check(t, f.archived(t))
}

// The archiver stores into S3 (an S3-compatible server on 127.0.0.1), in
// both bucket modes, exactly as into a directory.
func TestArchiveToS3(t *testing.T) {
	for _, mode := range []string{objstore.ModeBucket, objstore.ModePrefix} {
		t.Run(mode, func(t *testing.T) {
			srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
			t.Cleanup(srv.Close)
			t.Setenv("AWS_ACCESS_KEY_ID", "test")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
			t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
			objects, err := objstore.NewS3(t.Context(), objstore.S3Options{Region: "us-east-1", Endpoint: srv.URL, PathStyle: true})
			if err != nil {
				t.Fatal(err)
			}
			f := newFixture(t)
			f.objects = objects
			f.layout.Mode = mode
			g := sim.New(sim.Config{Seed: 5, Tenants: 12, Start: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)})
			f.feed(t, g, 6000)
			s, err := New(context.Background(), f.options())
			if err != nil {
				t.Fatal(err)
			}
			s.Start()
			f.waitRead(t, s)
			if err := s.Stop(); err != nil {
				t.Fatal(err)
			}
			f.check(t, f.archived(t))
			buckets, err := objects.Buckets(t.Context(), "")
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]int{objstore.ModeBucket: 13, objstore.ModePrefix: 1}[mode]; len(buckets) != want {
				t.Fatalf("%d buckets %v, want %d", len(buckets), buckets, want)
			}
		})
	}
}

// Crashes at every step of storing a file, again and again, while more
// records arrive: each restart settles the file in flight and replays, and
// in the end every record is stored exactly once.
func TestArchiveCrashAtEveryStep(t *testing.T) {
	f := newFixture(t)
	g := sim.New(sim.Config{Seed: 4, Tenants: 15, Start: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)})
	rng := rand.New(rand.NewPCG(9, 9))
	steps := []string{"pending", "stored", "checkpointed"}
	crashes := 0
	for run := 0; run <= 30; run++ {
		last := run == 30 // the last run finishes
		if !last {
			f.feed(t, g, 600)
		}
		opts := f.options()
		var files atomic.Int64
		target := int64(1 + rng.IntN(3))
		step := steps[run%len(steps)]
		opts.crashAt = func(s string) bool {
			return !last && s == step && files.Add(1) == target
		}
		s, err := New(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		f.waitRead(t, s)
		crashed := false
		for _, a := range s.shards {
			crashed = crashed || a.crashed.Load()
		}
		if crashed {
			// The other shards die with the process: no clean stop.
			for _, a := range s.shards {
				a.crashed.Store(true)
			}
		}
		s.Stop() // flushes, and may crash doing it
		for _, a := range s.shards {
			crashed = crashed || a.crashed.Load()
		}
		if crashed {
			crashes++
		}
	}
	t.Logf("%d crashes", crashes)
	if crashes < 20 {
		t.Fatalf("only %d of 30 runs crashed", crashes)
	}
	f.check(t, f.archived(t))
}

func TestSeqLess(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{{"", "1", true}, {"1", "", false}, {"9", "10", true}, {"10", "9", false}, {"12", "13", true}, {"13", "13", false}} {
		if got := seqLess(c.a, c.b); got != c.want {
			t.Errorf("seqLess(%q, %q) = %v", c.a, c.b, got)
		}
	}
	_ = fmt.Sprint
}

// A metrics snapshot is one row per tenant in its bucket, under the day's
// partition, replaced by the next snapshot of the same day.
func TestSnapshots(t *testing.T) {
	f := newFixture(t)
	s, err := New(context.Background(), f.options())
	if err != nil {
		t.Fatal(err)
	}
	users := int64(3)
	risk := 0.25
	tenants := func(asOf time.Time) []analytics.Tenant {
		return []analytics.Tenant{{ID: "acme", Name: "Acme", Industry: "retail", Users: users, Jobs30d: 7, Jobs90d: 9,
			LastActivity: "2026-11-25T09:00:00.000Z", Risk: &analytics.Risk{Score: risk}}}
	}
	sn := &Snapshotter{s: s, tenants: tenants, buckets: map[string]bool{}}
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for _, u := range []int64{3, 5} {
		users = u
		if err := sn.Snapshot(context.Background(), now); err != nil {
			t.Fatal(err)
		}
	}
	bucket, _ := f.layout.Tenant("acme")
	body, err := f.objects.Get(context.Background(), bucket, "metrics/dt=2026-11-25/metrics.parquet")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := parquetfile.ReadMetrics(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].ID != "acme" || rows[0].Users != 5 || rows[0].Jobs30d != 7 || *rows[0].Name != "Acme" ||
		rows[0].Risk == nil || *rows[0].Risk != 0.25 || rows[0].LastActivity == nil || rows[0].Date != parquetfile.Date(now.UnixMilli()) {
		t.Fatalf("snapshot rows %+v", rows)
	}
}
