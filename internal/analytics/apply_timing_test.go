package analytics

import (
	"testing"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/event"
	"github.com/tenantpulse/tenantpulse/internal/sim"
)

// BenchmarkApply: decoding and applying simulator events (about 240
// bytes each) to the shard of their stream, as one worker does.
func BenchmarkApply(b *testing.B) {
	g := sim.New(sim.Config{Seed: 1, Tenants: 1000, Start: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)})
	type rec struct {
		data    []byte
		jobs    bool
		arrival int64 // Unix ms: the event's time, as if sent at once
	}
	recs := make([]rec, 200_000)
	var size int64
	for i := range recs {
		var info sim.Info
		var data []byte
		data, info, _ = g.Next(nil)
		recs[i] = rec{data, info.Stream == event.StreamJobs, info.Time / 1e6}
		size += int64(len(data))
	}
	b.SetBytes(size / int64(len(recs)))
	b.ReportAllocs()
	var c, j *ShardState
	for i := 0; b.Loop(); i++ {
		if i%len(recs) == 0 {
			c, _ = NewShardState(event.StreamCompanies, "s", Options{})
			j, _ = NewShardState(event.StreamJobs, "s", Options{})
		}
		r := &recs[i%len(recs)]
		s := c
		if r.jobs {
			s = j
		}
		s.Apply(r.data, r.arrival, "1")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
