package archive

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/objstore"
	"github.com/tenantpulse/tenantpulse/internal/sim"
)

// refusingStore refuses every Put while refuse is set, as a full disk does.
type refusingStore struct {
	objstore.Store
	refuse atomic.Bool
}

var errNoSpace = errors.New("no space left on device")

func (r *refusingStore) Put(ctx context.Context, bucket, key string, body []byte) error {
	if r.refuse.Load() {
		return errNoSpace
	}
	return r.Store.Put(ctx, bucket, key, body)
}

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), s)
}

// TestArchiveFailuresBackOff refuses every file for a while: each shard
// retries after growing waits (100, 200, 400 ms before its fourth
// attempt), one log line an attempt; Failures says since when and why;
// once files are taken again the failure clears, and after a stop every
// record is archived exactly once.
func TestArchiveFailuresBackOff(t *testing.T) {
	f := newFixture(t)
	refusing := &refusingStore{Store: f.objects}
	refusing.refuse.Store(true)
	f.feed(t, sim.New(sim.Config{Seed: 3, Tenants: 20, Start: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)}), 5000)
	logs := &logBuffer{}
	opts := f.options()
	opts.Store = refusing
	opts.FileBytes = 1 << 10
	opts.FileAge = time.Hour // files are cut by size only: the retry must store what it holds
	opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	s, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s.Start()
	const attempts = 4
	var worst uint64
	deadline := time.Now().Add(30 * time.Second)
	for worst < attempts {
		if time.Now().After(deadline) {
			t.Fatalf("at most %d failed attempts per shard in 30 s, want %d", worst, attempts)
		}
		time.Sleep(10 * time.Millisecond)
		for _, a := range s.shards {
			worst = max(worst, a.fail.State().Total)
		}
	}
	elapsed := time.Since(start)
	lines := logs.count("archiving failed; retrying")
	st := s.Failures()
	if elapsed < 700*time.Millisecond {
		t.Fatalf("a shard failed %d times within %s: the retries do not back off", worst, elapsed)
	}
	if lines < attempts || uint64(lines) > st.Total {
		t.Fatalf("%d log lines for %d failed attempts, want one each", lines, st.Total)
	}
	if !st.Failing() || !strings.Contains(st.Last, errNoSpace.Error()) {
		t.Fatalf("Failures = %+v, want failing with %q", st, errNoSpace)
	}

	refusing.refuse.Store(false)
	deadline = time.Now().Add(30 * time.Second)
	for s.Failures().Failing() {
		if time.Now().After(deadline) {
			t.Fatalf("still failing 30 s after the store took files again: %+v", s.Failures())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	f.check(t, f.archived(t))
}
