package analytics

import (
	"math"
	"time"
)

// The functions here fill views from a shard's parts. The service calls
// them under the shard's read lock and merges a tenant's parts by id.

// FillTenants adds the shard's part of every tenant to out (keyed by
// tenant id, created as needed), evaluated at asOf.
func (s *ShardState) FillTenants(out map[string]*Tenant, asOf time.Time) {
	asOfNs := asOf.UnixNano()
	for id, c := range s.companies {
		c.fill(tenantIn(out, id), asOfNs)
	}
	for id, j := range s.jobs {
		j.fill(tenantIn(out, id), asOfNs)
	}
}

// FillTenant adds the shard's part of tenant id to t and its series to
// days and hours (one entry per day/hour of the requested range, in order),
// and reports whether the shard holds a part of it.
func (s *ShardState) FillTenant(id string, t *Tenant, days []Day, hours []Hour, asOf time.Time) bool {
	asOfNs := asOf.UnixNano()
	if c, ok := s.companies[id]; ok {
		t.ID = id
		c.fill(t, asOfNs)
		for i := range days {
			if d := c.days.get(dayNumber(days[i].Date)); d != nil {
				days[i].addCompany(d)
			}
		}
		return true
	}
	if j, ok := s.jobs[id]; ok {
		t.ID = id
		j.fill(t, asOfNs)
		for i := range days {
			if d := j.days.get(dayNumber(days[i].Date)); d != nil {
				days[i].addJobs(d)
			}
		}
		for i := range hours {
			if h := j.hours.get(hourNumber(hours[i].Hour)); h != nil {
				hours[i].JobsSubmitted += int64(h.Submitted)
				hours[i].JobsTerminated += int64(h.Terminated)
				hours[i].JobsCancelled += int64(h.Cancelled)
			}
		}
		return true
	}
	return false
}

// FillDays adds the shard's every-tenant day slices to days.
func (s *ShardState) FillDays(days []Day) {
	for i := range days {
		if d := s.days.get(dayNumber(days[i].Date)); d != nil {
			days[i].addCompany(&d.companyDay)
			days[i].addJobs(&d.jobsDay)
		}
	}
}

// activeDays is the active-users window: a user is active at T when it
// logged in on one of the activeDays UTC days ending with T's day.
const activeDays = 30

func tenantIn(out map[string]*Tenant, id string) *Tenant {
	t, ok := out[id]
	if !ok {
		t = &Tenant{ID: id}
		out[id] = t
	}
	return t
}

func (c *companyPart) fill(t *Tenant, asOf int64) {
	p := &c.profile
	t.Name, t.Industry, t.Sentiment, t.Plan = p.name, p.industry, p.sentiment, p.plan
	t.Revenue, t.Employees, t.MonthlyFee = p.revenue, p.employees, p.monthlyFee
	t.Created, t.Deleted = fmtTime(p.created), fmtTime(p.deleted)
	t.JobsTrend = JobsTrend(t.Jobs30d, t.Jobs90d) // 1 until a jobs part is filled
	t.TotalFee = finite(p.totalFee(asOf))
	t.Users = c.usersAdded - c.usersDeleted
	t.UsersAdded, t.UsersDeleted = c.usersAdded, c.usersDeleted
	d := dayOf(asOf) + 1 // lastLogin is stored as day + 1
	for _, u := range c.users {
		if !u.deleted && u.lastLogin > d-activeDays && u.lastLogin <= d {
			t.ActiveUsers30d++
			if u.lastLogin > d-7 {
				t.ActiveUsers7d++
			}
		}
	}
	t.Logins, t.Logoffs, t.SessionTimeouts = c.logins, c.logoffs, c.timeouts
	t.OpenSessions = int64(len(c.sessions))
	if c.sessionsDone > 0 {
		t.AvgSessionSeconds = float64(c.sessionNs) / float64(c.sessionsDone) / 1e9
	}
	t.setLastActivity(c.lastActivity)
}

func (j *jobsPart) fill(t *Tenant, asOf int64) {
	t.JobsSubmitted, t.JobsTerminated, t.JobsCancelled = j.submitted, j.terminated, j.cancelled
	t.JobsSucceeded, t.JobsFailed = j.succeeded, j.failed
	t.RunningJobs = int64(len(j.running))
	t.DataBytes = max(j.dataBytes, 0) // sums saturate; a part checkpointed before that may have wrapped
	if j.submitted > 0 {
		t.CancelRate = float64(j.cancelled) / float64(j.submitted)
	}
	d := dayOf(asOf)
	t.Jobs30d, t.Jobs90d = 0, 0
	for x := d - 89; x <= d; x++ {
		if s := j.days.get(x); s != nil {
			t.Jobs90d += int64(s.Submitted)
			if x > d-30 {
				t.Jobs30d += int64(s.Submitted)
			}
		}
	}
	t.JobsTrend = JobsTrend(t.Jobs30d, t.Jobs90d)
	t.setLastActivity(j.lastActivity)
}

// JobsTrend is jobs30d against the 90-day pace, jobs30d*3/jobs90d: below
// 1 a slowdown; 1 when jobs90d is 0 (no pace to fall below).
func JobsTrend(jobs30d, jobs90d int64) float64 {
	if jobs90d == 0 {
		return 1
	}
	return float64(jobs30d) * 3 / float64(jobs90d)
}

// setLastActivity keeps the later of t's last activity and ns.
func (t *Tenant) setLastActivity(ns int64) {
	if ns == 0 {
		return
	}
	if t.LastActivity == "" || t.LastActivity < fmtTime(ns) {
		t.LastActivity = fmtTime(ns)
	}
}

// finite returns v, or the nearest finite number for ±Inf (0 for NaN):
// a guard so that no JSON answer holds a number JSON cannot write. With
// the event bounds, a total fee stays below 1e16; state kept from before
// the bounds existed can hold larger fees.
func finite(v float64) float64 {
	switch {
	case v != v:
		return 0
	case v > math.MaxFloat64:
		return math.MaxFloat64
	case v < -math.MaxFloat64:
		return -math.MaxFloat64
	}
	return v
}

// totalFee is the fee in force at the start of each started month since
// creation, summed, up to asOf (and before deletion).
func (p *profile) totalFee(asOf int64) float64 {
	if p.created == 0 || len(p.fees) == 0 {
		return 0
	}
	created := time.Unix(0, p.created).UTC()
	total := 0.0
	for k := 0; ; k++ {
		start := created.AddDate(0, k, 0).UnixNano()
		if start > asOf || (p.deleted != 0 && start >= p.deleted) {
			return total
		}
		fee := p.fees[0].fee
		for _, f := range p.fees {
			if f.at > start {
				break
			}
			fee = f.fee
		}
		total += fee
	}
}

func (d *Day) addCompany(c *companyDay) {
	d.Logins += int64(c.Logins)
	d.Logoffs += int64(c.Logoffs)
	d.SessionTimeouts += int64(c.Timeouts)
	d.UsersAdded += int64(c.UsersAdded)
	d.UsersDeleted += int64(c.UsersDeleted)
}

func (d *Day) addJobs(j *jobsDay) {
	d.JobsSubmitted += int64(j.Submitted)
	d.JobsSucceeded += int64(j.Succeeded)
	d.JobsFailed += int64(j.Failed)
	d.JobsCancelled += int64(j.Cancelled)
	d.DataBytes = addSat(d.DataBytes, int64(min(j.DataBytes, math.MaxInt64)))
}

// DaySeries returns one empty Day per UTC day from from's day to to's.
func DaySeries(from, to time.Time) []Day {
	var out []Day
	for d := dayOf(from.UnixNano()); d <= dayOf(to.UnixNano()); d++ {
		out = append(out, Day{Date: time.Unix(int64(d)*86400, 0).UTC().Format(time.DateOnly)})
	}
	return out
}

// HourSeries returns one empty Hour per UTC hour from from's to to's, at
// most the last RingHours of them.
func HourSeries(from, to time.Time) []Hour {
	first, last := hourOf(from.UnixNano()), hourOf(to.UnixNano())
	first = max(first, last-RingHours+1)
	var out []Hour
	for h := first; h <= last; h++ {
		out = append(out, Hour{Hour: time.Unix(int64(h)*3600, 0).UTC().Format(time.RFC3339)})
	}
	return out
}

func dayNumber(date string) int32 {
	t, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return -1 << 31
	}
	return dayOf(t.UnixNano())
}

func hourNumber(hour string) int32 {
	t, err := time.Parse(time.RFC3339, hour)
	if err != nil {
		return -1 << 31
	}
	return hourOf(t.UnixNano())
}

// DeadLetters appends the shard's kept dead letters to out.
func (s *ShardState) DeadLetters(out []DeadLetter) []DeadLetter {
	for _, d := range s.dead {
		out = append(out, DeadLetter{Stream: s.Stream, Shard: s.Shard, Sequence: d.seq,
			Arrival: fmtTime(d.arrival * 1e6), Reason: d.reason, ID: d.id, TenantID: d.tenantID, Data: d.data})
	}
	return out
}

// Status fills the shard's figures into st.
func (s *ShardState) Status(st *ShardStatus) {
	st.Stream, st.Shard, st.Position = s.Stream, s.Shard, s.Position
	st.Watermark = fmtTime(s.Watermark)
	c := s.Counts
	st.Records, st.Events, st.Duplicates, st.Late, st.TooLate, st.Future, st.Invalid = c.Records, c.Events, c.Duplicates, c.Late, c.TooLate, c.Future, c.Invalid
	st.DeadLetters = c.DeadLetters()
	st.Tenants = int64(s.Tenants())
	ds := s.win.Stats()
	st.DedupeEntries, st.DedupeBytes = int64(ds.Entries), ds.Bytes
}
