package stream_test

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/app/streams"
	"github.com/tenantpulse/tenantpulse/internal/stream"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// kinesisEnv is the Kinesis API over a fresh store, both on clk.
func kinesisEnv(t *testing.T, opts streams.Options) (*streamlog.Store, *clock, stream.Reader) {
	t.Helper()
	store, clk := openStore(t)
	opts.Store, opts.Now = store, clk.Now
	srv := httptest.NewServer(streams.New(opts))
	t.Cleanup(srv.Close)
	return store, clk, stream.NewKinesis(newClient(srv.URL))
}

func appendSeqs(t *testing.T, sh *streamlog.Shard, n int) []string {
	t.Helper()
	var out []string
	for len(out) < n {
		k := min(500, n-len(out))
		entries := make([]streamlog.Entry, k)
		for i := range entries {
			entries[i] = streamlog.Entry{PartitionKey: []byte("k"), Data: fmt.Appendf(nil, "record %d", len(out)+i)}
		}
		seqs := make([]streamlog.Seq, k)
		if _, err := sh.Append(entries, seqs); err != nil {
			t.Fatal(err)
		}
		for _, q := range seqs {
			out = append(out, q.String())
		}
	}
	return out
}

// readSeqs reads n records with batches of max, checking their order.
func readSeqs(t *testing.T, c stream.Cursor, want []string, max int) {
	t.Helper()
	got := 0
	for calls := 0; got < len(want); calls++ {
		if calls == 1000 {
			t.Fatalf("read %d of %d records in 1000 calls", got, len(want))
		}
		b, err := c.Next(t.Context(), max, time.Second)
		if err != nil {
			t.Fatalf("Next after %d records: %v", got, err)
		}
		for _, r := range b.Records {
			if r.Seq != want[got] {
				t.Fatalf("record %d: seq %s, want %s", got, r.Seq, want[got])
			}
			got++
		}
	}
}

// TestKinesisThrottled reads under AWS's per-shard quotas (5 GetRecords a
// second): the cursor backs off instead of failing.
func TestKinesisThrottled(t *testing.T) {
	store, _, r := kinesisEnv(t, streams.Options{ShardLimits: "aws"})
	st, err := store.CreateStream(streamlog.StreamConfig{Name: "s", ShardCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := appendSeqs(t, st.Shards()[0], 1200)
	c, err := r.Open(t.Context(), "s", st.Shards()[0].ID(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	readSeqs(t, c, want, 100) // 12 calls: more than 2 seconds' quota
}

// TestKinesisExpiredIterator lets the cursor's iterator expire between two
// Nexts: it resumes right after the last record returned.
func TestKinesisExpiredIterator(t *testing.T) {
	store, clk, r := kinesisEnv(t, streams.Options{})
	st, err := store.CreateStream(streamlog.StreamConfig{Name: "s", ShardCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := appendSeqs(t, st.Shards()[0], 30)
	for _, after := range []string{"", want[3]} {
		c, err := r.Open(t.Context(), "s", st.Shards()[0].ID(), after)
		if err != nil {
			t.Fatal(err)
		}
		w := want
		if after != "" {
			w = want[4:]
		}
		clk.Advance(6 * time.Minute) // the iterator from Open expires
		readSeqs(t, c, w[:10], 10)
		clk.Advance(6 * time.Minute) // and the one from GetRecords
		readSeqs(t, c, w[10:], 10)
		c.Close()
	}
}
