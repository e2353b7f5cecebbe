package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// simNow pins "now" so the simulator's events are reproducible.
const simNow = "2026-11-25T10:00:00Z"

// simulate runs the built binary's simulate command and returns its stdout.
func simulate(t *testing.T, args ...string) string {
	t.Helper()
	return runCmd(t, 3*time.Minute, repoRoot(t), os.Environ(), binary(t), append([]string{"simulate"}, args...)...)
}

// simOut returns the first n events of the settings as lines, via --out.
func simOut(t *testing.T, n int, args ...string) [][]byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.ndjson")
	simulate(t, append(args, "--out", path, "--count", strconv.Itoa(n))...)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
}

var receivedTimeRE = regexp.MustCompile(`^\{"receivedtime":"[^"]*",`)

// storedEvents reads both streams and returns the events by ordinal of
// seed, as the simulator wrote them (a receivedtime the event API adds is
// removed), and how many times each was stored.
func storedEvents(t *testing.T, url string, seed int) (map[int][]byte, map[int]int) {
	t.Helper()
	c := newKinesisClient(url)
	events, times := map[int][]byte{}, map[int]int{}
	for _, stream := range []string{"companies", "jobs"} {
		for _, data := range readStream(t, c, stream) {
			data = receivedTimeRE.ReplaceAll(data, []byte("{"))
			var ev struct{ ID, Type string }
			if err := json.Unmarshal(data, &ev); err != nil {
				t.Fatalf("stored record %s: %v", data, err)
			}
			if strings.HasPrefix(ev.Type, "job.") != (stream == "jobs") {
				t.Errorf("%s stored in %s", ev.Type, stream)
			}
			s, o, ok := strings.Cut(ev.ID, "-")
			n, err := strconv.Atoi(o)
			if !ok || err != nil || s != strconv.Itoa(seed) {
				t.Fatalf("stored record with id %q", ev.ID)
			}
			events[n] = data
			times[n]++
		}
	}
	return events, times
}

// checkStored checks the streams hold exactly want, each event once.
func checkStored(t *testing.T, events map[int][]byte, times map[int]int, want [][]byte) {
	t.Helper()
	if len(events) != len(want) {
		t.Fatalf("the streams hold %d distinct events, want %d", len(events), len(want))
	}
	for i, line := range want {
		if times[i] != 1 || !bytes.Equal(events[i], line) {
			t.Fatalf("event %d stored %d times as %s, want once as %s", i, times[i], events[i], line)
		}
	}
}

func countType(lines [][]byte, typ string) int {
	n := 0
	for _, l := range lines {
		if bytes.Contains(l, []byte(`"type":"`+typ+`"`)) {
			n++
		}
	}
	return n
}

// TestSimulateKinesisResume backfills 3 days and goes live for a few
// seconds through PutRecords, checks the streams hold exactly the events
// --out writes for the same settings, once each, and the truth covers
// them; then runs again with --count 200 and checks it resumed: no second
// backfill, ordinals continue, nothing stored twice.
func TestSimulateKinesisResume(t *testing.T) {
	s := startServer(t)
	truth := filepath.Join(t.TempDir(), "truth.json")
	settings := []string{"--history", "3d", "--tenants", "20", "--seed", "7", "--now", simNow}
	out := simulate(t, append(settings, "--via", "kinesis", "--endpoint", s.url, "--truth", truth, "--duration", "6s")...)
	t.Logf("first run:\n%s", out)

	events, times := storedEvents(t, s.url, 7)
	n := len(events)
	if n < 2000 {
		t.Fatalf("only %d events stored after a 3-day backfill of 20 tenants", n)
	}
	want := simOut(t, n, settings...)
	checkStored(t, events, times, want)
	if !strings.Contains(string(want[n-1]), `"time":"2026-11-25T10:00:`) { // live: in the minute after --now
		t.Errorf("the last event %s is not live", want[n-1])
	}

	// The truth covers exactly the stored events and equals the truth of
	// the same events written with --out.
	outTruth := filepath.Join(t.TempDir(), "out-truth.json")
	simulate(t, append(settings, "--out", filepath.Join(t.TempDir(), "e.ndjson"), "--count", strconv.Itoa(n), "--truth", outTruth)...)
	got, _ := os.ReadFile(truth)
	exp, _ := os.ReadFile(outTruth)
	if !bytes.Equal(got, exp) || !bytes.Contains(got, []byte(fmt.Sprintf(`"events": %d,`, n))) {
		t.Fatalf("the truth of the sent events:\n%.400s\ndiffers from the --out truth or does not cover %d events:\n%.400s", got, n, exp)
	}

	// Again, without --now (the clock has moved on: a catch-up) and with
	// other flags, which the stored settings override.
	out = simulate(t, "--seed", "7", "--tenants", "99", "--history", "30d", "--via", "kinesis", "--endpoint", s.url, "--count", "200")
	t.Logf("second run:\n%s", out)
	if !strings.Contains(out, "resumed") {
		t.Errorf("the second run did not report resuming:\n%s", out)
	}
	events, times = storedEvents(t, s.url, 7)
	want2 := simOut(t, n+200, settings...)
	checkStored(t, events, times, want2)
	if a, b := countType(want, "tenant.created"), countType(want2, "tenant.created"); a != b {
		t.Errorf("tenant.created %d times after the first run, %d after the second: a second backfill", a, b)
	}
}

// TestSimulateEventsAPI sends through POST /v1/events and checks the
// streams hold each event of --out once, no event was rejected, and a run
// resumed after an interruption sends nothing twice.
func TestSimulateEventsAPI(t *testing.T) {
	s := startServer(t)
	settings := []string{"--history", "1d", "--tenants", "10", "--seed", "9", "--now", simNow}
	out := simulate(t, append(settings, "--endpoint", s.url, "--count", "400", "--batch", "100")...)
	if !strings.Contains(out, "rejected 0") || !strings.Contains(out, "delivered 400 ") {
		t.Fatalf("summary:\n%s\nwant 400 delivered, none rejected", out)
	}
	// Without --now the clock is past the stored live start: a catch-up.
	out = simulate(t, "--seed", "9", "--endpoint", s.url, "--count", "600")
	if !strings.Contains(out, "resumed") || !strings.Contains(out, "duplicates 0") || !strings.Contains(out, "rejected 0") {
		t.Fatalf("second run:\n%s\nwant resumed with no duplicates or rejections", out)
	}
	events, times := storedEvents(t, s.url, 9)
	checkStored(t, events, times, simOut(t, 1000, settings...))
}
