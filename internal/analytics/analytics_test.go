package analytics

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

var evN int

// ev returns an event of type typ for tenant at time at with data.
func ev(typ, tenant string, at time.Time, data string) string {
	evN++
	return evID(fmt.Sprint("e", evN), typ, tenant, at, data)
}

func evID(id, typ, tenant string, at time.Time, data string) string {
	return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"test","type":%q,"time":%q,"tenantid":%q,"data":%s}`,
		id, typ, at.UTC().Format(time.RFC3339Nano), tenant, data)
}

func created(tenant string, at time.Time, fee float64) string {
	return ev("tenant.created", tenant, at, fmt.Sprintf(`{"name":"N %s","industry":"retail","sentiment":"positive","revenue":100,"employees":10,"monthlyFee":%v,"plan":"pro"}`, tenant, fee))
}

func submitted(tenant string, at time.Time, job string) string {
	return ev("job.submitted", tenant, at, fmt.Sprintf(`{"jobId":%q,"userId":"u1","dataSize":1000}`, job))
}

func mustTenant(t *testing.T, ts *Tester, id string, asOf time.Time) Tenant {
	t.Helper()
	tn, ok := ts.Tenant(id, asOf)
	if !ok {
		t.Fatalf("tenant %s not found", id)
	}
	return tn
}

func TestProfileAndUsers(t *testing.T) {
	ts := NewTester(Options{AllowedLateness: 60 * 24 * time.Hour})
	day := 24 * time.Hour
	ts.Send(t0,
		created("a", t0.Add(-40*day), 100),
		ev("user.added", "a", t0.Add(-40*day), `{"userId":"u1"}`),
		ev("user.added", "a", t0.Add(-40*day), `{"userId":"u2"}`),
		ev("user.added", "a", t0.Add(-40*day), `{"userId":"u3"}`),
		ev("user.login", "a", t0.Add(-35*day), `{"userId":"u1","sessionId":"s1"}`), // outside 30d
		ev("user.logoff", "a", t0.Add(-35*day+time.Hour), `{"userId":"u1","sessionId":"s1"}`),
		ev("user.login", "a", t0.Add(-29*day), `{"userId":"u2","sessionId":"s2"}`), // first day of the 30
		ev("user.session_timeout", "a", t0.Add(-29*day+30*time.Minute), `{"userId":"u2","sessionId":"s2"}`),
		ev("user.login", "a", t0.Add(-2*day), `{"userId":"u3","sessionId":"s3"}`), // open
		ev("user.deleted", "a", t0.Add(-day), `{"userId":"u2"}`),
		ev("tenant.updated", "a", t0.Add(-10*day), `{"sentiment":"negative","monthlyFee":200}`),
		ev("tenant.updated", "a", t0.Add(-20*day), `{"sentiment":"neutral","name":"Old"}`), // late: sentiment older than -10d's
	)
	tn := mustTenant(t, ts, "a", t0)
	want := Tenant{ID: "a", Name: "Old", Industry: "retail", Sentiment: "negative", Plan: "pro", Revenue: 100, Employees: 10,
		MonthlyFee: 200, TotalFee: 100 + 200, Created: "2026-10-16T12:00:00.000Z",
		Users: 2, UsersAdded: 3, UsersDeleted: 1, ActiveUsers7d: 1, ActiveUsers30d: 1,
		Logins: 3, Logoffs: 1, SessionTimeouts: 1, OpenSessions: 1, AvgSessionSeconds: (3600 + 1800) / 2,
		LastActivity: "2026-11-23T12:00:00.000Z", JobsTrend: 1} // no jobs: no pace to fall below
	if tn != want {
		t.Fatalf("tenant\n got %+v\nwant %+v", tn, want)
	}
	// u2 logged in on the first day of the 30 but was deleted; u3 is active.
	// A day later u3's login is still in, and at -29d+... check edges:
	if got := mustTenant(t, ts, "a", t0.Add(-29*day)).ActiveUsers30d; got != 1 {
		t.Errorf("activeUsers30d at -29d = %d, want 1 (u3 logged in later and u2 is deleted)", got)
	}
}

func TestJobWindowsEdges(t *testing.T) {
	ts := NewTester(Options{AllowedLateness: 200 * 24 * time.Hour})
	day := 24 * time.Hour
	midnight := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	ts.Send(midnight.Add(day), // the arrival after the last event
		submitted("b", midnight.Add(-90*day), "j1"),                        // day D-90: outside both
		submitted("b", midnight.Add(-89*day), "j2"),                        // D-89: first of the 90
		submitted("b", midnight.Add(-30*day).Add(-time.Millisecond), "j3"), // last ms of D-31: in 90 only
		submitted("b", midnight.Add(-29*day), "j4"),                        // D-29: first of the 30
		submitted("b", midnight.Add(day-time.Millisecond), "j5"),           // last ms of D
		ev("job.terminated", "b", midnight, `{"jobId":"j4","status":"succeeded","durationMs":5}`),
		ev("job.terminated", "b", midnight, `{"jobId":"j3","status":"failed","durationMs":5}`),
		ev("job.cancelled", "b", midnight.Add(time.Hour), `{"jobId":"j5","userId":"u1"}`),
	)
	f := func(asOf time.Time, j30, j90 int64) {
		t.Helper()
		tn := mustTenant(t, ts, "b", asOf)
		if tn.Jobs30d != j30 || tn.Jobs90d != j90 {
			t.Errorf("at %s: jobs30d %d jobs90d %d, want %d %d", asOf, tn.Jobs30d, tn.Jobs90d, j30, j90)
		}
		if want := float64(j30) * 3 / float64(j90); tn.JobsTrend != want {
			t.Errorf("at %s: jobsTrend %v, want %v", asOf, tn.JobsTrend, want)
		}
	}
	f(midnight, 2, 4) // D: j4, j5 | j2, j3, j4, j5
	f(midnight.Add(day-time.Nanosecond), 2, 4)
	f(midnight.Add(day), 1, 3)  // D+1: j5 | j3, j4, j5 (j2 fell out)
	f(midnight.Add(-day), 1, 4) // D-1: j4 | j1 (D-90 is the first of D-1's 90), j2, j3, j4; j5 is later
	if tn := mustTenant(t, ts, "b", midnight.Add(200*day)); tn.Jobs90d != 0 || tn.JobsTrend != 1 {
		t.Errorf("with no job in 90 days: jobs90d %d, jobsTrend %v; want 0 and 1", tn.Jobs90d, tn.JobsTrend)
	}
	tn := mustTenant(t, ts, "b", midnight)
	if tn.JobsSubmitted != 5 || tn.JobsTerminated != 2 || tn.JobsSucceeded != 1 || tn.JobsFailed != 1 || tn.JobsCancelled != 1 ||
		tn.RunningJobs != 2 || tn.DataBytes != 5000 || tn.CancelRate != 0.2 || tn.LastActivity != "2026-11-25T23:59:59.999Z" {
		t.Errorf("jobs: %+v", tn)
	}
}

func TestLateDuplicateMalformed(t *testing.T) {
	ts := NewTester(Options{AllowedLateness: 7 * 24 * time.Hour})
	day := 24 * time.Hour
	e1 := evID("x1", "job.submitted", "c", t0, `{"jobId":"j1","userId":"u","dataSize":1}`)
	got := ts.Send(t0,
		e1,
		e1, // duplicate
		evID("x1", "job.submitted", "c", t0, `{"jobId":"jX","userId":"u","dataSize":1}`),                                          // same identity
		strings.Replace(evID("x1", "job.submitted", "c", t0, `{"jobId":"j1","userId":"u","dataSize":1}`), `"test"`, `"other"`, 1), // other source
		submitted("c", t0.Add(-7*day), "j2"),      // late
		submitted("c", t0.Add(-200*day), "j3"),    // late, older than the day slices: in totals only
		submitted("c", t0.Add(2*time.Hour), "j4"), // dated after its arrival + max-future
		`{"specversion":"1.0","id":"bad"}`,        // invalid
		`not json`,
		ev("user.added", "c", t0, `{"userId":"u"}`), // wrong stream is impossible via Tester; valid
	)
	want := []Outcome{Applied, Duplicate, Duplicate, Applied, Applied, Applied, Future, Invalid, Invalid, Applied}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("record %d: outcome %d, want %d", i, got[i], want[i])
		}
	}
	if tn := mustTenant(t, ts, "c", t0); tn.JobsSubmitted != 4 || tn.Jobs90d != 3 {
		t.Errorf("jobsSubmitted %d jobs90d %d, want 4 and 3", tn.JobsSubmitted, tn.Jobs90d)
	}
	c := ts.Jobs.Counts
	if c.Duplicates != 2 || c.Late != 2 || c.Future != 1 || c.Events != 4 || c.Records != 7 {
		t.Errorf("jobs counts %+v", c)
	}
	if ts.Companies.Counts.Invalid != 2 {
		t.Errorf("companies counts %+v", ts.Companies.Counts)
	}
	var dl []DeadLetter
	dl = ts.Jobs.DeadLetters(dl)
	dl = ts.Companies.DeadLetters(dl)
	if len(dl) != 3 || !strings.HasPrefix(dl[0].Reason, "future:") || !strings.Contains(dl[1].Reason, "invalid event") {
		t.Fatalf("dead letters %+v", dl)
	}
	// The duplicate window is arrival time: 10 minutes later the same
	// identity counts again.
	if got := ts.Send(t0.Add(10*time.Minute), e1); got[0] != Applied {
		t.Errorf("after the dedupe window: outcome %d", got[0])
	}
	// A record of the wrong stream is a dead letter.
	if out := ts.Jobs.Apply([]byte(ev("user.added", "c", t0, `{"userId":"u"}`)), t0.UnixMilli(), "99"); out != Invalid {
		t.Errorf("a user event in a jobs shard: outcome %d", out)
	}
}

func TestTotalFee(t *testing.T) {
	ts := NewTester(Options{AllowedLateness: 365 * 24 * time.Hour})
	c := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	ts.Send(t0,
		created("f", c, 100),
		ev("tenant.updated", "f", c.AddDate(0, 1, 0).Add(-time.Second), `{"monthlyFee":150}`), // before month 2 starts (Mar 3 after AddDate normalisation)
		ev("tenant.updated", "f", c.AddDate(0, 2, 0).Add(time.Second), `{"monthlyFee":300}`),  // just after month 3 starts
	)
	f := func(asOf time.Time, want float64) {
		t.Helper()
		if got := mustTenant(t, ts, "f", asOf).TotalFee; got != want {
			t.Errorf("totalFee at %s = %v, want %v", asOf, got, want)
		}
	}
	f(c, 100)
	f(c.AddDate(0, 1, 0).Add(-time.Nanosecond), 100)
	f(c.AddDate(0, 1, 0), 250)
	f(c.AddDate(0, 2, 0), 400)
	f(c.AddDate(0, 3, 0), 700)
	ts.Send(t0, ev("tenant.deleted", "f", c.AddDate(0, 3, 0), `{"reason":"price"}`))
	f(c.AddDate(0, 5, 0), 400)
	if tn := mustTenant(t, ts, "f", c.AddDate(0, 5, 0)); tn.Deleted != "2026-05-01T10:00:00.000Z" {
		t.Errorf("deleted %q", tn.Deleted)
	}
}

func TestRingWindow(t *testing.T) {
	var r dayRing[jobsDay]
	r.at(1000).Submitted = 1
	r.at(1000 + RingDays - 1).Submitted = 2
	if r.get(1000) == nil || r.get(1000).Submitted != 1 {
		t.Fatal("the oldest day of the window was lost")
	}
	r.at(1000 + RingDays).Submitted = 3
	if r.get(1000) != nil {
		t.Fatal("a day older than the window is still held")
	}
	if r.at(1000) != nil {
		t.Fatal("a day older than the window can be written")
	}
	if s := r.get(1000 + RingDays); s == nil || s.Submitted != 3 {
		t.Fatal("the newest day is wrong")
	}
	// A jump past the whole window clears every slot.
	r.at(5000)
	for d := int32(5000 - RingDays + 1); d <= 5000; d++ {
		if s := r.get(d); s == nil || s.Submitted != 0 {
			t.Fatalf("day %d after a jump: %+v", d, s)
		}
	}
	if dayOf(-1) != -1 || dayOf(0) != 0 || hourOf(-1) != -1 {
		t.Fatal("dayOf/hourOf round the wrong way before the epoch")
	}
}

// Events that arrive out of order leave the state event time says: a
// login that happened before its user was deleted, applied after the
// deletion, does not bring the user back.
func TestOutOfOrderUsers(t *testing.T) {
	ts := NewTester(Options{})
	h := time.Hour
	ts.Send(t0,
		ev("user.added", "o", t0.Add(-5*h), `{"userId":"u1"}`),
		ev("user.deleted", "o", t0.Add(-h), `{"userId":"u1"}`),
		ev("user.login", "o", t0.Add(-2*h), `{"userId":"u1","sessionId":"s"}`), // late
		ev("user.added", "o", t0.Add(-3*h), `{"userId":"u1"}`),                 // late and older than the deletion
		ev("user.login", "o", t0.Add(-2*h), `{"userId":"u2","sessionId":"s2"}`),
	)
	tn := mustTenant(t, ts, "o", t0)
	if tn.ActiveUsers30d != 1 || tn.Users != 1 || tn.UsersAdded != 2 || tn.UsersDeleted != 1 {
		t.Fatalf("%+v", tn)
	}
	// Re-added after the deletion: active again.
	ts.Send(t0, ev("user.added", "o", t0, `{"userId":"u1"}`))
	if got := mustTenant(t, ts, "o", t0).ActiveUsers30d; got != 2 {
		t.Fatalf("activeUsers30d after re-adding = %d, want 2", got)
	}
	// Eight days on, the stale session is pruned; the tombstone is kept
	// for TombstoneKeep (see TestTombstonesOutliveTheActiveWindow).
	ts.Send(t0.Add(h), ev("user.deleted", "o", t0.Add(h), `{"userId":"u2"}`))
	ts.Send(t0.Add(8*24*h), ev("user.added", "o", t0.Add(8*24*h), `{"userId":"u3"}`))
	c := ts.Companies.companies["o"]
	if _, ok := c.users[idKey([]byte("u2"))]; !ok {
		t.Error("a tombstone younger than TombstoneKeep was pruned")
	}
	if len(c.sessions) != 0 {
		t.Errorf("stale sessions kept: %v", c.sessions)
	}
}
