package scoring

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkInvoke is the handler alone: one row in, JSON out.
func BenchmarkInvoke(b *testing.B) {
	linear, _, _ := modelFiles(b)
	m := mustLoad(b, linear)
	s, _ := startService(b, Options{})
	mux := http.NewServeMux()
	s.Register(mux)
	row := appendRow(nil, encode(b, m, referenceFacts()))
	b.SetBytes(int64(len(row)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req, _ := http.NewRequest("POST", "/endpoints/churn/invocations", nil)
		req.Header.Set("Content-Type", "text/csv")
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			req.Body = &bodyReader{b: row}
			clear(w.h)
			mux.ServeHTTP(w, req)
		}
	})
}

// BenchmarkInvokeHTTP is single-row invocations over HTTP/1.1 keep-alive
// connections on loopback, client and server in this process; it reports
// the 99th percentile latency.
func BenchmarkInvokeHTTP(b *testing.B) {
	linear, _, _ := modelFiles(b)
	m := mustLoad(b, linear)
	_, srv := startService(b, Options{})
	row := appendRow(nil, encode(b, m, referenceFacts()))
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	url := srv.URL + "/endpoints/churn/invocations"
	var mu sync.Mutex
	var lat []time.Duration
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		mine := make([]time.Duration, 0, 1024)
		for pb.Next() {
			start := time.Now()
			req, _ := http.NewRequest("POST", url, bytes.NewReader(row))
			req.Header.Set("Content-Type", "text/csv")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
			mine = append(mine, time.Since(start))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	if len(lat) > 0 {
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	}
}
