package analytics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenantpulse/tenantpulse/internal/analytics"
)

// shardMetric is one per-shard series taken from analytics.ShardStatus.
// value's false means "no sample" (a watermark or checkpoint not seen yet).
type shardMetric struct {
	desc  *prometheus.Desc
	typ   prometheus.ValueType
	value func(s *analytics.ShardStatus) (float64, bool)
}

func newShardMetric(name, help string, typ prometheus.ValueType, value func(s *analytics.ShardStatus) (float64, bool)) shardMetric {
	return shardMetric{prometheus.NewDesc(name, help, []string{"stream", "shard"}, nil), typ, value}
}

func count(v func(s *analytics.ShardStatus) int64) func(s *analytics.ShardStatus) (float64, bool) {
	return func(s *analytics.ShardStatus) (float64, bool) { return float64(v(s)), true }
}

// unixSeconds is the instant t (RFC 3339) in Unix seconds; no sample when
// it is absent or not a time.
func unixSeconds(t func(s *analytics.ShardStatus) string) func(s *analytics.ShardStatus) (float64, bool) {
	return func(s *analytics.ShardStatus) (float64, bool) {
		v := t(s)
		if v == "" {
			return 0, false
		}
		tm, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return 0, false
		}
		return float64(tm.UnixMilli()) / 1000, true
	}
}

var shardMetrics = []shardMetric{
	newShardMetric("tenantpulse_analytics_records_total", "Records the processor read from the shard.",
		prometheus.CounterValue, count(func(s *analytics.ShardStatus) int64 { return s.Records })),
	newShardMetric("tenantpulse_analytics_events_total", "Events the processor applied from the shard.",
		prometheus.CounterValue, count(func(s *analytics.ShardStatus) int64 { return s.Events })),
	newShardMetric("tenantpulse_analytics_duplicates_total", "Events skipped as duplicates (same id + source).",
		prometheus.CounterValue, count(func(s *analytics.ShardStatus) int64 { return s.Duplicates })),
	newShardMetric("tenantpulse_analytics_late_total", "Events applied although behind the watermark, within the allowed lateness.",
		prometheus.CounterValue, count(func(s *analytics.ShardStatus) int64 { return s.Late })),
	newShardMetric("tenantpulse_analytics_too_late_total", "Events dead-lettered as too late by builds that wrote checkpoint version 1; no longer grows.",
		prometheus.CounterValue, count(func(s *analytics.ShardStatus) int64 { return s.TooLate })),
	newShardMetric("tenantpulse_analytics_future_total", "Records dated more than max-future after their arrival, sent to the dead letters.",
		prometheus.CounterValue, count(func(s *analytics.ShardStatus) int64 { return s.Future })),
	newShardMetric("tenantpulse_analytics_invalid_total", "Records that are not valid events, sent to the dead letters.",
		prometheus.CounterValue, count(func(s *analytics.ShardStatus) int64 { return s.Invalid })),
	newShardMetric("tenantpulse_analytics_dead_letters_total", "Records sent to the dead letters: too late, future and invalid.",
		prometheus.CounterValue, count(func(s *analytics.ShardStatus) int64 { return s.DeadLetters })),
	newShardMetric("tenantpulse_analytics_millis_behind_latest", "How far the processor is behind the shard's newest record, in milliseconds.",
		prometheus.GaugeValue, count(func(s *analytics.ShardStatus) int64 { return s.MillisBehindLatest })),
	newShardMetric("tenantpulse_analytics_watermark_seconds", "The latest event time seen on the shard, in Unix seconds; absent before the first event.",
		prometheus.GaugeValue, unixSeconds(func(s *analytics.ShardStatus) string { return s.Watermark })),
	newShardMetric("tenantpulse_analytics_tenants", "Tenants with state from the shard.",
		prometheus.GaugeValue, count(func(s *analytics.ShardStatus) int64 { return s.Tenants })),
	newShardMetric("tenantpulse_analytics_dedupe_entries", "Event identities the shard's dedupe window holds.",
		prometheus.GaugeValue, count(func(s *analytics.ShardStatus) int64 { return s.DedupeEntries })),
	newShardMetric("tenantpulse_analytics_dedupe_bytes", "Memory of the shard's dedupe window.",
		prometheus.GaugeValue, count(func(s *analytics.ShardStatus) int64 { return s.DedupeBytes })),
	newShardMetric("tenantpulse_analytics_last_checkpoint_seconds", "Wall time of the shard's last checkpoint, in Unix seconds; absent before the first.",
		prometheus.GaugeValue, unixSeconds(func(s *analytics.ShardStatus) string { return s.LastCheckpoint })),
}

// Per-stream series, from Status.Streams.
var (
	resetsDesc = prometheus.NewDesc("tenantpulse_analytics_stream_resets_total",
		"Times the processor dropped the stream's state and read it again from its start (the stream was deleted or created again).",
		[]string{"stream"}, nil)
	waitingDesc = prometheus.NewDesc("tenantpulse_analytics_stream_waiting",
		"1 while the stream does not exist (deleted, not created again yet), else 0.", []string{"stream"}, nil)
)

// collector reads Source.Processor once per scrape.
type collector struct{ src Source }

// NewCollector returns the processor's per-shard metrics (labels stream
// and shard), read from src.Processor() at scrape time.
func NewCollector(src Source) prometheus.Collector { return collector{src} }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range shardMetrics {
		ch <- m.desc
	}
	ch <- resetsDesc
	ch <- waitingDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	p := c.src.Processor()
	for _, st := range p.Streams {
		waiting := 0.0
		if st.State == "waiting" {
			waiting = 1
		}
		ch <- prometheus.MustNewConstMetric(resetsDesc, prometheus.CounterValue, float64(st.Resets), st.Stream)
		ch <- prometheus.MustNewConstMetric(waitingDesc, prometheus.GaugeValue, waiting, st.Stream)
	}
	for i := range p.Shards {
		s := &p.Shards[i]
		for _, m := range shardMetrics {
			if v, ok := m.value(s); ok {
				ch <- prometheus.MustNewConstMetric(m.desc, m.typ, v, s.Stream, s.Shard)
			}
		}
	}
}
