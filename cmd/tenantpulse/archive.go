package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/tenantpulse/tenantpulse/internal/archive/catalog"
	"github.com/tenantpulse/tenantpulse/internal/objstore"
)

const archiveUsage = `Usage:
  tenantpulse archive ls      [--data ./data | --archive-store s3 ...]   list the archive's files
  tenantpulse archive verify  [...]   check every row is in its place and stored once
  tenantpulse archive compact [...]   merge each partition's small files into few large ones

The archive is read from <data>/buckets, or from S3 with --archive-store s3
(--s3-region, --s3-endpoint, --s3-path-style; credentials from the standard
AWS configuration). --bucket-prefix and --bucket-mode must match serve's.
`

func archiveMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "ls" && args[0] != "verify" && args[0] != "compact") {
		fmt.Fprint(stderr, archiveUsage)
		return 2
	}
	cmd := args[0]
	fs := flag.NewFlagSet("archive "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	openArchive := archiveFlags(fs)
	maxBytes := fs.Int64("max-file-bytes", 128<<20, "compact: largest merged file")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	// ls and verify only read, beside a running server; compact rewrites
	// files, so it holds the data directory's lock as serve does.
	store, layout, release, code := openArchive(ctx, "archive "+cmd, stderr, cmd == "compact")
	if code != 0 {
		return code
	}
	defer release()
	switch cmd {
	case "ls":
		files, err := catalog.List(ctx, store, layout)
		if err != nil {
			fmt.Fprintf(stderr, "archive ls: %v\n", err)
			return 1
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "BUCKET\tKEY\tBYTES")
		var total int64
		for _, f := range files {
			fmt.Fprintf(tw, "%s\t%s\t%d\n", f.Bucket, f.Key, f.Size)
			total += f.Size
		}
		tw.Flush()
		fmt.Fprintf(stdout, "%d files, %d bytes\n", len(files), total)
		return 0
	case "verify":
		r, err := catalog.Verify(ctx, store, layout)
		if err != nil {
			fmt.Fprintf(stderr, "archive verify: %v\n", err)
			return 1
		}
		for _, p := range r.Problems {
			fmt.Fprintln(stdout, "problem:", p)
		}
		fmt.Fprintf(stdout, "%d event files, %d rows, %d bytes: %d problems\n", r.Files, r.Rows, r.Bytes, len(r.Problems))
		if len(r.Problems) > 0 {
			return 1
		}
		return 0
	default:
		r, err := catalog.Compact(ctx, store, layout, *maxBytes, func(bucket, key string, n int) {
			fmt.Fprintf(stdout, "merged %d files into %s/%s\n", n, bucket, key)
		})
		if err != nil {
			fmt.Fprintf(stderr, "archive compact: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "merged %d files into %d; removed %d left by an interrupted run\n", r.Merged, r.Written, r.Removed)
		return 0
	}
}

// archiveOpener opens the archive the flags name. With write, a local
// archive's data directory is locked first (datadir.Acquire; release gives
// the lock back); without, nothing is created or written. It returns 0 or
// the exit code after printing why not.
type archiveOpener func(ctx context.Context, cmd string, stderr io.Writer, write bool) (store objstore.Store, layout objstore.Layout, release func(), code int)

// archiveFlags defines the flags that say where the archive is (as serve
// stores it) and returns the function that opens it after parsing.
func archiveFlags(fs *flag.FlagSet) archiveOpener {
	cfg := defaultConfig()
	fs.StringVar(&cfg.Data, "data", cfg.Data, "data directory of the server (the local archive is <data>/buckets)")
	fs.StringVar(&cfg.ArchiveStore, "archive-store", cfg.ArchiveStore, "local or s3")
	fs.StringVar(&cfg.BucketPrefix, "bucket-prefix", cfg.BucketPrefix, "bucket names start with this")
	fs.StringVar(&cfg.BucketMode, "bucket-mode", cfg.BucketMode, "bucket or prefix")
	fs.StringVar(&cfg.S3Region, "s3-region", cfg.S3Region, "S3 region")
	fs.StringVar(&cfg.S3Endpoint, "s3-endpoint", cfg.S3Endpoint, "S3 endpoint URL")
	fs.BoolVar(&cfg.S3PathStyle, "s3-path-style", cfg.S3PathStyle, "path-style S3 addressing")
	return func(ctx context.Context, cmd string, stderr io.Writer, write bool) (objstore.Store, objstore.Layout, func(), int) {
		release := func() {}
		layout := objstore.Layout{Prefix: cfg.BucketPrefix, Mode: cfg.BucketMode}
		if err := layout.Validate(); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
			return nil, layout, release, 2
		}
		var store objstore.Store
		var err error
		switch cfg.ArchiveStore {
		case "s3":
			store, err = objstore.NewS3(ctx, objstore.S3Options{Region: cfg.S3Region, Endpoint: cfg.S3Endpoint, PathStyle: cfg.S3PathStyle})
		case "local":
			dir := filepath.Join(cfg.Data, "buckets")
			if write {
				lock, lerr := lockData(cfg.Data)
				if lerr != nil {
					fmt.Fprintf(stderr, "%s: %v\n", cmd, lerr)
					return nil, layout, release, 1
				}
				release = func() { lock.Release() }
			} else if _, serr := os.Stat(dir); serr != nil {
				// objstore.NewLocal would create it: a reader writes nothing.
				fmt.Fprintf(stderr, "%s: no archive at %s (%v); --data must be the server's data directory\n", cmd, dir, serr)
				return nil, layout, release, 1
			}
			store, err = objstore.NewLocal(dir)
		default:
			fmt.Fprintf(stderr, "%s: --archive-store is %q; use local or s3\n", cmd, cfg.ArchiveStore)
			return nil, layout, release, 2
		}
		if err != nil {
			release()
			fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
			return nil, layout, func() {}, 1
		}
		return store, layout, release, 0
	}
}
