package dedupe

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
)

func TestWindowBasics(t *testing.T) {
	w := New(Options{Window: time.Minute, MaxBytes: 1 << 20})
	k := KeyOf([]byte("e1"), []byte("src"))
	if w.Add(k, 1000) {
		t.Fatal("first Add reported a duplicate")
	}
	if !w.Add(k, 1000+59_999) {
		t.Fatal("Add within the window did not report a duplicate")
	}
	if !w.Seen(k, 1000+59_999) || w.Seen(k, 1000+60_000) {
		t.Fatal("Seen disagrees with the window's edge")
	}
	if w.Add(k, 1000+60_000) {
		t.Fatal("Add a full window later reported a duplicate")
	}
	if got := w.Stats(); got.Entries != 1 || got.Expired != 1 || got.Evicted != 0 || got.OldestMs != 61_000 {
		t.Fatalf("stats = %+v", got)
	}
	w.Remove(k)
	if w.Seen(k, 61_000) || w.Stats().Entries != 0 {
		t.Fatal("Remove did not forget the key")
	}
	if w.Add(k, 61_001) {
		t.Fatal("Add after Remove reported a duplicate")
	}
}

func TestKeyOfSeparatesFields(t *testing.T) {
	if KeyOf([]byte("ab"), []byte("c")) == KeyOf([]byte("a"), []byte("bc")) {
		t.Fatal("KeyOf(ab, c) == KeyOf(a, bc)")
	}
	if KeyOf([]byte("a"), []byte("b")) == KeyOf([]byte("b"), []byte("a")) {
		t.Fatal("KeyOf(a, b) == KeyOf(b, a)")
	}
	if KeyOf([]byte("a"), []byte("b")) != KeyOf([]byte("a"), []byte("b")) {
		t.Fatal("KeyOf is not deterministic")
	}
}

func TestWindowCapacityEvictsOldest(t *testing.T) {
	w := New(Options{Window: time.Hour, MaxBytes: 64 * EntryBytes})
	c := w.Stats().Capacity
	if c < 16 || c > 64 {
		t.Fatalf("capacity %d for 64 entries' worth of bytes", c)
	}
	if w.Stats().Bytes > 64*EntryBytes {
		t.Fatalf("window uses %d bytes, more than the %d allowed", w.Stats().Bytes, 64*EntryBytes)
	}
	key := func(i int) Key { return KeyOf([]byte(strconv.Itoa(i)), []byte("s")) }
	for i := range c + 5 {
		if w.Add(key(i), int64(i)) {
			t.Fatalf("key %d reported as duplicate", i)
		}
	}
	st := w.Stats()
	if st.Entries != c || st.Evicted != 5 || st.OldestMs != 5 {
		t.Fatalf("stats after overfilling = %+v", st)
	}
	for i := range 5 {
		if w.Seen(key(i), int64(c+5)) {
			t.Fatalf("evicted key %d is still seen", i)
		}
	}
	for i := 5; i < c+5; i++ {
		if !w.Seen(key(i), int64(c+5)) {
			t.Fatalf("key %d was lost", i)
		}
	}
}

// TestWindowAgainstModel runs random operations against the window and a
// plain map-and-slice model of the same semantics.
func TestWindowAgainstModel(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4, 5} {
		rng := rand.New(rand.NewPCG(seed, 99))
		const windowMs = 1000
		w := New(Options{Window: windowMs * time.Millisecond, MaxBytes: 200 * EntryBytes})
		capacity := w.Stats().Capacity
		type ment struct {
			key Key
			at  int64
		}
		var order []ment // arrival order, live entries only
		now := int64(0)
		modelFind := func(k Key) int {
			for i, e := range order {
				if e.key == k {
					return i
				}
			}
			return -1
		}
		// Tombstones count against the ring's capacity until they reach
		// its head; the model tracks ring slots to match.
		var ring []ment // all entries including removed ones (at = tombstone)
		for op := range 20000 {
			now += int64(rng.IntN(20))
			k := KeyOf([]byte(strconv.Itoa(rng.IntN(300))), []byte("s"))
			switch rng.IntN(10) {
			case 0:
				if i := modelFind(k); i >= 0 {
					order = append(order[:i], order[i+1:]...)
					for j := range ring {
						if ring[j].key == k && ring[j].at != tombstone {
							ring[j].at = tombstone
						}
					}
				}
				w.Remove(k)
			default:
				// Expire.
				for len(ring) > 0 && (ring[0].at == tombstone || ring[0].at <= now-windowMs) {
					if ring[0].at != tombstone {
						order = order[1:]
					}
					ring = ring[1:]
				}
				want := false
				if i := modelFind(k); i >= 0 {
					want = true
				}
				if !want {
					if len(ring) == capacity {
						if ring[0].at != tombstone {
							order = order[1:]
						}
						ring = ring[1:]
					}
					order = append(order, ment{k, now})
					ring = append(ring, ment{k, now})
				}
				if got := w.Add(k, now); got != want {
					t.Fatalf("seed %d op %d: Add = %v, model says %v", seed, op, got, want)
				}
			}
			if got := w.Stats().Entries; got != len(order) {
				t.Fatalf("seed %d op %d: %d entries, model has %d", seed, op, got, len(order))
			}
		}
		for _, e := range order {
			if !w.Seen(e.key, now) {
				t.Fatalf("seed %d: model entry %v at %d not seen", seed, e.key, e.at)
			}
		}
	}
}

func BenchmarkWindowAdd(b *testing.B) {
	w := New(Options{})
	keys := make([]Key, 1<<16)
	for i := range keys {
		keys[i] = KeyOf([]byte(strconv.Itoa(i)), []byte("urn:tenantpulse:simulator"))
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		w.Add(keys[i&(len(keys)-1)], int64(i))
	}
}

// KeyOf gives the same identity on its fast path and its streaming path.
func TestKeyOfLong(t *testing.T) {
	long := make([]byte, 400)
	for i := range long {
		long[i] = byte('a' + i%26)
	}
	a := KeyOf(long[:100], long[100:150])
	var d1, d2 xxhash.Digest
	var n [8]byte
	n[0] = 100
	d1.Reset()
	d1.Write(n[:])
	d1.Write(long[:100])
	d1.Write(long[100:150])
	d2.Reset()
	d2.Write(long[100:150])
	d2.Write(n[:])
	d2.Write(long[:100])
	if a != (Key{d1.Sum64(), d2.Sum64()}) {
		t.Fatal("the fast path differs from the streaming path")
	}
	if KeyOf(long, long[:10]) == KeyOf(long[:10], long) {
		t.Fatal("long keys collide")
	}
}
