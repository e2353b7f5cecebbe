package sim

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/tenantpulse/tenantpulse/internal/fsutil"
)

// Truth is the ground truth of the events generated so far: what a correct
// analytics service computes from exactly those events. The metric
// definitions are in doc.go.
type Truth struct {
	AsOf    string        `json:"asOf"`
	Seed    uint64        `json:"seed"`
	Events  int64         `json:"events"`
	Tenants []TenantTruth `json:"tenants"`
}

// TenantTruth is one tenant's metrics as of Truth.AsOf.
type TenantTruth struct {
	ID             string  `json:"id"`
	Name           string  `json:"name"`
	Industry       string  `json:"industry"`
	Sentiment      string  `json:"sentiment"`
	Users          int     `json:"users"`
	ActiveUsers30d int     `json:"activeUsers30d"`
	LastActivity   string  `json:"lastActivity,omitempty"`
	JobsSubmitted  int64   `json:"jobsSubmitted"`
	JobsTerminated int64   `json:"jobsTerminated"`
	JobsCancelled  int64   `json:"jobsCancelled"`
	Jobs30d        int64   `json:"jobs30d"`
	Jobs90d        int64   `json:"jobs90d"`
	Revenue        float64 `json:"revenue"`
	Employees      int64   `json:"employees"`
	MonthlyFee     float64 `json:"monthlyFee"`
	Plan           string  `json:"plan"`
	Cohort         string  `json:"cohort"`
	Churned        bool    `json:"churned"`
}

// ringDays is the per-tenant window of daily job.submitted counts; it must
// hold at least the 90 days jobs90d needs.
const ringDays = 128

// tenantTruth accumulates one tenant's metrics from the events returned by
// Next (never from a pending one).
type tenantTruth struct {
	created      bool
	churned      bool
	p            profile
	users        int
	lastLogin    []int32 // by user number - 1: UTC day + 1 of the last login, 0 none
	deleted      []bool
	lastActivity int64
	hasActivity  bool
	submitted    int64
	terminated   int64
	cancelled    int64
	ringDay      [ringDays]int32
	ringCount    [ringDays]int32
}

// apply adds the event p to its tenant's truth.
func (g *Generator) apply(p *pendingEvent) {
	tr := &p.t.tr
	switch p.kind {
	case evTenantCreated:
		tr.created = true
		tr.p = p.p
	case evTenantUpdated:
		if p.aux&updSentiment != 0 {
			tr.p.sentiment = p.p.sentiment
		}
		if p.aux&updPlan != 0 {
			tr.p.plan = p.p.plan
		}
		if p.aux&updFee != 0 {
			tr.p.monthlyFee = p.p.monthlyFee
		}
		if p.aux&updEmployees != 0 {
			tr.p.employees = p.p.employees
		}
		if p.aux&updRevenue != 0 {
			tr.p.revenue = p.p.revenue
		}
	case evTenantDeleted:
		tr.churned = true
	case evUserAdded:
		tr.users++
		for int(p.user) > len(tr.lastLogin) {
			tr.lastLogin = append(tr.lastLogin, 0)
			tr.deleted = append(tr.deleted, false)
		}
	case evUserDeleted:
		tr.users--
		tr.deleted[p.user-1] = true
	case evUserLogin:
		tr.lastLogin[p.user-1] = int32(floorDiv(p.at, day)) + 1
		tr.activity(p.at)
	case evUserLogoff, evUserTimeout:
		tr.activity(p.at)
	case evJobSubmitted:
		tr.submitted++
		d := int32(floorDiv(p.at, day))
		i := int(d) % ringDays
		if tr.ringDay[i] != d {
			tr.ringDay[i], tr.ringCount[i] = d, 0
		}
		tr.ringCount[i]++
		tr.activity(p.at)
	case evJobTerminated:
		tr.terminated++
		tr.activity(p.at)
	case evJobCancelled:
		tr.cancelled++
		tr.activity(p.at)
	}
}

func (tr *tenantTruth) activity(at int64) {
	tr.lastActivity, tr.hasActivity = at, true
}

// Truth computes the ground truth over the events returned by Next so far.
func (g *Generator) Truth() Truth {
	t := Truth{Seed: g.cfg.Seed, Events: g.ordinal, Tenants: []TenantTruth{}}
	if g.ordinal == 0 {
		return t
	}
	t.AsOf = FormatTime(g.lastTime)
	asOfDay := int32(floorDiv(g.lastTime, day))
	for _, tn := range g.tenants {
		tr := &tn.tr
		if !tr.created {
			continue
		}
		tt := TenantTruth{
			ID:             tn.id,
			Name:           tr.p.name,
			Industry:       industries[tr.p.industry],
			Sentiment:      sentiments[tr.p.sentiment],
			Users:          tr.users,
			JobsSubmitted:  tr.submitted,
			JobsTerminated: tr.terminated,
			JobsCancelled:  tr.cancelled,
			Revenue:        tr.p.revenue,
			Employees:      tr.p.employees,
			MonthlyFee:     tr.p.monthlyFee,
			Plan:           plans[tr.p.plan],
			Cohort:         cohortNames[tn.cohort],
			Churned:        tr.churned,
		}
		for i, ll := range tr.lastLogin {
			if !tr.deleted[i] && ll > 0 && ll-1 >= asOfDay-29 {
				tt.ActiveUsers30d++
			}
		}
		if tr.hasActivity {
			tt.LastActivity = FormatTime(tr.lastActivity)
		}
		for i := range ringDays {
			d := tr.ringDay[i]
			if d > asOfDay || tr.ringCount[i] == 0 {
				continue
			}
			if d >= asOfDay-29 {
				tt.Jobs30d += int64(tr.ringCount[i])
			}
			if d >= asOfDay-89 {
				tt.Jobs90d += int64(tr.ringCount[i])
			}
		}
		t.Tenants = append(t.Tenants, tt)
	}
	sort.Slice(t.Tenants, func(i, j int) bool { return t.Tenants[i].ID < t.Tenants[j].ID })
	return t
}

// WriteTruth writes t as indented JSON to path atomically.
func WriteTruth(path string, t Truth) error {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return fmt.Errorf("cannot encode the truth: %w", err)
	}
	if err := fsutil.WriteAtomic(path, append(b, '\n')); err != nil {
		return fmt.Errorf("cannot write the truth: %w", err)
	}
	return nil
}
