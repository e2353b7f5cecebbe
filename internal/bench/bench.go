package bench

import (
	"context"
	"fmt"
	"io"
	"sort"
)

// benchmark is one `tenantpulse bench <name>` sub-command. args excludes the
// name; the return value is the process exit code.
type benchmark struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// benchmarks maps a benchmark name to its implementation. Adding a benchmark
// is adding an entry here.
var benchmarks = map[string]benchmark{
	"kinesis": {
		summary: "put/get throughput against any Kinesis-compatible endpoint",
		run:     runKinesisCommand,
	},
	"analytics": {
		summary: "analytics processor events/s from a filled log with checkpoints, and its memory per tenant",
		run:     runAnalyticsCommand,
	},
	"archive": {
		summary: "archiver events/s from a filled log into Parquet, and bytes per event on disk",
		run:     runArchiveCommand,
	},
	"events": {
		summary: "simulator generation rate, and POST /v1/events throughput in NDJSON batches",
		run:     runEventsCommand,
	},
	"freshness": {
		summary: "how soon an event accepted by POST /v1/events shows in /v1/tenants/{id}, under load",
		run:     runFreshnessCommand,
	},
	"scoring": {
		summary: "training time, in-process scoring rows/s, and InvokeEndpoint requests/s and latency against a server",
		run:     runScoringCommand,
	},
	"restart": {
		summary: "time to ready, and memory, of serve restarting with many records retained",
		run:     runRestartCommand,
	},
}

// Main runs `tenantpulse bench <args>`; args[0] is the benchmark name
// ("kinesis"). It returns the process exit code: 0 on success, 1 when a
// benchmark phase failed, 2 on a usage error.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		return 0
	}
	b, ok := benchmarks[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "bench: unknown benchmark %q\n", args[0])
		usage(stderr)
		return 2
	}
	return b.run(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	names := make([]string, 0, len(benchmarks))
	for name := range benchmarks {
		names = append(names, name)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: tenantpulse bench <benchmark> [flags]")
	fmt.Fprintln(w, "benchmarks:")
	for _, name := range names {
		fmt.Fprintf(w, "  %-10s %s\n", name, benchmarks[name].summary)
	}
	fmt.Fprintln(w, "run `tenantpulse bench <benchmark> -h` for its flags")
}
