package ingest

import (
	"testing"
	"time"
)

// POST /v1/events with the default dedupe window: a resend just inside the
// documented 10 minutes (docs/event-api.md "Duplicates", written here as a
// literal, not taken from dedupe.DefaultWindow) is a duplicate, one just
// outside it is stored again.
func TestDedupeDefaultWindowBoundaries(t *testing.T) {
	const documented = 10 * time.Minute
	ts := startTest(t, "", Options{})
	// The server's clock starts at the events' time (ev: 2026-11-25T10:00),
	// so none is dated in the future (max_future).
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).UnixMilli()
	ms := documented.Milliseconds()
	f := func(id string, at int64, want string) {
		t.Helper()
		ts.now.Store(base + at)
		if r := ts.send("", ev(id, "user.added", "t", `{"userId":"u"}`)); r.Results[0].Status != want {
			t.Logf("reason: %s", r.Results[0].Reason)
			t.Fatalf("%s at +%d ms: %s, want %s", id, at, r.Results[0].Status, want)
		}
	}
	f("inside", 0, "accepted")
	f("outside", 0, "accepted")
	f("inside", ms-1, "duplicate")
	f("outside", ms, "accepted")
	if n := len(ts.stored("companies")); n != 3 {
		t.Fatalf("stored %d events, want 3", n)
	}
}
