package risk

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/analytics"
	"github.com/tenantpulse/tenantpulse/internal/app/scoring"
	"github.com/tenantpulse/tenantpulse/internal/model"
)

func trained(t *testing.T) *model.Model {
	t.Helper()
	f, err := os.Open("../../../examples/data/companies.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	spec, rows, err := model.ReadCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Train(spec, rows, model.Options{Type: model.TypeBinned, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Marshal(); err != nil { // sets the checksum
		t.Fatal(err)
	}
	return m
}

func facts(t analytics.Tenant, _ time.Time) model.Facts {
	f := model.NewFacts()
	f.Cat["industry"] = t.Industry
	f.Num["jobs30d"], f.Num["jobs90d"] = float64(t.Jobs30d), float64(t.Jobs90d)
	f.Num["revenue"], f.Num["employees"] = t.Revenue, float64(t.Employees)
	f.Num["monthlyFee"], f.Num["totalFee"] = t.MonthlyFee, t.TotalFee
	return f
}

func TestRescoreAndWebhook(t *testing.T) {
	m := trained(t)
	var mu sync.Mutex
	tenants := []analytics.Tenant{
		{ID: "busy", Name: "Busy", Industry: "finance", Jobs30d: 8, Jobs90d: 60, Revenue: 50000, Employees: 100, MonthlyFee: 500, TotalFee: 3000},
		{ID: "idle", Industry: "gov", Jobs30d: 2, Jobs90d: 10},
		{ID: "gone", Industry: "gov", Jobs30d: 9, Jobs90d: 90, Deleted: "2026-11-01T00:00:00.000Z"},
	}
	var calls atomic.Int32
	got := make(chan Notification, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			http.Error(w, "down for a moment", http.StatusServiceUnavailable)
			return
		}
		var n Notification
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &n); err != nil {
			t.Errorf("webhook body %s: %v", b, err)
		}
		got <- n
	}))
	defer hook.Close()
	s := New(Options{
		Tenants: func(time.Time) []analytics.Tenant {
			mu.Lock()
			defer mu.Unlock()
			return append([]analytics.Tenant(nil), tenants...)
		},
		Model:          func() (string, *model.Model) { return "churn", m },
		Facts:          facts,
		Interval:       time.Hour, // the test drives RescoreChanged
		Webhook:        hook.URL,
		WebhookBackoff: 10 * time.Millisecond,
	})
	s.Start()
	defer s.Stop()
	if n := s.RescoreChanged(); n != 2 {
		t.Fatalf("first pass scored %d, want 2 (a deleted tenant is not scored)", n)
	}
	busy, idle := s.Risk("busy"), s.Risk("idle")
	if busy == nil || idle == nil || s.Risk("gone") != nil {
		t.Fatalf("risks: %+v %+v %+v", busy, idle, s.Risk("gone"))
	}
	if busy.Churn || busy.Band != "low" || !idle.Churn || idle.Band != "high" || len(idle.Drivers) != 3 || idle.Model != "churn@"+m.Checksum {
		t.Fatalf("busy %+v, idle %+v", busy, idle)
	}
	// Crossing from nothing to high notifies once (after a retry).
	select {
	case n := <-got:
		if n.Tenant != "idle" || n.Event != "risk.high" || n.PreviousScore != nil || !n.Risk.Churn {
			t.Fatalf("notification %+v", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no webhook call")
	}
	if n := s.RescoreChanged(); n != 0 {
		t.Fatalf("nothing changed, but %d rescored", n)
	}
	// The busy tenant goes quiet and crosses the threshold.
	mu.Lock()
	tenants[0].Jobs30d, tenants[0].Jobs90d = 1, 5
	mu.Unlock()
	if n := s.RescoreChanged(); n != 1 {
		t.Fatalf("one tenant changed, %d rescored", n)
	}
	select {
	case n := <-got:
		if n.Tenant != "busy" || n.Name != "Busy" || n.Event != "risk.high" || n.PreviousScore == nil || *n.PreviousScore != busy.Score {
			t.Fatalf("notification %+v", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no webhook call for the crossing")
	}
	// The history, over HTTP.
	mux := http.NewServeMux()
	s.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/v1/tenants/busy/risk/history")
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		ID      string
		History []analytics.RiskPoint
	}
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if len(h.History) != 2 || h.History[0].Churn || !h.History[1].Churn || h.History[1].Band != "high" {
		t.Fatalf("history %+v", h)
	}
	resp, _ = http.Get(srv.URL + "/v1/tenants/nobody/risk/history")
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown tenant: %d", resp.StatusCode)
	}
	// A notification counts once the webhook's answer is read, just after
	// the handler above has passed it on.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		scored, notified, failed := s.Counts()
		if scored == 3 && notified == 2 && failed == 0 && calls.Load() == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("counts %d %d %d, webhook calls %d", scored, notified, failed, calls.Load())
		}
	}
}

func TestBand(t *testing.T) {
	for _, c := range []struct {
		score float64
		want  string
	}{{0.6, "high"}, {0.5, "high"}, {0.3, "medium"}, {0.25, "medium"}, {0.1, "low"}} {
		if got := scoring.Band(c.score, 0.5, c.score >= 0.5); got != c.want {
			t.Errorf("Band(%v) = %s, want %s", c.score, got, c.want)
		}
	}
}
