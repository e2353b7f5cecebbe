package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/event"
)

var testNow = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func testConfig(seed uint64, tenants int, history time.Duration) Config {
	return Config{Seed: seed, Tenants: tenants, Start: testNow.Add(-history), Live: testNow, Rate: 100}
}

// generate returns the first n events of cfg as NDJSON and their Infos.
func generate(t testing.TB, g *Generator, n int) ([]byte, []Info) {
	t.Helper()
	var out []byte
	infos := make([]Info, 0, n)
	for range n {
		var ev Info
		var ok bool
		out, ev, ok = g.Next(out)
		if !ok {
			t.Fatalf("the generator ran dry after %d events", len(infos))
		}
		out = append(out, '\n')
		infos = append(infos, ev)
	}
	return out, infos
}

func TestDeterminism(t *testing.T) {
	a, _ := generate(t, New(testConfig(1, 30, 20*24*time.Hour)), 50000)
	b, _ := generate(t, New(testConfig(1, 30, 20*24*time.Hour)), 50000)
	if !bytes.Equal(a, b) {
		t.Fatal("two generators with the same config produced different events")
	}
	c, _ := generate(t, New(testConfig(2, 30, 20*24*time.Hour)), 50000)
	if bytes.Equal(a[:len(a)/2], c[:len(a)/2]) {
		t.Fatal("seeds 1 and 2 produced the same events")
	}
	// Peek does not change what Next returns.
	g := New(testConfig(1, 30, 20*24*time.Hour))
	var d []byte
	for i := range 50000 {
		if i%3 == 0 {
			g.Peek()
		}
		d, _, _ = g.Next(d)
		d = append(d, '\n')
	}
	if !bytes.Equal(a, d) {
		t.Fatal("calling Peek changed the events")
	}
}

var (
	timeRE   = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
	idRE     = regexp.MustCompile(`^[a-z]+-[a-z]+-[0-9a-f]{4}$`)
	userRE   = regexp.MustCompile(`^u-\d{4,}$`)
	jobRE    = regexp.MustCompile(`^j-\d{6,}$`)
	sessRE   = regexp.MustCompile(`^s-\d{6,}$`)
	industry = map[string]bool{"gov": true, "health": true, "retail": true, "travel": true, "energy": true, "IT": true, "finance": true, "consulting": true, "service": true}
)

// fieldRule checks one data field's value.
type fieldRule func(v any) bool

func str(re *regexp.Regexp) fieldRule {
	return func(v any) bool { s, ok := v.(string); return ok && re.MatchString(s) }
}
func oneOf(vals ...string) fieldRule {
	return func(v any) bool {
		s, ok := v.(string)
		return ok && strings.Contains(" "+strings.Join(vals, " ")+" ", " "+s+" ")
	}
}
func nonEmpty(v any) bool   { s, ok := v.(string); return ok && s != "" }
func isIndustry(v any) bool { s, ok := v.(string); return ok && industry[s] }
func number(v any) bool     { f, ok := v.(float64); return ok && f >= 0 }
func integer(v any) bool    { f, ok := v.(float64); return ok && f >= 0 && f == math.Trunc(f) }

var profileRules = map[string]fieldRule{
	"name": nonEmpty, "industry": isIndustry, "sentiment": oneOf("positive", "neutral", "negative"),
	"revenue": number, "employees": integer, "monthlyFee": number, "plan": oneOf("starter", "pro", "enterprise"),
}

// dataRules gives each type's data fields and whether all are required.
var dataRules = map[string]struct {
	fields map[string]fieldRule
	all    bool
}{
	"tenant.created":       {profileRules, true},
	"tenant.updated":       {profileRules, false},
	"tenant.deleted":       {map[string]fieldRule{"reason": nonEmpty}, true},
	"user.added":           {map[string]fieldRule{"userId": str(userRE)}, true},
	"user.deleted":         {map[string]fieldRule{"userId": str(userRE)}, true},
	"user.login":           {map[string]fieldRule{"userId": str(userRE), "sessionId": str(sessRE)}, true},
	"user.logoff":          {map[string]fieldRule{"userId": str(userRE), "sessionId": str(sessRE)}, true},
	"user.session_timeout": {map[string]fieldRule{"userId": str(userRE), "sessionId": str(sessRE)}, true},
	"job.submitted":        {map[string]fieldRule{"jobId": str(jobRE), "userId": str(userRE), "dataSize": integer}, true},
	"job.terminated":       {map[string]fieldRule{"jobId": str(jobRE), "status": oneOf("succeeded", "failed"), "durationMs": integer}, true},
	"job.cancelled":        {map[string]fieldRule{"jobId": str(jobRE), "userId": str(userRE)}, true},
}

// checkEvent validates one event line against the event spec.
func checkEvent(line []byte, info Info, seed uint64) error {
	var ev map[string]any
	if err := json.Unmarshal(line, &ev); err != nil {
		return err
	}
	want := []string{"specversion", "id", "source", "type", "time", "tenantid", "data"}
	if len(ev) != len(want) {
		return fmt.Errorf("has %d attributes, want %v", len(ev), want)
	}
	if ev["specversion"] != "1.0" || ev["source"] != Source {
		return fmt.Errorf("bad specversion or source")
	}
	if ev["id"] != fmt.Sprintf("%d-%d", seed, info.Ordinal) {
		return fmt.Errorf("id %v, ordinal %d", ev["id"], info.Ordinal)
	}
	ts, _ := ev["time"].(string)
	tm, err := time.Parse(time.RFC3339Nano, ts)
	if !timeRE.MatchString(ts) || err != nil || tm.UnixNano() != info.Time {
		return fmt.Errorf("bad time %q (info %d)", ts, info.Time)
	}
	tenant, _ := ev["tenantid"].(string)
	if !idRE.MatchString(tenant) || tenant != info.TenantID {
		return fmt.Errorf("bad tenantid %q", tenant)
	}
	typ, _ := ev["type"].(string)
	rules, ok := dataRules[typ]
	if !ok || typ != info.Type {
		return fmt.Errorf("unknown type %q", typ)
	}
	if wantStream := map[bool]string{true: "jobs", false: "companies"}[strings.HasPrefix(typ, "job.")]; info.Stream != wantStream {
		return fmt.Errorf("type %s routed to %s", typ, info.Stream)
	}
	data, ok := ev["data"].(map[string]any)
	if !ok || len(data) == 0 {
		return fmt.Errorf("data is not a non-empty object")
	}
	for k, v := range data {
		rule, ok := rules.fields[k]
		if !ok {
			return fmt.Errorf("unexpected data field %q", k)
		}
		if !rule(v) {
			return fmt.Errorf("bad data.%s %v", k, v)
		}
	}
	if rules.all && len(data) != len(rules.fields) {
		return fmt.Errorf("data has %d fields, want %d", len(data), len(rules.fields))
	}
	return nil
}

func TestEventsValidAndOrdered(t *testing.T) {
	const seed = 5
	g := New(testConfig(seed, 40, 30*24*time.Hour))
	out, infos := generate(t, g, 80000)
	lines := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
	if len(lines) != len(infos) {
		t.Fatalf("%d lines for %d events", len(lines), len(infos))
	}
	types := map[string]int{}
	var sizes int
	var dec event.Decoder
	var ev event.Event
	for i, line := range lines {
		if err := checkEvent(line, infos[i], seed); err != nil {
			t.Fatalf("event %d %s: %v", i, line, err)
		}
		// And as the event API's decoder sees it.
		if n, err := dec.Decode(line, &ev); err != nil || n != len(line) {
			t.Fatalf("event %d %s: internal/event rejects it: %v", i, line, err)
		}
		if ev.Type.String() != infos[i].Type || ev.Type.Stream() != infos[i].Stream || string(ev.TenantID) != infos[i].TenantID || ev.Time != infos[i].Time {
			t.Fatalf("event %d %s: internal/event reads type %s stream %s tenant %s time %d", i, line, ev.Type, ev.Type.Stream(), ev.TenantID, ev.Time)
		}
		if i > 0 && infos[i].Time < infos[i-1].Time {
			t.Fatalf("event %d goes back in time: %d after %d", i, infos[i].Time, infos[i-1].Time)
		}
		if infos[i].Ordinal != int64(i) {
			t.Fatalf("event %d has ordinal %d", i, infos[i].Ordinal)
		}
		types[infos[i].Type]++
		sizes += len(line)
	}
	for _, typ := range EventTypes {
		if typ != "tenant.deleted" && types[typ] == 0 {
			t.Errorf("no %s event in %d", typ, len(lines))
		}
	}
	if avg := sizes / len(lines); avg < 150 || avg > 350 {
		t.Errorf("events average %d bytes, want about 250", avg)
	}
	if infos[len(infos)-1].Time < testNow.UnixNano() {
		t.Errorf("80,000 events did not reach the live phase")
	}
}

// recompute is an independent, map-based implementation of the truth's
// metric definitions over NDJSON events.
func recompute(t *testing.T, ndjson []byte, seed uint64) Truth {
	t.Helper()
	type tstate struct {
		tt        TenantTruth
		users     map[string]bool // current users
		lastLogin map[string]time.Time
		submitted []time.Time
		last      time.Time
	}
	tenants := map[string]*tstate{}
	var asOf time.Time
	var n int64
	for _, line := range bytes.Split(bytes.TrimSuffix(ndjson, []byte("\n")), []byte("\n")) {
		var ev struct {
			Type     string         `json:"type"`
			Time     time.Time      `json:"time"`
			TenantID string         `json:"tenantid"`
			Data     map[string]any `json:"data"`
		}
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatal(err)
		}
		n++
		asOf = ev.Time
		s := tenants[ev.TenantID]
		if s == nil {
			s = &tstate{users: map[string]bool{}, lastLogin: map[string]time.Time{}}
			s.tt.ID = ev.TenantID
			tenants[ev.TenantID] = s
		}
		d := ev.Data
		switch ev.Type {
		case "tenant.created", "tenant.updated":
			for k, v := range d {
				switch k {
				case "name":
					s.tt.Name = v.(string)
				case "industry":
					s.tt.Industry = v.(string)
				case "sentiment":
					s.tt.Sentiment = v.(string)
				case "plan":
					s.tt.Plan = v.(string)
				case "revenue":
					s.tt.Revenue = v.(float64)
				case "monthlyFee":
					s.tt.MonthlyFee = v.(float64)
				case "employees":
					s.tt.Employees = int64(v.(float64))
				}
			}
		case "tenant.deleted":
			s.tt.Churned = true
		case "user.added":
			s.users[d["userId"].(string)] = true
		case "user.deleted":
			delete(s.users, d["userId"].(string))
		case "user.login":
			s.lastLogin[d["userId"].(string)] = ev.Time
		case "job.submitted":
			s.tt.JobsSubmitted++
			s.submitted = append(s.submitted, ev.Time)
		case "job.terminated":
			s.tt.JobsTerminated++
		case "job.cancelled":
			s.tt.JobsCancelled++
		}
		switch ev.Type {
		case "user.login", "user.logoff", "user.session_timeout", "job.submitted", "job.terminated", "job.cancelled":
			if ev.Time.After(s.last) {
				s.last = ev.Time
			}
		}
	}
	asOfDay := time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 0, 0, 0, 0, time.UTC)
	from30, from90 := asOfDay.AddDate(0, 0, -29), asOfDay.AddDate(0, 0, -89)
	out := Truth{AsOf: asOf.Format("2006-01-02T15:04:05.000Z"), Seed: seed, Events: n, Tenants: []TenantTruth{}}
	for _, s := range tenants {
		s.tt.Users = len(s.users)
		for u, at := range s.lastLogin {
			if s.users[u] && !at.Before(from30) {
				s.tt.ActiveUsers30d++
			}
		}
		for _, at := range s.submitted {
			if !at.Before(from30) {
				s.tt.Jobs30d++
			}
			if !at.Before(from90) {
				s.tt.Jobs90d++
			}
		}
		if !s.last.IsZero() {
			s.tt.LastActivity = s.last.Format("2006-01-02T15:04:05.000Z")
		}
		out.Tenants = append(out.Tenants, s.tt)
	}
	sort.Slice(out.Tenants, func(i, j int) bool { return out.Tenants[i].ID < out.Tenants[j].ID })
	return out
}

func TestTruthMatchesEvents(t *testing.T) {
	const seed = 11
	g := New(testConfig(seed, 15, 60*24*time.Hour))
	var all []byte
	// Compare at several cut points: mid-history, end of history, live.
	for _, n := range []int{10000, 35000, 10000} {
		out, _ := generate(t, g, n)
		all = append(all, out...)
		got := g.Truth()
		want := recompute(t, all, seed)
		if len(got.Tenants) != len(want.Tenants) {
			t.Fatalf("after %d events: truth has %d tenants, events %d", got.Events, len(got.Tenants), len(want.Tenants))
		}
		for i := range want.Tenants {
			want.Tenants[i].Cohort = got.Tenants[i].Cohort // not in the events
		}
		if !reflect.DeepEqual(got, want) {
			for i := range want.Tenants {
				if !reflect.DeepEqual(got.Tenants[i], want.Tenants[i]) {
					t.Errorf("tenant %d:\n got %+v\nwant %+v", i, got.Tenants[i], want.Tenants[i])
				}
			}
			t.Fatalf("after %d events the truth differs from the events (asOf %s / %s)", got.Events, got.AsOf, want.AsOf)
		}
	}
}

// history runs cfg to its live start and returns the generator.
func history(t testing.TB, cfg Config) *Generator {
	g := New(cfg)
	var buf []byte
	for {
		p, ok := g.Peek()
		if !ok {
			t.Fatal("the generator ran dry")
		}
		if p.Time >= cfg.Live.UnixNano() {
			return g
		}
		buf, _, _ = g.Next(buf[:0])
	}
}

func TestBusinessModel(t *testing.T) {
	cfg := testConfig(3, 150, 120*24*time.Hour)
	g := history(t, cfg)
	tr := g.Truth()

	// Events per tenant-day at the intrinsic rate.
	var tenantDays float64
	for _, tn := range g.tenants {
		if tn.tr.created {
			tenantDays += float64(cfg.Live.UnixNano()-tn.created) / float64(day)
		}
	}
	perDay := float64(g.Generated()) / tenantDays
	t.Logf("%d events, %d tenants, %.1f events per tenant-day, K %.0f", g.Generated(), len(tr.Tenants), perDay, g.K())
	if perDay < 40 || perDay > 60 {
		t.Errorf("%.1f events per tenant-day, want 40-60", perDay)
	}

	// Cohorts: drifting tenants lose jobs, some churn; tenants are created
	// during the run.
	ratio := map[string][]float64{}
	churned, later := 0, 0
	for _, tt := range tr.Tenants {
		if tt.Churned {
			churned++
			if tt.Cohort != "drifting" {
				t.Errorf("tenant %s of cohort %s churned", tt.ID, tt.Cohort)
			}
		}
		if tt.Jobs90d > 0 {
			ratio[tt.Cohort] = append(ratio[tt.Cohort], float64(tt.Jobs30d)/float64(tt.Jobs90d))
		}
	}
	for _, tn := range g.tenants {
		if tn.created > g.start+day {
			later++
		}
	}
	mean := func(xs []float64) float64 {
		var s float64
		for _, x := range xs {
			s += x
		}
		return s / float64(len(xs))
	}
	t.Logf("jobs30d/jobs90d: healthy %.3f growing %.3f drifting %.3f; %d churned, %d created later",
		mean(ratio["healthy"]), mean(ratio["growing"]), mean(ratio["drifting"]), churned, later)
	if !(mean(ratio["drifting"]) < mean(ratio["healthy"])) {
		t.Errorf("drifting tenants' jobs30d/jobs90d is not below healthy ones'")
	}
	if !(mean(ratio["growing"]) > mean(ratio["healthy"])) {
		t.Errorf("growing tenants' jobs30d/jobs90d is not above healthy ones'")
	}
	if churned == 0 || later == 0 {
		t.Errorf("%d tenants churned and %d were created later, want some of each", churned, later)
	}

	// Live: K scales the intrinsic rate to the requested one.
	if got := g.IntrinsicRate() * g.K(); math.Abs(got-cfg.Rate) > 1e-6 {
		t.Errorf("K x intrinsic rate = %f, want %f", got, cfg.Rate)
	}
	first, _ := g.Peek()
	_, infos := generate(t, g, 20000)
	span := float64(infos[len(infos)-1].Time-first.Time) / 1e9
	t.Logf("20,000 live events span %.0f s: %.0f events/s (rate %.0f)", span, 20000/span, cfg.Rate)
	if r := 20000 / span; r < cfg.Rate/3 || r > cfg.Rate*3 {
		t.Errorf("live events come at %.0f/s, want about %.0f", r, cfg.Rate)
	}
}

func TestTenantIDsUnique(t *testing.T) {
	g := New(testConfig(9, 3000, 0))
	seen := map[string]bool{}
	for _, tn := range g.tenants {
		if seen[tn.id] {
			t.Fatalf("tenant id %s repeats", tn.id)
		}
		seen[tn.id] = true
	}
}

func TestAppendTime(t *testing.T) {
	f := func(tm time.Time) {
		t.Helper()
		want := tm.UTC().Format("2006-01-02T15:04:05.000Z")
		if got := FormatTime(tm.UnixNano()); got != want {
			t.Errorf("FormatTime(%v) = %s, want %s", tm, got, want)
		}
	}
	f(time.Date(2026, 11, 25, 10, 0, 0, 123e6, time.UTC))
	f(time.Date(2000, 2, 29, 23, 59, 59, 999e6, time.UTC))
	f(time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC))
	f(time.Date(2100, 3, 1, 0, 0, 0, 1e6, time.UTC))
	f(time.Date(1969, 12, 31, 23, 59, 59, 500e6, time.UTC))
	for i := int64(0); i < 2000; i++ {
		f(time.Unix(0, 0).Add(time.Duration(i*7919) * time.Hour))
	}
}

// TestTruthWindows checks the window edges with hand-placed events: logins
// and jobs on the first and last day of the 30- and 90-day windows and just
// outside them, and a deleted user's recent login.
func TestTruthWindows(t *testing.T) {
	const seed = 4
	g := New(Config{Seed: seed, Tenants: 1, Start: testNow})
	tn := g.tenants[0]
	asOf := testNow.UnixNano()
	dayStart := floorDiv(asOf, day) * day
	var out []byte
	put := func(kind uint8, at int64, user, num int32) {
		g.pend = pendingEvent{kind: kind, t: tn, at: at, user: user, num: num, p: tn.p}
		if kind == evTenantUpdated {
			g.pend.aux = updSentiment
		}
		out = g.appendEvent(out, &g.pend)
		out = append(out, '\n')
		g.apply(&g.pend)
		g.lastTime = at
		g.ordinal++
	}
	base := dayStart - 100*day
	put(evTenantCreated, base, 0, 0)
	for u := int32(1); u <= 4; u++ {
		put(evUserAdded, base+int64(u), u, 0)
	}
	put(evJobSubmitted, dayStart-90*day+hour, 1, 1)   // outside 90
	put(evJobSubmitted, dayStart-89*day, 1, 2)        // first day of 90
	put(evUserLogin, dayStart-30*day+hour, 1, 1)      // outside 30
	put(evJobSubmitted, dayStart-30*day+2*hour, 2, 3) // outside 30
	put(evUserLogin, dayStart-29*day, 2, 2)           // first day of 30
	put(evJobSubmitted, dayStart-29*day+1e6, 2, 4)    // first day of 30
	put(evUserLogin, dayStart-2*day, 3, 3)            // user 3, deleted below
	put(evUserDeleted, dayStart-day, 3, 0)            //
	put(evJobCancelled, dayStart-day+hour, 4, 1)      //
	put(evTenantUpdated, dayStart-day+2*hour, 0, 0)   //
	put(evUserLogoff, asOf, 2, 2)                     // asOf
	got := g.Truth()
	want := recompute(t, out, seed)
	want.Tenants[0].Cohort = got.Tenants[0].Cohort
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("truth differs from the events:\n got %+v\nwant %+v", got, want)
	}
	if tt := got.Tenants[0]; tt.ActiveUsers30d != 1 || tt.Jobs30d != 1 || tt.Jobs90d != 3 || tt.Users != 3 {
		t.Fatalf("windows: activeUsers30d %d jobs30d %d jobs90d %d users %d, want 1 1 3 3", tt.ActiveUsers30d, tt.Jobs30d, tt.Jobs90d, tt.Users)
	}
}
