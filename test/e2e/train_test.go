package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/sim"
)

// TestTrainFromArchive trains a model from the archive plus the
// simulator's ground truth, the way a user would: events go to a server,
// the server stops (its archive flushed), `tenantpulse train --labels`
// replays the archive, and a server started with the model scores the live
// tenants, the churned ones above the others.
func TestTrainFromArchive(t *testing.T) {
	dataDir, dir := t.TempDir(), t.TempDir()
	srv := startServerIn(t, dataDir, "--archive-file-age", "100ms")
	now := time.Now().UTC()
	// A Monday midnight 120 to 127 days ago: the weekly season, and so
	// the events, are the same whenever the test runs (up to now).
	g := sim.New(sim.Config{Seed: 21, Tenants: 80, Start: now.AddDate(0, 0, -120).Truncate(7 * 24 * time.Hour)})
	sendUntil(t, &http.Client{Timeout: 30 * time.Second}, srv.url, g, now)
	truth := g.Truth()
	// The archiver reads the streams behind the writers: wait until it has
	// read every event (GET /v1/archive), then stop, which stores every
	// open file.
	waitFor(t, 2*time.Minute, 100*time.Millisecond, func() error {
		var st struct{ Records, Events int64 }
		getJSON(t, srv.url+"/v1/archive", &st)
		if st.Records < truth.Events {
			return fmt.Errorf("the archiver has read %d of %d events", st.Records, truth.Events)
		}
		return nil
	})
	srv.stop()
	truthPath := filepath.Join(dir, "truth.json")
	if err := sim.WriteTruth(truthPath, truth); err != nil {
		t.Fatal(err)
	}
	churned := map[string]bool{}
	for _, tt := range truth.Tenants {
		if tt.Churned {
			churned[tt.ID] = true
		}
	}
	modelPath := filepath.Join(dir, "churn.json")
	out := runCmd(t, 2*time.Minute, dir, os.Environ(), binary(t), "train", "--data", dataDir, "--labels", truthPath, "--out", modelPath, "--model-type", "binned")
	t.Logf("train:\n%s", out)
	want := fmt.Sprintf("labels: %d tenants to learn from (%d churned); 0 archived tenants have no label, 0 labelled ones are not in the archive", len(truth.Tenants), len(churned))
	if !strings.Contains(out, want) || !strings.Contains(out, fmt.Sprintf("%d events", truth.Events)) || !strings.Contains(out, "as of "+truth.AsOf) {
		t.Errorf("train's output lacks %q, the %d events or the truth's time %s", want, truth.Events, truth.AsOf)
	}
	if len(churned) < 3 {
		t.Fatalf("only %d tenants churned: too few to check a model", len(churned))
	}

	// Labels that name no tenant column: a clear error, no model.
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("name,churned\nx,1\n"), 0o644)
	cmd := exec.Command(binary(t), "train", "--data", dataDir, "--labels", bad, "--out", filepath.Join(dir, "none.json"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); cmd.ProcessState.ExitCode() != 1 || !strings.Contains(stderr.String(), "names no tenant id column") {
		t.Errorf("bad labels: %v, %s", err, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "none.json")); !os.IsNotExist(err) {
		t.Errorf("bad labels wrote a model: %v", err)
	}

	srv = startServerIn(t, dataDir, "--model", "churn="+modelPath)
	var m struct {
		Columns []string
		Type    string
	}
	getJSON(t, srv.url+"/v1/models/churn", &m)
	if m.Type != "binned" || !slices.Contains(m.Columns, "daysSinceActivity") || !slices.Contains(m.Columns, "jobsTrend") {
		t.Fatalf("the deployed model: %+v, want a binned model with the live signals", m)
	}
	// Every tenant's live risk; the churned ones rank above the others.
	var pos, neg []float64
	for _, tt := range truth.Tenants {
		var r struct{ Score float64 }
		getJSON(t, srv.url+"/v1/tenants/"+tt.ID+"/risk", &r)
		if churned[tt.ID] {
			pos = append(pos, r.Score)
		} else {
			neg = append(neg, r.Score)
		}
	}
	auc := 0.0
	for _, p := range pos {
		for _, n := range neg {
			switch {
			case p > n:
				auc++
			case p == n:
				auc += 0.5
			}
		}
	}
	auc /= float64(len(pos) * len(neg))
	t.Logf("live risk of %d churned and %d other tenants: ROC AUC %.3f", len(pos), len(neg), auc)
	if auc < 0.9 {
		t.Errorf("the archive-trained model ranks churned tenants with AUC %.3f, want at least 0.9", auc)
	}
}

// getJSON decodes a 200 answer of GET url into v.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
