package analytics

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/tenantpulse/tenantpulse/internal/dedupe"
	"github.com/tenantpulse/tenantpulse/internal/fsutil"
)

// A checkpoint is a shard's whole state with its position, in one framed
// file (fsutil.Frame: magic TPAC, version, CRC-32C). docs/format/
// analytics-checkpoint.md describes the payload.
var checkpointMagic = [4]byte{'T', 'P', 'A', 'C'}

// checkpointVersion is the version Checkpoint writes. Version 1 (read
// still) lacks the future counter.
const checkpointVersion = 2

// ErrCorruptCheckpoint reports a checkpoint that cannot be decoded.
var ErrCorruptCheckpoint = errors.New("corrupt analytics checkpoint")

// Checkpoint encodes the state into a framed checkpoint. Maps are written
// in key order, so equal states give equal bytes.
func (s *ShardState) Checkpoint() []byte {
	w := &ckWriter{b: make([]byte, 0, 4096+s.Tenants()*512)}
	w.str(s.Stream)
	w.str(s.Shard)
	w.str(s.Position)
	w.int(s.Watermark)
	c := s.Counts
	for _, v := range []int64{c.Records, c.Events, c.Duplicates, c.Late, c.TooLate, c.Invalid, c.Future} {
		w.int(v)
	}
	st := s.win.Stats()
	w.int(st.Expired)
	w.int(st.Evicted)
	w.uint(uint64(st.Entries))
	s.win.Each(func(k dedupe.Key, at int64) {
		w.b = binary.LittleEndian.AppendUint64(w.b, k.A)
		w.b = binary.LittleEndian.AppendUint64(w.b, k.B)
		w.int(at)
	})
	w.uint(uint64(len(s.dead)))
	for _, d := range s.dead {
		w.str(d.seq)
		w.int(d.arrival)
		w.str(d.reason)
		w.str(d.id)
		w.str(d.tenantID)
		w.str(d.data)
	}
	writeRing(w, &s.days.ring, func(d *allDay) []uint64 {
		return []uint64{uint64(d.Logins), uint64(d.Logoffs), uint64(d.Timeouts), uint64(d.UsersAdded), uint64(d.UsersDeleted),
			uint64(d.Submitted), uint64(d.Succeeded), uint64(d.Failed), uint64(d.Cancelled), d.DataBytes}
	})
	if s.kind == KindCompanies {
		ids := sortedKeys(s.companies)
		w.uint(uint64(len(ids)))
		for _, id := range ids {
			w.str(id)
			s.companies[id].write(w)
		}
	} else {
		ids := sortedKeys(s.jobs)
		w.uint(uint64(len(ids)))
		for _, id := range ids {
			w.str(id)
			s.jobs[id].write(w)
		}
	}
	return fsutil.Frame(checkpointMagic, checkpointVersion, w.b)
}

// RestoreShardState decodes a checkpoint made by Checkpoint.
func RestoreShardState(b []byte, opts Options) (*ShardState, error) {
	version, payload, err := fsutil.Unframe(checkpointMagic, b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptCheckpoint, err)
	}
	if version != 1 && version != checkpointVersion {
		return nil, fmt.Errorf("%w: version %d, this build reads versions 1 and %d", ErrCorruptCheckpoint, version, checkpointVersion)
	}
	r := &ckReader{b: payload}
	stream, shard := r.str(), r.str()
	if r.err != nil {
		return nil, r.fail()
	}
	s, err := NewShardState(stream, shard, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptCheckpoint, err)
	}
	s.Position = r.str()
	s.Watermark = r.int()
	c := &s.Counts
	for _, v := range []*int64{&c.Records, &c.Events, &c.Duplicates, &c.Late, &c.TooLate, &c.Invalid} {
		*v = r.int()
	}
	if version >= 2 {
		c.Future = r.int()
	}
	expired, evicted := r.int(), r.int()
	for n := r.count(17); n > 0 && r.err == nil; n-- {
		k := dedupe.Key{A: r.u64(), B: r.u64()}
		s.win.Add(k, r.int())
	}
	s.win.SetCounts(expired, evicted)
	for n := r.count(6); n > 0 && r.err == nil; n-- {
		d := deadLetter{seq: r.str(), arrival: r.int(), reason: r.str(), id: r.str(), tenantID: r.str(), data: r.str()}
		if len(s.dead) < s.opts.DeadLetterKeep {
			s.dead = append(s.dead, d)
		}
	}
	readRing(r, &s.days.ring, RingDays, 10, func(d *allDay, v []uint64) {
		d.Logins, d.Logoffs, d.Timeouts, d.UsersAdded, d.UsersDeleted = u32(v[0]), u32(v[1]), u32(v[2]), u32(v[3]), u32(v[4])
		d.Submitted, d.Succeeded, d.Failed, d.Cancelled, d.DataBytes = u32(v[5]), u32(v[6]), u32(v[7]), u32(v[8]), v[9]
	})
	n := r.count(2)
	for ; n > 0 && r.err == nil; n-- {
		id := r.str()
		if s.kind == KindCompanies {
			p := &companyPart{users: map[uint64]userState{}, sessions: map[uint64]int64{}}
			p.read(r)
			s.companies[id] = p
		} else {
			p := &jobsPart{running: map[uint64]int64{}}
			p.read(r)
			s.jobs[id] = p
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%d bytes after the last tenant", len(r.b))
	}
	if r.err != nil {
		return nil, r.fail()
	}
	return s, nil
}

func (c *companyPart) write(w *ckWriter) {
	p := &c.profile
	w.str(p.name)
	w.str(p.industry)
	w.str(p.sentiment)
	w.str(p.plan)
	w.f64(p.revenue)
	w.f64(p.monthlyFee)
	w.int(p.employees)
	for _, at := range p.at {
		w.int(at)
	}
	w.int(p.created)
	w.int(p.deleted)
	w.uint(uint64(len(p.fees)))
	for _, f := range p.fees {
		w.int(f.at)
		w.f64(f.fee)
	}
	users := sortedIDs(c.users)
	w.uint(uint64(len(users)))
	for _, u := range users {
		w.b = binary.LittleEndian.AppendUint64(w.b, u)
		us := c.users[u]
		w.int(int64(us.lastLogin))
		w.bool(us.deleted)
		w.int(us.changed)
	}
	sessions := sortedIDs(c.sessions)
	w.uint(uint64(len(sessions)))
	for _, id := range sessions {
		w.b = binary.LittleEndian.AppendUint64(w.b, id)
		w.int(c.sessions[id])
	}
	for _, v := range []int64{c.usersAdded, c.usersDeleted, c.logins, c.logoffs, c.timeouts, c.sessionNs, c.sessionsDone, c.lastActivity} {
		w.int(v)
	}
	writeRing(w, &c.days.ring, func(d *companyDay) []uint64 {
		return []uint64{uint64(d.Logins), uint64(d.Logoffs), uint64(d.Timeouts), uint64(d.UsersAdded), uint64(d.UsersDeleted)}
	})
}

func (c *companyPart) read(r *ckReader) {
	p := &c.profile
	p.name, p.industry, p.sentiment, p.plan = r.str(), r.str(), r.str(), r.str()
	p.revenue, p.monthlyFee = r.f64(), r.f64()
	p.employees = r.int()
	for i := range p.at {
		p.at[i] = r.int()
	}
	p.created, p.deleted = r.int(), r.int()
	for n := r.count(2); n > 0 && r.err == nil; n-- {
		p.fees = append(p.fees, feeChange{at: r.int(), fee: r.f64()})
	}
	for n := r.count(11); n > 0 && r.err == nil; n-- {
		id := r.u64()
		c.users[id] = userState{lastLogin: int32(r.int()), deleted: r.bool(), changed: r.int()}
	}
	for n := r.count(9); n > 0 && r.err == nil; n-- {
		id := r.u64()
		c.sessions[id] = r.int()
	}
	for _, v := range []*int64{&c.usersAdded, &c.usersDeleted, &c.logins, &c.logoffs, &c.timeouts, &c.sessionNs, &c.sessionsDone, &c.lastActivity} {
		*v = r.int()
	}
	readRing(r, &c.days.ring, RingDays, 5, func(d *companyDay, v []uint64) {
		d.Logins, d.Logoffs, d.Timeouts, d.UsersAdded, d.UsersDeleted = u32(v[0]), u32(v[1]), u32(v[2]), u32(v[3]), u32(v[4])
	})
}

func (j *jobsPart) write(w *ckWriter) {
	for _, v := range []int64{j.submitted, j.terminated, j.succeeded, j.failed, j.cancelled, j.dataBytes, j.lastActivity} {
		w.int(v)
	}
	running := sortedIDs(j.running)
	w.uint(uint64(len(running)))
	for _, id := range running {
		w.b = binary.LittleEndian.AppendUint64(w.b, id)
		w.int(j.running[id])
	}
	writeRing(w, &j.days.ring, func(d *jobsDay) []uint64 {
		return []uint64{uint64(d.Submitted), uint64(d.Succeeded), uint64(d.Failed), uint64(d.Cancelled), d.DataBytes}
	})
	writeRing(w, &j.hours.ring, func(h *jobsHour) []uint64 {
		return []uint64{uint64(h.Submitted), uint64(h.Terminated), uint64(h.Cancelled)}
	})
}

func (j *jobsPart) read(r *ckReader) {
	for _, v := range []*int64{&j.submitted, &j.terminated, &j.succeeded, &j.failed, &j.cancelled, &j.dataBytes, &j.lastActivity} {
		*v = r.int()
	}
	for n := r.count(9); n > 0 && r.err == nil; n-- {
		id := r.u64()
		j.running[id] = r.int()
	}
	readRing(r, &j.days.ring, RingDays, 5, func(d *jobsDay, v []uint64) {
		d.Submitted, d.Succeeded, d.Failed, d.Cancelled, d.DataBytes = u32(v[0]), u32(v[1]), u32(v[2]), u32(v[3]), v[4]
	})
	readRing(r, &j.hours.ring, RingHours, 3, func(h *jobsHour, v []uint64) {
		h.Submitted, h.Terminated, h.Cancelled = u32(v[0]), u32(v[1]), u32(v[2])
	})
}

// A ring is written as set (whether it has slots), last, then its
// non-zero slots as (age, values), age being last minus the slot's number.
func writeRing[T any](w *ckWriter, r *ring[T], vals func(*T) []uint64) {
	w.bool(r.slots != nil)
	w.int(int64(r.last))
	n := int32(len(r.slots))
	var ages []int32
	for age := int32(0); age < n; age++ {
		for _, v := range vals(&r.slots[mod(r.last-age, n)]) {
			if v != 0 {
				ages = append(ages, age)
				break
			}
		}
	}
	w.uint(uint64(len(ages)))
	for _, age := range ages {
		w.uint(uint64(age))
		for _, v := range vals(&r.slots[mod(r.last-age, n)]) {
			w.uint(v)
		}
	}
}

func readRing[T any](r *ckReader, ring *ring[T], n int32, nvals int, set func(*T, []uint64)) {
	if r.bool() {
		ring.slots = make([]T, n)
	}
	ring.last = int32(r.int())
	v := make([]uint64, nvals)
	for k := r.count(1 + nvals); k > 0 && r.err == nil; k-- {
		age := r.uint()
		for i := range v {
			v[i] = r.uint()
		}
		if age >= uint64(len(ring.slots)) {
			r.err = fmt.Errorf("ring slot age %d out of range", age)
			return
		}
		set(&ring.slots[mod(ring.last-int32(age), n)], v)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sortedIDs[V any](m map[uint64]V) []uint64 {
	keys := make([]uint64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func u32(v uint64) uint32 { return uint32(min(v, math.MaxUint32)) }

type ckWriter struct{ b []byte }

func (w *ckWriter) uint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *ckWriter) int(v int64)   { w.b = binary.AppendVarint(w.b, v) }
func (w *ckWriter) f64(v float64) { w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(v)) }
func (w *ckWriter) str(s string) {
	w.uint(uint64(len(s)))
	w.b = append(w.b, s...)
}
func (w *ckWriter) bool(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}

// ckReader decodes; the first error sticks and later reads return zeros.
type ckReader struct {
	b   []byte
	err error
}

func (r *ckReader) fail() error { return fmt.Errorf("%w: %v", ErrCorruptCheckpoint, r.err) }

func (r *ckReader) uint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errors.New("truncated or overlong varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *ckReader) int() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errors.New("truncated or overlong varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *ckReader) u64() uint64 {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 8 {
		r.err = errors.New("truncated")
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *ckReader) f64() float64 { return math.Float64frombits(r.u64()) }

func (r *ckReader) bool() bool {
	if r.err != nil {
		return false
	}
	if len(r.b) < 1 || r.b[0] > 1 {
		r.err = errors.New("bad boolean")
		return false
	}
	v := r.b[0] == 1
	r.b = r.b[1:]
	return v
}

func (r *ckReader) str() string {
	n := r.uint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)) {
		r.err = fmt.Errorf("string of %d bytes with %d left", n, len(r.b))
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// count reads a count of items each at least minBytes long, refusing one
// that cannot fit in what is left.
func (r *ckReader) count(minBytes int) int {
	n := r.uint()
	if r.err != nil {
		return 0
	}
	if n > uint64(len(r.b)/minBytes) {
		r.err = fmt.Errorf("count %d cannot fit in %d bytes", n, len(r.b))
		return 0
	}
	return int(n)
}
