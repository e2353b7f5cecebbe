package consumer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/stream"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// holder records what the Follower asks of it.
type holder struct {
	mu      sync.Mutex
	held    map[string][]string
	calls   []string
	failing bool // Open fails
}

func (h *holder) Holds(name string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.held[name] != nil
}

func (h *holder) Drop(ctx context.Context, name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.held, name)
	h.calls = append(h.calls, "drop "+name)
}

func (h *holder) Open(ctx context.Context, name string, shards []string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failing {
		h.calls = append(h.calls, "open failed "+name)
		return errors.New("disk trouble")
	}
	h.held[name] = shards
	h.calls = append(h.calls, fmt.Sprintf("open %s %d", name, len(shards)))
	return nil
}

func (h *holder) log() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.calls)
}

func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// A Follower opens the streams that exist, drops a stream deleted under a
// running consumer (told by a worker's error or by describing it), opens
// it again once it is created, retries an Open that failed, and keeps the
// resets in the marks across a new Follower.
func TestFollower(t *testing.T) {
	store, err := streamlog.Open(streamlog.Options{Dir: t.TempDir(), MinFreeBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.CreateStream(streamlog.StreamConfig{Name: "a", ShardCount: 2}); err != nil {
		t.Fatal(err)
	}
	opts := Options{Reader: stream.NewEmbedded(store), Dir: t.TempDir(), Streams: []string{"a", "b"}, Check: 10 * time.Millisecond}
	h := &holder{held: map[string][]string{}}
	f, err := NewFollower(context.Background(), opts, h)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.log(); !slices.Equal(got, []string{"open a 2"}) {
		t.Fatalf("at start: %q", got)
	}
	if st := f.Statuses(); st[0].State != "reading" || st[1].State != "waiting" || st[0].Resets+st[1].Resets != 0 {
		t.Fatalf("statuses at start: %+v", st)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var starts sync.WaitGroup
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.Run(ctx, h, func(ctx context.Context) func() {
			starts.Add(1)
			go func() { <-ctx.Done(); starts.Done() }()
			return starts.Wait
		})
	}()
	defer func() { cancel(); <-done }()

	if f.Gone("a", errors.New("a disk error")) {
		t.Error("Gone took an unrelated error for a gone stream")
	}
	if err := store.DeleteStream("a"); err != nil {
		t.Fatal(err)
	}
	if !f.Gone("a", fmt.Errorf("read: %w", stream.ErrStreamNotFound)) {
		t.Error("Gone did not take ErrStreamNotFound")
	}
	poll(t, "the deleted stream dropped", func() bool { return f.Statuses()[0].State == "waiting" })
	if st := f.Statuses()[0]; st.Resets != 1 || st.ResetReason != ReasonDeleted || st.ResetAt == "" {
		t.Errorf("after the deletion: %+v", st)
	}
	h.mu.Lock()
	h.failing = true
	h.mu.Unlock()
	if _, err := store.CreateStream(streamlog.StreamConfig{Name: "a", ShardCount: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateStream(streamlog.StreamConfig{Name: "b", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	poll(t, "an Open that failed", func() bool { return slices.Contains(h.log(), "open failed a") })
	h.mu.Lock()
	h.failing = false
	h.mu.Unlock()
	poll(t, "the recreated stream and the new one opened", func() bool { return h.Holds("a") && h.Holds("b") })
	if got := h.log(); got[1] != "drop a" || !slices.Contains(got, "open a 3") || !slices.Contains(got, "open b 1") {
		t.Errorf("calls: %q", got)
	}
	if st := f.Statuses(); st[0].State != "reading" || st[0].Resets != 1 || st[1].State != "reading" || st[1].Resets != 0 {
		t.Errorf("after the recreation: %+v", st)
	}
	cancel()
	<-done

	// Deleted and created again while no Follower runs: the next one drops it.
	if err := store.DeleteStream("a"); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateStream(streamlog.StreamConfig{Name: "a", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	h2 := &holder{held: map[string][]string{}}
	f2, err := NewFollower(context.Background(), opts, h2)
	if err != nil {
		t.Fatal(err)
	}
	if got := h2.log(); !slices.Equal(got, []string{"drop a", "open a 1", "open b 1"}) {
		t.Errorf("a new Follower: %q", got)
	}
	if st := f2.Statuses()[0]; st.Resets != 2 || st.ResetReason != ReasonRecreated {
		t.Errorf("a new Follower's status of a: %+v", st)
	}
}
