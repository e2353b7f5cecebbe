package dedupe

import (
	"encoding/binary"
	"time"

	"github.com/cespare/xxhash/v2"
)

// Key is the 128-bit identity of an event: two independent 64-bit hashes
// of its id and source. It is stable across processes, so it can be
// checkpointed.
type Key struct{ A, B uint64 }

// KeyOf returns the identity of the event with this id and source:
// xxhash64 of (len(id), id, source) and of (source, len(id), id).
func KeyOf(id, source []byte) Key {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(id)))
	var buf [320]byte
	if len(id)+len(source)+8 <= len(buf) {
		// One-shot hashes of a stack buffer: the common case, about twice
		// as fast as streaming into digests.
		b := append(append(append(buf[:0], n[:]...), id...), source...)
		a := xxhash.Sum64(b)
		b = append(append(append(buf[:0], source...), n[:]...), id...)
		return Key{a, xxhash.Sum64(b)}
	}
	var d1, d2 xxhash.Digest
	d1.Reset()
	d1.Write(n[:])
	d1.Write(id)
	d1.Write(source)
	d2.Reset()
	d2.Write(source)
	d2.Write(n[:])
	d2.Write(id)
	return Key{d1.Sum64(), d2.Sum64()}
}

// EntryBytes is about the memory one remembered identity costs: its ring
// entry (24 bytes) and its share of the table (8-byte slots, between a
// half and three quarters full).
const EntryBytes = 36

// Options configure a Window.
type Options struct {
	// Window is how long an identity is remembered, in arrival time.
	// Default 10 minutes.
	Window time.Duration
	// MaxBytes caps the memory of the window. Default 64 MiB (about two
	// million identities).
	MaxBytes int64
}

// DefaultWindow and DefaultMaxBytes are the defaults of Options.
const (
	DefaultWindow   = 10 * time.Minute
	DefaultMaxBytes = 64 << 20
)

// Stats describe what a Window holds.
type Stats struct {
	Entries  int   // identities remembered now
	Capacity int   // the most it can remember
	Bytes    int64 // memory of the window, fixed at construction
	OldestMs int64 // arrival time of the oldest identity, 0 when empty
	Expired  int64 // identities forgotten because they aged out, total
	Evicted  int64 // identities forgotten early because the window was full, total
}

type entry struct {
	key Key
	at  int64 // arrival, Unix ms; tombstone when the entry was removed
}

const tombstone = -1 << 63

// Window remembers identities for Options.Window of arrival time, in
// arrival order, in a fixed amount of memory. It is not safe for
// concurrent use.
//
// The identities sit in a ring in arrival order; an open-addressing table
// (linear probing, backward-shift deletion) maps a key to its ring slot.
type Window struct {
	windowMs int64
	ring     []entry
	head     uint64   // absolute index of the oldest entry
	tail     uint64   // absolute index one past the newest
	table    []uint64 // ring slot + 1 in the low 32 bits, hash32 of the key in the high; 0 = empty
	mask     uint64
	live     int
	expired  int64
	evicted  int64
	bytes    int64
}

// New returns an empty window.
func New(o Options) *Window {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	// The table has a power-of-two size, the largest whose table and a
	// ring half its size fit in MaxBytes; the ring then takes what is
	// left, up to three quarters of the table (linear probing stays
	// short).
	tsize := uint64(4)
	for tsize < 1<<32 && int64(tsize*2)*8+int64(tsize)*24 <= o.MaxBytes {
		tsize <<= 1
	}
	capacity := int((o.MaxBytes - int64(tsize)*8) / 24)
	capacity = max(1, min(capacity, int(tsize*3/4)))
	return &Window{
		windowMs: o.Window.Milliseconds(),
		ring:     make([]entry, capacity),
		table:    make([]uint64, tsize),
		mask:     tsize - 1,
		bytes:    int64(capacity)*24 + int64(tsize)*8,
	}
}

// Window returns how long identities are remembered.
func (w *Window) Window() time.Duration { return time.Duration(w.windowMs) * time.Millisecond }

// Stats returns what the window holds.
func (w *Window) Stats() Stats {
	s := Stats{Entries: w.live, Capacity: len(w.ring), Bytes: w.bytes, Expired: w.expired, Evicted: w.evicted}
	for i := w.head; i < w.tail; i++ {
		if e := &w.ring[i%uint64(len(w.ring))]; e.at != tombstone {
			s.OldestMs = e.at
			break
		}
	}
	return s
}

// Seen reports whether key was recorded less than the window before nowMs.
func (w *Window) Seen(key Key, nowMs int64) bool {
	slot, ok := w.find(key)
	return ok && w.ring[slot].at > nowMs-w.windowMs
}

// Add records key as seen at nowMs, unless it is already remembered and
// not expired, and reports whether it was a duplicate. Times should not go
// backwards by more than a little (entries are expired in ring order).
func (w *Window) Add(key Key, nowMs int64) (dup bool) {
	w.expire(nowMs)
	if slot, ok := w.find(key); ok {
		if w.ring[slot].at > nowMs-w.windowMs {
			return true
		}
		// An expired entry still in the table (times went backwards
		// across callers): forget it, then record anew.
		w.delete(key)
		w.ring[slot].at = tombstone
		w.live--
		w.expired++
	}
	if w.tail-w.head == uint64(len(w.ring)) {
		w.popHead(&w.evicted)
	}
	slot := w.tail % uint64(len(w.ring))
	w.ring[slot] = entry{key: key, at: nowMs}
	w.tail++
	w.insert(key, uint32(slot))
	w.live++
	return false
}

// Remove forgets key, for an event recorded by Add whose write failed.
func (w *Window) Remove(key Key) {
	slot, ok := w.find(key)
	if !ok {
		return
	}
	w.delete(key)
	w.ring[slot].at = tombstone
	w.live--
}

// expire forgets the identities older than the window.
func (w *Window) expire(nowMs int64) {
	cutoff := nowMs - w.windowMs
	for w.head < w.tail {
		e := &w.ring[w.head%uint64(len(w.ring))]
		if e.at != tombstone && e.at > cutoff {
			return
		}
		w.popHead(&w.expired)
	}
}

// popHead drops the oldest ring entry, counting it in counter when it was live.
func (w *Window) popHead(counter *int64) {
	e := &w.ring[w.head%uint64(len(w.ring))]
	if e.at != tombstone {
		w.delete(e.key)
		w.live--
		*counter++
	}
	w.head++
}

// hash32 is the part of a key's hash kept in its table slot: it gives the
// key's home slot, so moving entries on delete never reads the ring, and
// it filters probes, so a probe reads the ring (another cache miss) only
// on a likely match.
func hash32(key Key) uint64 { return uint64(uint32(key.A ^ key.B>>7)) }

func (w *Window) home(key Key) uint64 { return hash32(key) & w.mask }

// find returns the ring slot of key.
func (w *Window) find(key Key) (uint64, bool) {
	h := hash32(key)
	for i := h & w.mask; ; i = (i + 1) & w.mask {
		v := w.table[i]
		if v == 0 {
			return 0, false
		}
		if v>>32 == h {
			if slot := v&0xffffffff - 1; w.ring[slot].key == key {
				return slot, true
			}
		}
	}
}

func (w *Window) insert(key Key, slot uint32) {
	h := hash32(key)
	i := h & w.mask
	for w.table[i] != 0 {
		i = (i + 1) & w.mask
	}
	w.table[i] = h<<32 | uint64(slot) + 1
}

// delete removes key's table slot and shifts back the entries after it
// that would otherwise become unreachable.
func (w *Window) delete(key Key) {
	i := w.home(key)
	for {
		v := w.table[i]
		if v == 0 {
			return
		}
		if v>>32 == hash32(key) && w.ring[v&0xffffffff-1].key == key {
			break
		}
		i = (i + 1) & w.mask
	}
	for {
		w.table[i] = 0
		j := i
		for {
			j = (j + 1) & w.mask
			v := w.table[j]
			if v == 0 {
				return
			}
			h := v >> 32 & w.mask
			// Move v back to i unless its home lies cyclically in (i, j].
			if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
				w.table[i] = v
				i = j
				break
			}
		}
	}
}

// Each calls fn for every remembered identity, oldest first, so a window
// can be saved and restored (by Add in the same order) with a checkpoint.
func (w *Window) Each(fn func(k Key, atMs int64)) {
	for i := w.head; i < w.tail; i++ {
		if e := &w.ring[i%uint64(len(w.ring))]; e.at != tombstone {
			fn(e.key, e.at)
		}
	}
}

// SetCounts restores the Expired and Evicted totals of a saved window.
func (w *Window) SetCounts(expired, evicted int64) { w.expired, w.evicted = expired, evicted }
