package bench

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// phaseResult is the outcome of one phase of one mode. It is printed as a
// human line and, with --json, as this JSON object.
type phaseResult struct {
	Mode          string  `json:"mode"`
	Phase         string  `json:"phase"`
	Stream        string  `json:"stream"`
	Records       int64   `json:"records"`
	Bytes         int64   `json:"bytes"`
	Seconds       float64 `json:"seconds"`
	RecordsPerSec float64 `json:"records_per_sec"`
	MBPerSec      float64 `json:"mb_per_sec"`
	Requests      int64   `json:"requests"`
	// Retries is, for put, records sent again after a partial failure or
	// a throttled request; for get, GetRecords requests retried after
	// throttling.
	Retries            int64    `json:"retries"`
	P50Ms              *float64 `json:"p50_ms,omitempty"`
	P99Ms              *float64 `json:"p99_ms,omitempty"`
	ServerCPUSeconds   *float64 `json:"server_cpu_seconds,omitempty"`
	ServerCPUPer1M     *float64 `json:"server_cpu_seconds_per_1m_records,omitempty"`
	ServerCPUPercent   *float64 `json:"server_cpu_percent,omitempty"`
	ServerRSSBytes     *int64   `json:"server_rss_bytes,omitempty"`
	ServerPeakRSSBytes *int64   `json:"server_peak_rss_bytes,omitempty"`
	// StreamPreexisting is set when the stream existed before this run:
	// the get phase then counted every record in it, old ones included.
	StreamPreexisting bool `json:"stream_preexisting,omitempty"`
}

func newPhaseResult(mode, phase, stream string, records, bytes int64, wall time.Duration, u serverUsage) phaseResult {
	r := phaseResult{Mode: mode, Phase: phase, Stream: stream, Records: records, Bytes: bytes, Seconds: wall.Seconds()}
	if s := wall.Seconds(); s > 0 {
		r.RecordsPerSec = float64(records) / s
		r.MBPerSec = float64(bytes) / 1e6 / s
	}
	if u.ok {
		r.ServerCPUSeconds = ptr(u.cpuSeconds)
		if records > 0 {
			r.ServerCPUPer1M = ptr(u.cpuSeconds / float64(records) * 1e6)
		}
		if s := wall.Seconds(); s > 0 {
			r.ServerCPUPercent = ptr(u.cpuSeconds / s * 100)
		}
		r.ServerRSSBytes = ptr(u.rss)
		r.ServerPeakRSSBytes = ptr(u.peakRSS)
	}
	return r
}

func (s putStats) result(mode, stream string, u serverUsage) phaseResult {
	r := newPhaseResult(mode, "put", stream, s.records, s.bytes, s.wall, u)
	r.Requests, r.Retries = s.requests, s.retries
	if len(s.latencies) > 0 {
		r.P50Ms = ptr(ms(percentile(s.latencies, 0.50)))
		r.P99Ms = ptr(ms(percentile(s.latencies, 0.99)))
	}
	return r
}

func (s getStats) result(mode, stream string, u serverUsage, preexisting bool) phaseResult {
	r := newPhaseResult(mode, "get", stream, s.records, s.bytes, s.wall, u)
	r.Requests, r.Retries = s.requests, s.throttled
	r.StreamPreexisting = preexisting
	return r
}

// human formats r as one report line, e.g.
//
//	sdk  put  1000000 records in 3.21s  311,526 rec/s  31.2 MB/s  p50 12.1ms p99 30.2ms  retries 0  server cpu 1.10 s/1M rec (171%)  rss 84 MiB
func (r phaseResult) human() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-4s %-4s %d records in %.2fs  %s rec/s  %.1f MB/s", r.Mode, r.Phase, r.Records, r.Seconds, commas(int64(r.RecordsPerSec+0.5)), r.MBPerSec)
	if r.Phase == "put" || r.Phase == "post" {
		if r.P50Ms != nil {
			fmt.Fprintf(&b, "  p50 %s p99 %s", fmtMs(*r.P50Ms), fmtMs(*r.P99Ms))
		}
		fmt.Fprintf(&b, "  retries %d", r.Retries)
	} else if r.Phase == "get" {
		fmt.Fprintf(&b, "  requests %d  throttled %d", r.Requests, r.Retries)
	}
	if r.ServerCPUPer1M != nil {
		fmt.Fprintf(&b, "  server cpu %.2f s/1M rec (%.0f%%)", *r.ServerCPUPer1M, *r.ServerCPUPercent)
	}
	if r.ServerRSSBytes != nil {
		fmt.Fprintf(&b, "  rss %d MiB", *r.ServerRSSBytes>>20)
		if r.ServerPeakRSSBytes != nil && *r.ServerPeakRSSBytes>>20 > *r.ServerRSSBytes>>20 {
			fmt.Fprintf(&b, " (peak %d MiB)", *r.ServerPeakRSSBytes>>20)
		}
	}
	if r.StreamPreexisting {
		b.WriteString("  (stream existed before this run: all its records counted)")
	}
	return b.String()
}

// percentile returns the nearest-rank p-quantile of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fmtMs(v float64) string {
	if v < 1 {
		return fmt.Sprintf("%.2fms", v)
	}
	return fmt.Sprintf("%.1fms", v)
}

// commas formats n with thousands separators: 311526 -> "311,526".
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func ptr[T any](v T) *T { return &v }
