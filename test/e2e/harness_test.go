// Package e2e holds black-box end-to-end tests: each test starts the built
// tenantpulse binary on a free loopback port with its own data directory and
// talks to it over HTTP with real clients (the AWS CLI, the AWS SDKs for Go,
// JavaScript and Python), in the style of VictoriaMetrics' apptest.
package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// modulePath names the module whose root the tests look for.
const modulePath = "github.com/tenantpulse/tenantpulse"

// Timeouts for the server's life cycle. They bound how long a broken server
// can hang a test; none of them is an assertion about speed.
const (
	startTimeout = 60 * time.Second
	stopTimeout  = 30 * time.Second
)

var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// repoRoot returns the module root: the nearest directory at or above the
// working directory whose go.mod declares modulePath.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("cannot get the working directory: %v", err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && regexp.MustCompile(`(?m)^module\s+`+regexp.QuoteMeta(modulePath)+`\s*$`).Match(b) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("cannot find the root of module %s above the working directory", modulePath)
		}
		dir = parent
	}
}

// binary builds ./cmd/tenantpulse once per test run and returns its path.
func binary(t testing.TB) string {
	t.Helper()
	root := repoRoot(t)
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "tenantpulse-e2e-")
		if buildErr != nil {
			return
		}
		buildBin = filepath.Join(buildDir, "tenantpulse")
		cmd := exec.Command("go", "build", "-o", buildBin, "./cmd/tenantpulse")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/tenantpulse: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("cannot build the binary: %v", buildErr)
	}
	return buildBin
}

// waitFor calls f every interval until it returns nil, and fails the test
// with f's last error if that has not happened within timeout (nats'
// checkFor).
func waitFor(t testing.TB, timeout, interval time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s: %v", timeout, err)
		}
		time.Sleep(interval)
	}
}

// server is one running tenantpulse process.
type server struct {
	t       testing.TB
	cmd     *exec.Cmd
	dataDir string
	addr    string // host:port it listens on
	url     string // http://addr
	log     *logWriter
	done    chan struct{} // closed when the process has exited
	waitErr error         // the process's exit status, after done
}

// startServer starts the binary with a new data directory and args after
// `serve --listen 127.0.0.1:0 --data DIR`, waits until /healthz answers
// (ok, or degraded: the server is up but refuses some work), and
// stops it with SIGTERM at the end of the test.
func startServer(t testing.TB, args ...string) *server {
	t.Helper()
	return startServerIn(t, t.TempDir(), args...)
}

// startServerIn is startServer on an existing data directory, to restart a
// server on the data a previous one left.
func startServerIn(t testing.TB, dataDir string, args ...string) *server {
	t.Helper()
	bin := binary(t)
	s := &server{t: t, dataDir: dataDir, log: newLogWriter(), done: make(chan struct{})}
	s.cmd = exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--data", dataDir}, args...)...)
	s.cmd.Stdout = s.log
	s.cmd.Stderr = s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("cannot start %s: %v", bin, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server (pid %d, data %s) output:\n%s", s.cmd.Process.Pid, s.dataDir, s.log.String())
		}
		s.stop()
	})

	select {
	case s.addr = <-s.log.listening:
	case <-s.done:
		t.Fatalf("the server exited before listening: %v\n%s", s.waitErr, s.log.String())
	case <-time.After(startTimeout):
		t.Fatalf("the server did not log %q within %s:\n%s", "listening on", startTimeout, s.log.String())
	}
	s.url = "http://" + s.addr
	hc := &http.Client{Timeout: 5 * time.Second}
	waitFor(t, startTimeout, 20*time.Millisecond, func() error {
		select {
		case <-s.done:
			t.Fatalf("the server exited while starting: %v\n%s", s.waitErr, s.log.String())
		default:
		}
		resp, err := hc.Get(s.url + "/healthz")
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		// A degraded server (503 "degraded: ...", such as on a full
		// disk) is up: it serves, and tests check what it refuses.
		if resp.StatusCode != http.StatusOK && !(resp.StatusCode == http.StatusServiceUnavailable && bytes.HasPrefix(body, []byte("degraded: "))) {
			return fmt.Errorf("GET /healthz: %s %s", resp.Status, body)
		}
		return nil
	})
	return s
}

// exited reports whether the process has exited.
func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits for a clean exit (status 0). It does
// nothing if the process has already exited after kill9.
func (s *server) stop() {
	s.t.Helper()
	if s.exited() {
		return
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.t.Errorf("cannot send SIGTERM to the server: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
		s.cmd.Process.Kill()
		<-s.done
		s.t.Errorf("the server did not stop within %s of SIGTERM:\n%s", stopTimeout, s.log.String())
		return
	}
	if s.waitErr != nil {
		s.t.Errorf("the server did not exit cleanly after SIGTERM: %v\n%s", s.waitErr, s.log.String())
	}
}

// kill9 kills the process with SIGKILL, as a crash would, and waits for it
// to be gone.
func (s *server) kill9() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.t.Fatalf("cannot send SIGKILL to the server: %v", err)
	}
	<-s.done
	s.log.markKilled()
}

// logWriter collects the server's output and reports the address of the
// first "listening on ADDR" line on listening.
type logWriter struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	line      []byte
	found     bool
	listening chan string
}

func newLogWriter() *logWriter { return &logWriter{listening: make(chan string, 1)} }

var listeningRE = regexp.MustCompile(`listening on ([^\s"]+)`)

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.found {
		return len(p), nil
	}
	w.line = append(w.line, p...)
	for {
		i := bytes.IndexByte(w.line, '\n')
		if i < 0 {
			break
		}
		if m := listeningRE.FindSubmatch(w.line[:i]); m != nil {
			w.found = true
			w.line = nil
			w.listening <- string(m[1])
			break
		}
		w.line = w.line[i+1:]
	}
	return len(p), nil
}

func (w *logWriter) markKilled() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.WriteString("--- killed with SIGKILL ---\n")
}

func (w *logWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// clientEnv returns the environment for an AWS client process: the test's
// environment without AWS_* settings or a profile, with dummy credentials,
// region us-west-2, no pager and HOME in a temporary directory so no user
// configuration is read.
func clientEnv(t testing.TB) []string {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || k == "HOME" || k == "PYTHONPATH" || k == "PYTHONHOME" {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HOME="+t.TempDir(),
		"AWS_ACCESS_KEY_ID=AKIDTENANTPULSETEST",
		"AWS_SECRET_ACCESS_KEY=tenantpulse-test-secret",
		"AWS_DEFAULT_REGION=us-west-2",
		"AWS_REGION=us-west-2",
		"AWS_PAGER=",
		"AWS_EC2_METADATA_DISABLED=true",
	)
}

// runCmd runs a client program to completion with a bounded time and
// returns its stdout; it fails the test with both outputs if it exits
// non-zero.
func runCmd(t testing.TB, timeout time.Duration, dir string, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}
