package retry

import (
	"errors"
	"sync"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	f := func(b Backoff, want ...time.Duration) {
		t.Helper()
		for i, w := range want {
			if got := b.Next(); got != w {
				t.Fatalf("wait %d = %s, want %s", i, got, w)
			}
		}
	}
	ms := time.Millisecond
	f(Backoff{}, 100*ms, 200*ms, 400*ms, 800*ms, 1600*ms, 3200*ms, 6400*ms, 10*time.Second, 10*time.Second)
	f(Backoff{Min: 5 * ms, Max: 12 * ms}, 5*ms, 10*ms, 12*ms, 12*ms)
	f(Backoff{Min: time.Second}, time.Second, 2*time.Second, 4*time.Second, 8*time.Second, 10*time.Second)
	b := Backoff{}
	b.Next()
	b.Next()
	b.Reset()
	f(b, 100*ms, 200*ms)
}

// TestBackoffBoundsAttempts: a failure lasting a minute costs a bounded
// number of attempts (each one a log line at most).
func TestBackoffBoundsAttempts(t *testing.T) {
	var b Backoff
	n := 0
	for elapsed := time.Duration(0); elapsed < time.Minute; n++ {
		elapsed += b.Next()
	}
	if n > 15 {
		t.Fatalf("%d attempts in a minute of failures, want at most 15", n)
	}
}

func TestFailures(t *testing.T) {
	var f Failures
	if s := f.State(); s.Failing() || s.Total != 0 {
		t.Fatalf("new: %+v", s)
	}
	t0 := time.Unix(1000, 0)
	f.Fail(t0, errors.New("disk full"))
	f.Fail(t0.Add(time.Second), errors.New("still full"))
	s := f.State()
	if !s.Failing() || !s.Since.Equal(t0) || s.Total != 2 || s.Last != "still full" {
		t.Fatalf("after two failures: %+v, want failing since the first, 2 in all, the last error", s)
	}
	f.OK()
	if s := f.State(); s.Failing() || s.Total != 2 || s.Last != "" {
		t.Fatalf("after a success: %+v", s)
	}
	f.Fail(t0.Add(time.Hour), errors.New("again"))
	if s := f.State(); !s.Since.Equal(t0.Add(time.Hour)) || s.Total != 3 {
		t.Fatalf("a new run: %+v", s)
	}
}

func TestMerge(t *testing.T) {
	t0 := time.Unix(1000, 0)
	m := Merge(State{Total: 1}, State{Total: 2, Since: t0.Add(time.Second), Last: "b"}, State{Total: 3, Since: t0, Last: "a"})
	if m.Total != 6 || !m.Since.Equal(t0) || m.Last != "a" {
		t.Fatalf("Merge = %+v, want 6 failures, failing since the earliest part (a)", m)
	}
	if m := Merge(State{Total: 4}); m.Failing() {
		t.Fatalf("Merge of healthy parts is failing: %+v", m)
	}
}

func TestFailuresConcurrent(t *testing.T) {
	var f Failures
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				if i%2 == 0 {
					f.Fail(time.Now(), errors.New("x"))
				} else {
					f.OK()
					f.State()
				}
			}
		}()
	}
	wg.Wait()
	if f.State().Total != 2000 {
		t.Fatalf("Total = %d, want 2000", f.State().Total)
	}
}
