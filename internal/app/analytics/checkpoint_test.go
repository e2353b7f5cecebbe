package analytics

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/event"
	"github.com/tenantpulse/tenantpulse/internal/sim"
	"github.com/tenantpulse/tenantpulse/internal/stream"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// lockedBuffer collects log output from the workers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), s)
}

// TestCheckpointRetriesBackOff makes one shard's checkpoints fail (its
// directory replaced by a file, as a full disk would refuse them): the
// attempts are spaced by the backoff (100, 200, 400 ms ... before the
// fourth) instead of one on every pass of the worker, each logs one line,
// CheckpointFailures says since when and why, and once the directory is
// back the next attempt succeeds and the failure clears.
func TestCheckpointRetriesBackOff(t *testing.T) {
	store, err := streamlog.Open(streamlog.Options{Dir: t.TempDir(), MinFreeBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for _, name := range []string{event.StreamCompanies, event.StreamJobs} {
		if _, err := store.CreateStream(streamlog.StreamConfig{Name: name, ShardCount: 1}); err != nil {
			t.Fatal(err)
		}
	}
	feed(t, store, sim.New(sim.Config{Seed: 5, Tenants: 10, Start: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)}), 2000)
	dir := t.TempDir()
	logs := &lockedBuffer{}
	s, err := New(context.Background(), Options{Reader: stream.NewEmbedded(store), Dir: dir, Workers: 1, CheckpointInterval: time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	jobs := filepath.Join(dir, event.StreamJobs)
	if err := os.RemoveAll(jobs); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jobs, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s.Start()
	defer s.Stop()
	const attempts = 4
	deadline := time.Now().Add(30 * time.Second)
	// A failure is counted before its line is logged: wait for both.
	for s.CheckpointFailures().Total < attempts || logs.count("cannot checkpoint") < attempts {
		if time.Now().After(deadline) {
			t.Fatalf("%d failed checkpoints and %d log lines in 30 s, want %d", s.CheckpointFailures().Total, logs.count("cannot checkpoint"), attempts)
		}
		time.Sleep(10 * time.Millisecond)
	}
	elapsed := time.Since(start)
	lines := logs.count("cannot checkpoint")
	st := s.CheckpointFailures()
	// Waits of 100, 200 and 400 ms separate the first four attempts.
	if elapsed < 700*time.Millisecond {
		t.Fatalf("%d failed checkpoints within %s: the retries do not back off", st.Total, elapsed)
	}
	if lines < attempts || uint64(lines) > st.Total {
		t.Fatalf("%d log lines for %d failed checkpoints, want one each", lines, st.Total)
	}
	if !st.Failing() || st.Since.Before(start) || !strings.Contains(st.Last, jobs) {
		t.Fatalf("CheckpointFailures = %+v, want failing since the start, naming %s", st, jobs)
	}

	if err := os.Remove(jobs); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(jobs, 0o755); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(30 * time.Second)
	for s.CheckpointFailures().Failing() {
		if time.Now().After(deadline) {
			t.Fatalf("checkpoints still failing 30 s after the directory came back: %+v", s.CheckpointFailures())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(jobs, "shardId-000000000000.ckpt")); err != nil {
		t.Fatalf("the recovered checkpoint: %v", err)
	}
}
