package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	analyticsstate "github.com/tenantpulse/tenantpulse/internal/analytics"
	"github.com/tenantpulse/tenantpulse/internal/app/analytics"
	"github.com/tenantpulse/tenantpulse/internal/event"
	"github.com/tenantpulse/tenantpulse/internal/sim"
	"github.com/tenantpulse/tenantpulse/internal/stream"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// runAnalyticsCommand measures the analytics processor: events/s applied
// from a filled log with checkpointing on, and the memory of its state
// per tenant and per active user. Freshness under load is `bench
// freshness`, which needs a running server.
func runAnalyticsCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench analytics", flag.ContinueOnError)
	fs.SetOutput(stderr)
	events := fs.Int("events", 4_000_000, "events to fill the log with and process")
	tenants := fs.Int("tenants", 1000, "tenants of the simulated business that fills the log")
	shards := fs.Int("shards", 2, "shards of each stream")
	workers := fs.Int("workers", 0, "processor workers (0: one per core)")
	ckInterval := fs.Duration("checkpoint-interval", time.Second, "checkpoint interval while processing")
	memTenants := fs.Int("memory-tenants", 100_000, "tenants of the memory phase (0 skips it)")
	memUsers := fs.Int("memory-users", 20, "active users per tenant in the memory phase")
	dataDir := fs.String("data", "", "directory to fill (default: a temporary one, removed afterwards)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the process phase to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *events < 1 || *tenants < 1 || *shards < 1 || *memTenants < 0 || *memUsers < 0 {
		fmt.Fprintln(stderr, "bench analytics: --events, --tenants and --shards must be at least 1")
		return 2
	}
	dir, _, cleanup, err := workDir(*dataDir, "analytics")
	if err != nil {
		fmt.Fprintf(stderr, "bench analytics: %v\n", err)
		return 1
	}
	defer cleanup()
	if err := analyticsBench(ctx, dir, *events, *tenants, *shards, *workers, *ckInterval, *cpuProfile, stdout); err != nil {
		fmt.Fprintf(stderr, "bench analytics: %v\n", err)
		return 1
	}
	if *memTenants > 0 {
		if err := memoryBench(*memTenants, *memUsers, stdout); err != nil {
			fmt.Fprintf(stderr, "bench analytics: %v\n", err)
			return 1
		}
	}
	return 0
}

func analyticsBench(ctx context.Context, dir string, events, tenants, shards, workers int, ckInterval time.Duration, cpuProfile string, out io.Writer) error {
	store, err := streamlog.Open(streamlog.Options{Dir: filepath.Join(dir, "streams"), Fsync: streamlog.FsyncInterval})
	if err != nil {
		return err
	}
	defer store.Close()
	t0 := time.Now()
	n, bytes, err := fillEvents(store, events, tenants, shards, 120*24*time.Hour)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "fill     %d events (%d MB) from %d tenants in %.1fs\n", n, bytes>>20, tenants, time.Since(t0).Seconds())

	svc, err := analytics.New(ctx, analytics.Options{
		Reader: stream.NewEmbedded(store), Dir: filepath.Join(dir, "analytics"), Workers: workers,
		CheckpointInterval: ckInterval, Logger: slog.New(slog.DiscardHandler),
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
	svc.Start()
	for {
		var done int64
		for _, st := range svc.Processor().Shards {
			done += st.Records
		}
		if done >= n {
			break
		}
		if ctx.Err() != nil {
			svc.Stop()
			return ctx.Err()
		}
		time.Sleep(time.Millisecond)
	}
	wall := time.Since(t0)
	cpu := cpuSeconds() - cpu0
	if err := svc.Stop(); err != nil {
		return err
	}
	p := svc.Processor()
	var applied int64
	for _, st := range p.Shards {
		applied += st.Events
	}
	fmt.Fprintf(out, "process  %d events in %.2fs  %s events/s  %.2f s cpu per 1M events (%.0f%% of %d cores)  %d workers, checkpoint every %s\n",
		n, wall.Seconds(), commas(int64(float64(n)/wall.Seconds())), cpu/float64(n)*1e6, cpu/wall.Seconds()*100, runtime.NumCPU(), p.Workers, ckInterval)
	if applied != n {
		return fmt.Errorf("the processor applied %d of %d events", applied, n)
	}
	return nil
}

// fillEvents appends events simulator events, from a business that
// started history ago, to the companies and jobs
// streams, routed as the event API routes them.
func fillEvents(store *streamlog.Store, events, tenants, shards int, history time.Duration) (n, bytes int64, err error) {
	g := sim.New(sim.Config{Seed: 1, Tenants: tenants, Start: time.Now().UTC().Add(-history).Truncate(time.Second)})
	return fillFrom(store, g, events, shards)
}

// fillFrom appends the generator's next events events to the streams.
func fillFrom(store *streamlog.Store, g *sim.Generator, events, shards int) (n, bytes int64, err error) {
	byName := map[string]*streamlog.Stream{}
	for _, name := range []string{event.StreamCompanies, event.StreamJobs} {
		st, err := store.CreateStream(streamlog.StreamConfig{Name: name, ShardCount: shards})
		if err != nil {
			return 0, 0, err
		}
		byName[name] = st
	}
	hashes := streamlog.NewHashCache()
	type pending struct {
		entries []streamlog.Entry
		seqs    []streamlog.Seq
		size    int
	}
	batches := map[*streamlog.Shard]*pending{}
	flush := func(sh *streamlog.Shard, p *pending) error {
		p.seqs = resizeSeqs(p.seqs, len(p.entries))
		if _, err := sh.Append(p.entries, p.seqs); err != nil {
			return err
		}
		p.entries, p.size = p.entries[:0], 0
		return nil
	}
	for i := 0; i < events; i++ {
		data, info, ok := g.Next(nil)
		if !ok {
			return n, bytes, errors.New("the simulator ran out of events")
		}
		sh := byName[info.Stream].ShardFor(hashes.Hash([]byte(info.TenantID)))
		p := batches[sh]
		if p == nil {
			p = &pending{}
			batches[sh] = p
		}
		p.entries = append(p.entries, streamlog.Entry{PartitionKey: []byte(info.TenantID), Data: data})
		p.size += len(data)
		n++
		bytes += int64(len(data))
		if p.size >= 4<<20 {
			if err := flush(sh, p); err != nil {
				return n, bytes, err
			}
		}
	}
	for sh, p := range batches {
		if len(p.entries) > 0 {
			if err := flush(sh, p); err != nil {
				return n, bytes, err
			}
		}
	}
	return n, bytes, nil
}

func resizeSeqs(s []streamlog.Seq, n int) []streamlog.Seq {
	if cap(s) < n {
		return make([]streamlog.Seq, n)
	}
	return s[:n]
}

// memoryBench builds the state of tenants tenants with users active users
// each (profile, users with logins, a few jobs) and reports the heap it
// takes per tenant and per active user.
func memoryBench(tenants, users int, out io.Writer) error {
	opts := analyticsstate.Options{DedupeMaxBytes: 1 << 20}
	c, _ := analyticsstate.NewShardState(event.StreamCompanies, "shardId-000000000000", opts)
	j, _ := analyticsstate.NewShardState(event.StreamJobs, "shardId-000000000000", opts)
	before := heapInUse()
	at := time.Now().UTC().Add(-100 * 24 * time.Hour)
	var buf []byte
	seq := 0
	arrival := time.Now().UnixMilli() // after every event's time, or the events are dead letters (max-future)
	apply := func(s *analyticsstate.ShardState, b []byte) {
		seq++
		s.Apply(b, arrival+int64(seq), "0")
	}
	for t := range tenants {
		id := fmt.Sprintf("tenant-%06d", t)
		ts := func(d int) string { return at.Add(time.Duration(d) * 24 * time.Hour).Format(time.RFC3339) }
		buf = fmt.Appendf(buf[:0], `{"specversion":"1.0","id":"c%d","source":"m","type":"tenant.created","time":%q,"tenantid":%q,"data":{"name":"Tenant %d","industry":"retail","sentiment":"neutral","revenue":1000,"employees":50,"monthlyFee":499,"plan":"pro"}}`, t, ts(0), id, t)
		apply(c, buf)
		for u := range users {
			buf = fmt.Appendf(buf[:0], `{"specversion":"1.0","id":"a%d-%d","source":"m","type":"user.added","time":%q,"tenantid":%q,"data":{"userId":"user-%04d"}}`, t, u, ts(1), id, u)
			apply(c, buf)
			buf = fmt.Appendf(buf[:0], `{"specversion":"1.0","id":"l%d-%d","source":"m","type":"user.login","time":%q,"tenantid":%q,"data":{"userId":"user-%04d","sessionId":"s%d-%d"}}`, t, u, ts(99), id, u, t, u)
			apply(c, buf)
			buf = fmt.Appendf(buf[:0], `{"specversion":"1.0","id":"o%d-%d","source":"m","type":"user.logoff","time":%q,"tenantid":%q,"data":{"userId":"user-%04d","sessionId":"s%d-%d"}}`, t, u, ts(99), id, u, t, u)
			apply(c, buf)
		}
		for d := 0; d < 100; d += 3 {
			buf = fmt.Appendf(buf[:0], `{"specversion":"1.0","id":"j%d-%d","source":"m","type":"job.submitted","time":%q,"tenantid":%q,"data":{"jobId":"job-%d","userId":"user-0001","dataSize":1000}}`, t, d, ts(d), id, d)
			apply(j, buf)
			buf = fmt.Appendf(buf[:0], `{"specversion":"1.0","id":"k%d-%d","source":"m","type":"job.terminated","time":%q,"tenantid":%q,"data":{"jobId":"job-%d","status":"succeeded","durationMs":1000}}`, t, d, ts(d), id, d)
			apply(j, buf)
		}
	}
	used := heapInUse() - before
	runtime.KeepAlive(c)
	runtime.KeepAlive(j)
	perTenant := float64(used) / float64(tenants)
	budget := float64(8<<10 + 200*users)
	fmt.Fprintf(out, "memory   %d tenants with %d active users each: %d MiB of state, %.0f bytes per tenant (budget 8 KiB + 200 B per active user = %.0f)\n",
		tenants, users, used>>20, perTenant, budget)
	return nil
}

func heapInUse() uint64 {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// cpuSeconds is this process's user and system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
