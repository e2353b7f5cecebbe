package main

import (
	"bytes"
	"flag"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	analyticsstate "github.com/tenantpulse/tenantpulse/internal/analytics"
	"github.com/tenantpulse/tenantpulse/internal/app/scoring"
	"github.com/tenantpulse/tenantpulse/internal/dedupe"
	"github.com/tenantpulse/tenantpulse/internal/event"
	"github.com/tenantpulse/tenantpulse/internal/objstore"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// Config is everything `serve` can be told, from the YAML file given with
// --config and from flags (which win). docs/configuration.md documents it.
type Config struct {
	Listen        string        `yaml:"listen"`
	Data          string        `yaml:"data"`
	Region        string        `yaml:"region"`
	LogLevel      string        `yaml:"log_level"`
	Fsync         string        `yaml:"fsync"`
	FsyncInterval time.Duration `yaml:"fsync_interval"`
	ShardLimits   string        `yaml:"shard_limits"`
	ShardLimit    int           `yaml:"shard_limit"`
	MinFreeBytes  uint64        `yaml:"min_free_bytes"`
	SegmentBytes  int64         `yaml:"segment_bytes"`
	// MaxConnections, BodyTimeout and MaxInflightBytes bound what clients
	// can hold of the server (docs/operations.md, Limits).
	MaxConnections   int           `yaml:"max_connections"`
	BodyTimeout      time.Duration `yaml:"body_timeout"`
	MaxInflightBytes int64         `yaml:"max_inflight_bytes"`
	// DedupeWindow and DedupeMaxBytes bound POST /v1/events' memory of
	// event identities (id + source) it has stored.
	DedupeWindow   time.Duration `yaml:"dedupe_window"`
	DedupeMaxBytes int64         `yaml:"dedupe_max_bytes"`
	// Workers, AllowedLateness and CheckpointInterval configure the
	// analytics processor.
	Workers            int           `yaml:"workers"`
	AllowedLateness    time.Duration `yaml:"allowed_lateness"`
	CheckpointInterval time.Duration `yaml:"checkpoint_interval"`
	// AnalyticsDedupeMaxBytes is the memory of each shard's dedupe window.
	AnalyticsDedupeMaxBytes int64 `yaml:"analytics_dedupe_max_bytes"`
	// MaxFuture: the event API rejects an event dated further ahead of the
	// server's clock, and the processor dead-letters a record dated
	// further ahead of its arrival.
	MaxFuture time.Duration `yaml:"max_future"`
	// The archive: where objects go and how files are cut.
	ArchiveStore     string        `yaml:"archive_store"`
	BucketPrefix     string        `yaml:"bucket_prefix"`
	BucketMode       string        `yaml:"bucket_mode"`
	S3Region         string        `yaml:"s3_region"`
	S3Endpoint       string        `yaml:"s3_endpoint"`
	S3PathStyle      bool          `yaml:"s3_path_style"`
	ArchiveFileBytes int64         `yaml:"archive_file_bytes"`
	ArchiveFileAge   time.Duration `yaml:"archive_file_age"`
	SnapshotInterval time.Duration `yaml:"snapshot_interval"`
	// Pprof serves Go's profiler at /debug/pprof/ on the listener.
	Pprof   bool           `yaml:"pprof"`
	Streams []StreamConfig `yaml:"streams"`
	// The scoring service: endpoint name -> model file, and the SageMaker
	// endpoints the gateway scores at instead of in process when either
	// SageMaker setting is given.
	Models               map[string]string `yaml:"models"`
	SageMakerEndpointURL string            `yaml:"sagemaker_endpoint_url"`
	SageMakerRegion      string            `yaml:"sagemaker_region"`
	// MaxModels and MaxModelBytes limit what PUT /v1/models/{name} takes:
	// the endpoints it can create and the size of a model file.
	MaxModels     int   `yaml:"max_models"`
	MaxModelBytes int64 `yaml:"max_model_bytes"`
	// Live risk: the endpoint whose model scores tenants, how often changed
	// tenants are rescored, and the webhook told of threshold crossings.
	RiskEndpoint string        `yaml:"risk_endpoint"`
	RiskInterval time.Duration `yaml:"risk_interval"`
	RiskWebhook  string        `yaml:"risk_webhook"`
}

// modelsFlag is --model name=FILE, repeatable; a name given again takes
// the later file, and a flag wins over the config file's models entry.
type modelsFlag struct{ m *map[string]string }

func (f modelsFlag) String() string {
	if f.m == nil {
		return ""
	}
	var s []string
	for name, path := range *f.m {
		s = append(s, name+"="+path)
	}
	sort.Strings(s)
	return strings.Join(s, ",")
}

func (f modelsFlag) Set(v string) error {
	name, path, ok := strings.Cut(v, "=")
	if !ok || name == "" || path == "" {
		return fmt.Errorf("%q: use name=FILE, e.g. churn=model.json", v)
	}
	if *f.m == nil {
		*f.m = map[string]string{}
	}
	(*f.m)[name] = path
	return nil
}

// StreamConfig declares a stream created at start if it does not exist.
type StreamConfig struct {
	Name           string `yaml:"name"`
	Shards         int    `yaml:"shards"`
	RetentionHours int    `yaml:"retention_hours"`
}

func defaultConfig() Config {
	return Config{
		Listen: "127.0.0.1:8080", Data: "./data", Region: "us-east-1", LogLevel: "info",
		Fsync: "always", FsyncInterval: 100 * time.Millisecond, ShardLimit: 500,
		MinFreeBytes: 64 << 20, SegmentBytes: 64 << 20,
		BodyTimeout: 60 * time.Second, MaxInflightBytes: 256 << 20,
		DedupeWindow: dedupe.DefaultWindow, DedupeMaxBytes: dedupe.DefaultMaxBytes,
		AllowedLateness: 7 * 24 * time.Hour, CheckpointInterval: 5 * time.Second,
		AnalyticsDedupeMaxBytes: analyticsstate.DefaultShardDedupeBytes,
		ArchiveStore:            "local", BucketPrefix: "tenantpulse-", BucketMode: "bucket",
		ArchiveFileBytes: 5 << 20, ArchiveFileAge: 300 * time.Second, SnapshotInterval: time.Minute,
		RiskEndpoint: "churn", RiskInterval: time.Second, MaxFuture: event.DefaultMaxFuture,
		MaxModels: scoring.DefaultMaxModels, MaxModelBytes: scoring.DefaultMaxModelBytes,
		Streams: []StreamConfig{{Name: "companies", Shards: 2, RetentionHours: 24}, {Name: "jobs", Shards: 2, RetentionHours: 24}},
	}
}

// loadConfig reads a YAML config over the defaults. Unknown keys are errors,
// so a typo does not silently fall back to a default.
func loadConfig(path string, cfg *Config) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("cannot read config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		return fmt.Errorf("cannot parse config %s: %w", path, err)
	}
	return nil
}

func (c *Config) validate() error {
	if c.Fsync != "always" && c.Fsync != "interval" {
		return fmt.Errorf("fsync is %q; use always or interval", c.Fsync)
	}
	if c.FsyncInterval <= 0 {
		return fmt.Errorf("fsync_interval %s must be positive", c.FsyncInterval)
	}
	if c.ShardLimits != "" && c.ShardLimits != "aws" && c.ShardLimits != "none" {
		return fmt.Errorf("shard_limits is %q; use aws or none", c.ShardLimits)
	}
	if c.MaxConnections < 0 {
		return fmt.Errorf("max_connections is %d; use 0 for three quarters of the file-descriptor limit (at most 10000), or a positive number", c.MaxConnections)
	}
	if c.BodyTimeout <= 0 {
		return fmt.Errorf("body_timeout %s must be positive", c.BodyTimeout)
	}
	if c.MaxInflightBytes < 16<<20 {
		return fmt.Errorf("max_inflight_bytes %d must be at least 16777216 (16 MiB), so the largest request body (10 MiB) fits", c.MaxInflightBytes)
	}
	if c.DedupeWindow <= 0 {
		return fmt.Errorf("dedupe_window %s must be positive", c.DedupeWindow)
	}
	if c.DedupeMaxBytes < 1<<20 {
		return fmt.Errorf("dedupe_max_bytes %d must be at least 1048576 (1 MiB)", c.DedupeMaxBytes)
	}
	if c.Workers < 0 {
		return fmt.Errorf("workers is %d; use 0 for one per core, or a positive number", c.Workers)
	}
	if c.AllowedLateness <= 0 {
		return fmt.Errorf("allowed_lateness %s must be positive", c.AllowedLateness)
	}
	if c.MaxFuture <= 0 {
		return fmt.Errorf("max_future %s must be positive (default 1h)", c.MaxFuture)
	}
	if c.AnalyticsDedupeMaxBytes < 64<<10 {
		return fmt.Errorf("analytics_dedupe_max_bytes %d must be at least 65536 (64 KiB)", c.AnalyticsDedupeMaxBytes)
	}
	if c.ArchiveStore != "local" && c.ArchiveStore != "s3" && c.ArchiveStore != "none" {
		return fmt.Errorf("archive_store is %q; use local, s3 or none", c.ArchiveStore)
	}
	if c.RiskWebhook != "" {
		if u, err := url.Parse(c.RiskWebhook); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("risk_webhook %q is not an http(s) URL", c.RiskWebhook)
		}
	}
	if c.RiskInterval <= 0 {
		return fmt.Errorf("risk_interval %s must be positive", c.RiskInterval)
	}
	if c.MaxModels < 1 || c.MaxModelBytes < 1024 {
		return fmt.Errorf("max_models %d must be at least 1 and max_model_bytes %d at least 1024", c.MaxModels, c.MaxModelBytes)
	}
	if err := (objstore.Layout{Prefix: c.BucketPrefix, Mode: c.BucketMode}).Validate(); err != nil {
		return err
	}
	if c.ArchiveFileBytes < 1024 {
		return fmt.Errorf("archive_file_bytes %d must be at least 1024", c.ArchiveFileBytes)
	}
	if c.SnapshotInterval <= 0 {
		return fmt.Errorf("snapshot_interval %s must be positive", c.SnapshotInterval)
	}
	if c.ArchiveFileAge <= 0 {
		return fmt.Errorf("archive_file_age %s must be positive", c.ArchiveFileAge)
	}
	if c.CheckpointInterval <= 0 {
		return fmt.Errorf("checkpoint_interval %s must be positive", c.CheckpointInterval)
	}
	seen := map[string]bool{}
	for _, s := range c.Streams {
		if s.Name == "" {
			return fmt.Errorf("a stream in the config has no name")
		}
		if seen[s.Name] {
			return fmt.Errorf("stream %q is declared twice in the config", s.Name)
		}
		seen[s.Name] = true
		if !streamlog.ValidStreamName(s.Name) {
			return fmt.Errorf("stream name %q: use 1 to 128 of a-z, A-Z, 0-9, _ . -", s.Name)
		}
		if s.Shards < 1 {
			return fmt.Errorf("stream %q: shards is %d; it must be at least 1", s.Name, s.Shards)
		}
		if s.RetentionHours != 0 && (s.RetentionHours < 24 || s.RetentionHours > 8760) {
			return fmt.Errorf("stream %q: retention_hours is %d; it must be between 24 and 8760", s.Name, s.RetentionHours)
		}
	}
	return nil
}

// bindFlags registers serve's flags on the fields of f, with f's current
// values as defaults, so that parsing over a loaded config file changes only
// what the command line sets.
func bindFlags(fs *flag.FlagSet, f *Config, configPath *string) {
	fs.StringVar(configPath, "config", *configPath, "YAML config file (flags override it)")
	fs.StringVar(&f.Listen, "listen", f.Listen, "address to listen on (host:port; port 0 picks a free one)")
	fs.StringVar(&f.Data, "data", f.Data, "data directory: all state lives here")
	fs.StringVar(&f.Region, "region", f.Region, "AWS region for ARNs of unsigned requests")
	fs.StringVar(&f.LogLevel, "log-level", f.LogLevel, "debug, info, warn or error")
	fs.StringVar(&f.Fsync, "fsync", f.Fsync, "always: fsync every group commit before replying; interval: fsync every --fsync-interval")
	fs.DurationVar(&f.FsyncInterval, "fsync-interval", f.FsyncInterval, "sync period with --fsync interval")
	fs.StringVar(&f.ShardLimits, "shard-limits", f.ShardLimits, "aws: enforce Kinesis per-shard quotas (1 MiB/s or 1000 records/s in, 2 MiB/s and 5 reads/s out)")
	fs.IntVar(&f.ShardLimit, "shard-limit", f.ShardLimit, "account-wide open shard limit (DescribeLimits)")
	fs.Uint64Var(&f.MinFreeBytes, "min-free-bytes", f.MinFreeBytes, "refuse writes (retriably) while the data disk has less free space")
	fs.Int64Var(&f.SegmentBytes, "segment-bytes", f.SegmentBytes, "seal a segment file past this size")
	fs.IntVar(&f.MaxConnections, "max-connections", f.MaxConnections, "open client connections at most; more are closed at once (0: three quarters of the file-descriptor limit, at most 10000)")
	fs.DurationVar(&f.BodyTimeout, "body-timeout", f.BodyTimeout, "a request body must arrive whole within this long of its head")
	fs.Int64Var(&f.MaxInflightBytes, "max-inflight-bytes", f.MaxInflightBytes, "memory budget of all request bodies being read; a request past it is throttled (429 on /v1, the AWS throttling error on the AWS APIs)")
	fs.DurationVar(&f.DedupeWindow, "dedupe-window", f.DedupeWindow, "POST /v1/events stores an event repeated (same id + source) within this much arrival time once")
	fs.IntVar(&f.Workers, "workers", f.Workers, "analytics workers applying records (0: one per core)")
	fs.DurationVar(&f.AllowedLateness, "allowed-lateness", f.AllowedLateness, "analytics: how long open sessions and running jobs are kept behind a shard's watermark (latest event time) for their late ends")
	fs.DurationVar(&f.MaxFuture, "max-future", f.MaxFuture, "an event dated further ahead of the server's clock is rejected, and a record dated further ahead of its arrival is a dead letter")
	fs.DurationVar(&f.CheckpointInterval, "checkpoint-interval", f.CheckpointInterval, "analytics: how often each shard's state is checkpointed with its position")
	fs.Int64Var(&f.AnalyticsDedupeMaxBytes, "analytics-dedupe-max-bytes", f.AnalyticsDedupeMaxBytes, "analytics: memory of each shard's dedupe window (about 36 bytes per event identity)")
	fs.StringVar(&f.ArchiveStore, "archive-store", f.ArchiveStore, "where the archive goes: local (<data>/buckets), s3, or none")
	fs.StringVar(&f.BucketPrefix, "bucket-prefix", f.BucketPrefix, "archive: bucket names start with this")
	fs.StringVar(&f.BucketMode, "bucket-mode", f.BucketMode, "archive: bucket (one bucket per tenant) or prefix (one bucket, a prefix per tenant)")
	fs.StringVar(&f.S3Region, "s3-region", f.S3Region, "archive: S3 region (default: the AWS configuration's)")
	fs.StringVar(&f.S3Endpoint, "s3-endpoint", f.S3Endpoint, "archive: S3 endpoint URL, for S3-compatible stores such as MinIO")
	fs.BoolVar(&f.S3PathStyle, "s3-path-style", f.S3PathStyle, "archive: path-style S3 addressing (MinIO and most S3-compatible stores)")
	fs.Int64Var(&f.ArchiveFileBytes, "archive-file-bytes", f.ArchiveFileBytes, "archive: close a file at this much buffered record data")
	fs.DurationVar(&f.ArchiveFileAge, "archive-file-age", f.ArchiveFileAge, "archive: close a file this long after its first record")
	fs.DurationVar(&f.SnapshotInterval, "snapshot-interval", f.SnapshotInterval, "archive: how often each tenant's metrics snapshot of the day is rewritten")
	fs.BoolVar(&f.Pprof, "pprof", f.Pprof, "serve Go's profiler at /debug/pprof/ (for diagnosing performance; off by default)")
	fs.Int64Var(&f.DedupeMaxBytes, "dedupe-max-bytes", f.DedupeMaxBytes, "memory of the dedupe window (about 36 bytes per event identity); when full, the oldest are forgotten early")
	fs.Var(modelsFlag{&f.Models}, "model", "scoring: serve a model file at a SageMaker-compatible endpoint, name=FILE (repeatable; the demo's endpoint is churn)")
	fs.StringVar(&f.SageMakerEndpointURL, "sagemaker-endpoint-url", f.SageMakerEndpointURL, "scoring: the gateway scores at this SageMaker runtime URL instead of in process")
	fs.StringVar(&f.RiskEndpoint, "risk-endpoint", f.RiskEndpoint, "live risk: the endpoint whose model scores every tenant")
	fs.DurationVar(&f.RiskInterval, "risk-interval", f.RiskInterval, "live risk: how often tenants whose facts changed are rescored")
	fs.StringVar(&f.RiskWebhook, "risk-webhook", f.RiskWebhook, "live risk: URL POSTed a JSON notification when a tenant crosses the model's threshold (retried 4 times)")
	fs.StringVar(&f.SageMakerRegion, "sagemaker-region", f.SageMakerRegion, "scoring: the gateway scores at SageMaker endpoints in this region instead of in process")
	fs.IntVar(&f.MaxModels, "max-models", f.MaxModels, "scoring: how many endpoints PUT /v1/models/{name} may create (409 past it)")
	fs.Int64Var(&f.MaxModelBytes, "max-model-bytes", f.MaxModelBytes, "scoring: the largest model file PUT /v1/models/{name} takes (413 past it)")
}
