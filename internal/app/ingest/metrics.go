package ingest

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenantpulse/tenantpulse/internal/event"
)

type metrics struct {
	reqs    *prometheus.CounterVec
	results [4]prometheus.Counter // by status
	byType  []prometheus.Counter  // accepted, by event.Type
	bytes   prometheus.Counter
}

func newMetrics(s *Service, reg prometheus.Registerer) metrics {
	m := metrics{
		reqs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenantpulse_events_requests_total", Help: "POST /v1/events requests, by HTTP status.",
		}, []string{"code"}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tenantpulse_events_request_bytes_total", Help: "Bytes of POST /v1/events bodies, decompressed.",
		}),
	}
	res := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenantpulse_events_total", Help: "Events sent to POST /v1/events, by result: accepted, duplicate or rejected.",
	}, []string{"result"})
	m.results[statusAccepted] = res.WithLabelValues("accepted")
	m.results[statusDuplicate] = res.WithLabelValues("duplicate")
	m.results[statusRejected] = res.WithLabelValues("rejected")
	types := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenantpulse_events_accepted_total", Help: "Events accepted by POST /v1/events, by type.",
	}, []string{"type"})
	m.byType = make([]prometheus.Counter, 256)
	for _, t := range event.Types {
		m.byType[t] = types.WithLabelValues(t.String())
	}
	if reg == nil {
		return m
	}
	stat := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	reg.MustRegister(m.reqs, m.bytes, res, types,
		stat("tenantpulse_events_dedupe_entries", "Event identities (id + source) the dedupe window holds.",
			func() float64 { return float64(s.DedupeStats().Entries) }),
		stat("tenantpulse_events_dedupe_capacity", "The most event identities the dedupe window can hold (dedupe_max_bytes).",
			func() float64 { return float64(s.DedupeStats().Capacity) }),
		stat("tenantpulse_events_dedupe_bytes", "Memory of the dedupe window, fixed at start.",
			func() float64 { return float64(s.DedupeStats().Bytes) }),
		stat("tenantpulse_events_dedupe_covered_seconds", "Arrival time the dedupe window covers now: the age of its oldest identity. Below the configured window when the window is full.",
			func() float64 {
				st := s.DedupeStats()
				if st.OldestMs == 0 {
					return 0
				}
				return float64(s.opts.Now().UnixMilli()-st.OldestMs) / 1000
			}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "tenantpulse_events_dedupe_evicted_total", Help: "Identities forgotten before the dedupe window ended because the window was full.",
		}, func() float64 { return float64(s.DedupeStats().Evicted) }),
	)
	return m
}

func (m *metrics) requests(code int) { m.reqs.WithLabelValues(strconv.Itoa(code)).Inc() }

func (m *metrics) result(r *result) {
	m.results[r.status].Inc()
	if r.status == statusAccepted {
		m.byType[r.typ].Inc()
	}
}
