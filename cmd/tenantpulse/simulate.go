package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/sim"
)

const simulateUsage = `Usage: tenantpulse simulate [flags]

Generates a deterministic SaaS business's events (CloudEvents JSON) and sends
them to a tenantpulse server: first --history of backfill as fast as the
server takes it, then live events at --rate per second. Progress is stored on
the server, so running it again with the same --seed resumes without sending
anything twice. See internal/sim/doc.go for the model and the truth metrics.

Flags:
`

func simulateMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, simulateUsage)
		fs.PrintDefaults()
	}
	o := sim.Options{}
	var history, duration, now, out string
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of the simulated business; also names its progress tag")
	fs.IntVar(&o.Tenants, "tenants", 200, "tenants at the start (more are created later)")
	fs.Float64Var(&o.Rate, "rate", 100, "live events per second, on average")
	fs.StringVar(&history, "history", "0", "history to backfill before going live: a Go duration or <n>d (e.g. 120d)")
	fs.StringVar(&duration, "duration", "", "stop after this long (a Go duration or <n>d); default: until Ctrl-C")
	fs.Int64Var(&o.Count, "count", 0, "stop after sending this many events in this run, backfill included (0: no limit)")
	fs.StringVar(&now, "now", "", "pin \"now\" (RFC 3339) for reproducible runs; default: the clock")
	fs.StringVar(&o.Endpoint, "endpoint", "http://127.0.0.1:8080", "the tenantpulse server")
	fs.StringVar(&o.Via, "via", "events", "events (POST /v1/events) or kinesis (PutRecords)")
	fs.IntVar(&o.Batch, "batch", 500, "events per request (at most 500 with --via kinesis)")
	fs.IntVar(&o.Concurrency, "concurrency", 4, "requests in flight")
	fs.StringVar(&o.TruthPath, "truth", "", "write the ground truth (JSON) to this file at the end of the backfill and at exit")
	fs.StringVar(&out, "out", "", "write NDJSON events to this file (- for stdout) instead of sending them; no pacing, no resume")
	fs.BoolVar(&o.Fresh, "fresh", false, "ignore the progress stored on the server and start over")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "simulate: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() > 0 {
		return fail("unexpected arguments %q", fs.Args())
	}
	var err error
	if o.History, err = parseDays(history); err != nil || o.History < 0 {
		return fail("--history %q: want a duration such as 72h or 120d", history)
	}
	if duration != "" {
		if o.Duration, err = parseDays(duration); err != nil || o.Duration <= 0 {
			return fail("--duration %q: want a positive duration such as 10m or 1d", duration)
		}
	}
	if now != "" {
		if o.Now, err = time.Parse(time.RFC3339Nano, now); err != nil {
			return fail("--now %q: want RFC 3339, e.g. 2026-11-25T10:00:00Z", now)
		}
		o.Now = o.Now.UTC()
	}
	switch {
	case o.Tenants < 1:
		return fail("--tenants %d: want at least 1", o.Tenants)
	case o.Rate <= 0:
		return fail("--rate %g: want a positive number of events per second", o.Rate)
	case o.Count < 0:
		return fail("--count %d: want 0 (no limit) or more", o.Count)
	case o.Via != "events" && o.Via != "kinesis":
		return fail("--via %q: want events or kinesis", o.Via)
	case o.Batch < 1 || (o.Via == "kinesis" && o.Batch > 500) || o.Batch > 10000:
		return fail("--batch %d: want 1 to 500 (kinesis) or 10000 (events)", o.Batch)
	case o.Concurrency < 1 || o.Concurrency > 256:
		return fail("--concurrency %d: want 1 to 256", o.Concurrency)
	}

	report := stdout
	switch out {
	case "":
	case "-":
		o.Out, report = stdout, stderr
	default:
		f, err := os.Create(out)
		if err != nil {
			return fail("%v", err)
		}
		defer f.Close()
		o.Out = f
	}
	o.Log = slog.New(slog.NewTextHandler(stderr, nil))
	o.Progress = stderr
	o.Terminal = isTerminal(stderr)

	sum, err := sim.Run(ctx, o)
	printSummary(report, o, sum)
	if f, ok := o.Out.(*os.File); ok && f != os.Stdout {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "simulate: %v\n", err)
		return 1
	}
	if sum.Rejected > 0 {
		return 1
	}
	return 0
}

// parseDays accepts a Go duration or a whole number of days, "<n>d".
func parseDays(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.ParseUint(n, 10, 16)
		if err != nil {
			return 0, err
		}
		return time.Duration(d) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func printSummary(w io.Writer, o sim.Options, s sim.Summary) {
	secs := s.Elapsed.Seconds()
	dest := "via " + o.Via + " to " + o.Endpoint
	if o.Out != nil {
		dest = "written as NDJSON"
	}
	fmt.Fprintf(w, "simulate: seed %d, %s\n", o.Seed, dest)
	fmt.Fprintf(w, "  events    %d in %.1f s (%.0f/s): backfill %d, live %d; last ordinal %d\n",
		s.Sent, secs, float64(s.Sent)/max(secs, 1e-9), s.Backfill, s.Sent-s.Backfill, s.Last)
	if s.Resumed {
		fmt.Fprintf(w, "  resumed   replayed %d events, %d already stored\n", s.Replayed, s.Skipped)
	}
	if o.Out == nil {
		fmt.Fprintf(w, "  delivery  delivered %d (duplicates %d), retried %d, rejected %d\n", s.Delivered, s.Duplicates, s.Retried, s.Rejected)
		for _, r := range s.Reasons {
			fmt.Fprintf(w, "  rejected  %s\n", r)
		}
	}
	if s.K > 1 || s.K < 1 {
		fmt.Fprintf(w, "  live      the model runs %.0fx faster than the clock\n", s.K)
	}
	types := make([]string, 0, len(s.ByType))
	for t := range s.ByType {
		types = append(types, t)
	}
	sort.Strings(types)
	fmt.Fprintf(w, "  by type (all generated)\n")
	for _, t := range types {
		fmt.Fprintf(w, "    %-22s %d\n", t, s.ByType[t])
	}
}
