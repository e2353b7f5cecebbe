package bench

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/event"
	"github.com/tenantpulse/tenantpulse/internal/sim"
)

// runFreshnessCommand measures how soon an event accepted by POST
// /v1/events shows in GET /v1/tenants/{id}, while a background load of
// simulator events is sent at a steady rate.
func runFreshnessCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench freshness", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", "", "tenantpulse base URL, e.g. http://127.0.0.1:8080 (required)")
	rate := fs.Int("rate", 20_000, "background load, events/s")
	batch := fs.Int("batch", 500, "events per background request")
	duration := fs.Duration("duration", 20*time.Second, "how long to measure")
	probeEvery := fs.Duration("probe-every", 50*time.Millisecond, "how often to send a probe event")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *endpoint == "" || *rate < 0 || *batch < 1 || *duration <= 0 || *probeEvery <= 0 {
		fmt.Fprintln(stderr, "bench freshness: --endpoint is required; --rate >= 0, --batch, --duration and --probe-every positive")
		return 2
	}
	if err := runFreshness(ctx, strings.TrimRight(*endpoint, "/"), *rate, *batch, *duration, *probeEvery, stdout); err != nil {
		fmt.Fprintf(stderr, "bench freshness: %v\n", err)
		return 1
	}
	return 0
}

func runFreshness(ctx context.Context, base string, rate, batch int, duration, probeEvery time.Duration, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	run := time.Now().UnixNano()
	var wg sync.WaitGroup
	var sent atomic.Int64
	var loadErr atomic.Value

	// Background load: batches on a schedule, from the simulator's live
	// phase (timestamps now), several in flight if the server is slow.
	if rate > 0 {
		g := sim.New(sim.Config{Seed: uint64(run), Tenants: 1000, Start: time.Now().Add(-time.Hour), Live: time.Now(), Rate: float64(rate)})
		bodies := make(chan []byte, 64)
		go func() {
			defer close(bodies)
			for ctx.Err() == nil {
				var b []byte
				for range batch {
					b, _, _ = g.Next(b)
					b = append(b, '\n')
				}
				select {
				case bodies <- b:
				case <-ctx.Done():
				}
			}
		}()
		interval := time.Duration(float64(time.Second) * float64(batch) / float64(rate))
		sem := make(chan struct{}, 16)
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				b, ok := <-bodies
				if !ok {
					return
				}
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					return
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					if _, err := post(ctx, hc, base, b); err != nil && ctx.Err() == nil {
						loadErr.Store(err)
					}
					sent.Add(int64(batch))
				}()
			}
		}()
	}

	// Probes: a job.submitted for a tenant of its own, then poll the
	// tenant until it shows.
	var mu sync.Mutex
	var lat []time.Duration
	var lost atomic.Int64
	tick := time.NewTicker(probeEvery)
	defer tick.Stop()
	t0 := time.Now()
	for k := 0; ; k++ {
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			tenant := fmt.Sprintf("freshness-%d-%d", run, k)
			now := time.Now().UnixNano()
			body := fmt.Appendf(nil, `{"specversion":"1.0","id":"probe-%d-%d","source":"tenantpulse-bench","type":"job.submitted","time":%q,"tenantid":%q,"data":{"jobId":"probe","userId":"bench","dataSize":1}}`,
				run, k, event.AppendTime(nil, now), tenant)
			if _, err := post(context.Background(), hc, base, body); err != nil {
				loadErr.Store(err)
				return
			}
			accepted := time.Now()
			for time.Since(accepted) < 10*time.Second {
				resp, err := hc.Get(base + "/v1/tenants/" + tenant)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						mu.Lock()
						lat = append(lat, time.Since(accepted))
						mu.Unlock()
						return
					}
				}
				time.Sleep(2 * time.Millisecond)
			}
			lost.Add(1)
		}()
	}
	wall := time.Since(t0)
	wg.Wait()
	if err, _ := loadErr.Load().(error); err != nil {
		return err
	}
	if len(lat) == 0 {
		return errors.New("no probe was seen")
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	fmt.Fprintf(out, "freshness  %d probes under %s events/s of load (%s sent in %.1fs): accepted -> visible in /v1/tenants/{id} p50 %s p99 %s max %s; %d not seen within 10 s\n",
		len(lat), commas(int64(float64(sent.Load())/wall.Seconds())), commas(sent.Load()), wall.Seconds(),
		fmtMs(ms(percentile(lat, 0.50))), fmtMs(ms(percentile(lat, 0.99))), fmtMs(ms(lat[len(lat)-1])), lost.Load())
	return nil
}

// post sends an NDJSON body to /v1/events and fails unless every event is
// accepted or a duplicate.
func post(ctx context.Context, hc *http.Client, base string, body []byte) (int, error) {
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/v1/events", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("POST /v1/events: %s: %.300s", resp.Status, b)
	}
	st, err := scanStatuses(b)
	if err != nil {
		return 0, err
	}
	for _, s := range st {
		if s != "accepted" && s != "duplicate" {
			return 0, fmt.Errorf("an event was not accepted: %s", s)
		}
	}
	return len(st), nil
}
