package analytics

import "time"

// RingDays and RingHours are how many day and hour slices a tenant keeps.
const (
	RingDays  = 120
	RingHours = 168
)

const (
	nsPerHour = int64(3600e9)
	nsPerDay  = 24 * nsPerHour
)

// WindowStart is the start of the oldest UTC day a window can hold at now:
// the first of the RingDays UTC days ending with now's day. An event dated
// before it counts in its tenant's lifetime totals (jobsSubmitted, logins,
// ...) but in no windowed metric (jobs30d, jobs90d, activeUsers30d, the
// daily and hourly series) at now or later, because no day slice kept for
// those windows can hold it. The event API tells its sender so.
func WindowStart(now time.Time) time.Time {
	return time.Unix(int64(dayOf(now.UnixNano())-RingDays+1)*86400, 0).UTC()
}

// dayOf and hourOf number UTC days and hours since the Unix epoch.
func dayOf(ns int64) int32 {
	d := ns / nsPerDay
	if ns < 0 && ns%nsPerDay != 0 {
		d--
	}
	return int32(d)
}

func hourOf(ns int64) int32 {
	h := ns / nsPerHour
	if ns < 0 && ns%nsPerHour != 0 {
		h--
	}
	return int32(h)
}

// companyDay is one day of a tenant's users and sessions.
type companyDay struct {
	Logins, Logoffs, Timeouts, UsersAdded, UsersDeleted uint32
}

// jobsDay is one day of a tenant's jobs.
type jobsDay struct {
	Submitted, Succeeded, Failed, Cancelled uint32
	DataBytes                               uint64
}

// jobsHour is one hour of a tenant's jobs.
type jobsHour struct {
	Submitted, Terminated, Cancelled uint32
}

// ring is a window of slices numbered by day (or hour): it holds the
// slices last-n+1 ... last. Moving last forward clears the slices it
// passes; a slice older than the window cannot be written. Its slots are
// allocated on the first write.
type ring[T any] struct {
	last  int32 // the newest slice held, once slots is set
	slots []T
}

// at returns the slice for number d of a ring of n slices, advancing the
// window when d is newer; nil when d is older than the window.
func (r *ring[T]) at(d int32, n int32) *T {
	if r.slots == nil {
		r.slots, r.last = make([]T, n), d
		return &r.slots[mod(d, n)]
	}
	if d > r.last {
		var zero T
		for x, k := r.last+1, int32(0); x <= d && k < n; x, k = x+1, k+1 {
			r.slots[mod(x, n)] = zero
		}
		r.last = d
	} else if d <= r.last-n {
		return nil
	}
	return &r.slots[mod(d, n)]
}

// get returns the slice for number d, or nil when the ring does not hold it.
func (r *ring[T]) get(d int32) *T {
	n := int32(len(r.slots))
	if n == 0 || d > r.last || d <= r.last-n {
		return nil
	}
	return &r.slots[mod(d, n)]
}

// dayRing and hourRing are rings of RingDays and RingHours slices.
type dayRing[T any] struct{ ring[T] }

func (r *dayRing[T]) at(d int32) *T { return r.ring.at(d, RingDays) }

type hourRing[T any] struct{ ring[T] }

func (r *hourRing[T]) at(h int32) *T { return r.ring.at(h, RingHours) }

func mod(x int32, n int32) int32 {
	m := x % n
	if m < 0 {
		m += n
	}
	return m
}
