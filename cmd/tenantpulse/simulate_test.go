package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// simulateOut runs `simulate --out FILE args...` and returns the file.
func simulateOut(t *testing.T, args ...string) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.ndjson")
	var stdout, stderr bytes.Buffer
	if code := run(append([]string{"simulate", "--out", path}, args...), &stdout, &stderr); code != 0 {
		t.Fatalf("simulate %q: exit %d\n%s%s", args, code, stdout.String(), stderr.String())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSimulateOutDeterministic(t *testing.T) {
	args := []string{"--history", "3d", "--tenants", "20", "--seed", "7", "--now", "2026-11-25T10:00:00Z", "--count", "6000"}
	a := simulateOut(t, args...)
	b := simulateOut(t, args...)
	if !bytes.Equal(a, b) {
		t.Fatal("two runs with the same flags wrote different events")
	}
	if n := bytes.Count(a, []byte("\n")); n != 6000 {
		t.Fatalf("--count 6000 wrote %d events", n)
	}
	lines := bytes.Split(bytes.TrimSuffix(a, []byte("\n")), []byte("\n"))
	var first, last struct{ ID, Time string }
	json.Unmarshal(lines[0], &first)
	json.Unmarshal(lines[len(lines)-1], &last)
	if first.ID != "7-0" || last.ID != "7-5999" || !strings.HasPrefix(first.Time, "2026-11-22T") {
		t.Fatalf("first event %+v, last %+v: want ids 7-0 .. 7-5999 starting 3 days before --now", first, last)
	}
	// 72h is 3d; another seed or --now changes the events.
	if c := simulateOut(t, "--history", "72h", "--tenants", "20", "--seed", "7", "--now", "2026-11-25T10:00:00Z", "--count", "6000"); !bytes.Equal(a, c) {
		t.Fatal("--history 72h and 3d differ")
	}
	if c := simulateOut(t, "--history", "3d", "--tenants", "20", "--seed", "8", "--now", "2026-11-25T10:00:00Z", "--count", "6000"); bytes.Equal(a, c) {
		t.Fatal("seeds 7 and 8 wrote the same events")
	}
	if c := simulateOut(t, "--history", "3d", "--tenants", "20", "--seed", "7", "--now", "2026-11-25T11:00:00Z", "--count", "6000"); bytes.Equal(a, c) {
		t.Fatal("two --now values wrote the same events")
	}
}

func TestSimulateTruthFile(t *testing.T) {
	truth := filepath.Join(t.TempDir(), "truth.json")
	simulateOut(t, "--history", "1d", "--tenants", "5", "--count", "400", "--now", "2026-11-25T10:00:00Z", "--truth", truth)
	b, err := os.ReadFile(truth)
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		Events  int64
		Seed    uint64
		AsOf    string
		Tenants []struct{ ID string }
	}
	if err := json.Unmarshal(b, &tr); err != nil || tr.Events != 400 || tr.Seed != 1 || len(tr.Tenants) != 5 {
		t.Fatalf("truth %s: %v", b, err)
	}
	if _, err := time.Parse(time.RFC3339, tr.AsOf); err != nil {
		t.Fatalf("asOf %q: %v", tr.AsOf, err)
	}
}

func TestSimulateBadFlags(t *testing.T) {
	f := func(want string, args ...string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"simulate"}, args...), &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), want) {
			t.Errorf("simulate %q: exit %d, stderr %q; want 2 and %q", args, code, stderr.String(), want)
		}
	}
	f("--history", "--history", "3x")
	f("--history", "--history", "-1h")
	f("--now", "--now", "yesterday")
	f("--via", "--via", "kafka")
	f("--batch", "--via", "kinesis", "--batch", "501")
	f("--tenants", "--tenants", "0")
	f("--rate", "--rate", "0")
	f("--duration", "--duration", "0s")
	f("unexpected", "extra")
}

func TestSimulateStopsOnCancel(t *testing.T) {
	// Live only against no server would fail; with --out the run is
	// unpaced, so cancel it mid-way and check it stops cleanly.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	path := filepath.Join(t.TempDir(), "e.ndjson")
	var stdout, stderr bytes.Buffer
	if code := simulateMain(ctx, []string{"--out", path}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "events    0 ") {
		t.Fatalf("summary %q: want 0 events after a cancelled context", stdout.String())
	}
}
