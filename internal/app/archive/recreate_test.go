package archive

import (
	"context"
	"testing"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/consumer"
	"github.com/tenantpulse/tenantpulse/internal/event"
	"github.com/tenantpulse/tenantpulse/internal/sim"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

func jobsStatus(s *Service) consumer.Status {
	for _, st := range s.Status().Streams {
		if st.Stream == event.StreamJobs {
			return st
		}
	}
	return consumer.Status{}
}

// The jobs stream is deleted under a running archiver and created again
// with another shard count: what was read before stays archived, every
// record of the new stream is archived once, the status says so, and a
// restart archives nothing twice.
func TestArchiveRecreatedStream(t *testing.T) {
	f := newFixture(t)
	g := sim.New(sim.Config{Seed: 7, Tenants: 10, Start: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)})
	f.feed(t, g, 3000)
	opts := f.options()
	opts.StreamCheck = 20 * time.Millisecond
	opts.FileAge = time.Hour // the old stream's buffers are stored when it goes
	s, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	f.waitRead(t, s)
	if err := f.store.DeleteStream(event.StreamJobs); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the jobs stream waiting after one reset for its deletion", func() bool {
		st := jobsStatus(s)
		return st.State == "waiting" && st.Resets == 1 && st.ResetReason == consumer.ReasonDeleted
	})
	if _, err := f.store.CreateStream(streamlog.StreamConfig{Name: event.StreamJobs, ShardCount: 3}); err != nil {
		t.Fatal(err)
	}
	f.feed(t, g, 3000)
	f.waitRead(t, s)
	if st := jobsStatus(s); st.State != "reading" || st.Resets != 1 {
		t.Errorf("jobs status after the recreation: %+v", st)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	f.check(t, f.archived(t))

	s, err = New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if st := jobsStatus(s); st.Resets != 1 || st.State != "reading" {
		t.Errorf("jobs status after a restart: %+v", st)
	}
	s.Start()
	f.waitRead(t, s)
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if n := s.Stats().Files.Load(); n != 0 {
		t.Errorf("a restart stored %d files", n)
	}
	f.check(t, f.archived(t))
}
