package analytics

import (
	"fmt"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/tenantpulse/tenantpulse/internal/dedupe"
	"github.com/tenantpulse/tenantpulse/internal/event"
)

// Options configure a shard's state.
type Options struct {
	// AllowedLateness is how long what a late event may still change is
	// kept behind the shard's watermark (the latest event time seen): open
	// sessions and running jobs (whose end may still come) and deleted
	// users' tombstones (kept at least TombstoneKeep). It does not limit
	// which events count: every valid event not dated in the future is
	// applied, in each window whose day or hour slices still hold its
	// time. Default 7 days.
	AllowedLateness time.Duration
	// MaxFuture: a record whose event time is further ahead of its arrival
	// time is a dead letter, so no record can move the watermark past its
	// arrival plus MaxFuture. Default event.DefaultMaxFuture (1 hour).
	MaxFuture time.Duration
	// DedupeWindow and DedupeMaxBytes: events repeated (same id + source)
	// within this much arrival time count once. Defaults: 10 minutes, as
	// the event API's, and 2 MiB per shard (about 49,000 identities).
	DedupeWindow   time.Duration
	DedupeMaxBytes int64
	// DeadLetterKeep is how many of the latest dead letters a shard keeps
	// (all are counted). Default 100.
	DeadLetterKeep int
}

// DefaultAllowedLateness and DefaultShardDedupeBytes are the defaults of
// Options. TombstoneKeep is the least time a deleted user is remembered
// behind the watermark: one day more than the active-users window, so a
// late login from before the deletion can never make a deleted user
// active.
const (
	DefaultAllowedLateness  = 7 * 24 * time.Hour
	DefaultShardDedupeBytes = 2 << 20
	TombstoneKeep           = (activeDays + 1) * 24 * time.Hour
	defaultDeadLetterKeep   = 100
)

func (o *Options) withDefaults() {
	if o.AllowedLateness <= 0 {
		o.AllowedLateness = DefaultAllowedLateness
	}
	if o.MaxFuture <= 0 {
		o.MaxFuture = event.DefaultMaxFuture
	}
	if o.DedupeWindow <= 0 {
		o.DedupeWindow = dedupe.DefaultWindow
	}
	if o.DedupeMaxBytes <= 0 {
		o.DedupeMaxBytes = DefaultShardDedupeBytes
	}
	if o.DeadLetterKeep <= 0 {
		o.DeadLetterKeep = defaultDeadLetterKeep
	}
}

// Kind says which part of a tenant a shard keeps: the companies stream's
// (profile, users, sessions) or the jobs stream's.
type Kind uint8

const (
	KindCompanies Kind = iota + 1
	KindJobs
)

// KindOf returns the kind of a stream by its name.
func KindOf(stream string) (Kind, bool) {
	switch stream {
	case event.StreamCompanies:
		return KindCompanies, true
	case event.StreamJobs:
		return KindJobs, true
	}
	return 0, false
}

// ShardState is everything one (stream, shard) knows: its part of every
// tenant whose events it holds, the shard's position, watermark, counters,
// dedupe window and dead letters. It is not safe for concurrent use.
type ShardState struct {
	Stream string
	Shard  string
	kind   Kind
	opts   Options

	// Position is the sequence number of the last record applied.
	Position string
	// Watermark is the latest event time seen, Unix ns (0: none yet).
	Watermark int64
	Counts    Counts

	companies map[string]*companyPart
	jobs      map[string]*jobsPart
	win       *dedupe.Window
	dead      []deadLetter // the latest, oldest first, at most opts.DeadLetterKeep
	days      dayRing[allDay]

	dec event.Decoder
	ev  event.Event
}

// Counts are a shard's counters since it was first read.
type Counts struct {
	Records    int64 // records read
	Events     int64 // events applied
	Duplicates int64
	Late       int64 // applied although behind the watermark
	// TooLate counts the events that versions before checkpoint version 2
	// dead-lettered for being more than the allowed lateness behind the
	// watermark; restored from such a checkpoint, it no longer grows.
	TooLate int64
	Future  int64 // dated more than MaxFuture after their arrival: dead letters
	Invalid int64 // not valid events, or in the wrong stream: dead letters
}

// DeadLetters is how many records went to the dead letters.
func (c Counts) DeadLetters() int64 { return c.TooLate + c.Future + c.Invalid }

// allDay is one day of every tenant in the shard, for the overview.
type allDay struct {
	companyDay
	jobsDay
}

type deadLetter struct {
	seq      string
	arrival  int64 // Unix ms
	reason   string
	id       string
	tenantID string
	data     string
}

// NewShardState returns the empty state of a shard of stream, which must
// be "companies" or "jobs".
func NewShardState(stream, shard string, opts Options) (*ShardState, error) {
	k, ok := KindOf(stream)
	if !ok {
		return nil, fmt.Errorf("analytics reads the streams %s and %s, not %q", event.StreamCompanies, event.StreamJobs, stream)
	}
	opts.withDefaults()
	s := &ShardState{Stream: stream, Shard: shard, kind: k, opts: opts,
		win: dedupe.New(dedupe.Options{Window: opts.DedupeWindow, MaxBytes: opts.DedupeMaxBytes})}
	if k == KindCompanies {
		s.companies = make(map[string]*companyPart)
	} else {
		s.jobs = make(map[string]*jobsPart)
	}
	return s, nil
}

// Kind returns which part of tenants the shard keeps.
func (s *ShardState) Kind() Kind { return s.kind }

// Tenants returns how many tenants the shard holds a part of.
func (s *ShardState) Tenants() int { return len(s.companies) + len(s.jobs) }

// DedupeStats describes the shard's dedupe window.
func (s *ShardState) DedupeStats() dedupe.Stats { return s.win.Stats() }

// Outcome is what Apply did with a record.
type Outcome uint8

const (
	Applied Outcome = iota + 1
	Duplicate
	Future // a dead letter: dated more than MaxFuture after its arrival
	Invalid
)

// maxDeadLetterData is how much of a dead record the list keeps.
const maxDeadLetterData = 1024

// Apply applies one record: data as stored in the stream, its arrival time
// (Unix ms) and sequence number (kept only for a dead letter, so it may
// alias a reader's buffer). The caller moves Position past the records it
// applied. Applying the same records from the same state gives the same
// state: everything is a function of the records, not of the clock.
func (s *ShardState) Apply(data []byte, arrivalMs int64, seq string) Outcome {
	s.Counts.Records++
	e := &s.ev
	if _, err := s.dec.Decode(data, e); err != nil {
		s.Counts.Invalid++
		s.deadLetter(seq, arrivalMs, "invalid event: "+err.Error(), e, data)
		return Invalid
	}
	if k, _ := KindOf(e.Type.Stream()); k != s.kind {
		s.Counts.Invalid++
		s.deadLetter(seq, arrivalMs, fmt.Sprintf("a %s event belongs in stream %s, not %s", e.Type, e.Type.Stream(), s.Stream), e, data)
		return Invalid
	}
	if by, ahead := event.Ahead(e.Time, arrivalMs*1e6, s.opts.MaxFuture); ahead {
		s.Counts.Future++
		s.deadLetter(seq, arrivalMs, fmt.Sprintf("future: its time %s is %s after its arrival %s, more than the max-future %s; applied, it would move the watermark past every real event",
			fmtTime(e.Time), by, fmtTime(arrivalMs*1e6), s.opts.MaxFuture), e, data)
		return Future
	}
	if s.win.Add(dedupe.KeyOf(e.ID, e.Source), arrivalMs) {
		s.Counts.Duplicates++
		return Duplicate
	}
	if e.Time < s.Watermark {
		s.Counts.Late++
	} else {
		if s.Watermark != 0 && dayOf(e.Time) != dayOf(s.Watermark) {
			s.prune(e.Time-int64(s.opts.AllowedLateness), e.Time-int64(max(s.opts.AllowedLateness, TombstoneKeep)))
		}
		s.Watermark = e.Time
	}
	s.Counts.Events++
	ctx := applyCtx{s: s, e: e, day: dayOf(e.Time), hour: hourOf(e.Time)}
	if s.kind == KindCompanies {
		ctx.c = s.company(e.TenantID)
	} else {
		ctx.j = s.job(e.TenantID)
	}
	ctx.all = s.days.at(ctx.day)
	for _, a := range dispatch[e.Type] {
		a(&ctx)
	}
	return Applied
}

// prune forgets what the state keeps only for late events: sessions and
// jobs open since before cutoff (their end is taken as lost), and users
// deleted before tombstones (a login older than that cannot fall in the
// active-users window, so it cannot bring a deleted user back into it). It
// runs when the watermark enters a new day, so it depends only on the
// records.
func (s *ShardState) prune(cutoff, tombstones int64) {
	for _, c := range s.companies {
		for id, u := range c.users {
			if u.deleted && u.changed < tombstones {
				delete(c.users, id)
			}
		}
		for id, at := range c.sessions {
			if at < cutoff {
				delete(c.sessions, id)
			}
		}
	}
	for _, j := range s.jobs {
		for id, at := range j.running {
			if at < cutoff {
				delete(j.running, id)
			}
		}
	}
}

func (s *ShardState) company(id []byte) *companyPart {
	if p, ok := s.companies[string(id)]; ok {
		return p
	}
	p := &companyPart{users: map[uint64]userState{}, sessions: map[uint64]int64{}}
	s.companies[string(id)] = p
	return p
}

func (s *ShardState) job(id []byte) *jobsPart {
	if p, ok := s.jobs[string(id)]; ok {
		return p
	}
	p := &jobsPart{running: map[uint64]int64{}}
	s.jobs[string(id)] = p
	return p
}

func (s *ShardState) deadLetter(seq string, arrivalMs int64, reason string, e *event.Event, data []byte) {
	if len(data) > maxDeadLetterData {
		data = data[:maxDeadLetterData]
	}
	d := deadLetter{seq: strings.Clone(seq), arrival: arrivalMs, reason: reason, id: string(e.ID), tenantID: string(e.TenantID), data: string(data)}
	if len(s.dead) == s.opts.DeadLetterKeep {
		copy(s.dead, s.dead[1:])
		s.dead = s.dead[:len(s.dead)-1]
	}
	s.dead = append(s.dead, d)
}

// companyPart is what a companies shard keeps of a tenant.
type companyPart struct {
	profile      profile
	users        map[uint64]userState // users seen, deleted ones until pruned, by idKey
	sessions     map[uint64]int64     // open sessions: idKey -> login time (Unix ns)
	usersAdded   int64
	usersDeleted int64
	logins       int64
	logoffs      int64
	timeouts     int64
	sessionNs    int64 // total length of the sessions closed after a login seen
	sessionsDone int64
	lastActivity int64
	days         dayRing[companyDay]
}

// idKey is how a tenant's users, sessions and jobs are kept: a 64-bit hash
// of the id instead of the id, so applying an event allocates nothing and
// a user costs a few dozen bytes. Two ids of one tenant sharing a hash (a
// chance of about n²/2⁶⁵ for n ids) would count as one.
func idKey(id []byte) uint64 { return xxhash.Sum64(id) }

// userState is one user: its last login day (day number + 1; 0: none),
// and whether its latest user.added or user.deleted (by event time, at
// changed) deleted it. A deleted user is kept (a tombstone) until its
// deletion is further behind the watermark than the allowed lateness and
// TombstoneKeep, so a late login cannot bring it back.
type userState struct {
	lastLogin int32
	deleted   bool
	changed   int64
}

// profile is a tenant's commercial facts: each field with the event time
// it was set at, so a late tenant.updated does not overwrite a newer value.
type profile struct {
	name, industry, sentiment, plan string
	revenue, monthlyFee             float64
	employees                       int64
	at                              [7]int64 // per field, the event time of its value
	created, deleted                int64    // Unix ns; 0: not seen
	fees                            []feeChange
}

type feeChange struct {
	at  int64
	fee float64
}

// jobsPart is what a jobs shard keeps of a tenant.
type jobsPart struct {
	submitted, terminated, succeeded, failed, cancelled int64
	dataBytes                                           int64
	running                                             map[uint64]int64 // idKey of a job id -> submit time
	lastActivity                                        int64
	days                                                dayRing[jobsDay]
	hours                                               hourRing[jobsHour]
}

func fmtTime(ns int64) string {
	if ns == 0 {
		return ""
	}
	return string(event.AppendTime(nil, ns))
}
