package analytics

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkFillTenants100k measures what every /v1/tenants and /v1/summary
// request pays before it sorts or sums: the merge of 100,000 tenants'
// parts (each created, with ten jobs over 90 days) into their views.
func BenchmarkFillTenants100k(b *testing.B) {
	ts := NewTester(Options{AllowedLateness: 200 * 24 * time.Hour})
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	var recs []string
	for i := range 100_000 {
		id := fmt.Sprintf("t-%06d", i)
		recs = append(recs, created(id, now.Add(-100*24*time.Hour), 99))
		for j := range 10 {
			recs = append(recs, submitted(id, now.Add(-time.Duration(j*9)*24*time.Hour), fmt.Sprint("j", j)))
		}
		if len(recs) > 10_000 {
			ts.Send(now, recs...)
			recs = recs[:0]
		}
	}
	ts.Send(now, recs...)
	b.ReportAllocs()
	for b.Loop() {
		if n := len(ts.Tenants(now)); n != 100_000 {
			b.Fatalf("%d tenants", n)
		}
	}
}
