package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	analyticsstate "github.com/tenantpulse/tenantpulse/internal/analytics"
	"github.com/tenantpulse/tenantpulse/internal/app/analytics"
	"github.com/tenantpulse/tenantpulse/internal/app/archive"
	"github.com/tenantpulse/tenantpulse/internal/app/ingest"
	"github.com/tenantpulse/tenantpulse/internal/app/risk"
	"github.com/tenantpulse/tenantpulse/internal/app/scoring"
	"github.com/tenantpulse/tenantpulse/internal/app/streams"
	"github.com/tenantpulse/tenantpulse/internal/bodylimit"
	"github.com/tenantpulse/tenantpulse/internal/dashboard"
	"github.com/tenantpulse/tenantpulse/internal/event"
	"github.com/tenantpulse/tenantpulse/internal/httpfast"
	"github.com/tenantpulse/tenantpulse/internal/model"
	"github.com/tenantpulse/tenantpulse/internal/objstore"
	"github.com/tenantpulse/tenantpulse/internal/restapi"
	"github.com/tenantpulse/tenantpulse/internal/stream"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

func serveMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := defaultConfig()
	var configPath string
	bindFlags(fs, &cfg, &configPath)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "serve: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if configPath != "" {
		cfg = defaultConfig()
		if err := loadConfig(configPath, &cfg); err != nil {
			fmt.Fprintf(stderr, "serve: %v\n", err)
			return 2
		}
		// Parse the flags again over the file's values: flags win.
		again := flag.NewFlagSet("serve", flag.ContinueOnError)
		again.SetOutput(io.Discard)
		bindFlags(again, &cfg, &configPath)
		again.Parse(args)
	}
	if err := cfg.validate(); err != nil {
		fmt.Fprintf(stderr, "serve: invalid configuration: %v\n", err)
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		fmt.Fprintf(stderr, "serve: log level %q: use debug, info, warn or error\n", cfg.LogLevel)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if err := serve(ctx, cfg, log, nil); err != nil {
		log.Error("serve failed", "error", err)
		return 1
	}
	return 0
}

// serve runs the server until ctx is cancelled. ready, if set, is called
// with the address once the server listens.
func serve(ctx context.Context, cfg Config, log *slog.Logger, ready func(net.Addr)) error {
	started := time.Now()
	// One process writes a data directory: lock it before opening anything
	// in it (released last, after the store closes).
	lock, err := lockData(cfg.Data)
	if err != nil {
		return err
	}
	defer lock.Release()
	store, err := streamlog.Open(streamlog.Options{
		Dir: cfg.Data, Fsync: streamlog.FsyncMode(cfg.Fsync), FsyncInterval: cfg.FsyncInterval,
		SegmentBytes: cfg.SegmentBytes, MinFreeBytes: cfg.MinFreeBytes, Logger: log.With("component", "streamlog"),
	})
	if err != nil {
		return fmt.Errorf("cannot open the stream store in %s: %w", cfg.Data, err)
	}
	defer store.Close()
	if err := declareStreams(store, cfg.Streams, log); err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
	shardLimits := cfg.ShardLimits
	if shardLimits == "none" {
		shardLimits = ""
	}
	kinesis := streams.New(streams.Options{
		Store: store, Region: cfg.Region, ShardLimits: shardLimits, AccountShardLimit: cfg.ShardLimit,
		Logger: log.With("component", "kinesis"), Registerer: reg, Consumers: builtinConsumers(cfg),
	})

	events := ingest.New(ingest.Options{
		Store: store, DedupeWindow: cfg.DedupeWindow, DedupeMaxBytes: cfg.DedupeMaxBytes, MaxFuture: cfg.MaxFuture,
		Logger: log.With("component", "ingest"), Registerer: reg,
	})
	if err := events.Rebuild(); err != nil {
		return err
	}

	proc, err := analytics.New(ctx, analytics.Options{
		Reader: stream.NewEmbedded(store), Dir: filepath.Join(cfg.Data, "analytics"), Workers: cfg.Workers,
		CheckpointInterval: cfg.CheckpointInterval,
		State: analyticsstate.Options{AllowedLateness: cfg.AllowedLateness, MaxFuture: cfg.MaxFuture, DedupeWindow: cfg.DedupeWindow,
			DedupeMaxBytes: cfg.AnalyticsDedupeMaxBytes},
		Logger: log.With("component", "analytics"),
	})
	if err != nil {
		return err
	}
	reg.MustRegister(analytics.NewCollector(proc))
	proc.Start()
	procStopped := false
	stopProc := func() {
		if procStopped {
			return
		}
		procStopped = true
		if err := proc.Stop(); err != nil {
			log.Error("cannot checkpoint the analytics state at shutdown", "error", err)
		}
	}
	defer stopProc() // on an early return; the normal path stops it before the store

	arch, err := startArchive(ctx, cfg, store, log.With("component", "archive"))
	if err != nil {
		return err
	}
	archStopped := false
	stopArch := func() {
		if arch == nil || archStopped {
			return
		}
		archStopped = true
		if err := arch.Stop(); err != nil {
			log.Error("cannot store the archive's open files at shutdown", "error", err)
		}
	}
	defer stopArch()

	mux := http.NewServeMux()
	events.Register(mux)
	kinesis.RegisterAPI(mux) // GET /v1/streams
	// Scoring: the SageMaker runtime API over the --model endpoints, /v1/models and the gateway.
	var sageMaker *scoring.SageMakerOptions
	if cfg.SageMakerRegion != "" || cfg.SageMakerEndpointURL != "" {
		sageMaker = &scoring.SageMakerOptions{Region: cfg.SageMakerRegion, EndpointURL: cfg.SageMakerEndpointURL}
	}
	scorer, err := scoring.New(ctx, scoring.Options{
		Models: cfg.Models, Dir: filepath.Join(cfg.Data, "models"), SageMaker: sageMaker,
		Tenants: scoring.FromAnalytics(proc, nil), Region: cfg.Region, Account: streams.Account,
		Logger: log.With("component", "scoring"), Registerer: reg,
		MaxModels: cfg.MaxModels, MaxModelBytes: cfg.MaxModelBytes,
	})
	if err != nil {
		return fmt.Errorf("cannot start the scoring service: %w", err)
	}
	scorer.Register(mux)
	// Live risk: every tenant rescored when its facts change, shown in
	// /v1/tenants and in the archive's metrics snapshots.
	risks := risk.New(risk.Options{
		Tenants: proc.Tenants,
		Model: func() (string, *model.Model) {
			return cfg.RiskEndpoint, scorer.Endpoints().Model(cfg.RiskEndpoint)
		},
		Facts: scoring.FactsOf, Interval: cfg.RiskInterval, Webhook: cfg.RiskWebhook,
		Logger: log.With("component", "risk"),
	})
	risks.Start()
	defer risks.Stop()
	risks.Register(mux)
	tenants := analytics.WithRisk(proc, risks.Risk)
	analytics.NewAPI(tenants, nil).Register(mux)
	if arch != nil {
		arch.StartSnapshots(tenants.Tenants, cfg.SnapshotInterval)
		arch.Register(mux)
		reg.MustRegister(arch.Collectors()...)
	} else {
		mux.HandleFunc("GET /v1/archive", func(w http.ResponseWriter, r *http.Request) {
			restapi.WriteError(w, http.StatusNotFound, restapi.CodeNotFound, "the archive is off (archive_store is none); serve with --archive-store local or s3")
		})
	}
	if cfg.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	healthz := health{store: store, proc: proc, arch: arch}
	reg.MustRegister(healthz)
	mux.Handle("GET /healthz", healthz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	dashboard.Register(mux)
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost || streams.IsKinesisRequest(r) {
			kinesis.ServeHTTP(w, r)
			return
		}
		if dashboard.WantsPage(r) {
			dashboard.Index(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "tenantpulse: the dashboard is this page in a browser; the Kinesis Data Streams API is served at POST / (X-Amz-Target: Kinesis_20131202.*); the event API at POST /v1/events; the analytics at GET /v1/tenants; SageMaker InvokeEndpoint at POST /endpoints/{name}/invocations, models at /v1/models, the churn gateway at POST /v1/assess-churn; the archive's progress at GET /v1/archive, the streams at GET /v1/streams; health at /healthz, metrics at /metrics\n")
	})

	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	// Request bodies: a read deadline and a shared memory budget.
	budget := bodylimit.NewBudget(bodylimit.Options{Max: cfg.MaxInflightBytes})
	reg.MustRegister(budget.Collectors()...)
	srv := &http.Server{
		Handler:           bodylimit.Handler(mux, bodylimit.HandlerOptions{Budget: budget, Timeout: cfg.BodyTimeout}),
		Protocols:         &protocols,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       5 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", cfg.Listen, err)
	}
	log.Info("listening on "+ln.Addr().String(), "data", cfg.Data, "fsync", cfg.Fsync, "ready_after", time.Since(started).Round(time.Millisecond))
	if ready != nil {
		ready(ln.Addr())
	}
	// InvokeEndpoint is served on keep-alive connections without
	// net/http's per-request work; every other connection goes to srv.
	maxConns := maxConnections(cfg.MaxConnections)
	log.Info("connection limits", "max_connections", maxConns, "body_timeout", cfg.BodyTimeout, "max_inflight_bytes", cfg.MaxInflightBytes)
	fast := &httpfast.Server{HTTP: srv, Routes: []httpfast.Route{scorer.InvokeRoute()}, Logger: log.With("component", "http"),
		MaxConns: maxConns, BodyTimeout: cfg.BodyTimeout, Budget: budget}
	reg.MustRegister(fast.Collectors()...)
	errc := make(chan error, 1)
	go func() { errc <- fast.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("server stopped: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := fast.Shutdown(sctx); err != nil {
		log.Warn("connections did not close in time", "error", err)
	}
	stopProc()
	stopArch()
	if err := store.Close(); err != nil {
		return fmt.Errorf("cannot close the stream store: %w", err)
	}
	log.Info("stopped")
	return nil
}

// maxConnections is the cap on open client connections: n, or when n is
// 0 three quarters of the file-descriptor limit (RLIMIT_NOFILE, which Go
// raises to the hard limit at start), at most 10,000, leaving the rest for
// the data files and outgoing connections.
func maxConnections(n int) int {
	if n > 0 {
		return n
	}
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur == 0 {
		return 10000
	}
	return int(min(rl.Cur/4*3, 10000))
}

// declareStreams creates the streams the config declares and reports those
// whose stored shape differs from the config; the stored stream wins.
func declareStreams(store *streamlog.Store, decl []StreamConfig, log *slog.Logger) error {
	for _, d := range decl {
		st, err := store.Stream(d.Name)
		if err == nil {
			info := st.Info()
			if info.ShardCount != d.Shards {
				log.Warn(fmt.Sprintf("stream %q: the config declares %d shards but the stored stream has %d; keeping the stored stream (resharding is not supported yet)",
					d.Name, d.Shards, info.ShardCount), "stream", d.Name)
			}
			if d.RetentionHours != 0 && info.RetentionHours != d.RetentionHours {
				log.Warn(fmt.Sprintf("stream %q: the config declares %d hours of retention but the stored stream has %d; keeping the stored stream (change it with IncreaseStreamRetentionPeriod/DecreaseStreamRetentionPeriod)",
					d.Name, d.RetentionHours, info.RetentionHours), "stream", d.Name)
			}
			continue
		}
		if _, err := store.CreateStream(streamlog.StreamConfig{Name: d.Name, ShardCount: d.Shards, RetentionHours: d.RetentionHours}); err != nil {
			return fmt.Errorf("cannot create declared stream %q: %w", d.Name, err)
		}
		log.Info("created declared stream", "stream", d.Name, "shards", d.Shards)
	}
	return nil
}

// builtinConsumers are the server's own consumers of the core streams,
// which DeleteStream treats as registered consumers.
func builtinConsumers(cfg Config) []streams.Consumer {
	core := []string{event.StreamCompanies, event.StreamJobs}
	cs := []streams.Consumer{{Name: "tenantpulse-analytics", Streams: core}}
	if cfg.ArchiveStore != "none" {
		cs = append(cs, streams.Consumer{Name: "tenantpulse-archiver", Streams: core})
	}
	return cs
}

// startArchive starts the archiver unless archive_store is none.
func startArchive(ctx context.Context, cfg Config, store *streamlog.Store, log *slog.Logger) (*archive.Service, error) {
	var objects objstore.Store
	var err error
	switch cfg.ArchiveStore {
	case "none":
		return nil, nil
	case "s3":
		objects, err = objstore.NewS3(ctx, objstore.S3Options{Region: cfg.S3Region, Endpoint: cfg.S3Endpoint, PathStyle: cfg.S3PathStyle})
	default:
		dir := filepath.Join(cfg.Data, "buckets")
		if n, err := objstore.RemoveTemps(dir); err == nil && n > 0 {
			log.Info("removed temporary files a crash left in the archive", "files", n)
		}
		objects, err = objstore.NewLocal(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open the archive's object store: %w", err)
	}
	a, err := archive.New(ctx, archive.Options{
		Reader: stream.NewEmbedded(store), Store: objects,
		Layout: objstore.Layout{Prefix: cfg.BucketPrefix, Mode: cfg.BucketMode},
		Dir:    filepath.Join(cfg.Data, "archive"), FileBytes: cfg.ArchiveFileBytes, FileAge: cfg.ArchiveFileAge, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	a.Start()
	return a, nil
}
