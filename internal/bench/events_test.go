package bench

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/tenantpulse/tenantpulse/internal/app/ingest"
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
