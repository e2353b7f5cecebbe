package main

// mutations are the small bugs the tests must catch: each is one exact
// snippet of a file replaced, and the tests that should then fail. Keep a
// mutation here when a test was written to catch it, so that the test
// cannot quietly stop doing so. A -run pattern narrows a package's tests
// where a broader test (a docs golden file, say) would catch the bug for
// the wrong reason.
var mutations = []mutation{
	{
		name: "--fsync always does not fsync",
		file: "internal/streamlog/shard.go",
		from: "\t\tif err := a.f.Datasync(); err != nil {\n\t\t\ta.f.Truncate(pos)",
		to:   "\t\tif err := error(nil); err != nil {\n\t\t\ta.f.Truncate(pos)",
		pkgs: []string{"./internal/streamlog/"},
	},
	{
		name: "a new shard directory is not synced into its stream directory",
		file: "internal/streamlog/shard.go",
		from: "\tif err := fsutil.MkdirAllFS(opts.FS, dir); err != nil {",
		to:   "\tif err := opts.FS.MkdirAll(dir, 0o755); err != nil {",
		pkgs: []string{"./internal/streamlog/"},
	},
	{
		name: "atomic writes do not fsync the file before the rename",
		file: "internal/fsutil/fsutil.go",
		from: "\tif err := f.Sync(); err != nil {",
		to:   "\tif err := error(nil); err != nil {",
		pkgs: []string{"./internal/fsutil/"},
	},
	{
		name: "atomic writes do not fsync the directory after the rename",
		file: "internal/fsutil/fsutil.go",
		from: "\tok = true\n\treturn SyncDirFS(fsys, dir)",
		to:   "\tok = true\n\treturn nil",
		pkgs: []string{"./internal/fsutil/"},
	},
	{
		name: "a directory made for durable files is not fsynced into its parent",
		file: "internal/fsutil/fsutil.go",
		from: "\t\treturn fmt.Errorf(\"cannot create directory %q: %w\", dir, err)\n\t}\n\treturn SyncDirFS(fsys, parent)",
		to:   "\t\treturn fmt.Errorf(\"cannot create directory %q: %w\", dir, err)\n\t}\n\treturn nil",
		pkgs: []string{"./internal/fsutil/", "./internal/streamlog/"},
		run:  "PowerLoss",
	},
	{
		name: "the local object store's batch is not synced after its renames",
		file: "internal/objstore/local.go",
		from: "\t\tif err := l.fs.SyncFS(l.dir); err != nil {\n\t\t\treturn errors.Join(",
		to:   "\t\tif err := error(nil); err != nil {\n\t\t\treturn errors.Join(",
		pkgs: []string{"./internal/objstore/", "./internal/app/archive/"},
		run:  "PowerLoss",
	},
	{
		name: "the local object store's batch is renamed into place before it is synced",
		file: "internal/objstore/local.go",
		from: "\tif err := l.fs.SyncFS(l.dir); err != nil {\n\t\treturn fmt.Errorf",
		to:   "\tif err := error(nil); err != nil {\n\t\treturn fmt.Errorf",
		pkgs: []string{"./internal/objstore/"},
	},
	{
		name: "the archive's checkpointed position moves past records still buffered",
		file: "internal/app/archive/archiver.go",
		from: "\tfor _, b := range a.bufs {\n\t\tif seqLess(b.after, a.ck.Position) {\n\t\t\ta.ck.Position = b.after\n\t\t}\n\t}\n",
		to:   "",
		pkgs: []string{"./internal/app/archive/"},
	},
	{
		name: "the archive forgets the files in flight at a crash (stores them again)",
		file: "internal/app/archive/archiver.go",
		from: "\t\tif len(objs) > 0 && objs[0].Key == p.Key {",
		to:   "\t\tif len(objs) < 0 {",
		pkgs: []string{"./internal/app/archive/"},
	},
	{
		name: "the dedupe window's default is 1 minute, not 10",
		file: "internal/dedupe/window.go",
		from: "DefaultWindow   = 10 * time.Minute",
		to:   "DefaultWindow   = 1 * time.Minute",
		pkgs: []string{"./internal/dedupe/", "./internal/app/ingest/"},
		run:  "Default",
	},
	{
		name: "the dedupe window keeps an identity one millisecond too long",
		file: "internal/dedupe/window.go",
		from: "\treturn ok && w.ring[slot].at > nowMs-w.windowMs",
		to:   "\treturn ok && w.ring[slot].at >= nowMs-w.windowMs",
		pkgs: []string{"./internal/dedupe/"},
	},
	{
		name: "the model's threshold is chosen on the test split",
		file: "internal/model/train.go",
		from: "\ton := valid\n",
		to:   "\ton := test\n",
		pkgs: []string{"./internal/model/"},
		run:  "Threshold",
	},
	{
		name: "job.submitted's dataSize is not required (the validator's own table)",
		file: "internal/event/fields.go",
		from: "required: FieldJobID | FieldUserID | FieldDataSize,",
		to:   "required: FieldJobID | FieldUserID,",
		pkgs: []string{"./internal/event/"},
		run:  "^(TestDecode|TestSchema$)", // not TestDocs: -update would rewrite its golden file
	},
	{
		name: "the simulator lets batches run twice MaxSpread ahead of a straggler",
		file: "internal/sim/send.go",
		from: "\t\tif b.maxT-o.minT > int64(MaxSpread) {",
		to:   "\t\tif b.maxT-o.minT > 2*int64(MaxSpread) {",
		pkgs: []string{"./internal/sim/"},
		run:  "TestPool",
	},
}
