// Package risk owns live churn-risk scoring: it rescores every tenant whose
// facts changed (checked every interval, so bursts of events cost one
// scoring), keeps each tenant's latest risk and its history, and calls a
// webhook, with retries, when a tenant crosses the model's threshold (the
// reference architecture's notifications). GET /v1/tenants/{id}/risk/history
// serves the history; the analytics API shows the latest risk in
// /v1/tenants through analytics.WithRisk.
//
// It must not train models or serve the SageMaker API (package scoring
// does); it takes the current model and the facts of a tenant from its
// caller.
//
// Non-obvious:
//   - A tenant is rescored when its encoded feature vector or the model
//     changed, not on every event: days since the last activity grows by
//     itself, so an idle tenant is rescored about once a day.
//   - The webhook fires on crossing, in either direction, not while a
//     tenant stays above the threshold; a delivery that still fails after
//     its retries is logged and counted, never blocks scoring.
package risk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/analytics"
	"github.com/tenantpulse/tenantpulse/internal/app/scoring"
	"github.com/tenantpulse/tenantpulse/internal/model"
	"github.com/tenantpulse/tenantpulse/internal/restapi"
)

// Options configure the Service.
type Options struct {
	// Tenants returns every tenant's metrics at asOf.
	Tenants func(asOf time.Time) []analytics.Tenant
	// Model returns the model to score with and its name (the endpoint's),
	// or nil when none is deployed.
	Model func() (string, *model.Model)
	// Facts returns what a tenant's metrics say for the model.
	Facts func(t analytics.Tenant, now time.Time) model.Facts
	// Interval between checks for changed tenants; default 1 s.
	Interval time.Duration
	// History is the most points kept per tenant; default 500.
	History int
	// Webhook, when set, is POSTed a JSON notification when a tenant
	// crosses the threshold; WebhookAttempts (default 4) tries with
	// doubling waits from WebhookBackoff (default 500 ms).
	Webhook         string
	WebhookAttempts int
	WebhookBackoff  time.Duration
	Client          *http.Client
	Logger          *slog.Logger
	Now             func() time.Time
}

// Service is the live scorer.
type Service struct {
	o                        Options
	mu                       sync.RWMutex
	latest                   map[string]*state
	notes                    chan Notification
	stop                     chan struct{}
	wg                       sync.WaitGroup
	scored, notified, failed atomic.Int64
}

type state struct {
	x       []float64
	model   string
	risk    *analytics.Risk
	history []analytics.RiskPoint
}

// Notification is the webhook's body.
type Notification struct {
	Tenant        string         `json:"tenant"`
	Name          string         `json:"name,omitempty"`
	Event         string         `json:"event"` // "risk.high" (crossed up) or "risk.cleared"
	Risk          analytics.Risk `json:"risk"`
	PreviousScore *float64       `json:"previousScore"` // null at a tenant's first score
}

// New returns the service, not yet running.
func New(o Options) *Service {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.History <= 0 {
		o.History = 500
	}
	if o.WebhookAttempts <= 0 {
		o.WebhookAttempts = 4
	}
	if o.WebhookBackoff <= 0 {
		o.WebhookBackoff = 500 * time.Millisecond
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{o: o, latest: map[string]*state{}, notes: make(chan Notification, 1024), stop: make(chan struct{})}
}

// Start runs the scoring loop (a pass every interval, the first after one
// interval) and the webhook sender until Stop.
func (s *Service) Start() {
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(s.o.Interval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
			s.RescoreChanged()
		}
	}()
	go func() {
		defer s.wg.Done()
		for {
			select {
			case <-s.stop:
				return
			case n := <-s.notes:
				s.deliver(n)
			}
		}
	}()
}

// Stop ends the loops.
func (s *Service) Stop() {
	close(s.stop)
	s.wg.Wait()
}

// RescoreChanged scores every tenant whose feature vector or model changed
// since it was last scored, and returns how many it scored.
func (s *Service) RescoreChanged() int {
	name, m := s.o.Model()
	if m == nil {
		return 0
	}
	now := s.o.Now()
	modelID := scoring.ModelID(name, m)
	scoredAt := now.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	n := 0
	var x []float64 // encoded into again and again; kept only when it changed
	for _, t := range s.o.Tenants(now) {
		if t.Deleted != "" {
			continue // churned already: nothing to predict
		}
		facts := s.o.Facts(t, now)
		var err error
		if x, err = m.Spec.Encode(x[:0], facts); err != nil {
			s.o.Logger.Warn("cannot encode a tenant's facts", "tenant", t.ID, "error", err)
			continue
		}
		s.mu.RLock()
		st := s.latest[t.ID]
		same := st != nil && st.model == modelID && slices.Equal(st.x, x)
		s.mu.RUnlock()
		if same {
			continue
		}
		score := m.Score(x)
		churn := m.Churn(score)
		r := &analytics.Risk{Score: round(score), Churn: churn, Band: scoring.Band(score, m.Threshold, churn), Threshold: m.Threshold,
			Model: modelID, ScoredAt: scoredAt, Drivers: []analytics.RiskDriver{}}
		for _, d := range m.Explain(x, &facts, 3) {
			r.Drivers = append(r.Drivers, analytics.RiskDriver{Feature: d.Feature, Value: d.Value, Contribution: round(d.Contribution), Text: d.Text})
		}
		s.mu.Lock()
		if st == nil {
			st = &state{}
			s.latest[t.ID] = st
		}
		prev := st.risk
		st.x, st.model, st.risk = slices.Clone(x), modelID, r
		st.history = append(st.history, analytics.RiskPoint{Score: r.Score, Churn: r.Churn, Band: r.Band, Model: modelID, ScoredAt: scoredAt})
		if len(st.history) > s.o.History {
			st.history = slices.Delete(st.history, 0, len(st.history)-s.o.History)
		}
		s.mu.Unlock()
		n++
		if s.o.Webhook != "" && (prev == nil && churn || prev != nil && prev.Churn != churn) {
			note := Notification{Tenant: t.ID, Name: t.Name, Event: "risk.high", Risk: *r}
			if !churn {
				note.Event = "risk.cleared"
			}
			if prev != nil {
				p := prev.Score
				note.PreviousScore = &p
			}
			select {
			case s.notes <- note:
			default:
				s.o.Logger.Warn("the risk webhook queue is full; a notification is dropped", "tenant", t.ID)
				s.failed.Add(1)
			}
		}
	}
	s.scored.Add(int64(n))
	return n
}

func round(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// Risk returns the tenant's latest risk, or nil.
func (s *Service) Risk(id string) *analytics.Risk {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if st := s.latest[id]; st != nil {
		return st.risk
	}
	return nil
}

// History returns the tenant's scores, oldest first.
func (s *Service) History(id string) []analytics.RiskPoint {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if st := s.latest[id]; st != nil {
		return slices.Clone(st.history)
	}
	return nil
}

// Counts returns how many scorings were made, notifications delivered,
// and notifications that failed.
func (s *Service) Counts() (scored, notified, failed int64) {
	return s.scored.Load(), s.notified.Load(), s.failed.Load()
}

// deliver POSTs n to the webhook, retrying with doubling waits.
func (s *Service) deliver(n Notification) {
	body, _ := json.Marshal(n)
	wait := s.o.WebhookBackoff
	var last error
	for attempt := 1; attempt <= s.o.WebhookAttempts; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.o.Webhook, bytes.NewReader(body))
		if err != nil {
			cancel()
			last = err
			break
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Tenantpulse-Attempt", fmt.Sprint(attempt))
		resp, err := s.o.Client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 300 {
				cancel()
				s.notified.Add(1)
				return
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		cancel()
		last = err
		if attempt == s.o.WebhookAttempts {
			break
		}
		select {
		case <-s.stop:
			return
		case <-time.After(wait):
		}
		wait *= 2
	}
	s.o.Logger.Warn("the risk webhook failed", "tenant", n.Tenant, "attempts", s.o.WebhookAttempts, "error", last)
	s.failed.Add(1)
}

// Register adds GET /v1/tenants/{id}/risk/history to mux.
func (s *Service) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/tenants/{id}/risk/history", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		h := s.History(id)
		if h == nil {
			if _, m := s.o.Model(); m == nil {
				restapi.WriteError(w, http.StatusServiceUnavailable, "NoModel",
					"no churn model is deployed, so no tenant is scored; deploy one with PUT /v1/models/churn or serve --model churn=FILE")
				return
			}
			restapi.WriteError(w, http.StatusNotFound, restapi.CodeNotFound,
				fmt.Sprintf("tenant %q has not been scored; GET /v1/tenants lists the tenants", id))
			return
		}
		restapi.WriteJSON(w, http.StatusOK, map[string]any{"id": id, "history": h})
	})
}
