package analytics

import (
	"time"

	"github.com/tenantpulse/tenantpulse/internal/analytics"
	"github.com/tenantpulse/tenantpulse/internal/consumer"
)

// Source is what the HTTP API reads: the processor's live state. The
// service implements it over its shard states; tests use a fake.
// Implementations are safe for concurrent use and return fresh values the
// caller may keep.
type Source interface {
	// Tenants returns every tenant's headline metrics with trailing
	// windows evaluated at asOf, in no particular order.
	Tenants(asOf time.Time) []analytics.Tenant
	// Tenant returns one tenant with its daily and hourly series for the
	// days and hours that overlap [from, to] (UTC), evaluated at asOf.
	Tenant(id string, asOf, from, to time.Time) (analytics.TenantDetail, bool)
	// Summary returns the totals over every tenant at asOf and the daily
	// series of every tenant's activity summed, for days in [from, to].
	Summary(asOf, from, to time.Time) analytics.Summary
	// Processor returns the per-shard and per-stream status.
	Processor() Status
	// DeadLetters returns the most recent dead letters, newest first, at
	// most limit, and how many there have been in all.
	DeadLetters(limit int) ([]analytics.DeadLetter, int64)
}

// Status is GET /v1/processor's answer: every shard's state, and per
// stream the incarnation read and how often (when, why) the processor
// dropped the stream's state and started over.
type Status struct {
	analytics.Processor
	Streams []consumer.Status `json:"streams"`
}

// WithRisk returns src with each tenant's Risk filled in from risk (nil
// when the tenant has no score yet).
func WithRisk(src Source, risk func(id string) *analytics.Risk) Source {
	return &riskSource{Source: src, risk: risk}
}

type riskSource struct {
	Source
	risk func(id string) *analytics.Risk
}

func (s *riskSource) Tenants(asOf time.Time) []analytics.Tenant {
	ts := s.Source.Tenants(asOf)
	for i := range ts {
		ts[i].Risk = s.risk(ts[i].ID)
	}
	return ts
}

func (s *riskSource) Tenant(id string, asOf, from, to time.Time) (analytics.TenantDetail, bool) {
	d, ok := s.Source.Tenant(id, asOf, from, to)
	if ok {
		d.Risk = s.risk(id)
	}
	return d, ok
}
