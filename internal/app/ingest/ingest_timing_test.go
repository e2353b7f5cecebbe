package ingest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/sim"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// BenchmarkPostEvents measures the handler in-process (no network) on
// NDJSON bodies of 500 simulator events, each durable before the reply.
func BenchmarkPostEvents(b *testing.B) {
	store, err := streamlog.Open(streamlog.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	for _, name := range []string{"companies", "jobs"} {
		if _, err := store.CreateStream(streamlog.StreamConfig{Name: name, ShardCount: 2}); err != nil {
			b.Fatal(err)
		}
	}
	svc := New(Options{Store: store})
	mux := http.NewServeMux()
	svc.Register(mux)
	g := sim.New(sim.Config{Seed: uint64(time.Now().UnixNano()), Tenants: 1000, Start: time.Now().Add(-120 * 24 * time.Hour)})
	const batch = 500
	var bodies [][]byte
	var size int64
	for range 400 {
		var body []byte
		for range batch {
			body, _, _ = g.Next(body)
			body = append(body, '\n')
		}
		size += int64(len(body))
		bodies = append(bodies, body)
	}
	b.SetBytes(size / int64(len(bodies)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			req := httptest.NewRequest("POST", "/v1/events", bytes.NewReader(bodies[i%len(bodies)]))
			req.Header.Set("Content-Type", "application/x-ndjson")
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatalf("%d %s", w.Code, w.Body.Bytes())
			}
			i++
		}
	})
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
}
