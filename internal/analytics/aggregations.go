package analytics

import (
	"math"

	"github.com/tenantpulse/tenantpulse/internal/event"
)

// applyCtx is what an aggregation sees of one event being applied.
type applyCtx struct {
	s    *ShardState
	e    *event.Event
	day  int32
	hour int32
	c    *companyPart // the tenant's part, in a companies shard
	j    *jobsPart    // the tenant's part, in a jobs shard
	all  *allDay      // the shard's day slice for the overview (nil: older than the ring)
}

// Aggregation is one metric the processor maintains: its name, the event
// types it reads, and how an event updates the state. The processor's
// logic is this table; Apply only decodes, dedupes, checks lateness and
// dispatches.
type Aggregation struct {
	Name  string
	Doc   string
	On    []event.Type
	apply func(*applyCtx)
}

// Aggregations lists every aggregation, companies' then jobs'.
var Aggregations = []Aggregation{
	{"profile", "name, industry, sentiment, revenue, employees, monthly fee, plan: each the value of the latest event time",
		[]event.Type{event.TenantCreated, event.TenantUpdated}, applyProfile},
	{"created", "the time of tenant.created", []event.Type{event.TenantCreated}, func(x *applyCtx) {
		if p := &x.c.profile; p.created == 0 || x.e.Time < p.created {
			p.created = x.e.Time
		}
	}},
	{"deleted", "the time of tenant.deleted (the tenant churned)", []event.Type{event.TenantDeleted}, func(x *applyCtx) {
		if p := &x.c.profile; p.deleted == 0 || x.e.Time < p.deleted {
			p.deleted = x.e.Time
		}
	}},
	{"fees", "the monthly fee's history, for totalFee", []event.Type{event.TenantCreated, event.TenantUpdated}, applyFee},
	{"usersAdded", "user.added events, per day and in all", []event.Type{event.UserAdded}, func(x *applyCtx) {
		x.c.usersAdded++
		k := idKey(x.e.Data.UserID)
		u := x.c.users[k]
		if x.e.Time >= u.changed {
			u.deleted, u.changed = false, x.e.Time
		}
		x.c.users[k] = u
		if d := x.c.days.at(x.day); d != nil {
			d.UsersAdded++
		}
		if x.all != nil {
			x.all.UsersAdded++
		}
	}},
	{"usersDeleted", "user.deleted events, per day and in all; a deleted user is no longer active", []event.Type{event.UserDeleted}, func(x *applyCtx) {
		x.c.usersDeleted++
		k := idKey(x.e.Data.UserID)
		u := x.c.users[k]
		if x.e.Time >= u.changed {
			u.deleted, u.changed = true, x.e.Time
		}
		x.c.users[k] = u
		if d := x.c.days.at(x.day); d != nil {
			d.UsersDeleted++
		}
		if x.all != nil {
			x.all.UsersDeleted++
		}
	}},
	{"logins", "user.login events per day, each user's last login day (active users), open sessions", []event.Type{event.UserLogin}, func(x *applyCtx) {
		x.c.logins++
		k := idKey(x.e.Data.UserID)
		u := x.c.users[k]
		u.lastLogin = max(u.lastLogin, x.day+1)
		x.c.users[k] = u
		x.c.sessions[idKey(x.e.Data.SessionID)] = x.e.Time
		if d := x.c.days.at(x.day); d != nil {
			d.Logins++
		}
		if x.all != nil {
			x.all.Logins++
		}
	}},
	{"sessionEnds", "user.logoff and user.session_timeout per day; session length when the login was seen", []event.Type{event.UserLogoff, event.UserSessionTimeout}, func(x *applyCtx) {
		d := x.c.days.at(x.day)
		if x.e.Type == event.UserLogoff {
			x.c.logoffs++
			if d != nil {
				d.Logoffs++
			}
			if x.all != nil {
				x.all.Logoffs++
			}
		} else {
			x.c.timeouts++
			if d != nil {
				d.Timeouts++
			}
			if x.all != nil {
				x.all.Timeouts++
			}
		}
		if at, ok := x.c.sessions[idKey(x.e.Data.SessionID)]; ok {
			delete(x.c.sessions, idKey(x.e.Data.SessionID))
			if x.e.Time >= at {
				x.c.sessionNs = addSat(x.c.sessionNs, subSat(x.e.Time, at))
				x.c.sessionsDone++
			}
		}
	}},
	{"lastActivity", "the latest time of a login, logoff, session timeout or job event",
		[]event.Type{event.UserLogin, event.UserLogoff, event.UserSessionTimeout, event.JobSubmitted, event.JobTerminated, event.JobCancelled},
		func(x *applyCtx) {
			if x.c != nil {
				x.c.lastActivity = max(x.c.lastActivity, x.e.Time)
			} else {
				x.j.lastActivity = max(x.j.lastActivity, x.e.Time)
			}
		}},
	{"jobsSubmitted", "job.submitted per day and hour and in all, data volume, running jobs", []event.Type{event.JobSubmitted}, func(x *applyCtx) {
		j := x.j
		j.submitted++
		j.dataBytes = addSat(j.dataBytes, x.e.Data.DataSize)
		j.running[idKey(x.e.Data.JobID)] = x.e.Time
		if d := j.days.at(x.day); d != nil {
			d.Submitted++
			d.DataBytes = addSatU(d.DataBytes, uint64(x.e.Data.DataSize))
		}
		if h := j.hours.at(x.hour); h != nil {
			h.Submitted++
		}
		if x.all != nil {
			x.all.Submitted++
			x.all.DataBytes = addSatU(x.all.DataBytes, uint64(x.e.Data.DataSize))
		}
	}},
	{"jobsTerminated", "job.terminated (succeeded or failed) per day and hour and in all", []event.Type{event.JobTerminated}, func(x *applyCtx) {
		j := x.j
		j.terminated++
		delete(j.running, idKey(x.e.Data.JobID))
		ok := string(x.e.Data.Status) == "succeeded"
		if ok {
			j.succeeded++
		} else {
			j.failed++
		}
		if d := j.days.at(x.day); d != nil {
			if ok {
				d.Succeeded++
			} else {
				d.Failed++
			}
		}
		if h := j.hours.at(x.hour); h != nil {
			h.Terminated++
		}
		if x.all != nil {
			if ok {
				x.all.Succeeded++
			} else {
				x.all.Failed++
			}
		}
	}},
	{"jobsCancelled", "job.cancelled per day and hour and in all", []event.Type{event.JobCancelled}, func(x *applyCtx) {
		j := x.j
		j.cancelled++
		delete(j.running, idKey(x.e.Data.JobID))
		if d := j.days.at(x.day); d != nil {
			d.Cancelled++
		}
		if h := j.hours.at(x.hour); h != nil {
			h.Cancelled++
		}
		if x.all != nil {
			x.all.Cancelled++
		}
	}},
}

// dispatch maps an event type to the aggregations that read it, in table
// order.
var dispatch = func() (d [16][]func(*applyCtx)) {
	for _, a := range Aggregations {
		for _, t := range a.On {
			d[t] = append(d[t], a.apply)
		}
	}
	return d
}()

// profile field indexes into profile.at.
const (
	pName = iota
	pIndustry
	pSentiment
	pRevenue
	pEmployees
	pMonthlyFee
	pPlan
)

func applyProfile(x *applyCtx) {
	p, d, t := &x.c.profile, &x.e.Data, x.e.Time
	set := func(i int, f event.Field) bool {
		if d.Has&f == 0 || t < p.at[i] {
			return false
		}
		p.at[i] = t
		return true
	}
	if set(pName, event.FieldName) {
		p.name = string(d.Name)
	}
	if set(pIndustry, event.FieldIndustry) {
		p.industry = string(d.Industry)
	}
	if set(pSentiment, event.FieldSentiment) {
		p.sentiment = string(d.Sentiment)
	}
	if set(pRevenue, event.FieldRevenue) {
		p.revenue = d.Revenue
	}
	if set(pEmployees, event.FieldEmployees) {
		p.employees = d.Employees
	}
	if set(pMonthlyFee, event.FieldMonthlyFee) {
		p.monthlyFee = d.MonthlyFee
	}
	if set(pPlan, event.FieldPlan) {
		p.plan = string(d.Plan)
	}
}

// applyFee records a monthly fee change, keeping the history in time order.
func applyFee(x *applyCtx) {
	if x.e.Data.Has&event.FieldMonthlyFee == 0 {
		return
	}
	p := &x.c.profile
	fc := feeChange{at: x.e.Time, fee: x.e.Data.MonthlyFee}
	i := len(p.fees)
	for i > 0 && p.fees[i-1].at > fc.at {
		i--
	}
	p.fees = append(p.fees, feeChange{})
	copy(p.fees[i+1:], p.fees[i:])
	p.fees[i] = fc
}

// Sums of event fields saturate instead of wrapping: in-bounds values
// (event.MaxDataSize) can still add up past int64 over enough events, and
// a wrapped sum would be negative and wrong; a saturated one is the
// largest value and stays there.

// addSat returns a+b for b >= 0, at most math.MaxInt64.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// addSatU returns a+b, at most math.MaxUint64.
func addSatU(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}

// subSat returns a-b for a >= b, at most math.MaxInt64 (event times span
// more than an int64 of nanoseconds between their extremes).
func subSat(a, b int64) int64 {
	if d := a - b; d >= 0 {
		return d
	}
	return math.MaxInt64
}
