package scoring

import (
	"fmt"
	"net/http"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/analytics"
	"github.com/tenantpulse/tenantpulse/internal/model"
	"github.com/tenantpulse/tenantpulse/internal/restapi"
)

// Behavior: GET /v1/tenants/{id}/risk scores a live tenant: its current
// metrics (TenantSource) become facts (FactsOf), which go through the same
// path as POST /v1/assess-churn. ?model=NAME picks the endpoint. 404 when
// the tenant is unknown.

// TenantSource gives a live tenant's current metrics.
type TenantSource interface {
	Tenant(id string) (analytics.Tenant, bool)
}

// AnalyticsSource is what the analytics service offers for one tenant (its
// Source's Tenant method).
type AnalyticsSource interface {
	Tenant(id string, asOf, from, to time.Time) (analytics.TenantDetail, bool)
}

// FromAnalytics returns a TenantSource over the analytics service's view,
// evaluated at now() (nil: time.Now).
func FromAnalytics(src AnalyticsSource, now func() time.Time) TenantSource {
	if now == nil {
		now = time.Now
	}
	return analyticsTenants{src, now}
}

type analyticsTenants struct {
	src AnalyticsSource
	now func() time.Time
}

func (a analyticsTenants) Tenant(id string) (analytics.Tenant, bool) {
	now := a.now().UTC()
	d, ok := a.src.Tenant(id, now, now, now) // the series are not needed: one day, one hour
	return d.Tenant, ok
}

// FactsOf returns what a live tenant's metrics say, as model facts:
// industry and sentiment (categories), revenue, employees, jobs30d,
// jobs90d, monthlyFee, totalFee, users, activeUsers30d, logins,
// cancelRate, daysSinceActivity (from lastActivity to now, at least 0;
// missing when there has been none) and jobsTrend (jobs30d*3/jobs90d, 1
// when jobs90d is 0). Before the tenant's tenant.created event is seen,
// its profile is unknown: empty categories and zero revenue, employees
// and fees are missing rather than zero. Numbers are clamped to their
// feature bounds (model.BoundOf).
func FactsOf(t analytics.Tenant, now time.Time) model.Facts {
	f := model.NewFacts()
	profile := t.Created != ""
	cat := func(name, v string) {
		if v != "" {
			f.Cat[name] = v
		}
	}
	num := func(name string, v float64) {
		if profile || v != 0 {
			f.Num[name] = v
		}
	}
	cat("industry", t.Industry)
	cat("sentiment", t.Sentiment)
	num("revenue", t.Revenue)
	num("employees", float64(t.Employees))
	num("monthlyFee", t.MonthlyFee)
	num("totalFee", t.TotalFee)
	f.Num["jobs30d"] = float64(t.Jobs30d)
	f.Num["jobs90d"] = float64(t.Jobs90d)
	f.Num["users"] = float64(t.Users)
	f.Num["activeUsers30d"] = float64(t.ActiveUsers30d)
	f.Num["logins"] = float64(t.Logins)
	f.Num["cancelRate"] = t.CancelRate
	if last, err := time.Parse(time.RFC3339, t.LastActivity); err == nil {
		f.Num["daysSinceActivity"] = max(0, now.Sub(last).Hours()/24)
	}
	f.Num["jobsTrend"] = analytics.JobsTrend(t.Jobs30d, t.Jobs90d)
	// Live metrics are inside the feature bounds by construction (events
	// are, and sums saturate); state kept from before the bounds existed
	// may not be, so it scores as the nearest bound instead of failing.
	for k, v := range f.Num {
		f.Num[k] = model.BoundOf(k).Clamp(v)
	}
	return f
}

// Risk bands.
const (
	BandLow    = "low"
	BandMedium = "medium"
	BandHigh   = "high"
)

// Band returns a score's band: high when churn (score >= threshold),
// medium when score >= threshold/2, else low.
func Band(score, threshold float64, churn bool) string {
	switch {
	case churn:
		return BandHigh
	case score >= threshold/2:
		return BandMedium
	}
	return BandLow
}

// riskResponse is GET /v1/tenants/{id}/risk's answer.
type riskResponse struct {
	ID        string         `json:"id"`
	Score     float64        `json:"score"`
	Churn     bool           `json:"churn"`
	Band      string         `json:"band"`
	Threshold float64        `json:"threshold"`
	Drivers   []model.Driver `json:"drivers"`
	Model     string         `json:"model"`
	ScoredAt  string         `json:"scoredAt"`
}

func (s *Service) tenantRisk(w http.ResponseWriter, r *http.Request) {
	resp, aerr := s.risk(r)
	s.answer(w, "tenant-risk", resp, aerr)
}

func (s *Service) risk(r *http.Request) (*riskResponse, *apiError) {
	endpoint, aerr := s.endpointParam(r)
	if aerr != nil {
		return nil, aerr
	}
	id := r.PathValue("id")
	t, ok := s.opts.Tenants.Tenant(id)
	if !ok {
		return nil, &apiError{http.StatusNotFound, restapi.CodeNotFound,
			fmt.Sprintf("there is no tenant %q; GET /v1/tenants lists them", id)}
	}
	now := s.opts.Now()
	sc, aerr := s.score(r.Context(), endpoint, FactsOf(t, now))
	if aerr != nil {
		return nil, aerr
	}
	return &riskResponse{ID: id, Score: sc.score, Churn: sc.churn, Band: Band(sc.score, sc.threshold, sc.churn),
		Threshold: sc.threshold, Drivers: sc.drivers, Model: sc.model, ScoredAt: now.UTC().Format(timeLayout)}, nil
}
