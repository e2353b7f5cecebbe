package ingest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// evAt is an event of tenant acme at time at.
func evAt(id string, at string) string {
	return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"test","type":"job.submitted","time":%q,"tenantid":"acme","data":{"jobId":%q,"userId":"u1","dataSize":1}}`, id, at, id)
}

// sendTimes posts events as one JSON array and returns their results.
func (ts *testServer) sendTimes(events ...string) []replyResult {
	ts.t.Helper()
	r := ts.send("application/json", "["+strings.Join(events, ",")+"]")
	if len(r.Results) != len(events) {
		ts.t.Fatalf("%d results for %d events: %+v", len(r.Results), len(events), r)
	}
	return r.Results
}

// An event dated more than max-future ahead of the server's clock is
// rejected on field time, with how far ahead it is; one exactly at the
// bound is accepted. Nothing rejected is stored.
func TestFutureEventRejected(t *testing.T) {
	f := func(maxFuture time.Duration, events []string, want []string) {
		t.Helper()
		ts := startTest(t, "", Options{MaxFuture: maxFuture})
		ts.now.Store(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).UnixMilli())
		got := ts.sendTimes(events...)
		accepted := 0
		for i, r := range got {
			if want[i] == "accepted" {
				accepted++
				if r.Status != "accepted" || r.Windowed != nil {
					t.Errorf("event %d: %+v, want accepted", i, r)
				}
				continue
			}
			if r.Status != "rejected" || r.Error != "InvalidEvent" || r.Field != "time" || !strings.Contains(r.Reason, want[i]) ||
				!strings.Contains(r.Reason, "max_future") || r.ID != fmt.Sprint("e", i) {
				t.Errorf("event %d: %+v, want rejected on time with a reason saying %q", i, r, want[i])
			}
		}
		if n := len(ts.stored("jobs")); n != accepted {
			t.Errorf("stored %d events, want the %d accepted", n, accepted)
		}
	}
	f(0, []string{
		evAt("e0", "2026-11-25T13:00:00Z"),                // exactly the default 1 h ahead
		evAt("e1", "2026-11-25T13:00:00.001Z"),            // 1 ms more
		evAt("e2", "2026-12-02T12:00:00Z"),                // a producer a week ahead
		evAt("e3", "2100-01-01T00:00:00Z"),                // year 2100
		evAt("e4", "2026-11-25T14:00:00+02:00"),           // 12:00 UTC: now
		evAt("e5", "2262-04-11T23:47:16.854775807Z"),      // the latest time there is
		evAt("e6", "2026-11-25T12:59:59.999999999-00:00"), // just inside
	}, []string{"accepted", "1h0m0.001s ahead", "7 days 0s ahead", "26699 days 12h0m0s ahead", "accepted",
		"85969 days 11h47m17s ahead", "accepted"})
	f(10*time.Minute, []string{evAt("e0", "2026-11-25T12:10:00Z"), evAt("e1", "2026-11-25T12:11:00Z")},
		[]string{"accepted", "11m0s ahead of the server's clock (2026-11-25T12:00:00.000Z); an event may be at most 10m0s ahead"})
}

// An event older than every window the metrics keep (before the first of
// the 120 UTC days ending today) is accepted and stored, and its result
// says it counts in lifetime totals only.
func TestOldEventNotWindowed(t *testing.T) {
	ts := startTest(t, "", Options{})
	ts.now.Store(time.Date(2026, 11, 25, 23, 59, 0, 0, time.UTC).UnixMilli())
	got := ts.sendTimes(
		evAt("in", "2026-07-29T00:00:00Z"),      // the first of the 120 days ending 2026-11-25
		evAt("out", "2026-07-28T23:59:59.999Z"), // the last ms before it
		evAt("ancient", "1999-01-01T00:00:00Z"),
	)
	if got[0].Status != "accepted" || got[0].Windowed != nil || got[0].Reason != "" {
		t.Errorf("an event on the first day of the windows: %+v", got[0])
	}
	for _, r := range got[1:] {
		if r.Status != "accepted" || r.Windowed == nil || *r.Windowed ||
			!strings.Contains(r.Reason, "before 2026-07-29, the first of the 120 days") || !strings.Contains(r.Reason, "lifetime totals only") {
			t.Errorf("an event older than the windows: %+v", r)
		}
	}
	if n := len(ts.stored("jobs")); n != 3 {
		t.Errorf("stored %d events, want 3: an old event is stored (and archived) all the same", n)
	}
}
