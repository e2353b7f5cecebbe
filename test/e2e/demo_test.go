package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDemo runs `tenantpulse demo` as make demo does, shortened (80
// tenants, 120 days), and checks every part at once: every tenant is scored,
// the dashboard shows the scores, the AWS CLI commands in the README give
// the output shown there, Ctrl-C stops it cleanly; then, with the server
// alone on the same data: the analytics equal the simulator's truth and the
// archive holds every event exactly once.
func TestDemo(t *testing.T) {
	if _, err := os.Stat(debianAWS); err != nil {
		t.Fatalf("the AWS CLI from Debian's awscli package is needed at %s (run make deps): %v", debianAWS, err)
	}
	dataDir := t.TempDir()
	demo := startDemo(t, dataDir)
	base := demo.waitLine(regexp.MustCompile(`the dashboard is at (http://[0-9.:]+)/`), 30*time.Second)[1]
	t0 := time.Now()
	demo.waitLine(regexp.MustCompile(`^ready in `), 2*time.Minute)
	t.Logf("ready %.1fs after the server listened:\n%s", time.Since(t0).Seconds(), demo.output())

	// Every tenant still there is scored, and the overview shows its band.
	// The demo keeps running: a tenant created since "ready" is scored
	// within a second (the risk interval), so the checks wait that long.
	var list struct {
		Tenants []struct {
			ID, Deleted string
			Risk        *struct{ Band string }
		}
	}
	waitFor(t, 5*time.Second, 100*time.Millisecond, func() error {
		list.Tenants = nil
		getJSON(t, base+"/v1/tenants?limit=1000", &list)
		for _, tn := range list.Tenants {
			if tn.Deleted == "" && tn.Risk == nil {
				return fmt.Errorf("tenant %s has no risk", tn.ID)
			}
		}
		return nil
	})
	b := newBrowser(t)
	b.run("open the dashboard", chromedp.Navigate(base+"/"))
	b.waitJS("the scored tenants", fmt.Sprintf(`(() => {
		const rows = [...document.querySelectorAll("#tenants tbody tr")];
		return rows.length >= %d && rows.every((r) => r.innerText.includes("(churned)") || r.querySelector(".band:not(.none)") !== null);
	})()`, len(list.Tenants)))
	b.shot("demo-overview")
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("the dashboard logged errors:\n%s", strings.Join(errs, "\n"))
	}

	// The README's AWS CLI walkthrough, against the demo.
	readmeWalkthrough(t, base)

	// Ctrl-C: the simulator stops, then the server, and the demo exits 0.
	demo.interrupt()
	history := readTruth(t, filepath.Join(dataDir, "demo-truth.json")).Events

	// Again on the same data: it resumes, keeps the model, sends no history again.
	demo = startDemo(t, dataDir)
	base = demo.waitLine(regexp.MustCompile(`the dashboard is at (http://[0-9.:]+)/`), 30*time.Second)[1]
	demo.waitLine(regexp.MustCompile(`^simulator: history resumed from the streams, none sent again \(`), 2*time.Minute)
	demo.waitLine(regexp.MustCompile(`^model: churn is deployed .*; keeping it`), 2*time.Minute)
	demo.waitLine(regexp.MustCompile(`^ready in `), time.Minute)
	var streams struct {
		Streams []struct{ RecordsWritten int64 }
	}
	getJSON(t, base+"/v1/streams", &streams)
	var written int64
	for _, s := range streams.Streams {
		written += s.RecordsWritten
	}
	if written > history/10 {
		t.Errorf("the second run wrote %d records; the history was %d: it was sent again", written, history)
	}
	demo.interrupt()
	truth := readTruth(t, filepath.Join(dataDir, "demo-truth.json"))

	// The server alone on the demo's data: analytics equal the truth, the
	// archive holds every event once.
	srv := startServerIn(t, dataDir, "--archive-file-age", "200ms")
	waitFor(t, time.Minute, 100*time.Millisecond, func() error {
		err := compareTruth(t, srv.url, truth)
		if err != nil {
			// Dead letters (invalid events, or dated too far after
			// their arrival) explain a shortfall; say them.
			var p struct {
				Shards []struct {
					Stream                       string
					DeadLetters, Future, Invalid int64
				}
			}
			getJSON(t, srv.url+"/v1/processor", &p)
			err = fmt.Errorf("%w\nprocessor: %+v\nthe second run printed:\n%s", err, p.Shards, demo.output())
		}
		return err
	})
	waitFor(t, time.Minute, 100*time.Millisecond, func() error { return archiveCaughtUp(t, srv.url) })
	srv.stop()
	count := map[string]int{}
	for _, r := range readArchive(t, dataDir) {
		count[r.id]++
	}
	twice := 0
	for _, n := range count {
		if n > 1 {
			twice++
		}
	}
	if int64(len(count)) != truth.Events || twice > 0 {
		t.Errorf("the archive holds %d distinct events (%d more than once); the simulator sent %d", len(count), twice, truth.Events)
	}
	t.Logf("%d events, %d tenants: analytics equal the truth, archived once each", truth.Events, len(truth.Tenants))
}

// archiveCaughtUp reports whether the archiver has read every shard up to
// its last sequence number.
func archiveCaughtUp(t *testing.T, base string) error {
	var streams struct {
		Streams []struct {
			Name   string
			Shards []struct{ ShardID, LastSequenceNumber string }
		}
	}
	getJSON(t, base+"/v1/streams", &streams)
	var arch struct {
		Shards []struct{ Stream, Shard, Read string }
	}
	getJSON(t, base+"/v1/archive", &arch)
	read := map[string]string{}
	for _, sh := range arch.Shards {
		read[sh.Stream+"/"+sh.Shard] = sh.Read
	}
	for _, s := range streams.Streams {
		for _, sh := range s.Shards {
			if sh.LastSequenceNumber != "" && cmpSeq(read[s.Name+"/"+sh.ShardID], sh.LastSequenceNumber) < 0 {
				return fmt.Errorf("the archiver has read %s/%s to %q, the shard ends at %s", s.Name, sh.ShardID, read[s.Name+"/"+sh.ShardID], sh.LastSequenceNumber)
			}
		}
	}
	return nil
}

// readmeWalkthrough runs each sh block of the README's cli-walkthrough
// section against base and compares its output with the json block that
// follows it: the same structure and values, except the values of
// volatileKeys, which need only the same JSON type.
func readmeWalkthrough(t *testing.T, base string) {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	start := bytes.Index(readme, []byte("<!-- cli-walkthrough"))
	end := bytes.Index(readme, []byte("<!-- /cli-walkthrough -->"))
	if start < 0 || end < start {
		t.Fatal("README.md has no cli-walkthrough section")
	}
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```\\s*```json\n(.*?)```").FindAllSubmatch(readme[start:end], -1)
	if len(blocks) < 5 {
		t.Fatalf("the README's walkthrough has %d command and output pairs, want at least 5", len(blocks))
	}
	dir := t.TempDir()
	env := append(clientEnv(t), "AWS_DEFAULT_REGION=us-east-1")
	for _, blk := range blocks {
		script := strings.ReplaceAll(string(blk[1]), "http://127.0.0.1:8080", base)
		got := runCmd(t, cliTimeout, dir, env, "bash", "-euo", "pipefail", "-c", script)
		var g, w any
		if err := json.Unmarshal([]byte(got), &g); err != nil {
			t.Fatalf("%s\nprinted %q, not JSON: %v", blk[1], got, err)
		}
		if err := json.Unmarshal(blk[2], &w); err != nil {
			t.Fatalf("the README's output of\n%s\nis not JSON: %v", blk[1], err)
		}
		if diff := sameShape("", g, w); diff != "" {
			t.Errorf("%s\nprinted:\n%s\nthe README shows:\n%s\n%s", blk[1], got, blk[2], diff)
		}
	}
}

// volatileKeys differ from run to run: sequence numbers, ARNs, times,
// record data, iterators, lag, scores.
var volatileKeys = map[string]bool{"SequenceNumber": true, "StreamARN": true, "StreamCreationTimestamp": true,
	"ApproximateArrivalTimestamp": true, "Data": true, "NextShardIterator": true, "MillisBehindLatest": true,
	"PartitionKey": true, "score": true, "predicted_label": true}

// sameShape returns "" when got matches want as readmeWalkthrough says, or
// where they differ.
func sameShape(path string, got, want any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: %T, want an object", path, got)
		}
		if len(g) != len(w) {
			return fmt.Sprintf("%s: %d members, want %d", path, len(g), len(w))
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return fmt.Sprintf("%s: no %s", path, k)
			}
			if volatileKeys[k] {
				if fmt.Sprintf("%T", gv) != fmt.Sprintf("%T", wv) {
					return fmt.Sprintf("%s.%s: %T, want %T", path, k, gv, wv)
				}
				continue
			}
			if d := sameShape(path+"."+k, gv, wv); d != "" {
				return d
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: %v, want %d elements", path, got, len(w))
		}
		for i := range w {
			if d := sameShape(fmt.Sprintf("%s[%d]", path, i), g[i], w[i]); d != "" {
				return d
			}
		}
		return ""
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		return fmt.Sprintf("%s: %v, want %v", path, got, want)
	}
	return ""
}

// demoProc is a running `tenantpulse demo`.
type demoProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stderr syncBuffer
	mu     sync.Mutex
	lines  []string
	lineCh chan string
	exited chan error
}

func startDemo(t *testing.T, dataDir string) *demoProc {
	t.Helper()
	d := &demoProc{t: t, lineCh: make(chan string, 1000), exited: make(chan error, 1)}
	d.cmd = exec.Command(binary(t), "demo", "--data", dataDir, "--listen", "127.0.0.1:0",
		"--tenants", "80", "--history", "120d", "--rate", "50", "--seed", "21")
	d.cmd.Stderr = &d.stderr
	out, err := d.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			d.mu.Lock()
			d.lines = append(d.lines, sc.Text())
			d.mu.Unlock()
			d.lineCh <- sc.Text()
		}
		close(d.lineCh)
		d.exited <- d.cmd.Wait()
	}()
	t.Cleanup(func() { d.cmd.Process.Kill() })
	return d
}

func (d *demoProc) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strings.Join(d.lines, "\n") + "\nstderr:\n" + d.stderr.String()
}

// waitLine waits for a line of the demo's output matching re.
func (d *demoProc) waitLine(re *regexp.Regexp, timeout time.Duration) []string {
	d.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-d.lineCh:
			if !ok {
				d.t.Fatalf("the demo exited before printing %s:\n%s", re, d.output())
			}
			if m := re.FindStringSubmatch(l); m != nil {
				return m
			}
		case <-deadline:
			d.t.Fatalf("the demo did not print %s in %s:\n%s", re, timeout, d.output())
		}
	}
}

// interrupt sends SIGINT (Ctrl-C) and checks the demo stops cleanly.
func (d *demoProc) interrupt() {
	d.t.Helper()
	d.cmd.Process.Signal(syscall.SIGINT)
	for range d.lineCh {
	}
	select {
	case err := <-d.exited:
		if err != nil {
			d.t.Fatalf("the demo exited with %v:\n%s", err, d.output())
		}
	case <-time.After(time.Minute):
		d.t.Fatalf("the demo did not stop within a minute of SIGINT:\n%s", d.output())
	}
	if strings.Contains(d.stderr.String(), "level=ERROR") || strings.Contains(d.stderr.String(), "not acknowledged") {
		d.t.Errorf("the demo logged errors:\n%s", d.stderr.String())
	}
}

// syncBuffer is a bytes.Buffer safe to read while a process writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
