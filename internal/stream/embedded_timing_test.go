package stream_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tenantpulse/tenantpulse/internal/stream"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// BenchmarkEmbeddedRead reads ~250-byte events from one shard through an
// embedded cursor, 10,000 records a Next (the analytics processor's
// batch), starting over at the end of the shard. One op is one record.
func BenchmarkEmbeddedRead(b *testing.B) {
	const records, size = 200_000, 250
	store, err := streamlog.Open(streamlog.Options{Dir: b.TempDir(), MinFreeBytes: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	st, err := store.CreateStream(streamlog.StreamConfig{Name: "bench", ShardCount: 1})
	if err != nil {
		b.Fatal(err)
	}
	sh := st.Shards()[0]
	entries := make([]streamlog.Entry, 1000)
	seqs := make([]streamlog.Seq, len(entries))
	for i := 0; i < records; i += len(entries) {
		for j := range entries {
			pk := fmt.Appendf(nil, "tenant-%04d", (i+j)%1000)
			data := fmt.Appendf(make([]byte, 0, size), `{"specversion":"1.0","type":"user.login","source":"bench","id":"%d","tenantid":"%s"}`, i+j, pk)
			for len(data) < size {
				data = append(data, ' ')
			}
			entries[j] = streamlog.Entry{PartitionKey: pk, Data: data}
		}
		if _, err := sh.Append(entries, seqs); err != nil {
			b.Fatal(err)
		}
	}
	r := stream.NewEmbedded(store)
	ctx := context.Background()
	open := func() stream.Cursor {
		c, err := r.Open(ctx, "bench", sh.ID(), "")
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	c := open()
	var sum int
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; {
		batch, err := c.Next(ctx, min(10000, b.N-n), 0)
		if err != nil {
			b.Fatal(err)
		}
		if len(batch.Records) == 0 {
			c.Close()
			c = open()
			continue
		}
		for i := range batch.Records {
			sum += len(batch.Records[i].Data) + len(batch.Records[i].Seq)
		}
		n += len(batch.Records)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if sum == 0 {
		b.Fatal("read nothing")
	}
}

// TestEmbeddedSteadyStateAllocs checks that a warmed-up embedded cursor
// allocates nothing per record: what a Next allocates (streamlog's
// snapshot of the segment list) does not grow with the batch.
func TestEmbeddedSteadyStateAllocs(t *testing.T) {
	store, _ := openStore(t)
	st, err := store.CreateStream(streamlog.StreamConfig{Name: "s", ShardCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	sh := st.Shards()[0]
	entries := make([]streamlog.Entry, 1000)
	for i := range entries {
		entries[i] = streamlog.Entry{PartitionKey: []byte("tenant"), Data: make([]byte, 250)}
	}
	seqs := make([]streamlog.Seq, len(entries))
	for range 120 {
		if _, err := sh.Append(entries, seqs); err != nil {
			t.Fatal(err)
		}
	}
	c, err := stream.NewEmbedded(store).Open(t.Context(), "s", sh.ID(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const batch = 1000
	read := func() {
		b, err := c.Next(t.Context(), batch, 0)
		if err != nil || len(b.Records) != batch {
			t.Fatalf("Next: %d records, %v; want %d", len(b.Records), err, batch)
		}
	}
	read() // warm up: buffers
	if allocs := testing.AllocsPerRun(100, read); allocs > 2 {
		t.Errorf("a Next of %d records allocates %.1f times, want at most 2", batch, allocs)
	}
}
