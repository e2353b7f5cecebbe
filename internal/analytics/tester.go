package analytics

import (
	"fmt"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/event"
)

// Tester runs the aggregations without a stream store, like goka's tester:
// one companies shard and one jobs shard, fed events directly. Tests of
// the processor's logic use it; the service uses the same ShardState.
type Tester struct {
	Companies, Jobs *ShardState
	seq             int64
	dec             event.Decoder
	ev              event.Event
}

// NewTester returns a tester with empty state.
func NewTester(opts Options) *Tester {
	c, _ := NewShardState(event.StreamCompanies, "shardId-000000000000", opts)
	j, _ := NewShardState(event.StreamJobs, "shardId-000000000000", opts)
	return &Tester{Companies: c, Jobs: j}
}

// Send applies records that arrived at arrival, each to the shard of its
// type's stream (a record that is not a valid event goes to companies),
// and returns what became of each.
func (t *Tester) Send(arrival time.Time, records ...string) []Outcome {
	out := make([]Outcome, len(records))
	for i, r := range records {
		s := t.Companies
		if _, err := t.dec.Decode([]byte(r), &t.ev); err == nil && t.ev.Type.Stream() == event.StreamJobs {
			s = t.Jobs
		}
		t.seq++
		s.Position = fmt.Sprint(t.seq)
		out[i] = s.Apply([]byte(r), arrival.UnixMilli(), s.Position)
	}
	return out
}

// Tenant returns a tenant's metrics at asOf, merged from both shards.
func (t *Tester) Tenant(id string, asOf time.Time) (Tenant, bool) {
	var tn Tenant
	ok1 := t.Companies.FillTenant(id, &tn, nil, nil, asOf)
	ok2 := t.Jobs.FillTenant(id, &tn, nil, nil, asOf)
	return tn, ok1 || ok2
}

// Tenants returns every tenant's metrics at asOf.
func (t *Tester) Tenants(asOf time.Time) map[string]*Tenant {
	out := map[string]*Tenant{}
	t.Companies.FillTenants(out, asOf)
	t.Jobs.FillTenants(out, asOf)
	return out
}
