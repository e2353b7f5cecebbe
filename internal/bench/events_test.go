package bench

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/tenantpulse/tenantpulse/internal/app/analytics"
	"github.com/tenantpulse/tenantpulse/internal/app/ingest"
	"github.com/tenantpulse/tenantpulse/internal/stream"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// RunEvents against the real event API: every event posted is accepted
// and stored, and a second run of the same seed is all duplicates.
func TestEventsAgainstIngest(t *testing.T) {
	store, err := streamlog.Open(streamlog.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for _, name := range []string{"companies", "jobs"} {
		if _, err := store.CreateStream(streamlog.StreamConfig{Name: name, ShardCount: 2}); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	ingest.New(ingest.Options{Store: store}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	o := DefaultEventsOptions()
	o.Endpoint, o.Events, o.Batch, o.Producers, o.Tenants, o.GenerateEvents, o.Seed = srv.URL, 3000, 250, 3, 20, 5000, 42
	var out bytes.Buffer
	if err := RunEvents(context.Background(), o, &out); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^sim  generate 5000 events .* events/s`).Match(out.Bytes()) ||
		!regexp.MustCompile(`(?m)^http post 3000 events .* events/s .* p50 `).Match(out.Bytes()) {
		t.Fatalf("report:\n%s", out.String())
	}
	stored := uint64(0)
	for _, st := range store.Streams() {
		for _, sh := range st.Shards() {
			stored += sh.End()
		}
	}
	if stored != 3000 {
		t.Fatalf("the server stored %d events, want 3000", stored)
	}
	out.Reset()
	if err := RunEvents(context.Background(), o, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "note: 3000 events were reported as duplicates") {
		t.Fatalf("second run of the same seed:\n%s", out.String())
	}
}

func TestEventsFlags(t *testing.T) {
	for _, args := range [][]string{{"--batch", "0"}, {"--batch", "10001"}, {"--events", "0"}, {"--endpoint", "ftp://x"}} {
		if code, _, stderr := runMain(t, append([]string{"events"}, args...)...); code != 2 || stderr == "" {
			t.Errorf("bench events %q: exit %d, stderr %q", args, code, stderr)
		}
	}
}

// bench analytics runs end to end on a small log.
func TestAnalyticsBench(t *testing.T) {
	code, stdout, stderr := runMain(t, "analytics", "--events", "20000", "--tenants", "50", "--memory-tenants", "200", "--data", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, re := range []string{`(?m)^fill     20000 events`, `(?m)^process  20000 events in .* events/s`, `(?m)^memory   200 tenants with 20 active users each: .* bytes per tenant`} {
		if !regexp.MustCompile(re).MatchString(stdout) {
			t.Errorf("report lacks %s:\n%s", re, stdout)
		}
	}
}

// bench freshness against the event API and the analytics API of an
// in-process server.
func TestFreshnessBench(t *testing.T) {
	store, err := streamlog.Open(streamlog.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for _, name := range []string{"companies", "jobs"} {
		if _, err := store.CreateStream(streamlog.StreamConfig{Name: name, ShardCount: 2}); err != nil {
			t.Fatal(err)
		}
	}
	proc, err := analytics.New(context.Background(), analytics.Options{Reader: stream.NewEmbedded(store), Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	proc.Start()
	defer proc.Stop()
	mux := http.NewServeMux()
	ingest.New(ingest.Options{Store: store}).Register(mux)
	analytics.NewAPI(proc, nil).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	code, stdout, stderr := runMain(t, "freshness", "--endpoint", srv.URL, "--rate", "2000", "--duration", "1s")
	if code != 0 || !regexp.MustCompile(`^freshness  \d+ probes under .* p50 .* p99 .*; 0 not seen`).MatchString(stdout) {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// bench archive runs end to end on a small log.
func TestArchiveBench(t *testing.T) {
	code, stdout, stderr := runMain(t, "archive", "--events", "5000", "--tenants", "20", "--data", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, re := range []string{`(?m)^archive  5000 events in .* events/s .* files$`, `(?m)^size     .* bytes per event in Parquet`} {
		if !regexp.MustCompile(re).MatchString(stdout) {
			t.Errorf("report lacks %s:\n%s", re, stdout)
		}
	}
}
