package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/sim"
)

// apiTenants returns every tenant /v1/tenants lists at asOf, walking the
// pages.
func apiTenants(t *testing.T, base, asOf string) (map[string]map[string]any, error) {
	out := map[string]map[string]any{}
	cursor := ""
	for {
		q := url.Values{"limit": {"1000"}, "asOf": {asOf}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		resp, err := http.Get(base + "/v1/tenants?" + q.Encode())
		if err != nil {
			return nil, err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("GET /v1/tenants: %d %s", resp.StatusCode, b)
		}
		var page struct {
			Tenants []map[string]any
			Next    string
		}
		if err := json.Unmarshal(b, &page); err != nil {
			return nil, err
		}
		for _, tn := range page.Tenants {
			out[tn["id"].(string)] = tn
		}
		if page.Next == "" {
			return out, nil
		}
		cursor = page.Next
	}
}

// truthFields are the headline metrics the ground truth and the API share.
var truthFields = []string{"name", "industry", "sentiment", "users", "activeUsers30d", "lastActivity",
	"jobsSubmitted", "jobsTerminated", "jobsCancelled", "jobs30d", "jobs90d"}

// compareTruth reports how the API's tenants differ from the truth's.
func compareTruth(t *testing.T, base string, truth sim.Truth) error {
	api, err := apiTenants(t, base, truth.AsOf)
	if err != nil {
		return err
	}
	want, _ := json.Marshal(truth.Tenants)
	var tenants []map[string]any
	json.Unmarshal(want, &tenants)
	var diffs []string
	for _, w := range tenants {
		id := w["id"].(string)
		g, ok := api[id]
		if !ok {
			diffs = append(diffs, "missing tenant "+id)
			continue
		}
		for _, f := range truthFields {
			if fmt.Sprint(g[f]) != fmt.Sprint(w[f]) {
				diffs = append(diffs, fmt.Sprintf("%s %s: api %v, truth %v", id, f, g[f], w[f]))
			}
		}
	}
	if len(api) != len(tenants) {
		diffs = append(diffs, fmt.Sprintf("the API lists %d tenants, the truth %d", len(api), len(tenants)))
	}
	if len(diffs) > 0 {
		if len(diffs) > 10 {
			diffs = append(diffs[:10], fmt.Sprintf("... and %d more", len(diffs)-10))
		}
		return fmt.Errorf("%d differences:\n%s", len(diffs), bytes.Join(func() [][]byte {
			var b [][]byte
			for _, d := range diffs {
				b = append(b, []byte(d))
			}
			return b
		}(), []byte("\n")))
	}
	return nil
}

func readTruth(t *testing.T, path string) sim.Truth {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tr sim.Truth
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestAnalyticsEqualsGroundTruth: the simulator backfills history through
// the event API, then more through the Kinesis API (a resumed run), and
// /v1/tenants at the truth's asOf equals the ground truth exactly, for
// every tenant.
func TestAnalyticsEqualsGroundTruth(t *testing.T) {
	srv := startServer(t)
	dir := t.TempDir()
	truth := filepath.Join(dir, "truth.json")
	common := []string{"--endpoint", srv.url, "--seed", "11", "--tenants", "60", "--history", "100d", "--now", simNow, "--truth", truth}
	simulate(t, append(common, "--via", "events", "--count", "120000")...)
	first := readTruth(t, truth)
	waitFor(t, time.Minute, 50*time.Millisecond, func() error { return compareTruth(t, srv.url, first) })
	simulate(t, append(common, "--via", "kinesis", "--count", "60000")...)
	tr := readTruth(t, truth)
	if tr.Events != 180000 || len(tr.Tenants) < 60 {
		t.Fatalf("truth covers %d events and %d tenants", tr.Events, len(tr.Tenants))
	}
	waitFor(t, time.Minute, 50*time.Millisecond, func() error { return compareTruth(t, srv.url, tr) })

	// /v1/processor and /metrics tell the same: every record read, none
	// dead. (The metrics can equal the truth before the last records are
	// read, when those change none of the compared fields.)
	var p struct {
		Shards []struct {
			Stream, Shard        string
			Records, DeadLetters int64
		}
	}
	waitFor(t, time.Minute, 50*time.Millisecond, func() error {
		p.Shards = nil
		getJSON(t, srv.url+"/v1/processor", &p)
		var n int64
		for _, sh := range p.Shards {
			n += sh.Records
		}
		if n < tr.Events {
			return fmt.Errorf("the processor has read %d of %d records", n, tr.Events)
		}
		return nil
	})
	resp, err := http.Get(srv.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var records int64
	for _, sh := range p.Shards {
		records += sh.Records
		if sh.DeadLetters != 0 {
			t.Errorf("%s/%s has %d dead letters", sh.Stream, sh.Shard, sh.DeadLetters)
		}
		want := fmt.Sprintf(`tenantpulse_analytics_records_total{shard=%q,stream=%q} %d`, sh.Shard, sh.Stream, sh.Records)
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if len(p.Shards) != 4 || records != tr.Events {
		t.Errorf("/v1/processor: %d shards, %d records read; want 4 and %d", len(p.Shards), records, tr.Events)
	}
}

// TestAnalyticsKill9ExactlyOnce sends a simulated business to the event
// API, resending each batch until it is answered, while the server is
// killed with SIGKILL at random points and restarted; after each restart
// the processor resumes from its checkpoints. The final metrics equal the
// ground truth exactly: nothing lost, nothing counted twice.
func TestAnalyticsKill9ExactlyOnce(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	dataDir := t.TempDir()
	// Checkpoint often, so kills land before, during and after checkpoints.
	// A dedupe window far smaller than the load makes the count rest on
	// the checkpoints alone: replaying records already counted would not
	// be caught as duplicates.
	args := []string{"--checkpoint-interval", "50ms", "--analytics-dedupe-max-bytes", "65536"}
	srv := startServerIn(t, dataDir, args...)
	g := sim.New(sim.Config{Seed: seed % 1000, Tenants: 40, Start: time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)})
	hc := &http.Client{Timeout: 10 * time.Second}
	const total = 150_000
	sent, nextKill, kills := 0, 5000+rng.IntN(20000), 0
	var body []byte
	for sent < total {
		n := min(1+rng.IntN(800), total-sent)
		body = body[:0]
		for range n {
			var ok bool
			if body, _, ok = g.Next(body); !ok {
				t.Fatal("the simulator ran out of events")
			}
			body = append(body, '\n')
		}
		postUntilAnswered(t, hc, srv.url, body)
		sent += n
		if sent >= nextKill && kills < 6 {
			// Let the processor run into the new events for a random
			// moment, then kill.
			time.Sleep(time.Duration(rng.IntN(200)) * time.Millisecond)
			srv.kill9()
			kills++
			srv = startServerIn(t, dataDir, args...)
			nextKill = sent + 5000 + rng.IntN(30000)
		}
	}
	truth := g.Truth()
	t.Logf("%d events, %d tenants, %d kills", truth.Events, len(truth.Tenants), kills)
	waitFor(t, 2*time.Minute, 100*time.Millisecond, func() error { return compareTruth(t, srv.url, truth) })
	// And once more after a last kill: the state comes back the same.
	srv.kill9()
	srv = startServerIn(t, dataDir, args...)
	waitFor(t, 2*time.Minute, 100*time.Millisecond, func() error { return compareTruth(t, srv.url, truth) })
}

// postUntilAnswered posts an NDJSON body to the event API until every
// event in it is answered accepted or duplicate: a request cut off by a
// kill, or an event rejected as retryable, is sent again.
func postUntilAnswered(t *testing.T, hc *http.Client, url string, body []byte) {
	t.Helper()
	for attempt := 0; ; attempt++ {
		if attempt > 200 {
			t.Fatal("a batch was not accepted after 200 attempts")
		}
		resp, err := hc.Post(url+"/v1/events", "application/x-ndjson", bytes.NewReader(body))
		if err != nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			continue
		}
		var r eventsReply
		if resp.StatusCode != 200 || json.Unmarshal(b, &r) != nil {
			t.Fatalf("POST /v1/events: %d %s", resp.StatusCode, b)
		}
		if r.FailedEventCount == 0 {
			return
		}
		for _, res := range r.Results {
			if res.Status == "rejected" {
				t.Fatalf("POST /v1/events rejected event %s: %s (a resend cannot help)", res.ID, res.Reason)
			}
		}
		// Resend the whole batch: the stored ones come back duplicate.
		time.Sleep(20 * time.Millisecond)
	}
}

// sendUntil posts the generator's events up to the time until to the
// event API, 10,000 a request, each request until it is answered.
func sendUntil(t *testing.T, hc *http.Client, url string, g *sim.Generator, until time.Time) {
	t.Helper()
	var body []byte
	for n := 1; ; n++ {
		p, ok := g.Peek()
		done := !ok || p.Time > until.UnixNano()
		if done || n%10000 == 0 {
			postUntilAnswered(t, hc, url, body)
			body = body[:0]
		}
		if done {
			return
		}
		body, _, _ = g.Next(body)
		body = append(body, '\n')
	}
}
