package dedupe

import (
	"testing"
	"time"
)

// documentedWindow is the default window the documentation promises
// (docs/event-api.md "Duplicates", docs/configuration.md dedupe_window:
// 10 minutes of arrival time), written here rather than taken from
// DefaultWindow so that a change of the constant fails this test.
const documentedWindow = 10 * time.Minute

// A resend just inside the default window is a duplicate; one just outside
// it is not.
func TestDefaultWindowBoundaries(t *testing.T) {
	w := New(Options{})
	ms := documentedWindow.Milliseconds()
	const t0 = 1_700_000_000_000
	f := func(id string, at int64, wantDup bool) {
		t.Helper()
		if got := w.Add(KeyOf([]byte(id), []byte("src")), t0+at); got != wantDup {
			t.Fatalf("%s at +%d ms: duplicate %v, want %v", id, at, got, wantDup)
		}
	}
	f("inside", 0, false)
	f("outside", 0, false)
	f("inside", ms-1, true)
	f("outside", ms, false)
}
