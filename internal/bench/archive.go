package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/app/archive"
	"github.com/tenantpulse/tenantpulse/internal/objstore"
	"github.com/tenantpulse/tenantpulse/internal/sim"
	"github.com/tenantpulse/tenantpulse/internal/stream"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// runArchiveCommand measures the archiver: events/s from a filled log into
// Parquet files in a local object store, and bytes per event on disk
// against the events' NDJSON size.
func runArchiveCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench archive", flag.ContinueOnError)
	fs.SetOutput(stderr)
	events := fs.Int("events", 3_000_000, "events to fill the log with and archive")
	tenants := fs.Int("tenants", 300, "tenants of the simulated business")
	days := fs.Int("days", 1, "UTC days of event time the events span (partitions are tenant x stream x day)")
	shards := fs.Int("shards", 2, "shards of each stream")
	dataDir := fs.String("data", "", "directory to fill (default: a temporary one, removed afterwards)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the archive phase to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *events < 1 || *tenants < 1 || *shards < 1 || *days < 1 {
		fmt.Fprintln(stderr, "bench archive: --events, --tenants, --shards and --days must be positive")
		return 2
	}
	dir, _, cleanup, err := workDir(*dataDir, "archive")
	if err != nil {
		fmt.Fprintf(stderr, "bench archive: %v\n", err)
		return 1
	}
	defer cleanup()
	if err := archiveBench(ctx, dir, *events, *tenants, *shards, *days, *cpuProfile, stdout); err != nil {
		fmt.Fprintf(stderr, "bench archive: %v\n", err)
		return 1
	}
	return 0
}

func archiveBench(ctx context.Context, dir string, events, tenants, shards, days int, cpuProfile string, out io.Writer) error {
	store, err := streamlog.Open(streamlog.Options{Dir: filepath.Join(dir, "streams"), Fsync: streamlog.FsyncInterval})
	if err != nil {
		return err
	}
	defer store.Close()
	t0 := time.Now()
	// The business runs fast enough that the events span the given days of
	// event time, as live traffic of a big business does.
	start := time.Now().UTC().Truncate(24 * time.Hour).Add(-time.Duration(days-1) * 24 * time.Hour)
	g := sim.New(sim.Config{Seed: 1, Tenants: tenants, Start: start, Live: start, Rate: float64(events) / (float64(days) * 86400 * 0.95)})
	n, ndjson, err := fillFrom(store, g, events, shards)
	if err != nil {
		return err
	}
	ndjson += n // a newline each
	fmt.Fprintf(out, "fill     %d events (%d MB of NDJSON) from %d tenants over %d days in %.1fs\n", n, ndjson>>20, tenants, days, time.Since(t0).Seconds())
	printPeakRSS(out, "after the fill")
	objects, err := objstore.NewLocal(filepath.Join(dir, "buckets"))
	if err != nil {
		return err
	}
	a, err := archive.New(ctx, archive.Options{
		Reader: stream.NewEmbedded(store), Store: objects, Layout: objstore.Layout{Prefix: "tenantpulse-", Mode: "bucket"},
		Dir: filepath.Join(dir, "archive"), Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return err
	}
	stopProfile, err := startCPUProfile(cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	cpu0 := cpuSeconds()
	t0 = time.Now()
	a.Start()
	for a.Stats().Records.Load() < n {
		if ctx.Err() != nil {
			a.Stop()
			return ctx.Err()
		}
		time.Sleep(time.Millisecond)
	}
	// Everything is read; stopping stores the files still open.
	if err := a.Stop(); err != nil {
		return err
	}
	wall := time.Since(t0)
	cpu := cpuSeconds() - cpu0
	st := a.Stats()
	if got := st.Events.Load() + st.Errors.Load(); got != n {
		return fmt.Errorf("archived %d of %d records", got, n)
	}
	fmt.Fprintf(out, "archive  %d events in %.2fs  %s events/s  %.2f s cpu per 1M events (%.0f%% of %d cores)  %d files\n",
		n, wall.Seconds(), commas(int64(float64(n)/wall.Seconds())), cpu/float64(n)*1e6, cpu/wall.Seconds()*100, runtime.NumCPU(), st.Files.Load())
	printPeakRSS(out, "(the whole process, fill included)")
	fmt.Fprintf(out, "size     %.1f bytes per event in Parquet (Snappy) vs %.1f as NDJSON: %.1fx smaller\n",
		float64(st.FileBytes.Load())/float64(n), float64(ndjson)/float64(n), float64(ndjson)/float64(st.FileBytes.Load()))
	return nil
}

// printPeakRSS writes this process's peak resident memory so far, where
// /proc says it.
func printPeakRSS(out io.Writer, when string) {
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		_, hwm := parseProcStatusMem(status)
		fmt.Fprintf(out, "memory   %d MiB peak resident %s\n", hwm>>20, when)
	}
}
