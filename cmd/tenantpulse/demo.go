package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/analytics"
	"github.com/tenantpulse/tenantpulse/internal/app/scoring"
	"github.com/tenantpulse/tenantpulse/internal/model"
	"github.com/tenantpulse/tenantpulse/internal/sim"
)

const demoUsage = `Usage: tenantpulse demo [flags]

Runs the whole system on this machine: the server (streams, analytics,
archive, scoring, dashboard), the simulator backfilling --history of a
business of --tenants tenants and then sending live traffic, and a churn
model trained on that history with the simulator's ground truth as labels,
deployed at the endpoint churn. It prints the dashboard's address. Ctrl-C
stops everything; running it again on the same --data resumes without
backfilling again (and keeps the model).

Flags:
`

// demoEndpoint is the scoring endpoint the demo deploys its model to (the
// live risk's default).
const demoEndpoint = "churn"

func demoMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, demoUsage); fs.PrintDefaults() }
	cfg := defaultConfig()
	fs.StringVar(&cfg.Data, "data", cfg.Data, "data directory (streams, state, archive, models)")
	fs.StringVar(&cfg.Listen, "listen", cfg.Listen, "address to listen on (host:port; port 0 picks one)")
	o := sim.Options{Via: "events", Batch: 5000, Concurrency: 4}
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of the simulated business")
	fs.IntVar(&o.Tenants, "tenants", 250, "tenants at the start")
	fs.Float64Var(&o.Rate, "rate", 100, "live events per second, on average")
	history := fs.String("history", "120d", "history to backfill: a Go duration or <n>d")
	modelType := fs.String("model-type", model.TypeBinned, "linear or binned")
	logLevel := fs.String("log-level", "warn", "the server's log level: debug, info, warn or error")
	fs.BoolVar(&cfg.Pprof, "pprof", false, "serve Go profiles at /debug/pprof/")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	var err error
	if o.History, err = parseDays(*history); err != nil || o.History <= 0 {
		fmt.Fprintf(stderr, "demo: --history %q: want a positive duration such as 72h or 120d\n", *history)
		return 2
	}
	if o.Tenants < 1 || o.Rate <= 0 {
		fmt.Fprintln(stderr, "demo: --tenants and --rate must be positive")
		return 2
	}
	if *modelType != model.TypeLinear && *modelType != model.TypeBinned {
		fmt.Fprintf(stderr, "demo: --model-type %q: use linear or binned\n", *modelType)
		return 2
	}
	if err := cfg.validate(); err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "demo: --log-level %q: use debug, info, warn or error\n", *logLevel)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	started := time.Now()

	// The simulator stops first (storing its progress on the server), then
	// the server.
	serverCtx, stopServer := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServer()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var serverDone sync.WaitGroup
	ready := make(chan net.Addr, 1)
	serveErr := make(chan error, 1)
	serverDone.Add(1)
	go func() {
		defer serverDone.Done()
		serveErr <- serve(serverCtx, cfg, log, func(a net.Addr) { ready <- a })
	}()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-serveErr:
		fmt.Fprintf(stderr, "demo: the server did not start: %v\n", err)
		return 1
	}
	var simDone sync.WaitGroup
	base := "http://" + addr.String()
	fmt.Fprintf(stdout, "tenantpulse demo: the dashboard is at %s/ (data in %s; Ctrl-C stops)\n", base, cfg.Data)

	backfilled := make(chan sim.Truth, 1)
	o.Endpoint = base
	o.TruthPath = filepath.Join(cfg.Data, "demo-truth.json")
	o.Log = log.With("component", "simulator")
	var resumed atomic.Bool
	o.OnResume = func() { resumed.Store(true) }
	o.OnBackfill = func(tr sim.Truth) {
		select {
		case backfilled <- tr:
		default:
		}
	}
	simErr := make(chan error, 1)
	simDone.Add(1)
	go func() {
		defer simDone.Done()
		sum, err := sim.Run(ctx, o)
		if err == nil && sum.Rejected > 0 {
			err = fmt.Errorf("the server rejected %d simulated events", sum.Rejected)
		}
		simErr <- err
	}()
	fmt.Fprintf(stdout, "simulator: %d tenants, %s of history, then %g events/s live (seed %d)\n", o.Tenants, *history, o.Rate, o.Seed)

	code := 0
	for done := false; !done; {
		select {
		case tr := <-backfilled:
			verb := "sent"
			if resumed.Load() {
				verb = "resumed from the streams, none sent again"
			}
			fmt.Fprintf(stdout, "simulator: history %s (%d events, %d tenants) in %.1fs\n", verb, tr.Events, len(tr.Tenants), time.Since(started).Seconds())
			if err := demoModel(ctx, base, tr, *modelType, o.Seed, stdout); err != nil {
				if ctx.Err() == nil {
					// The rest runs on: the dashboard shows no risk until a model is deployed.
					fmt.Fprintf(stdout, "model: none deployed: %v (deploy one with PUT /v1/models/%s)\n", err, demoEndpoint)
				}
				continue
			}
			fmt.Fprintf(stdout, "ready in %.1fs: every tenant is scored; open %s/\n", time.Since(started).Seconds(), base)
		case err := <-simErr:
			if err != nil && ctx.Err() == nil {
				fmt.Fprintf(stderr, "demo: the simulator stopped: %v\n", err)
				code = 1
			}
			cancel()
			done = true
		case err := <-serveErr:
			if err != nil {
				fmt.Fprintf(stderr, "demo: the server stopped: %v\n", err)
				code = 1
			}
			cancel()
			done = true
		case <-ctx.Done():
			done = true
		}
	}
	fmt.Fprintln(stdout, "stopping")
	cancel()
	simDone.Wait()
	stopServer()
	serverDone.Wait()
	return code
}

// demoModel deploys a churn model at demoEndpoint unless one is there:
// trained on every tenant's live metrics (once the processor has read the
// backfill) with the simulator's truth as labels.
func demoModel(ctx context.Context, base string, tr sim.Truth, modelType string, seed uint64, stdout io.Writer) error {
	hc := &http.Client{Timeout: 30 * time.Second}
	var existing struct {
		Checksum string
		Training struct{ TrainedAt string }
	}
	if status, err := getJSONInto(ctx, hc, base+"/v1/models/"+demoEndpoint, &existing); err != nil {
		return err
	} else if status == http.StatusOK {
		fmt.Fprintf(stdout, "model: %s is deployed (%s, trained %s); keeping it\n", demoEndpoint, existing.Checksum, existing.Training.TrainedAt)
		return nil
	}
	// The processor reads behind the event API: wait until it has read the history.
	for {
		var p struct{ Shards []struct{ Records int64 } }
		if _, err := getJSONInto(ctx, hc, base+"/v1/processor", &p); err != nil {
			return err
		}
		var n int64
		for _, sh := range p.Shards {
			n += sh.Records
		}
		if n >= tr.Events {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	labels := map[string]bool{}
	for _, t := range tr.Tenants {
		labels[t.ID] = t.Churned
	}
	now := time.Now().UTC()
	var rows []model.Example
	churned := 0
	for cursor := ""; ; {
		var page struct {
			Tenants []analytics.Tenant
			Next    string
		}
		u := base + "/v1/tenants?limit=1000&asOf=" + url.QueryEscape(now.Format(time.RFC3339Nano))
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		if _, err := getJSONInto(ctx, hc, u, &page); err != nil {
			return err
		}
		for _, t := range page.Tenants {
			c, ok := labels[t.ID]
			if !ok {
				continue
			}
			rows = append(rows, model.Example{Facts: scoring.FactsOf(t, now), Churn: c})
			if c {
				churned++
			}
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	m, err := model.Train(model.LiveSpec(), rows, model.Options{Type: modelType, Seed: seed, Criterion: "f1", Input: "demo: live metrics + simulator truth"})
	if err != nil {
		return fmt.Errorf("cannot train the demo's model on %d tenants (%d churned): %w", len(rows), churned, err)
	}
	b, err := m.Marshal()
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, base+"/v1/models/"+demoEndpoint, bytes.NewReader(b))
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("PUT /v1/models/%s: %s %s", demoEndpoint, resp.Status, msg)
	}
	fmt.Fprintf(stdout, "model: a %s model trained on %d tenants (%d churned): held-out ROC AUC %.3f, accuracy %.3f; deployed at %s\n",
		m.Type, len(rows), churned, m.Metrics.AUC, m.Metrics.Accuracy, demoEndpoint)
	// Live risk rescoring every tenant takes one interval.
	for {
		var page struct {
			Tenants []struct {
				Deleted string
				Risk    *struct{ Score float64 }
			}
		}
		if _, err := getJSONInto(ctx, hc, base+"/v1/tenants?limit=1000", &page); err != nil {
			return err
		}
		scored := true
		for _, t := range page.Tenants {
			if t.Deleted == "" && t.Risk == nil {
				scored = false
			}
		}
		if scored {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// getJSONInto GETs url and decodes a 200 answer into v; it returns the
// status, and an error for anything but 200 and 404.
func getJSONInto(ctx context.Context, hc *http.Client, url string, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return resp.StatusCode, json.NewDecoder(resp.Body).Decode(v)
	case http.StatusNotFound:
		return resp.StatusCode, nil
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, fmt.Errorf("GET %s: %s %s", url, resp.Status, b)
}
