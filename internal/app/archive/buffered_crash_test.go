package archive

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/event"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// A crash right after one partition's file is stored and checkpointed,
// while another partition of the same shard still buffers records that
// are in no file: the checkpointed position must stay before those
// records, so the restart reads them again and archives each once.
func TestArchiveCrashWithRecordsBuffered(t *testing.T) {
	f := newFixture(t)
	st, err := f.store.Stream(event.StreamJobs)
	if err != nil {
		t.Fatal(err)
	}
	// Two tenants on the same shard.
	shardOf := func(tenant string) string {
		return st.ShardFor(streamlog.HashPartitionKey([]byte(tenant))).ID()
	}
	quiet, busy := "quiet-tenant", ""
	for i := 0; busy == ""; i++ {
		if c := fmt.Sprint("busy-", i); shardOf(c) == shardOf(quiet) {
			busy = c
		}
	}
	job := func(tenant string, i int) []byte {
		return fmt.Appendf(nil, `{"specversion":"1.0","id":"%s-%d","source":"test","type":"job.submitted","time":"2026-11-25T09:00:00.000Z","tenantid":"%s","data":{"jobId":"j%d","userId":"u1","dataSize":%d}}`,
			tenant, i, tenant, i, i)
	}
	// The quiet tenant's few records come first, then enough of the busy
	// tenant's to fill a file.
	for i := range 5 {
		f.append(t, event.StreamJobs, quiet, job(quiet, i), "event")
	}
	for i := range 60 {
		f.append(t, event.StreamJobs, busy, job(busy, i), "event")
	}

	// Every record readable before the archiver starts (the store syncs on
	// an interval), so that it finds the quiet tenant's first.
	sh := st.ShardFor(streamlog.HashPartitionKey([]byte(quiet)))
	waitFor(t, "the records to be readable", func() bool { return sh.End() == 65 })

	opts := f.options()
	opts.FileBytes = 4 << 10 // the busy tenant's 60 records fill a file
	opts.FileAge = time.Hour // the quiet tenant's buffer stays open
	var crashes atomic.Int32
	opts.crashAt = func(step string) bool {
		return step == "checkpointed" && crashes.Add(1) == 1
	}
	s, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	waitFor(t, "the archiver to crash after storing the busy tenant's file", func() bool { return crashes.Load() > 0 })
	s.Stop() // the crashed shard stores nothing more
	if n := s.Stats().Files.Load(); n != 1 {
		t.Fatalf("the archiver crashed after %d files; the test needs a crash after exactly the busy tenant's file", n)
	}
	// The busy tenant's file is stored (all its 60 records, or the first
	// of them if the reads came in parts); the quiet tenant's 5 are only
	// buffered.
	got := f.archived(t)
	quietBucket, _ := f.layout.Tenant(quiet)
	for k := range got {
		if w := f.where[k]; len(w) > 0 && strings.HasPrefix(w[0], quietBucket+"/") {
			t.Fatalf("the quiet tenant's record %s was archived before the crash; the test needs it buffered", k)
		}
	}
	if len(got) == 0 {
		t.Fatal("nothing was archived before the crash")
	}

	s2, err := New(context.Background(), f.options())
	if err != nil {
		t.Fatal(err)
	}
	s2.Start()
	f.waitRead(t, s2)
	if err := s2.Stop(); err != nil {
		t.Fatal(err)
	}
	f.check(t, f.archived(t))
}
