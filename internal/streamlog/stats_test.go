package streamlog

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestShardStats(t *testing.T) {
	dir := t.TempDir()
	var nowMs atomic.Int64
	nowMs.Store(time.Date(2026, 11, 25, 10, 0, 0, 500e6, time.UTC).UnixMilli())
	clock := func(o *Options) { o.Now = func() time.Time { return time.UnixMilli(nowMs.Load()) } }
	s := openTest(t, dir, clock)
	st, err := s.CreateStream(StreamConfig{Name: "jobs", ShardCount: 2})
	if err != nil {
		t.Fatal(err)
	}
	sh, idle := st.Shards()[0], st.Shards()[1]
	if got := sh.Stats(); got != (ShardStats{}) {
		t.Fatalf("stats of a new shard: %+v", got)
	}

	seqs := make([]Seq, 3)
	if _, err := sh.Append([]Entry{{[]byte("a"), []byte("12345")}, {[]byte("bb"), nil}, {[]byte("c"), []byte("xyz")}}, seqs); err != nil {
		t.Fatal(err)
	}
	nowMs.Add(20_000)
	c, _, err := sh.Enqueue([]Entry{{[]byte("dd"), []byte("0123456789")}}, seqs[:1])
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Wait(); err != nil {
		t.Fatal(err)
	}
	last := seqs[0]

	f := func(what string, got ShardStats, records, bytes uint64, perSec float64) {
		t.Helper()
		if got.Records != records || got.Bytes != bytes || !got.HasLastSeq || got.LastSeq != last {
			t.Errorf("%s: records %d, bytes %d, last %v (%v); want %d, %d, %v", what, got.Records, got.Bytes, got.LastSeq, got.HasLastSeq, records, bytes, last)
		}
		if got.RecordsPerSecond != perSec {
			t.Errorf("%s: %v records/s, want %v", what, got.RecordsPerSecond, perSec)
		}
	}
	// a=1+5, bb=2, c=1+3, dd=2+10.
	f("after the writes", sh.Stats(), 4, 24, 4.0/60)
	nowMs.Add(40_000) // the first three arrived 60 s ago: out of the window
	f("60 s after the first writes", sh.Stats(), 4, 24, 1.0/60)
	if got := sh.Stats().BytesPerSecond; got != 12.0/60 {
		t.Errorf("%v bytes/s, want %v", got, 12.0/60)
	}
	nowMs.Add(20_000)
	f("60 s after the last write", sh.Stats(), 4, 24, 0)
	if got := idle.Stats(); got != (ShardStats{}) {
		t.Errorf("stats of a shard never written: %+v", got)
	}

	// After a restart the counters start again; the last sequence number
	// is still known.
	s.Close()
	s = openTest(t, dir, clock)
	defer s.Close()
	st, err = s.Stream("jobs")
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Shards()[0].Stats(); got != (ShardStats{LastSeq: last, HasLastSeq: true}) {
		t.Errorf("stats after a restart: %+v, want only the last sequence number %v", got, last)
	}
	sh = st.Shards()[0]
	if _, err := sh.Append([]Entry{{[]byte("e"), []byte("z")}}, seqs[:1]); err != nil {
		t.Fatal(err)
	}
	if got := sh.Stats(); got.Records != 1 || got.Bytes != 2 || got.LastSeq != seqs[0] || got.LastSeq.Gen <= last.Gen {
		t.Errorf("stats after a write following a restart: %+v (wrote %v)", got, seqs[0])
	}
}
