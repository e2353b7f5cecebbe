package analytics

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/consumer"
	"github.com/tenantpulse/tenantpulse/internal/event"
	"github.com/tenantpulse/tenantpulse/internal/stream"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// submitJobs appends n job.submitted events of tenant to the jobs stream.
func submitJobs(t *testing.T, store *streamlog.Store, tenant string, n int) {
	t.Helper()
	st, err := store.Stream(event.StreamJobs)
	if err != nil {
		t.Fatal(err)
	}
	sh := st.ShardFor(streamlog.HashPartitionKey([]byte(tenant)))
	now := time.Now().UTC().Format(time.RFC3339Nano)
	for i := range n {
		data := fmt.Appendf(nil, `{"specversion":"1.0","id":"%s-job-%d","source":"test","type":"job.submitted","time":%q,"tenantid":%q,"data":{"jobId":"j-%d","userId":"u-1","dataSize":10}}`,
			tenant, i, now, tenant, i)
		if _, err := sh.Append([]streamlog.Entry{{PartitionKey: []byte(tenant), Data: data}}, make([]streamlog.Seq, 1)); err != nil {
			t.Fatal(err)
		}
	}
}

// jobsOf returns the tenant's jobsSubmitted, -1 if the processor does not
// know the tenant.
func jobsOf(s *Service, tenant string) int64 {
	for _, tn := range s.Tenants(time.Now()) {
		if tn.ID == tenant {
			return tn.JobsSubmitted
		}
	}
	return -1
}

func jobsStatus(s *Service) consumer.Status {
	for _, st := range s.Processor().Streams {
		if st.Stream == event.StreamJobs {
			return st
		}
	}
	return consumer.Status{}
}

func waitUntil(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runRecreate deletes the jobs stream under a running processor and
// creates it again (with another shard count), then does the same while
// the processor is stopped: each time the processor drops the stream's
// state, says so in Processor().Streams, and counts every event of the
// new stream; a restart keeps that.
func runRecreate(t *testing.T, newReader func(*streamlog.Store) stream.Reader) {
	store, err := streamlog.Open(streamlog.Options{Dir: t.TempDir(), MinFreeBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for _, name := range []string{event.StreamCompanies, event.StreamJobs} {
		if _, err := store.CreateStream(streamlog.StreamConfig{Name: name, ShardCount: 2}); err != nil {
			t.Fatal(err)
		}
	}
	opts := Options{Reader: newReader(store), Dir: t.TempDir(), Workers: 2, CheckpointInterval: 10 * time.Millisecond,
		StreamCheck: 50 * time.Millisecond}
	s, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	submitJobs(t, store, "old", 7)
	want := func(tenant string, n int64) func() error {
		return func() error {
			if got := jobsOf(s, tenant); got != n {
				return fmt.Errorf("tenant %s has %d jobs submitted, want %d", tenant, got, n)
			}
			return nil
		}
	}
	waitUntil(t, "before the deletion", want("old", 7))

	if err := store.DeleteStream(event.StreamJobs); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "after the deletion", func() error {
		if st := jobsStatus(s); st.State != "waiting" || st.Resets != 1 || st.ResetReason != consumer.ReasonDeleted {
			return fmt.Errorf("jobs status %+v", st)
		}
		return want("old", -1)()
	})
	if _, err := store.CreateStream(streamlog.StreamConfig{Name: event.StreamJobs, ShardCount: 3}); err != nil {
		t.Fatal(err)
	}
	submitJobs(t, store, "new", 5)
	waitUntil(t, "after the recreation", want("new", 5))
	if st := jobsStatus(s); st.State != "reading" || st.Resets != 1 || st.Created == "" {
		t.Errorf("jobs status after the recreation: %+v", st)
	}
	jobsShards := 0
	for _, sh := range s.Processor().Shards {
		if sh.Stream == event.StreamJobs {
			jobsShards++
		}
	}
	if jobsShards != 3 {
		t.Errorf("the processor reads %d shards of the recreated jobs stream, want its 3", jobsShards)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}

	// A restart keeps it right.
	s, err = New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := jobsOf(s, "new"); got != 5 {
		t.Errorf("after a restart, tenant new has %d jobs submitted, want 5", got)
	}
	if st := jobsStatus(s); st.Resets != 1 || st.ResetReason != consumer.ReasonDeleted {
		t.Errorf("after a restart, jobs status %+v", st)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}

	// Deleted and created again while the processor is stopped.
	if err := store.DeleteStream(event.StreamJobs); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateStream(streamlog.StreamConfig{Name: event.StreamJobs, ShardCount: 2}); err != nil {
		t.Fatal(err)
	}
	submitJobs(t, store, "newer", 4)
	s, err = New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	defer s.Stop()
	waitUntil(t, "after a recreation while stopped", want("newer", 4))
	if got := jobsOf(s, "new"); got != -1 {
		t.Errorf("tenant new of the deleted stream still has %d jobs", got)
	}
	if st := jobsStatus(s); st.Resets != 2 || st.ResetReason != consumer.ReasonRecreated || st.State != "reading" {
		t.Errorf("jobs status after a recreation while stopped: %+v", st)
	}
}

func TestRecreateEmbedded(t *testing.T) {
	runRecreate(t, stream.NewEmbedded)
}

func TestRecreateKinesis(t *testing.T) {
	runRecreate(t, func(store *streamlog.Store) stream.Reader { return kinesisReader(t, store) })
}
