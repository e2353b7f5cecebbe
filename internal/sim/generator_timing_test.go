package sim

import (
	"testing"
	"time"
)

// BenchmarkGenerate measures generation alone: 300 tenants, 120 days of
// history then the live phase at 200 events/s.
func BenchmarkGenerate(b *testing.B) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	g := New(Config{Seed: 1, Tenants: 300, Start: now.Add(-120 * 24 * time.Hour), Live: now, Rate: 200})
	buf := make([]byte, 0, 512)
	var n int64
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var ok bool
		buf, _, ok = g.Next(buf[:0])
		if !ok {
			b.Fatal("the generator ran dry")
		}
		n += int64(len(buf))
	}
	b.SetBytes(n / int64(b.N))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
