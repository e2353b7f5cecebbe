package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestHealthzDegradedOnLowSpace serves with a min_free_bytes larger than
// any volume: /healthz answers 503 naming the refusal, /metrics has the
// free-space gauges and the refused records, and the start-up log says
// the volume is too small; with room, /healthz is 200 ok.
func TestHealthzDegradedOnLowSpace(t *testing.T) {
	addr, logs, _ := startServe(t, "--listen", "127.0.0.1:0", "--data", t.TempDir(), "--min-free-bytes", "1152921504606846976")
	status, body := get(t, "http://"+addr+"/healthz")
	if status != http.StatusServiceUnavailable || !strings.HasPrefix(body, "degraded: the stream store refuses writes: free space ") ||
		!strings.Contains(body, "below min_free_bytes 1073741824.0 GiB") {
		t.Fatalf("/healthz = %d %q, want 503 degraded naming the free space under min_free_bytes", status, body)
	}
	if !strings.Contains(logs.String(), "smaller than min_free_bytes") {
		t.Fatalf("no start-up warning of a volume smaller than min_free_bytes:\n%s", logs)
	}
	// A refused write is counted.
	if code, _ := kinesisCall(t, addr, "PutRecord", `{"StreamName":"jobs","PartitionKey":"k","Data":"eA=="}`); code != 400 {
		t.Fatalf("PutRecord under min_free_bytes: %d, want 400 (ProvisionedThroughputExceededException)", code)
	}
	_, metrics := get(t, "http://"+addr+"/metrics")
	for _, re := range []string{
		`(?m)^tenantpulse_data_free_bytes [0-9.e+]+$`,
		`(?m)^tenantpulse_data_volume_bytes [0-9.e+]+$`,
		`(?m)^tenantpulse_data_min_free_bytes 1\.152921504606847e\+18$`,
		`(?m)^tenantpulse_store_records_refused_total\{reason="low_space"\} 1$`,
		`(?m)^tenantpulse_store_records_refused_total\{reason="write_error"\} 0$`,
		`(?m)^tenantpulse_analytics_checkpoint_failures_total 0$`,
		`(?m)^tenantpulse_archive_failures_total 0$`,
		`(?m)^tenantpulse_degraded 1$`,
	} {
		if !regexp.MustCompile(re).MatchString(metrics) {
			t.Errorf("/metrics has no line matching %s", re)
		}
	}

	addr, _, _ = startServe(t, "--listen", "127.0.0.1:0", "--data", t.TempDir(), "--min-free-bytes", "1")
	if status, body := get(t, "http://"+addr+"/healthz"); status != 200 || body != "ok\n" {
		t.Fatalf("/healthz with room = %d %q, want 200 ok", status, body)
	}
	if _, metrics := get(t, "http://"+addr+"/metrics"); !strings.Contains(metrics, "\ntenantpulse_degraded 0\n") {
		t.Errorf("/metrics with room does not say tenantpulse_degraded 0")
	}
}
