package analytics

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"
)

// TestSumsSaturate: dataSize at its bound (1e15, docs/events.md) summed
// over enough jobs passes int64; the tenant's dataBytes, its day's and
// every tenant's day (/v1/summary) stay at the largest int64 instead of
// wrapping to negative numbers. The fee at its bound (1e12) summed over
// the months since creation stays finite, and everything marshals as
// JSON.
func TestSumsSaturate(t *testing.T) {
	ts := NewTester(Options{})
	const jobs = 20000 // 20000 × 1e15 > 2^64 > 2^63
	recs := make([]string, 0, jobs+1)
	recs = append(recs, ev("tenant.created", "big", t0.AddDate(-20, 0, 0),
		`{"name":"Big","revenue":1e15,"employees":1000000000,"monthlyFee":1e12}`))
	for i := range jobs {
		recs = append(recs, ev("job.submitted", "big", t0.Add(time.Duration(i)*time.Millisecond),
			fmt.Sprintf(`{"jobId":"j%d","userId":"u1","dataSize":1000000000000000}`, i)))
	}
	for i, o := range ts.Send(t0.Add(time.Minute), recs...) {
		if o != Applied {
			t.Fatalf("record %d: %v", i, o)
		}
	}
	tn := mustTenant(t, ts, "big", t0.Add(time.Hour))
	if tn.DataBytes != math.MaxInt64 || tn.JobsSubmitted != jobs {
		t.Fatalf("dataBytes %d after %d jobs of 1e15 bytes; want %d (saturated)", tn.DataBytes, tn.JobsSubmitted, int64(math.MaxInt64))
	}
	if want := 1e12 * 241; tn.TotalFee != want || tn.Revenue != 1e15 || tn.MonthlyFee != 1e12 {
		t.Fatalf("totalFee %v (want %v), revenue %v, monthlyFee %v", tn.TotalFee, want, tn.Revenue, tn.MonthlyFee)
	}
	days := DaySeries(t0, t0)
	var detail Tenant
	ts.Jobs.FillTenant("big", &detail, days, nil, t0.Add(time.Hour))
	if days[0].DataBytes != math.MaxInt64 {
		t.Fatalf("the day's dataBytes is %d; want %d (saturated)", days[0].DataBytes, int64(math.MaxInt64))
	}
	all := DaySeries(t0, t0)
	ts.Jobs.FillDays(all)
	ts.Jobs.FillDays(all) // two shards' days add up, saturating too
	if all[0].DataBytes != math.MaxInt64 {
		t.Fatalf("every tenant's dataBytes for the day is %d; want %d (saturated)", all[0].DataBytes, int64(math.MaxInt64))
	}
	if _, err := json.Marshal(tn); err != nil {
		t.Fatal(err)
	}
}

func TestSaturatingHelpers(t *testing.T) {
	if addSat(math.MaxInt64-1, 5) != math.MaxInt64 || addSat(1, 2) != 3 || addSat(math.MaxInt64, 0) != math.MaxInt64 {
		t.Error("addSat")
	}
	if addSatU(math.MaxUint64-1, 5) != math.MaxUint64 || addSatU(1, 2) != 3 {
		t.Error("addSatU")
	}
	// A session from the earliest to the latest event time spans more
	// nanoseconds than an int64 holds.
	lo, hi := time.Date(1677, 9, 22, 0, 0, 0, 0, time.UTC).UnixNano(), time.Date(2262, 4, 10, 0, 0, 0, 0, time.UTC).UnixNano()
	if subSat(hi, lo) != math.MaxInt64 || subSat(5, 3) != 2 || subSat(3, 3) != 0 {
		t.Errorf("subSat(%d, %d) = %d", hi, lo, subSat(hi, lo))
	}
	for _, c := range []struct{ in, want float64 }{
		{math.Inf(1), math.MaxFloat64}, {math.Inf(-1), -math.MaxFloat64}, {math.NaN(), 0}, {1.5, 1.5}, {-2, -2},
	} {
		if got := finite(c.in); got != c.want {
			t.Errorf("finite(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
