package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenantpulse/tenantpulse/internal/app/analytics"
	"github.com/tenantpulse/tenantpulse/internal/app/archive"
	"github.com/tenantpulse/tenantpulse/internal/retry"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// health is /healthz and the disk metrics: the server is degraded while
// the stream store refuses writes (free space under min_free_bytes, or
// writes failing), or the processor's checkpoints or the archiver fail.
type health struct {
	store *streamlog.Store
	proc  *analytics.Service
	arch  *archive.Service // nil: the archive is off
}

// problems lists what is refused or failing now, one phrase each.
func (h health) problems() []string {
	var out []string
	if why := h.store.Disk().Refusing(); why != "" {
		out = append(out, "the stream store refuses writes: "+why)
	}
	if st := h.proc.CheckpointFailures(); st.Failing() {
		out = append(out, "analytics checkpoints failing since "+since(st))
	}
	if h.arch != nil {
		if st := h.arch.Failures(); st.Failing() {
			out = append(out, "the archive failing since "+since(st))
		}
	}
	return out
}

func since(st retry.State) string {
	return fmt.Sprintf("%s (%s): %s", st.Since.UTC().Format(time.RFC3339), time.Since(st.Since).Round(time.Second), st.Last)
}

// ServeHTTP answers 200 "ok", or 503 "degraded: ..." naming each problem:
// the process is up and serves reads, but refuses or loses work.
func (h health) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if p := h.problems(); len(p) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "degraded: "+strings.Join(p, "; ")+"\n")
		return
	}
	io.WriteString(w, "ok\n")
}

var (
	freeDesc = prometheus.NewDesc("tenantpulse_data_free_bytes",
		"Free space on the data directory's volume (checked every second).", nil, nil)
	volumeDesc = prometheus.NewDesc("tenantpulse_data_volume_bytes",
		"Size of the data directory's volume.", nil, nil)
	minFreeDesc = prometheus.NewDesc("tenantpulse_data_min_free_bytes",
		"min_free_bytes: below this much free space the stream store refuses writes.", nil, nil)
	refusedDesc = prometheus.NewDesc("tenantpulse_store_records_refused_total",
		"Records the stream store refused: reason low_space (free space under min_free_bytes) or write_error (a failed write to disk and the batch queued behind it).", []string{"reason"}, nil)
	writeFailDesc = prometheus.NewDesc("tenantpulse_store_write_failures_total",
		"Writes of the stream store to disk that failed.", nil, nil)
	ckFailDesc = prometheus.NewDesc("tenantpulse_analytics_checkpoint_failures_total",
		"Analytics checkpoints that could not be written (each retried with backoff).", nil, nil)
	archFailDesc = prometheus.NewDesc("tenantpulse_archive_failures_total",
		"Attempts of the archiver to read, store files or checkpoint that failed (each retried with backoff).", nil, nil)
	degradedDesc = prometheus.NewDesc("tenantpulse_degraded",
		"1 while /healthz answers degraded (writes refused, checkpoints or the archive failing), else 0.", nil, nil)
)

func (h health) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{freeDesc, volumeDesc, minFreeDesc, refusedDesc, writeFailDesc, ckFailDesc, archFailDesc, degradedDesc} {
		ch <- d
	}
}

func (h health) Collect(ch chan<- prometheus.Metric) {
	d := h.store.Disk()
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
	}
	counter := func(desc *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(freeDesc, float64(d.FreeBytes))
	gauge(volumeDesc, float64(d.SizeBytes))
	gauge(minFreeDesc, float64(d.MinFreeBytes))
	counter(refusedDesc, d.RefusedLowSpace, "low_space")
	counter(refusedDesc, d.RefusedWriteErrors, "write_error")
	counter(writeFailDesc, d.Writes.Total)
	counter(ckFailDesc, h.proc.CheckpointFailures().Total)
	if h.arch != nil {
		counter(archFailDesc, h.arch.Failures().Total)
	}
	degraded := 0.0
	if len(h.problems()) > 0 {
		degraded = 1
	}
	gauge(degradedDesc, degraded)
}
