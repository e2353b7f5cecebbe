package bench

import (
	"bytes"
	"context"
	"encoding/json"
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

	"github.com/tenantpulse/tenantpulse/internal/sim"
)

// EventsOptions configures RunEvents.
type EventsOptions struct {
	// Endpoint is the tenantpulse base URL; empty runs only the generate
	// phase.
	Endpoint string
	// Events is the number of events posted (and generated).
	Events int
	// Batch is the number of events per POST /v1/events (NDJSON).
	Batch int
	// Producers is the number of concurrent senders.
	Producers int
	// Tenants is the simulated business's size.
	Tenants int
	// Seed picks the simulated business; the default is the clock, so
	// runs against one server do not repeat each other's event ids (which
	// the dedupe window would report as duplicates).
	Seed uint64
	// GenerateEvents is the number of events the generate phase makes.
	GenerateEvents int
	ServerPID      int
	JSON           bool
}

// DefaultEventsOptions returns the flag defaults of `bench events`.
func DefaultEventsOptions() EventsOptions {
	return EventsOptions{
		Events: 1_000_000, Batch: 500, Producers: 8, Tenants: 1000,
		Seed: uint64(time.Now().UnixNano()), GenerateEvents: 5_000_000,
	}
}

func runEventsCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := DefaultEventsOptions()
	fs := flag.NewFlagSet("bench events", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Endpoint, "endpoint", o.Endpoint, "tenantpulse base URL, e.g. http://127.0.0.1:8080 (without it only the generate phase runs)")
	fs.IntVar(&o.Events, "events", o.Events, "events to post")
	fs.IntVar(&o.Batch, "batch", o.Batch, "events per POST /v1/events (1 to 10000)")
	fs.IntVar(&o.Producers, "producers", o.Producers, "concurrent senders")
	fs.IntVar(&o.Tenants, "tenants", o.Tenants, "tenants of the simulated business")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "simulator seed (default: the clock, so event ids are new on every run)")
	fs.IntVar(&o.GenerateEvents, "generate-events", o.GenerateEvents, "events the generate phase makes")
	fs.IntVar(&o.ServerPID, "server-pid", 0, "read server CPU and RSS from /proc/PID (default: the endpoint's /metrics)")
	fs.BoolVar(&o.JSON, "json", false, "also print each result as a JSON line")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch {
	case o.Events < 1 || o.GenerateEvents < 1:
		fmt.Fprintln(stderr, "bench events: --events and --generate-events must be at least 1")
		return 2
	case o.Batch < 1 || o.Batch > 10_000:
		fmt.Fprintf(stderr, "bench events: --batch must be between 1 and 10000, got %d\n", o.Batch)
		return 2
	case o.Producers < 1 || o.Tenants < 1:
		fmt.Fprintln(stderr, "bench events: --producers and --tenants must be at least 1")
		return 2
	case o.Endpoint != "" && !strings.HasPrefix(o.Endpoint, "http://") && !strings.HasPrefix(o.Endpoint, "https://"):
		fmt.Fprintf(stderr, "bench events: --endpoint %q must start with http:// or https://\n", o.Endpoint)
		return 2
	}
	if err := RunEvents(ctx, o, stdout); err != nil {
		fmt.Fprintf(stderr, "bench events: %v\n", err)
		return 1
	}
	return 0
}

// newBenchGenerator returns the business the benchmark draws events from:
// 120 days of history for o.Tenants tenants.
func newBenchGenerator(o EventsOptions) *sim.Generator {
	start := time.Now().UTC().Add(-120 * 24 * time.Hour).Truncate(time.Second)
	return sim.New(sim.Config{Seed: o.Seed, Tenants: o.Tenants, Start: start})
}

// RunEvents runs the generate phase (the simulator alone, not sending) and,
// with an endpoint, the post phase (NDJSON batches to POST /v1/events from
// concurrent producers, each event durable before its reply).
func RunEvents(ctx context.Context, o EventsOptions, out io.Writer) error {
	// Generate: the simulator alone, into a reused buffer.
	g := newBenchGenerator(o)
	buf := make([]byte, 0, 4096)
	var genBytes int64
	t0 := time.Now()
	for i := 0; i < o.GenerateEvents; i++ {
		var ok bool
		buf, _, ok = g.Next(buf[:0])
		if !ok {
			return fmt.Errorf("the simulator ran out of events after %d", i)
		}
		genBytes += int64(len(buf))
	}
	gen := newPhaseResult("sim", "generate", "-", int64(o.GenerateEvents), genBytes, time.Since(t0), serverUsage{})
	printEventsResult(out, gen, o.JSON)
	if o.Endpoint == "" {
		return nil
	}

	// Post: prepare every body first, so only sending is timed.
	g = newBenchGenerator(o)
	bodies := make([][]byte, 0, o.Events/o.Batch+1)
	var total int64
	for left := o.Events; left > 0; {
		n := min(left, o.Batch)
		b := make([]byte, 0, n*300)
		for range n {
			var ok bool
			if b, _, ok = g.Next(b); !ok {
				return errors.New("the simulator ran out of events")
			}
			b = append(b, '\n')
		}
		total += int64(len(b))
		bodies = append(bodies, b)
		left -= n
	}
	mon, err := newServerMonitor(ctx, o.Endpoint, o.ServerPID)
	if err != nil {
		return err
	}
	url := strings.TrimRight(o.Endpoint, "/") + "/v1/events"
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Producers, MaxConnsPerHost: o.Producers}, Timeout: time.Minute}
	var (
		next              atomic.Int64
		accepted, dups    atomic.Int64
		retries, requests atomic.Int64
		mu                sync.Mutex
		latencies         []time.Duration
		firstErr          error
		ctxRun, cancel    = context.WithCancel(ctx)
		wg                sync.WaitGroup
	)
	defer cancel()
	probe := mon.begin(ctx)
	t0 = time.Now()
	for range o.Producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			defer func() { mu.Lock(); latencies = append(latencies, lat...); mu.Unlock() }()
			for ctxRun.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) {
					return
				}
				a, d, r, l, err := postBatch(ctxRun, hc, url, bodies[i])
				accepted.Add(a)
				dups.Add(d)
				retries.Add(r)
				requests.Add(int64(len(l)))
				lat = append(lat, l...)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	wall := time.Since(t0)
	usage := probe.end(ctx)
	if firstErr != nil {
		return firstErr
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	r := newPhaseResult("http", "post", "/v1/events", accepted.Load()+dups.Load(), total, wall, usage)
	r.Requests, r.Retries = requests.Load(), retries.Load()
	if len(latencies) > 0 {
		r.P50Ms = ptr(ms(percentile(latencies, 0.50)))
		r.P99Ms = ptr(ms(percentile(latencies, 0.99)))
	}
	printEventsResult(out, r, o.JSON)
	if d := dups.Load(); d > 0 {
		fmt.Fprintf(out, "note: %d events were reported as duplicates (seed %d was already sent to this server)\n", d, o.Seed)
	}
	return nil
}

// scanStatuses returns the status of each result in a POST /v1/events
// reply: "accepted", "duplicate", "retry" for a retryable rejection, or the
// whole result object of any other rejection. The load generator shares
// the machine with the server, so it finds the results by their opening
// `{"status":"` (which cannot occur inside a JSON string, where quotes are
// escaped) rather than decoding the reply with encoding/json; tests check
// it against encoding/json.
func scanStatuses(b []byte) ([]string, error) {
	const open = `{"status":"`
	if !bytes.HasPrefix(b, []byte(`{"failedEventCount":`)) {
		return nil, fmt.Errorf("POST /v1/events: unexpected reply %.300s", b)
	}
	var out []string
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte(open))
		if j < 0 {
			return out, nil
		}
		i += j + len(open)
		switch {
		case bytes.HasPrefix(b[i:], []byte(`accepted"`)):
			out = append(out, "accepted")
		case bytes.HasPrefix(b[i:], []byte(`duplicate"`)):
			out = append(out, "duplicate")
		default:
			end := bytes.Index(b[i:], []byte(`{"status":"`))
			if end < 0 {
				end = len(b) - i
			}
			obj := b[i-len(open) : i+end]
			if bytes.Contains(obj, []byte(`"retryable":true`)) {
				out = append(out, "retry")
			} else {
				out = append(out, string(obj))
			}
		}
	}
}

// postBatch posts one NDJSON body, resending the events rejected as
// retryable, and returns how many were accepted and reported duplicate.
func postBatch(ctx context.Context, hc *http.Client, url string, body []byte) (accepted, dups, retried int64, lat []time.Duration, err error) {
	for attempt := 0; ; attempt++ {
		t0 := time.Now()
		req, _ := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-ndjson")
		resp, err := hc.Do(req)
		if err != nil {
			return accepted, dups, retried, lat, err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		lat = append(lat, time.Since(t0))
		if err != nil {
			return accepted, dups, retried, lat, err
		}
		if resp.StatusCode != http.StatusOK {
			return accepted, dups, retried, lat, fmt.Errorf("POST /v1/events: %s: %.300s", resp.Status, b)
		}
		statuses, err := scanStatuses(b)
		if err != nil {
			return accepted, dups, retried, lat, err
		}
		lines := bytes.SplitAfter(bytes.TrimSuffix(body, []byte{'\n'}), []byte{'\n'})
		if len(statuses) != len(lines) {
			return accepted, dups, retried, lat, fmt.Errorf("POST /v1/events answered %d results for %d events", len(statuses), len(lines))
		}
		var again []byte
		for i, st := range statuses {
			switch st {
			case "accepted":
				accepted++
			case "duplicate":
				dups++
			case "retry":
				again = append(again, lines[i]...)
			default:
				return accepted, dups, retried, lat, fmt.Errorf("an event was rejected: %s", st)
			}
		}
		if len(again) == 0 {
			return accepted, dups, retried, lat, nil
		}
		retried += int64(bytes.Count(again, []byte{'\n'}))
		body = again
		select {
		case <-ctx.Done():
			return accepted, dups, retried, lat, ctx.Err()
		case <-time.After(time.Duration(10<<min(attempt, 6)) * time.Millisecond):
		}
	}
}

func printEventsResult(out io.Writer, r phaseResult, asJSON bool) {
	line := strings.Replace(r.human(), "records", "events", 1)
	line = strings.Replace(line, "rec/s", "events/s", 1)
	line = strings.Replace(line, "s/1M rec", "s/1M events", 1)
	fmt.Fprintln(out, line)
	if asJSON {
		b, _ := json.Marshal(r)
		fmt.Fprintln(out, string(b))
	}
}
