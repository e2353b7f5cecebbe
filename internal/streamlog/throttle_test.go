package streamlog

import (
	"errors"
	"testing"
	"time"
)

// When writes cannot keep up, Enqueue refuses with ErrThrottled and stores
// nothing of the refused write; reads keep working.
func TestThrottledWhenWritesCannotKeepUp(t *testing.T) {
	s := openTest(t, t.TempDir(), func(o *Options) { o.MaxPendingBytes = 1 })
	defer s.Close()
	st, _ := s.CreateStream(StreamConfig{Name: "t", ShardCount: 1})
	sh := st.Shards()[0]
	seq := make([]Seq, 1)
	if _, err := sh.Append([]Entry{{PartitionKey: []byte("k"), Data: []byte("first")}}, seq); err != nil {
		t.Fatal(err)
	}
	// Stall the disk: the committer cannot write while wmu is held.
	sh.wmu.Lock()
	c1, _, err := sh.Enqueue([]Entry{{PartitionKey: []byte("k"), Data: []byte("a")}}, seq)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { sh.mu.Lock(); defer sh.mu.Unlock(); return sh.pending == nil })
	c2, _, err := sh.Enqueue([]Entry{{PartitionKey: []byte("k"), Data: []byte("b")}}, seq)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := sh.Enqueue([]Entry{{PartitionKey: []byte("k"), Data: []byte("refused")}}, seq); !errors.Is(err, ErrThrottled) {
		t.Fatalf("third enqueue while the disk is stalled: %v, want ErrThrottled", err)
	}
	if got := readAll(t, sh, 0); len(got) != 1 || string(got[0].Data) != "first" {
		t.Fatalf("reads while stalled: %d records", len(got))
	}
	sh.wmu.Unlock()
	if c1.Wait() != nil || c2.Wait() != nil {
		t.Fatal("queued writes failed")
	}
	got := readAll(t, sh, 0)
	if len(got) != 3 || string(got[2].Data) != "b" {
		t.Fatalf("after the stall: %d records, want first, a, b", len(got))
	}
}

// With less free disk than MinFreeBytes, writes are refused retriably and
// reads keep working.
func TestThrottledWhenDiskIsLow(t *testing.T) {
	s := openTest(t, t.TempDir(), nil)
	defer s.Close()
	st, _ := s.CreateStream(StreamConfig{Name: "d", ShardCount: 1})
	sh := st.Shards()[0]
	seq := make([]Seq, 1)
	if _, err := sh.Append([]Entry{{PartitionKey: []byte("k"), Data: []byte("x")}}, seq); err != nil {
		t.Fatal(err)
	}
	s.opts.MinFreeBytes = 1 << 62 // more than any disk has
	s.checkDisk()
	if _, err := sh.Append([]Entry{{PartitionKey: []byte("k"), Data: []byte("y")}}, seq); !errors.Is(err, ErrThrottled) {
		t.Fatalf("append with a full disk: %v, want ErrThrottled", err)
	}
	if got := readAll(t, sh, 0); len(got) != 1 {
		t.Fatalf("read %d records with a full disk, want 1", len(got))
	}
	s.opts.MinFreeBytes = 1
	s.checkDisk()
	if _, err := sh.Append([]Entry{{PartitionKey: []byte("k"), Data: []byte("z")}}, seq); err != nil {
		t.Fatalf("append after space came back: %v", err)
	}
	if seq[0].Offset != 1 {
		t.Fatalf("offset after the refused write is %d, want 1 (nothing half written)", seq[0].Offset)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
