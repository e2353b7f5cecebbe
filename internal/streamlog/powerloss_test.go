package streamlog

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/tenantpulse/tenantpulse/internal/vfs/vfstest"
)

// TestPowerLossKeepsAcknowledgedRecords appends from several goroutines
// with fsync always over a file system that keeps only what was synced,
// loses power at a random operation (inside a write, a sync, a segment
// roll, an index write ...), boots from what was durable and checks that
// the store opens and every acknowledged record is there, once, with its
// data. kill -9 keeps the page cache, so only this shows a missing fsync.
func TestPowerLossKeepsAcknowledgedRecords(t *testing.T) {
	iterations := 150
	if testing.Short() {
		iterations = 40
	}
	for i := range iterations {
		rnd := rand.New(rand.NewPCG(14, uint64(i)))
		powerLossRound(t, i, rnd)
	}
}

type ackedRecord struct {
	shard int
	seq   Seq
	data  string
}

func powerLossRound(t *testing.T, round int, rnd *rand.Rand) {
	t.Helper()
	fsys := vfstest.New()
	if round%3 != 0 { // else Open creates the data directory
		if err := fsys.MkdirAll("/data", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := fsys.SyncDir("/"); err != nil {
			t.Fatal(err)
		}
	}
	opts := func(f *vfstest.FS) Options {
		o := Options{Dir: "/data", FS: f, MinFreeBytes: 1, SegmentBytes: int64(2<<10 + rnd.IntN(8<<10))}
		if rnd.IntN(2) == 0 {
			o.PreallocBytes = -1
		}
		return o
	}
	s, err := Open(opts(fsys))
	if err != nil {
		t.Fatalf("round %d: Open: %v", round, err)
	}
	st, err := s.CreateStream(StreamConfig{Name: "jobs", ShardCount: 2})
	if err != nil {
		t.Fatalf("round %d: CreateStream: %v", round, err)
	}
	// The power goes at a random mutating operation from now on (some
	// rounds run to the end and lose it after the last acknowledgement).
	fsys.PowerLossAfter(1 + rnd.IntN(400))
	if round%2 == 1 {
		// Unsynced renames and creates may survive too (in these rounds).
		fsys.KeepUnsyncedEntries(rand.New(rand.NewPCG(uint64(round), 1)))
	}

	var mu sync.Mutex
	var acked []ackedRecord
	var wg sync.WaitGroup
	const writers, perWriter = 4, 60
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sh := st.Shards()[w%2]
			for j := 0; j < perWriter; j++ {
				n := 1 + j%3
				entries := make([]Entry, n)
				seqs := make([]Seq, n)
				for k := range entries {
					entries[k] = Entry{PartitionKey: []byte("k"), Data: fmt.Appendf(nil, "w%d-%d-%d-%s", w, j, k, bytes.Repeat([]byte{'x'}, (j*7+k)%90))}
				}
				if _, err := sh.Append(entries, seqs); err != nil {
					return // power is gone (or the shard refused after a failed write)
				}
				mu.Lock()
				for k := range entries {
					acked = append(acked, ackedRecord{shard: sh.Index(), seq: seqs[k], data: string(entries[k].Data)})
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	s.Close() // on a dead file system every write fails; it must not hang or panic
	after := fsys.Crash()

	s2, err := Open(opts(after))
	if err != nil {
		t.Fatalf("round %d: the store does not open after the power loss: %v", round, err)
	}
	defer s2.Close()
	st2, err := s2.Stream("jobs")
	if err != nil {
		t.Fatalf("round %d: the stream is gone after the power loss: %v", round, err)
	}
	got := map[Seq]string{}
	for _, sh := range st2.Shards() {
		for _, r := range readAll(t, sh, 0) {
			q := Seq{Gen: r.Gen, Shard: uint32(sh.Index()), Offset: r.Offset}
			if _, dup := got[q]; dup {
				t.Fatalf("round %d: record %s read twice", round, q)
			}
			got[q] = string(r.Data)
		}
	}
	for _, a := range acked {
		d, ok := got[a.seq]
		if !ok {
			t.Fatalf("round %d: acknowledged record %s (shard %d, %q) is lost after the power loss; %d of %d acknowledged records survive",
				round, a.seq, a.shard, a.data, countSurvivors(acked, got), len(acked))
		}
		if d != a.data {
			t.Fatalf("round %d: record %s holds %q, want %q", round, a.seq, d, a.data)
		}
	}
}

func countSurvivors(acked []ackedRecord, got map[Seq]string) int {
	n := 0
	for _, a := range acked {
		if _, ok := got[a.seq]; ok {
			n++
		}
	}
	return n
}
