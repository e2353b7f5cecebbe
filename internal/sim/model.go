package sim

import (
	"math"
	"math/rand/v2"
)

// The business model's constants. Rates are per model day; see doc.go for
// how they add up to about 50 events per tenant-day.
const (
	day    = int64(86400e9)
	hour   = int64(3600e9)
	minute = int64(60e9)

	loginsPerUserDay = 1.25 // sessions per user per day (weekly mean)
	jobsPerUserDay   = 1.1  // jobs per user per day (weekly mean)

	userChangeDays       = 10.0 // mean days between user changes (healthy)
	growingChangeDays    = 4.0  // ... for growing tenants
	driftingChangeDays   = 4.0  // ... for drifting tenants after drift start
	updateDays           = 45.0 // mean days between tenant.updated events
	creationPerTenantDay = 0.001
	churnGrace           = 2 * day // activity stops this long before tenant.deleted

	sessionTimeoutP = 0.2
	sessionMaxDur   = 10 * hour
	jobMaxDur       = 6 * hour
)

// Cohorts: fixed at a tenant's creation.
const (
	cohortHealthy uint8 = iota
	cohortGrowing
	cohortDrifting
)

var cohortNames = [...]string{"healthy", "growing", "drifting"}

// industries are the nine of the reference data set (examples/data/companies.csv).
var industries = [...]string{"gov", "health", "retail", "travel", "energy", "IT", "finance", "consulting", "service"}

var industrySuffixes = [len(industries)][]string{
	{"Agency", "County Services", "Municipal Authority", "Public Works"},
	{"Health", "Medical", "Clinics", "Care"},
	{"Stores", "Outfitters", "Market", "Goods"},
	{"Travel", "Voyages", "Airways", "Tours"},
	{"Energy", "Power", "Utilities", "Solar"},
	{"Software", "Technologies", "Data", "Cloud"},
	{"Capital", "Bank", "Financial", "Insurance"},
	{"Consulting", "Advisors", "Strategy", "Associates"},
	{"Services", "Logistics", "Facilities", "Staffing"},
}

var nameFirst = [...]string{
	"Northwind", "Contoso", "Blue", "Silver", "Granite", "Summit", "Pioneer", "Cedar",
	"Harbor", "Beacon", "Crescent", "Evergreen", "Falcon", "Golden", "Iron", "Juniper",
	"Keystone", "Lakeside", "Meridian", "Nova", "Oak", "Pacific", "Quantum", "Redwood",
	"Sierra", "Sterling", "Trident", "Unity", "Vertex", "Willow", "Zenith", "Atlas",
	"Bright", "Coastal", "Delta", "Emerald", "Frontier", "Horizon", "Liberty", "Maple",
	"Orion", "Prairie", "Riverside", "Sapphire", "Tidewater", "Vista", "Wolf", "Aspen",
}

var nameSecond = [...]string{
	"Ridge", "Point", "Valley", "Bay", "Peak", "Stone", "Bridge", "Field",
	"Grove", "Lake", "River", "Park", "Hill", "Crest", "Gate", "Harbor",
	"Creek", "Forge", "Mill", "Spring", "Meadow", "Canyon", "Shore", "Pine",
}

var sentiments = [...]string{"positive", "neutral", "negative"}

const (
	sentPositive uint8 = iota
	sentNeutral
	sentNegative
)

var plans = [...]string{"starter", "pro", "enterprise"}

// planFee is the monthly fee range [lo, hi) of each plan, in dollars.
var planFee = [len(plans)][2]float64{{99, 300}, {300, 800}, {800, 1250}}

// planUsers is the median and cap of a plan's seats.
var planUsers = [len(plans)][2]float64{{4, 10}, {9, 30}, {18, 60}}

var deleteReasons = [...]string{"contract not renewed", "switched to a competitor", "budget cuts", "company acquired"}

// Seasonality. hourWeight is by the tenant's local hour, dayWeight by its
// local weekday (0 = Sunday). season() is normalised to a weekly mean of 1.
var (
	hourWeight = [24]float64{
		0.05, 0.03, 0.02, 0.02, 0.03, 0.08, 0.25, 0.6, 1.2, 1.8, 2.0, 1.9,
		1.5, 1.7, 1.9, 1.8, 1.5, 1.1, 0.7, 0.45, 0.35, 0.25, 0.15, 0.08,
	}
	dayWeight = [7]float64{0.25, 1, 1.05, 1.05, 1, 0.9, 0.3}

	seasonNorm, seasonMax = seasonStats()
)

func seasonStats() (norm, maxv float64) {
	var sum float64
	for d := range dayWeight {
		for h := range hourWeight {
			w := dayWeight[d] * hourWeight[h]
			sum += w
			maxv = math.Max(maxv, w)
		}
	}
	norm = 24 * 7 / sum
	return norm, maxv * norm
}

// season returns the activity multiplier (weekly mean 1) at unix-nano t for
// a tenant whose local time is UTC + offset hours.
func season(t int64, offset int64) float64 {
	local := t + offset*hour
	d := floorDiv(local, day)
	h := (local - d*day) / hour
	wd := (d + 4) % 7 // 1970-01-01 was a Thursday
	if wd < 0 {
		wd += 7
	}
	return dayWeight[wd] * hourWeight[h] * seasonNorm
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// profile is a tenant's commercial facts, as tenant.created and
// tenant.updated carry them.
type profile struct {
	name       string
	industry   uint8
	sentiment  uint8
	plan       uint8
	revenue    float64
	employees  int64
	monthlyFee float64
}

// Fields of tenant.updated, as a bit mask.
const (
	updSentiment uint8 = 1 << iota
	updPlan
	updFee
	updEmployees
	updRevenue
)

// splitmix64 is the finaliser used to derive independent seeds.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// tenantRand returns the PRNG of tenant index i: its events depend only on
// (seed, i), never on how other tenants' events interleave.
func tenantRand(seed uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(splitmix64(seed), splitmix64(uint64(i)+1)))
}

// lognormal draws exp(N(ln median, sigma)).
func lognormal(r *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(r.NormFloat64()*sigma)
}

// newProfile draws a tenant's profile and cohort.
func newProfile(r *rand.Rand) (p profile, nameFirstIdx, nameSecondIdx int, cohort uint8) {
	p.industry = uint8(r.IntN(len(industries)))
	nameFirstIdx = r.IntN(len(nameFirst))
	nameSecondIdx = r.IntN(len(nameSecond))
	suf := industrySuffixes[p.industry]
	p.name = nameFirst[nameFirstIdx] + " " + nameSecond[nameSecondIdx] + " " + suf[r.IntN(len(suf))]

	emp := math.Round(lognormal(r, 8000, 1.0))
	p.employees = int64(math.Min(math.Max(emp, 50), 150000))
	p.revenue = math.Round(float64(p.employees)*(2+2*r.Float64())/10) * 10

	u := r.Float64()
	var pEnt, pPro float64
	switch {
	case p.employees > 30000:
		pEnt, pPro = 0.6, 0.35
	case p.employees > 5000:
		pEnt, pPro = 0.2, 0.5
	default:
		pEnt, pPro = 0.05, 0.35
	}
	switch {
	case u < pEnt:
		p.plan = 2
	case u < pEnt+pPro:
		p.plan = 1
	default:
		p.plan = 0
	}
	p.monthlyFee = drawFee(r, p.plan)

	c := r.Float64()
	switch {
	case c < 0.65:
		cohort = cohortHealthy
	case c < 0.8:
		cohort = cohortGrowing
	default:
		cohort = cohortDrifting
	}
	s := r.Float64()
	switch {
	case s < 0.5:
		p.sentiment = sentPositive
	case s < 0.85:
		p.sentiment = sentNeutral
	default:
		p.sentiment = sentNegative
	}
	if cohort == cohortGrowing && p.sentiment == sentNegative {
		p.sentiment = sentNeutral
	}
	return p, nameFirstIdx, nameSecondIdx, cohort
}

func drawFee(r *rand.Rand, plan uint8) float64 {
	lo, hi := planFee[plan][0], planFee[plan][1]
	return math.Floor(lo + (hi-lo)*r.Float64())
}

// slug lower-cases ASCII letters and joins words with '-'.
func slug(words ...string) string {
	var b []byte
	for i, w := range words {
		if i > 0 {
			b = append(b, '-')
		}
		for j := 0; j < len(w); j++ {
			c := w[j]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
		}
	}
	return string(b)
}
