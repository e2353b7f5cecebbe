package stream_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/tenantpulse/tenantpulse/internal/stream"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// A consumer reads a shard from its oldest record, remembers the sequence
// number of the last record it processed, and later resumes right after it.
func Example() {
	dir, _ := os.MkdirTemp("", "stream-example")
	defer os.RemoveAll(dir)
	store, _ := streamlog.Open(streamlog.Options{Dir: dir, MinFreeBytes: 1})
	defer store.Close()
	st, _ := store.CreateStream(streamlog.StreamConfig{Name: "jobs", ShardCount: 1})
	st.Shards()[0].Append([]streamlog.Entry{
		{PartitionKey: []byte("tenant-1"), Data: []byte("job.submitted")},
		{PartitionKey: []byte("tenant-1"), Data: []byte("job.terminated")},
		{PartitionKey: []byte("tenant-2"), Data: []byte("job.cancelled")},
	}, make([]streamlog.Seq, 3))

	ctx := context.Background()
	r := stream.NewEmbedded(store)
	d, _ := r.Describe(ctx, "jobs")
	shards := d.Shards
	c, _ := r.Open(ctx, "jobs", shards[0], "") // TRIM_HORIZON
	b, _ := c.Next(ctx, 2, 0)
	var checkpoint string
	for _, rec := range b.Records {
		fmt.Printf("%s %s\n", rec.PartitionKey, rec.Data)
		checkpoint = strings.Clone(rec.Seq) // Seq is valid only until the next Next
	}
	c.Close()

	c, _ = r.Open(ctx, "jobs", shards[0], checkpoint)
	defer c.Close()
	b, _ = c.Next(ctx, 10, 0)
	for _, rec := range b.Records {
		fmt.Printf("resumed: %s %s\n", rec.PartitionKey, rec.Data)
	}
	// Output:
	// tenant-1 job.submitted
	// tenant-1 job.terminated
	// resumed: tenant-2 job.cancelled
}
