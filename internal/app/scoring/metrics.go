package scoring

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Invocation outcomes, the outcome label of
// tenantpulse_scoring_invocations_total.
const (
	outcomeOK         = "ok"
	outcomeValidation = "validation_error"
	outcomeModel      = "model_error"
	outcomeThrottled  = "throttled"
)

// unknownEndpoint labels invocations of endpoints that do not exist, so a
// client inventing names cannot grow the label set.
const unknownEndpoint = "(unknown)"

type metrics struct {
	invocations *prometheus.CounterVec // endpoint, outcome
	latency     *prometheus.HistogramVec
	rows        *prometheus.CounterVec // endpoint
	deploys     *prometheus.CounterVec // endpoint
	gateway     *prometheus.CounterVec // route, code
	unknown     *epMetrics
}

// epMetrics are one endpoint's series, resolved once so the hot path does
// not look labels up.
type epMetrics struct {
	ok, validation, model, throttled prometheus.Counter
	rows                             prometheus.Counter
	latency                          prometheus.Observer
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenantpulse_scoring_invocations_total",
			Help: "POST /endpoints/{name}/invocations requests, by endpoint and outcome: ok, validation_error (400), model_error (424) or throttled (ServiceUnavailable, 503: past --max-inflight-bytes).",
		}, []string{"endpoint", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tenantpulse_scoring_invocation_seconds",
			Help:    "Time to answer POST /endpoints/{name}/invocations, from the handler's start to the response written, by endpoint.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 12), // 50 µs to about 100 ms
		}, []string{"endpoint"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenantpulse_scoring_rows_total",
			Help: "CSV rows scored by POST /endpoints/{name}/invocations, by endpoint.",
		}, []string{"endpoint"}),
		deploys: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenantpulse_scoring_deploys_total",
			Help: "Models deployed to an endpoint (at start or with PUT /v1/models/{name}), by endpoint.",
		}, []string{"endpoint"}),
		gateway: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenantpulse_scoring_gateway_requests_total",
			Help: "Scoring gateway requests (POST /v1/assess-churn, GET /v1/tenants/{id}/risk), by route and HTTP status.",
		}, []string{"route", "code"}),
	}
	m.unknown = m.endpoint(unknownEndpoint)
	if reg != nil {
		reg.MustRegister(m.invocations, m.latency, m.rows, m.deploys, m.gateway)
	}
	return m
}

func (m *metrics) endpoint(name string) *epMetrics {
	return &epMetrics{
		ok:         m.invocations.WithLabelValues(name, outcomeOK),
		validation: m.invocations.WithLabelValues(name, outcomeValidation),
		model:      m.invocations.WithLabelValues(name, outcomeModel),
		throttled:  m.invocations.WithLabelValues(name, outcomeThrottled),
		rows:       m.rows.WithLabelValues(name),
		latency:    m.latency.WithLabelValues(name),
	}
}

// forget drops a deleted endpoint's series, so creating and deleting
// endpoints of new names cannot grow the label set without end.
func (m *metrics) forget(name string) {
	l := prometheus.Labels{"endpoint": name}
	m.invocations.DeletePartialMatch(l)
	m.latency.DeletePartialMatch(l)
	m.rows.DeletePartialMatch(l)
	m.deploys.DeletePartialMatch(l)
}

func (m *metrics) gatewayRequest(route string, code int) {
	m.gateway.WithLabelValues(route, strconv.Itoa(code)).Inc()
}
