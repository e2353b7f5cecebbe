package analytics

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// roundTrip checkpoints both shards of ts and restores them into a new
// tester, checking the restored state encodes to the same bytes.
func roundTrip(t *testing.T, ts *Tester) *Tester {
	t.Helper()
	out := &Tester{}
	for _, p := range []struct{ from, to **ShardState }{{&ts.Companies, &out.Companies}, {&ts.Jobs, &out.Jobs}} {
		b := (*p.from).Checkpoint()
		s, err := RestoreShardState(b, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(s.Checkpoint(), b) {
			t.Fatalf("%s: a restored state encodes differently", s.Stream)
		}
		*p.to = s
	}
	return out
}

// One record dated in the future (year 2100, or a producer a week ahead)
// is a dead letter with its own reason: the watermark stays, and every
// later event of every tenant of the shard counts, the poisoning tenant's
// too. A record exactly max-future after its arrival is applied.
func TestFutureRecordCannotPoisonTheShard(t *testing.T) {
	ts := NewTester(Options{})
	h := time.Hour
	arrival := t0
	ts.Send(arrival,
		submitted("p", t0.Add(-2*h), "p1"),
		submitted("a", t0.Add(-h), "a1"),
	)
	wm := ts.Jobs.Watermark
	poison := []string{
		submitted("p", time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), "p2"),
		submitted("p", t0.Add(7*24*h), "p3"),
		submitted("p", t0.Add(h+time.Millisecond), "p4"),
	}
	for i, out := range ts.Send(arrival, poison...) {
		if out == Applied || out == Duplicate {
			t.Errorf("poison record %d: outcome %d, want a dead letter", i, out)
		}
	}
	if ts.Jobs.Watermark != wm {
		t.Fatalf("the watermark moved from %s to %s", fmtTime(wm), fmtTime(ts.Jobs.Watermark))
	}
	dl := ts.Jobs.DeadLetters(nil)
	if len(dl) != 3 {
		t.Fatalf("dead letters %+v, want the 3 poison records", dl)
	}
	for i, want := range []string{"2100-01-01T00:00:00.000Z is 26699 days 12h0m0s after its arrival 2026-11-25T12:00:00.000Z",
		"is 7 days 0s after its arrival", "is 1h0m0.001s after its arrival"} {
		if r := dl[i].Reason; !strings.HasPrefix(r, "future: ") || !strings.Contains(r, want) || !strings.Contains(r, "max-future 1h0m0s") {
			t.Errorf("dead letter %d: reason %q, want future: ... %s ... max-future 1h0m0s", i, r, want)
		}
	}
	// Exactly max-future ahead of its arrival is applied and moves the
	// watermark there; later real events of every tenant still count.
	if out := ts.Send(arrival, submitted("a", t0.Add(h), "a2")); out[0] != Applied {
		t.Fatalf("an event exactly max-future ahead: outcome %d", out[0])
	}
	got := ts.Send(arrival.Add(time.Minute),
		submitted("b", t0, "b1"),
		submitted("p", t0.Add(time.Minute), "p5"),
		ev("job.terminated", "b", t0.Add(2*time.Minute), `{"jobId":"b1","status":"succeeded","durationMs":5}`),
	)
	for i, out := range got {
		if out != Applied {
			t.Errorf("real event %d after the poison: outcome %d, want applied", i, out)
		}
	}
	for _, st := range []*Tester{ts, roundTrip(t, ts)} {
		for id, want := range map[string]int64{"p": 2, "a": 2, "b": 1} {
			tn := mustTenant(t, st, id, t0.Add(h))
			if tn.JobsSubmitted != want || tn.Jobs30d != want || tn.Jobs90d != want {
				t.Errorf("tenant %s: jobsSubmitted %d jobs30d %d jobs90d %d, want %d of each", id, tn.JobsSubmitted, tn.Jobs30d, tn.Jobs90d, want)
			}
		}
		var s ShardStatus
		st.Jobs.Status(&s)
		if s.Future != 3 || s.DeadLetters != 3 || s.Events != 6 || s.Watermark != "2026-11-25T13:00:00.000Z" {
			t.Errorf("status %+v", s)
		}
	}
}

// Backfilling a tenant's history after live events counts, however far
// behind the shard's watermark: in the day slices, jobs30d and jobs90d,
// active users, the shard's overview; an event older than the 120 days
// of slices counts in the lifetime totals only. The state survives a
// checkpoint round trip.
func TestBackfillBehindTheWatermark(t *testing.T) {
	ts := NewTester(Options{})
	day := 24 * time.Hour
	midnight := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC) // t0's day
	ts.Send(t0,
		submitted("live", t0, "l1"),
		ev("user.login", "live", t0, `{"userId":"u","sessionId":"s"}`),
	)
	// 100 days of history, oldest first, one job a day, plus one 130 days
	// back; a user added 100 days ago who last logged in 20 days ago.
	var hist []string
	for d := 100; d >= 1; d-- {
		hist = append(hist, submitted("hist", midnight.Add(-time.Duration(d)*day+time.Hour), fmt.Sprint("h", d)))
	}
	hist = append(hist,
		submitted("hist", midnight.Add(-130*day), "old"),
		ev("user.added", "hist", midnight.Add(-100*day), `{"userId":"u1"}`),
		ev("user.login", "hist", midnight.Add(-20*day), `{"userId":"u1","sessionId":"s1"}`),
		ev("user.logoff", "hist", midnight.Add(-20*day+time.Hour), `{"userId":"u1","sessionId":"s1"}`),
		ev("user.login", "hist", midnight.Add(-150*day), `{"userId":"u1","sessionId":"s0"}`),
	)
	for i, out := range ts.Send(t0.Add(time.Minute), hist...) {
		if out != Applied {
			t.Fatalf("history event %d: outcome %d, want applied", i, out)
		}
	}
	for _, st := range []*Tester{ts, roundTrip(t, ts)} {
		tn := mustTenant(t, st, "hist", t0)
		if tn.JobsSubmitted != 101 || tn.Jobs30d != 29 || tn.Jobs90d != 89 {
			// jobs30d: days D-29..D-1 (none on D); jobs90d: D-89..D-1.
			t.Errorf("hist: jobsSubmitted %d jobs30d %d jobs90d %d, want 101 29 89", tn.JobsSubmitted, tn.Jobs30d, tn.Jobs90d)
		}
		if tn.Logins != 2 || tn.Logoffs != 1 || tn.UsersAdded != 1 || tn.ActiveUsers30d != 1 || tn.ActiveUsers7d != 0 || tn.AvgSessionSeconds != 3600 {
			t.Errorf("hist users: %+v", tn)
		}
		days := DaySeries(midnight.Add(-119*day), midnight)
		var d Tenant
		st.Jobs.FillTenant("hist", &d, days, nil, t0)
		for i, dd := range days {
			want := int64(1)
			if i < 19 || i == 119 { // D-119..D-101: none; D: none
				want = 0
			}
			if dd.JobsSubmitted != want {
				t.Errorf("hist %s: jobsSubmitted %d, want %d", dd.Date, dd.JobsSubmitted, want)
			}
		}
		all := DaySeries(midnight.Add(-119*day), midnight)
		st.Jobs.FillDays(all)
		if all[19].JobsSubmitted != 1 || all[119].JobsSubmitted != 1 {
			t.Errorf("overview: %s %d, %s %d; want 1 and 1", all[19].Date, all[19].JobsSubmitted, all[119].Date, all[119].JobsSubmitted)
		}
		if tn := mustTenant(t, st, "live", t0); tn.JobsSubmitted != 1 || tn.Jobs30d != 1 || tn.ActiveUsers7d != 1 {
			t.Errorf("live: %+v", tn)
		}
		if c := st.Jobs.Counts; c.Events != 102 || c.Late != 101 {
			t.Errorf("jobs counts %+v, want 102 events, 101 of them late", c)
		}
	}
}

// Pruning still bounds memory: a session open since before the allowed
// lateness is forgotten when the watermark enters a new day, but a deleted
// user is remembered for TombstoneKeep, so a late login from before the
// deletion cannot make it active.
func TestTombstonesOutliveTheActiveWindow(t *testing.T) {
	ts := NewTester(Options{})
	day := 24 * time.Hour
	ts.Send(t0,
		ev("user.added", "o", t0.Add(-40*day), `{"userId":"u1"}`),
		ev("user.deleted", "o", t0.Add(-25*day), `{"userId":"u1"}`),
		ev("user.login", "o", t0.Add(-9*day), `{"userId":"u2","sessionId":"s2"}`),
		ev("user.added", "o", t0.Add(-day), `{"userId":"u3"}`),
		ev("user.added", "o", t0, `{"userId":"u3"}`), // the watermark enters t0's day: prune
	)
	c := ts.Companies.companies["o"]
	if _, ok := c.sessions[idKey([]byte("s2"))]; ok {
		t.Error("a session open since before the allowed lateness was kept")
	}
	if _, ok := c.users[idKey([]byte("u1"))]; !ok {
		t.Fatal("a user deleted 25 days ago was pruned: a late login could make it active")
	}
	ts.Send(t0, ev("user.login", "o", t0.Add(-26*day), `{"userId":"u1","sessionId":"s1"}`))
	if tn := mustTenant(t, ts, "o", t0); tn.ActiveUsers30d != 1 || tn.Logins != 2 {
		t.Errorf("after a late login of a deleted user: activeUsers30d %d logins %d, want 1 (u2) and 2", tn.ActiveUsers30d, tn.Logins)
	}
	ts.Send(t0.Add(7*day), ev("user.added", "o", t0.Add(7*day), `{"userId":"u4"}`))
	if _, ok := c.users[idKey([]byte("u1"))]; ok {
		t.Error("a tombstone older than TombstoneKeep was kept")
	}
}
