package sim

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// Config selects one simulated business. Equal configs give byte-identical
// event sequences.
type Config struct {
	Seed    uint64
	Tenants int       // tenants created at Start (more are created later)
	Start   time.Time // model and event time of the first tenant
	// Live is when the live phase starts: model time from Live on runs K
	// times faster than event time (see doc.go). Zero: never.
	Live time.Time
	// Rate is the live phase's mean events/s; it sets K. Zero: K = 1.
	Rate float64
}

// Info describes one generated event.
type Info struct {
	Stream   string // "companies" or "jobs"
	TenantID string // also the partition key
	Type     string // e.g. "job.submitted"
	Time     int64  // event time, unix nanoseconds (whole milliseconds)
	Ordinal  int64  // 0, 1, 2, ... in generation (time) order
}

// Event kinds.
const (
	evTenantCreated uint8 = iota
	evTenantUpdated
	evTenantDeleted
	evUserAdded
	evUserDeleted
	evUserLogin
	evUserLogoff
	evUserTimeout
	evJobSubmitted
	evJobTerminated
	evJobCancelled
	numEventTypes
)

// EventTypes lists every event type the simulator emits, in a fixed order.
var EventTypes = [numEventTypes]string{
	"tenant.created", "tenant.updated", "tenant.deleted",
	"user.added", "user.deleted", "user.login", "user.logoff", "user.session_timeout",
	"job.submitted", "job.terminated", "job.cancelled",
}

// Stream names.
const (
	StreamCompanies = "companies"
	StreamJobs      = "jobs"
)

func streamOf(kind uint8) string {
	if kind >= evJobSubmitted {
		return StreamJobs
	}
	return StreamCompanies
}

// Scheduled item kinds. Processing an item emits at most one event.
const (
	itCreate     uint8 = iota // an initial tenant's creation
	itCreator                 // the process that creates tenants later
	itUserAdd                 // onboarding: one user.added
	itUserChange              // a user added or deleted toward the target
	itLogin                   // aux 1: a session starts; 0: recheck
	itSessionEnd              // aux 0: logoff, 1: timeout
	itJob                     // aux 1: a job is submitted; 0: recheck
	itJobEnd                  // aux 0: succeeded, 1: failed, 2: cancelled
	itUpdate                  // aux 1: one-shot (drift onset), 0: recurring
	itChurn                   // activity stops
	itDelete                  // tenant.deleted
)

type item struct {
	at     int64 // model time, unix nanoseconds
	seq    uint64
	from   int64 // itJobEnd: the submission's model time
	tenant int32
	user   int32
	num    int32
	kind   uint8
	aux    uint8
}

type userState struct {
	open    int32 // sessions in progress
	deleted bool
}

type tenant struct {
	idx        int
	id         string
	r          *rand.Rand
	p          profile // current (model) profile
	cohort     uint8
	offset     int64 // local time = UTC + offset hours
	created    int64
	baseUsers  float64
	driftStart int64 // math.MaxInt64: never
	churnAt    int64
	stopped    bool // no new activity (churning)
	dead       bool // tenant.deleted emitted
	users      []userState
	active     []int32 // user numbers (1-based) not deleted
	nextSess   int32
	nextJob    int32
	tr         tenantTruth
}

// pendingEvent is the next event, decided but not yet returned by Next.
type pendingEvent struct {
	kind   uint8
	aux    uint8 // job status or update mask
	t      *tenant
	at     int64 // event time
	user   int32
	num    int32
	n      int64 // dataSize or durationMs
	p      profile
	reason string
}

// Generator produces one simulated business's events in time order. It is
// not safe for concurrent use.
type Generator struct {
	cfg         Config
	start, live int64
	k           float64
	kSet        bool
	h           []item
	seq         uint64
	tenants     []*tenant
	ids         map[string]struct{}
	creator     *rand.Rand
	createRate  float64 // tenants per nanosecond
	pend        pendingEvent
	hasPend     bool
	ordinal     int64
	lastTime    int64
	prefix      []byte // `{"specversion":"1.0","id":"<seed>-`
	counts      [numEventTypes]int64
}

// New returns a generator for cfg.
func New(cfg Config) *Generator {
	g := &Generator{
		cfg:   cfg,
		start: cfg.Start.UnixNano(),
		live:  math.MaxInt64,
		ids:   map[string]struct{}{},
		k:     1,
	}
	if !cfg.Live.IsZero() {
		g.live = cfg.Live.UnixNano()
	}
	g.prefix = append(g.prefix, `{"specversion":"1.0","id":"`...)
	g.prefix = strconv.AppendUint(g.prefix, cfg.Seed, 10)
	g.prefix = append(g.prefix, '-')
	g.creator = rand.New(rand.NewPCG(splitmix64(cfg.Seed), 0xc2ea7e))
	for i := range cfg.Tenants {
		t := g.newTenant(i)
		g.push(item{at: g.start + int64(t.r.Float64()*float64(6*hour)), kind: itCreate, tenant: int32(i)})
	}
	if cfg.Tenants > 0 {
		g.createRate = creationPerTenantDay * float64(cfg.Tenants) / float64(day)
		g.push(item{at: g.start + g.expGap(g.creator, g.createRate), kind: itCreator})
	}
	return g
}

// K is the live phase's time compression (1 until the live phase starts).
func (g *Generator) K() float64 { return g.k }

// Generated is the number of events returned by Next so far.
func (g *Generator) Generated() int64 { return g.ordinal }

// Counts returns the number of events returned so far, by type.
func (g *Generator) Counts() map[string]int64 {
	m := make(map[string]int64, numEventTypes)
	for i, n := range g.counts {
		if n > 0 {
			m[EventTypes[i]] = n
		}
	}
	return m
}

// Peek returns the next event's Info without consuming it.
func (g *Generator) Peek() (Info, bool) {
	if !g.advance() {
		return Info{}, false
	}
	p := &g.pend
	return Info{Stream: streamOf(p.kind), TenantID: p.t.id, Type: EventTypes[p.kind], Time: p.at, Ordinal: g.ordinal}, true
}

// Next appends the next event's JSON (one line, no newline) to dst.
func (g *Generator) Next(dst []byte) (out []byte, ev Info, ok bool) {
	if !g.advance() {
		return dst, Info{}, false
	}
	p := &g.pend
	dst = g.appendEvent(dst, p)
	ev = Info{Stream: streamOf(p.kind), TenantID: p.t.id, Type: EventTypes[p.kind], Time: p.at, Ordinal: g.ordinal}
	g.apply(p)
	g.counts[p.kind]++
	g.lastTime = p.at
	g.ordinal++
	g.hasPend = false
	return dst, ev, true
}

// advance processes scheduled items until one yields an event.
func (g *Generator) advance() bool {
	for !g.hasPend {
		if len(g.h) == 0 {
			return false
		}
		it := g.pop()
		if !g.kSet && it.at >= g.live {
			g.setK()
		}
		g.process(&it)
	}
	return true
}

// eventTime maps model time to event time: the identity before Live,
// compressed K times after it; whole milliseconds.
func (g *Generator) eventTime(m int64) int64 {
	t := m
	if m >= g.live {
		t = g.live + int64(float64(m-g.live)/g.k)
	}
	return floorDiv(t, 1e6) * 1e6
}

// setK computes the live phase's compression from the intrinsic rate of
// the tenants that exist (or are about to be created) at Live.
func (g *Generator) setK() {
	g.kSet = true
	if g.cfg.Rate <= 0 {
		return
	}
	var perDay float64
	for _, t := range g.tenants {
		if !t.stopped && !t.dead {
			perDay += t.expectedDaily(g.live)
		}
	}
	if perDay > 0 {
		g.k = g.cfg.Rate / (perDay / 86400)
	}
}

// IntrinsicRate is the model's mean events/s at Live (valid once K is set);
// K = Rate / IntrinsicRate.
func (g *Generator) IntrinsicRate() float64 {
	if g.cfg.Rate <= 0 || g.k == 0 {
		return 0
	}
	return g.cfg.Rate / g.k
}

func (g *Generator) expGap(r *rand.Rand, ratePerNs float64) int64 {
	gap := r.ExpFloat64() / ratePerNs
	if gap > float64(3650*day) {
		gap = float64(3650 * day)
	}
	return int64(gap) + 1
}

func (g *Generator) newTenant(i int) *tenant {
	t := &tenant{idx: i, r: tenantRand(g.cfg.Seed, i), driftStart: math.MaxInt64, churnAt: math.MaxInt64}
	for len(g.tenants) <= i {
		g.tenants = append(g.tenants, nil)
	}
	g.tenants[i] = t
	var fi, si int
	t.p, fi, si, t.cohort = newProfile(t.r)
	t.offset = int64(t.r.IntN(12)) - 8
	pu := planUsers[t.p.plan]
	t.baseUsers = math.Max(1, math.Min(pu[1], math.Round(lognormal(t.r, pu[0], 0.5))))
	base := slug(nameFirst[fi], nameSecond[si])
	for attempt := uint64(0); ; attempt++ {
		h := splitmix64(g.cfg.Seed^splitmix64(uint64(i)|attempt<<40)) & 0xffff
		b := append([]byte(base), '-')
		for shift := 12; shift >= 0; shift -= 4 {
			b = append(b, "0123456789abcdef"[(h>>shift)&0xf])
		}
		id := string(b)
		if _, dup := g.ids[id]; !dup {
			g.ids[id] = struct{}{}
			t.id = id
			break
		}
	}
	return t
}

// createTenant starts tenant t's life at model time at.
func (g *Generator) createTenant(t *tenant, at int64) {
	r := t.r
	t.created = at
	if t.cohort == cohortDrifting {
		t.driftStart = at + int64((5+145*r.Float64())*float64(day))
		if r.Float64() < 0.6 {
			t.churnAt = t.driftStart + int64((25+45*r.Float64())*float64(day))
		}
	}
	g.emit(evTenantCreated, t, at)
	g.pend.p = t.p
	n0 := int(t.baseUsers)
	if t.cohort == cohortGrowing {
		n0 = max(1, int(math.Round(t.baseUsers*0.6)))
	}
	for range n0 {
		g.push(item{at: at + int64(r.ExpFloat64()*float64(4*hour)), kind: itUserAdd, tenant: int32(t.idx)})
	}
	g.scheduleLogin(t, at+hour)
	g.scheduleJob(t, at+hour)
	g.push(item{at: at + int64(r.ExpFloat64()*userChangeDays*float64(day)), kind: itUserChange, tenant: int32(t.idx)})
	g.push(item{at: at + int64(r.ExpFloat64()*updateDays*float64(day)), kind: itUpdate, tenant: int32(t.idx)})
	if t.driftStart != math.MaxInt64 {
		g.push(item{at: t.driftStart + int64(r.ExpFloat64()*float64(5*day)), kind: itUpdate, aux: 1, tenant: int32(t.idx)})
	}
	if t.churnAt != math.MaxInt64 {
		g.push(item{at: t.churnAt, kind: itChurn, tenant: int32(t.idx)})
	}
}

// emit makes the pending event.
func (g *Generator) emit(kind uint8, t *tenant, at int64) *pendingEvent {
	g.pend = pendingEvent{kind: kind, t: t, at: g.eventTime(at)}
	g.hasPend = true
	return &g.pend
}

func (g *Generator) process(it *item) {
	if it.kind == itCreator {
		t := g.newTenant(len(g.tenants))
		g.createTenant(t, it.at)
		g.push(item{at: it.at + g.expGap(g.creator, g.createRate), kind: itCreator})
		return
	}
	t := g.tenants[it.tenant]
	if t.dead {
		return
	}
	r := t.r
	switch it.kind {
	case itCreate:
		g.createTenant(t, it.at)
	case itUserAdd:
		if !t.stopped {
			g.addUser(t, it.at)
		}
	case itUserChange:
		if t.stopped {
			return
		}
		target := t.userTarget(it.at)
		n := float64(len(t.active))
		add := r.Float64() < 0.5
		switch {
		case n < target-0.5:
			add = r.Float64() < 0.85
		case n > target+0.5:
			add = r.Float64() >= 0.85
		}
		if add {
			g.addUser(t, it.at)
		} else {
			g.deleteUser(t, it.at)
		}
		mean := userChangeDays
		switch {
		case it.at >= t.driftStart:
			mean = driftingChangeDays
		case t.cohort == cohortGrowing:
			mean = growingChangeDays
		}
		g.push(item{at: it.at + int64(r.ExpFloat64()*mean*float64(day)) + 1, kind: itUserChange, tenant: it.tenant})
	case itLogin:
		if t.stopped {
			return
		}
		if it.aux == 1 && len(t.active) > 0 {
			u := t.active[r.IntN(len(t.active))]
			t.users[u-1].open++
			t.nextSess++
			ev := g.emit(evUserLogin, t, it.at)
			ev.user, ev.num = u, t.nextSess
			dur := math.Min(lognormal(r, float64(35*minute), 0.8), float64(sessionMaxDur))
			var timeout uint8
			if r.Float64() < sessionTimeoutP {
				timeout = 1
			}
			g.push(item{at: it.at + int64(dur) + 1, kind: itSessionEnd, aux: timeout, tenant: it.tenant, user: u, num: t.nextSess})
		}
		g.scheduleLogin(t, it.at)
	case itSessionEnd:
		t.users[it.user-1].open--
		kind := evUserLogoff
		if it.aux == 1 {
			kind = evUserTimeout
		}
		ev := g.emit(kind, t, it.at)
		ev.user, ev.num = it.user, it.num
	case itJob:
		if t.stopped {
			return
		}
		if it.aux == 1 && len(t.active) > 0 {
			g.submitJob(t, it.at)
		}
		g.scheduleJob(t, it.at)
	case itJobEnd:
		kind := evJobTerminated
		if it.aux == 2 {
			kind = evJobCancelled
		}
		ev := g.emit(kind, t, it.at)
		ev.user, ev.num, ev.aux = it.user, it.num, it.aux
		ev.n = (ev.at - g.eventTime(it.from)) / 1e6
	case itUpdate:
		if t.stopped {
			return
		}
		g.update(t, it.at)
		if it.aux == 0 {
			mean := updateDays
			if it.at >= t.driftStart {
				mean = 10
			}
			g.push(item{at: it.at + int64(r.ExpFloat64()*mean*float64(day)) + 1, kind: itUpdate, tenant: it.tenant})
		}
	case itChurn:
		t.stopped = true
		g.push(item{at: it.at + churnGrace, kind: itDelete, tenant: it.tenant})
	case itDelete:
		t.dead = true
		ev := g.emit(evTenantDeleted, t, it.at)
		ev.reason = deleteReasons[r.IntN(len(deleteReasons))]
	}
}

func (g *Generator) addUser(t *tenant, at int64) {
	t.users = append(t.users, userState{})
	u := int32(len(t.users))
	t.active = append(t.active, u)
	g.emit(evUserAdded, t, at).user = u
}

// deleteUser deletes a random user with no session in progress, keeping at
// least one; it may emit nothing.
func (g *Generator) deleteUser(t *tenant, at int64) {
	if len(t.active) <= 1 {
		return
	}
	for range 3 {
		i := t.r.IntN(len(t.active))
		u := t.active[i]
		if t.users[u-1].open > 0 {
			continue
		}
		t.users[u-1].deleted = true
		last := len(t.active) - 1
		t.active[i] = t.active[last]
		t.active = t.active[:last]
		g.emit(evUserDeleted, t, at).user = u
		return
	}
}

func (g *Generator) submitJob(t *tenant, at int64) {
	r := t.r
	u := t.active[r.IntN(len(t.active))]
	t.nextJob++
	size := math.Min(math.Max(lognormal(r, 200e6, 1.5), 1e6), 2e12)
	dur := math.Min(20e9+size/8e6*1e9*lognormal(r, 1, 0.4), float64(jobMaxDur))
	ev := g.emit(evJobSubmitted, t, at)
	ev.user, ev.num, ev.n = u, t.nextJob, int64(size)
	pCancel, pFail := 0.04, 0.05
	if at >= t.driftStart {
		f := t.driftProgress(at)
		pCancel += 0.31 * f
		pFail += 0.07 * f
	}
	end := item{kind: itJobEnd, tenant: int32(t.idx), user: u, num: t.nextJob, from: at}
	switch x := r.Float64(); {
	case x < pCancel:
		end.aux = 2
		dur *= 0.05 + 0.85*r.Float64()
	case x < pCancel+pFail:
		end.aux = 1
		dur *= 0.1 + 0.9*r.Float64()
	}
	end.at = at + int64(dur) + 1
	g.push(end)
}

// update emits a tenant.updated fitting the tenant's cohort and phase.
func (g *Generator) update(t *tenant, at int64) {
	r := t.r
	var mask uint8
	switch {
	case at >= t.driftStart:
		if t.p.sentiment < sentNegative {
			t.p.sentiment++
			mask = updSentiment
		} else {
			t.p.monthlyFee = math.Floor(t.p.monthlyFee * 0.85)
			mask = updFee
		}
	case t.cohort == cohortGrowing:
		if t.p.plan < 2 && float64(len(t.active)) >= 0.7*planUsers[t.p.plan][1] {
			t.p.plan++
			t.p.monthlyFee = drawFee(r, t.p.plan)
			mask = updPlan | updFee
		} else {
			f := 1.05 + 0.15*r.Float64()
			t.p.employees = int64(math.Round(float64(t.p.employees) * f))
			t.p.revenue = math.Round(t.p.revenue*f/10) * 10
			mask = updEmployees | updRevenue
			if t.p.sentiment != sentPositive && r.Float64() < 0.5 {
				t.p.sentiment = sentPositive
				mask |= updSentiment
			}
		}
	default:
		switch x := r.Float64(); {
		case x < 0.5:
			s := r.Float64()
			switch {
			case s < 0.6:
				t.p.sentiment = sentPositive
			case s < 0.95:
				t.p.sentiment = sentNeutral
			default:
				t.p.sentiment = sentNegative
			}
			mask = updSentiment
		case x < 0.8:
			lo, hi := planFee[t.p.plan][0], planFee[t.p.plan][1]-1
			t.p.monthlyFee = math.Min(hi, math.Max(lo, math.Floor(t.p.monthlyFee*(0.9+0.2*r.Float64()))))
			mask = updFee
		default:
			f := 0.95 + 0.1*r.Float64()
			t.p.employees = max(50, int64(math.Round(float64(t.p.employees)*f)))
			t.p.revenue = math.Round(t.p.revenue*f/10) * 10
			mask = updEmployees | updRevenue
		}
	}
	ev := g.emit(evTenantUpdated, t, at)
	ev.aux, ev.p = mask, t.p
}

// driftProgress is 0 at drift start, rising to 1 after 45 days.
func (t *tenant) driftProgress(at int64) float64 {
	if at < t.driftStart {
		return 0
	}
	return math.Min(1, float64(at-t.driftStart)/float64(45*day))
}

// userTarget is the number of users the tenant tends toward at model time at.
func (t *tenant) userTarget(at int64) float64 {
	switch {
	case at >= t.driftStart:
		return math.Max(1, t.baseUsers*math.Max(0.3, 1-0.7*float64(at-t.driftStart)/float64(60*day)))
	case t.cohort == cohortGrowing:
		weeks := float64(at-t.created) / float64(7*day)
		return math.Min(80, t.baseUsers*math.Min(3, 1+0.05*weeks))
	}
	return t.baseUsers
}

func (t *tenant) loginMult(at int64) float64 {
	m := 1.0
	if t.cohort == cohortGrowing {
		m = 1.1
	}
	return m * (1 - 0.75*t.driftProgress(at))
}

func (t *tenant) jobMult(at int64) float64 {
	m := 1.0
	if t.cohort == cohortGrowing {
		m = 1.3
	}
	return m * (1 - 0.9*t.driftProgress(at))
}

// expectedDaily is the tenant's expected events per model day at at,
// seasonality averaged out (sessions and jobs, two events each).
func (t *tenant) expectedDaily(at int64) float64 {
	return t.userTarget(at) * 2 * (loginsPerUserDay*t.loginMult(at) + jobsPerUserDay*t.jobMult(at))
}

// scheduleLogin pushes the tenant's next session start after from, by
// thinning: candidates at the peak rate, accepted with the ratio of the
// actual rate (seasonality and drift) to the peak.
func (g *Generator) scheduleLogin(t *tenant, from int64) {
	g.scheduleThinned(t, from, itLogin, loginsPerUserDay)
}

func (g *Generator) scheduleJob(t *tenant, from int64) {
	g.scheduleThinned(t, from, itJob, jobsPerUserDay)
}

func (g *Generator) scheduleThinned(t *tenant, from int64, kind uint8, perUserDay float64) {
	n := len(t.active)
	if n == 0 {
		g.push(item{at: from + hour, kind: kind, tenant: int32(t.idx)})
		return
	}
	peak := float64(n) * perUserDay * 1.3 * seasonMax / float64(day)
	at := from
	for range 10000 {
		at += g.expGap(t.r, peak)
		m := t.loginMult(at)
		if kind == itJob {
			m = t.jobMult(at)
		}
		if t.r.Float64()*1.3*seasonMax < season(at, t.offset)*m {
			g.push(item{at: at, kind: kind, aux: 1, tenant: int32(t.idx)})
			return
		}
	}
	g.push(item{at: at, kind: kind, tenant: int32(t.idx)})
}

// The scheduling heap, ordered by (at, seq).

func (g *Generator) push(it item) {
	g.seq++
	it.seq = g.seq
	g.h = append(g.h, it)
	h := g.h
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !less(&h[i], &h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (g *Generator) pop() item {
	h := g.h
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && less(&h[r], &h[l]) {
			c = r
		}
		if !less(&h[c], &h[i]) {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
	g.h = h
	return top
}

func less(a, b *item) bool {
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}
