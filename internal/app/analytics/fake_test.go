package analytics

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/analytics"
	"github.com/tenantpulse/tenantpulse/internal/consumer"
)

// fakeSource is a Source over generated tenants that records what it was
// asked. Tenants come back shuffled, as a real Source may return them in
// any order.
type fakeSource struct {
	mu        sync.Mutex
	tenants   []analytics.Tenant
	proc      Status
	dead      []analytics.DeadLetter
	deadTotal int64
	calls     []fakeCall
	// detailFrom, if set, is the From of every TenantDetail, as a Source
	// that shortens the range says so.
	detailFrom string
	rnd        *rand.Rand
}

// fakeCall is one call to the fake: its method and arguments.
type fakeCall struct {
	op             string
	id             string
	asOf, from, to time.Time
	limit          int
}

var fakeIndustries = []string{"retail", "Retail", "finance", "healthcare", "RETAIL", "logistics", "media"}

var fakeNames = []string{"Acme", "Globex", "Initech", "Umbrella", "Hooli", "ACME Labs", "Stark"}

// newFake returns a fake holding n tenants whose metrics repeat often, so
// every sort has ties.
func newFake(n int) *fakeSource {
	f := &fakeSource{rnd: rand.New(rand.NewPCG(1, 2))}
	for i := range n {
		id := fmt.Sprintf("t-%05d", (i*7919)%100003) // unique, not in generation order
		if i%50 == 3 {
			id = fmt.Sprintf("acme-%d", i)
		}
		t := analytics.Tenant{
			ID:             id,
			Name:           fmt.Sprintf("%s %d", fakeNames[i%len(fakeNames)], i%11),
			Industry:       fakeIndustries[i%len(fakeIndustries)],
			Sentiment:      []string{"positive", "neutral", "negative"}[i%3],
			Revenue:        float64(i%17) * 1.5e6,
			Employees:      int64(i % 23 * 10),
			MonthlyFee:     float64(i%5) * 99.5,
			TotalFee:       float64(i%9) * 199,
			Users:          int64(i % 13),
			ActiveUsers7d:  int64(i % 4),
			ActiveUsers30d: int64(i % 6),
			Logins:         int64(i * 3 % 29),
			OpenSessions:   int64(i % 3),
			JobsSubmitted:  int64(i % 31),
			JobsTerminated: int64(i % 29),
			JobsCancelled:  int64(i % 5),
			Jobs30d:        int64(i * 7 % 13),
			Jobs90d:        int64(i * 11 % 19),
			RunningJobs:    int64(i % 2),
			CancelRate:     float64(i%5) / 10,
			DataBytes:      int64(i%8) << 30,
		}
		t.JobsTrend = 1
		if t.Jobs90d > 0 {
			t.JobsTrend = float64(t.Jobs30d) * 3 / float64(t.Jobs90d)
		}
		if i%7 == 5 {
			t.Deleted = time.Date(2026, 11, 1+i%20, 8, 0, 0, 0, time.UTC).Format(timeLayout)
		}
		if i%4 != 0 {
			t.LastActivity = time.Date(2026, 11, 20+i%5, 10, 0, 0, 0, time.UTC).Format(timeLayout)
		}
		if i%3 == 0 {
			t.Risk = &analytics.Risk{Score: float64(i%7) / 7, Band: "low", Drivers: []analytics.RiskDriver{}, Model: "churn"}
		}
		f.tenants = append(f.tenants, t)
	}
	f.proc = Status{Processor: analytics.Processor{Workers: 2, AllowedLateness: "168h0m0s", MaxFuture: "1h0m0s", Shards: []analytics.ShardStatus{
		{Stream: "companies", Shard: "shardId-000000000000", Worker: 0, Position: "4900", MillisBehindLatest: 12,
			Watermark: "2026-11-25T10:00:00.250Z", Records: 100, Events: 90, Duplicates: 4, Late: 3, TooLate: 2,
			Invalid: 4, DeadLetters: 6, Tenants: 40, DedupeEntries: 94, DedupeBytes: 3008,
			LastCheckpoint: "2026-11-25T10:00:05.000Z", CheckpointPosition: "4800"},
		{Stream: "jobs", Shard: "shardId-000000000001", Worker: 1},
	}}, Streams: []consumer.Status{
		{Stream: "companies", State: "reading", Created: "2026-11-25T09:00:00.000Z"},
		{Stream: "jobs", State: "reading", Created: "2026-11-25T09:30:00.000Z", Resets: 1,
			ResetAt: "2026-11-25T09:30:00.500Z", ResetReason: "the stream was deleted and created again"},
	}}
	for i := range 5 {
		f.dead = append(f.dead, analytics.DeadLetter{Stream: "jobs", Shard: "shardId-000000000001",
			Sequence: fmt.Sprint(4900 - i), Arrival: "2026-11-25T10:00:00.000Z", Reason: "late: 200h behind the watermark",
			ID: fmt.Sprintf("e-%d", i), TenantID: "t-07919", Data: "{}"})
	}
	f.deadTotal = 42
	return f
}

func (f *fakeSource) record(c fakeCall) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
}

// lastCall returns the last call recorded.
func (f *fakeSource) lastCall() fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		return fakeCall{}
	}
	return f.calls[len(f.calls)-1]
}

// update changes the tenants under the lock.
func (f *fakeSource) update(fn func(ts []analytics.Tenant) []analytics.Tenant) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tenants = fn(f.tenants)
}

func (f *fakeSource) Tenants(asOf time.Time) []analytics.Tenant {
	f.record(fakeCall{op: "Tenants", asOf: asOf})
	f.mu.Lock()
	defer f.mu.Unlock()
	ts := slices.Clone(f.tenants)
	f.rnd.Shuffle(len(ts), func(i, j int) { ts[i], ts[j] = ts[j], ts[i] })
	return ts
}

func (f *fakeSource) Tenant(id string, asOf, from, to time.Time) (analytics.TenantDetail, bool) {
	f.record(fakeCall{op: "Tenant", id: id, asOf: asOf, from: from, to: to})
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.tenants {
		if t.ID == id {
			return analytics.TenantDetail{Tenant: t, From: f.detailFrom,
				Days:  []analytics.Day{{Date: "2026-11-25", JobsSubmitted: 3, Logins: 1}},
				Hours: []analytics.Hour{{Hour: "2026-11-25T10:00:00Z", JobsSubmitted: 3}},
			}, true
		}
	}
	return analytics.TenantDetail{}, false
}

func (f *fakeSource) Summary(asOf, from, to time.Time) analytics.Summary {
	f.record(fakeCall{op: "Summary", asOf: asOf, from: from, to: to})
	f.mu.Lock()
	defer f.mu.Unlock()
	s := analytics.Summary{Tenants: int64(len(f.tenants)), Industries: map[string]int64{}}
	for _, t := range f.tenants {
		s.Users += t.Users
		s.Jobs30d += t.Jobs30d
		s.Industries[t.Industry]++
	}
	return s
}

func (f *fakeSource) Processor() Status {
	f.record(fakeCall{op: "Processor"})
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.proc
	p.Shards = slices.Clone(p.Shards)
	return p
}

func (f *fakeSource) DeadLetters(limit int) ([]analytics.DeadLetter, int64) {
	f.record(fakeCall{op: "DeadLetters", limit: limit})
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.dead[:min(limit, len(f.dead))]), f.deadTotal
}
