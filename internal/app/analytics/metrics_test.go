package analytics

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// gather returns every sample as "name{stream,shard} type" → value.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			var v float64
			switch {
			case m.GetCounter() != nil:
				v = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				v = m.GetGauge().GetValue()
			default:
				t.Fatalf("%s: neither counter nor gauge", mf.GetName())
			}
			out[fmt.Sprintf("%s{%s} %s", mf.GetName(), strings.Join(labels, ","), strings.ToLower(mf.GetType().String()))] = v
		}
	}
	return out
}

func TestCollector(t *testing.T) {
	src := newFake(1)
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(src))
	got := gather(t, reg)

	const c0 = "{shard=shardId-000000000000,stream=companies}"
	const j1 = "{shard=shardId-000000000001,stream=jobs}"
	want := map[string]float64{
		"tenantpulse_analytics_records_total" + c0 + " counter":         100,
		"tenantpulse_analytics_events_total" + c0 + " counter":          90,
		"tenantpulse_analytics_duplicates_total" + c0 + " counter":      4,
		"tenantpulse_analytics_late_total" + c0 + " counter":            3,
		"tenantpulse_analytics_too_late_total" + c0 + " counter":        2,
		"tenantpulse_analytics_future_total" + c0 + " counter":          0,
		"tenantpulse_analytics_invalid_total" + c0 + " counter":         4,
		"tenantpulse_analytics_dead_letters_total" + c0 + " counter":    6,
		"tenantpulse_analytics_millis_behind_latest" + c0 + " gauge":    12,
		"tenantpulse_analytics_watermark_seconds" + c0 + " gauge":       1795600800.25, // 2026-11-25T10:00:00.250Z
		"tenantpulse_analytics_tenants" + c0 + " gauge":                 40,
		"tenantpulse_analytics_dedupe_entries" + c0 + " gauge":          94,
		"tenantpulse_analytics_dedupe_bytes" + c0 + " gauge":            3008,
		"tenantpulse_analytics_last_checkpoint_seconds" + c0 + " gauge": 1795600805,
	}
	// The jobs shard has seen nothing: zeros, and no watermark or checkpoint.
	for k := range want {
		if strings.Contains(k, "watermark") || strings.Contains(k, "checkpoint") {
			continue
		}
		want[strings.Replace(k, c0, j1, 1)] = 0
	}
	want["tenantpulse_analytics_stream_resets_total{stream=companies} counter"] = 0
	want["tenantpulse_analytics_stream_resets_total{stream=jobs} counter"] = 1
	want["tenantpulse_analytics_stream_waiting{stream=companies} gauge"] = 0
	want["tenantpulse_analytics_stream_waiting{stream=jobs} gauge"] = 0
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(got) != len(want) {
		t.Errorf("%d samples, want %d: %v", len(got), len(want), keys)
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}

	// Values are read at scrape time.
	src.mu.Lock()
	src.proc.Shards[1].Records = 7
	src.proc.Shards[1].Watermark = "2026-11-25T11:00:00Z"
	src.mu.Unlock()
	got = gather(t, reg)
	if v := got["tenantpulse_analytics_records_total"+j1+" counter"]; v != 7 {
		t.Errorf("records after a change: %v", v)
	}
	if v := got["tenantpulse_analytics_watermark_seconds"+j1+" gauge"]; v != 1795604400 {
		t.Errorf("watermark after a change: %v", v)
	}

	// No shards, no samples, and no error.
	empty := newFake(0)
	empty.proc = Status{}
	reg = prometheus.NewRegistry()
	reg.MustRegister(NewCollector(empty))
	if got := gather(t, reg); len(got) != 0 {
		t.Errorf("no shards: %v", got)
	}
}
