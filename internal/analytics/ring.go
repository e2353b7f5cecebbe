package analytics

// RingDays and RingHours are how many day and hour slices a tenant keeps.
const (
	RingDays  = 120
	RingHours = 168
)

const (
	nsPerHour = int64(3600e9)
	nsPerDay  = 24 * nsPerHour
)

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

// dayRing holds RingDays slices of T.
type dayRing[T any] struct {
	last  int32 // the newest day held; slices exist once set is true
	set   bool
	slots [RingDays]T
}

// at returns the slice for day d, advancing the window when d is newer;
// nil when d is older than the window.
func (r *dayRing[T]) at(d int32) *T {
	if !r.set {
		r.set, r.last = true, d
		return &r.slots[mod(d, RingDays)]
	}
	if d > r.last {
		var zero T
		for x, n := r.last+1, 0; x <= d && n < RingDays; x, n = x+1, n+1 {
			r.slots[mod(x, RingDays)] = zero
		}
		r.last = d
	} else if d <= r.last-RingDays {
		return nil
	}
	return &r.slots[mod(d, RingDays)]
}

// get returns the slice for day d, or nil when the ring does not hold it.
func (r *dayRing[T]) get(d int32) *T {
	if !r.set || d > r.last || d <= r.last-RingDays {
		return nil
	}
	return &r.slots[mod(d, RingDays)]
}

// hourRing holds RingHours slices of T.
type hourRing[T any] struct {
	last  int32
	set   bool
	slots [RingHours]T
}

func (r *hourRing[T]) at(h int32) *T {
	if !r.set {
		r.set, r.last = true, h
		return &r.slots[mod(h, RingHours)]
	}
	if h > r.last {
		var zero T
		for x, n := r.last+1, 0; x <= h && n < RingHours; x, n = x+1, n+1 {
			r.slots[mod(x, RingHours)] = zero
		}
		r.last = h
	} else if h <= r.last-RingHours {
		return nil
	}
	return &r.slots[mod(h, RingHours)]
}

func (r *hourRing[T]) get(h int32) *T {
	if !r.set || h > r.last || h <= r.last-RingHours {
		return nil
	}
	return &r.slots[mod(h, RingHours)]
}

func mod(x int32, n int32) int32 {
	m := x % n
	if m < 0 {
		m += n
	}
	return m
}
