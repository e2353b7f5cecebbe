package bench

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Kinesis modes.
const (
	modeSDK = "sdk"
	modeRaw = "raw"
)

// KinesisOptions configures RunKinesis. Zero values are not defaults: use
// DefaultKinesisOptions and override fields.
type KinesisOptions struct {
	// Endpoint is the base URL of the Kinesis-compatible API, e.g.
	// http://127.0.0.1:8080. Required.
	Endpoint string
	// Region signs requests and is passed to the SDK.
	Region string
	// Stream is the stream name. With both modes, each mode uses its own
	// stream, Stream+"-sdk" and Stream+"-raw", so each starts empty.
	Stream string
	// Shards is the ShardCount for streams this run creates.
	Shards int
	// Keep keeps the streams this run created. Streams that existed before
	// the run are never deleted.
	Keep bool
	// Modes lists the client modes to run, in order ("sdk", "raw").
	Modes []string
	// Records is the number of records each mode puts.
	Records int
	// Size is the data size of one record in bytes.
	Size int
	// Batch is the number of records per PutRecords request.
	Batch int
	// Producers is the number of concurrent PutRecords senders.
	Producers int
	// Consumers is the number of concurrent shard readers; 0 means one per
	// shard.
	Consumers int
	// Sign signs raw-mode requests with SigV4 (the SDK always signs).
	Sign bool
	// ServerPID, if non-zero, is read from /proc for server CPU and RSS;
	// otherwise <Endpoint>/metrics is tried.
	ServerPID int
	// JSON also prints each phase result as one JSON object per line.
	JSON bool
}

// DefaultKinesisOptions returns the flag defaults of `bench kinesis`.
func DefaultKinesisOptions() KinesisOptions {
	return KinesisOptions{
		Region:    "us-east-1",
		Stream:    fmt.Sprintf("bench-%d", time.Now().Unix()),
		Shards:    2,
		Modes:     []string{modeSDK, modeRaw},
		Records:   1_000_000,
		Size:      100,
		Batch:     500,
		Producers: 8,
	}
}

func (o *KinesisOptions) validate() error {
	switch {
	case o.Endpoint == "":
		return errors.New("--endpoint is required, e.g. --endpoint http://127.0.0.1:8080")
	case !strings.HasPrefix(o.Endpoint, "http://") && !strings.HasPrefix(o.Endpoint, "https://"):
		return fmt.Errorf("--endpoint %q must start with http:// or https://", o.Endpoint)
	case o.Region == "":
		return errors.New("--region must not be empty")
	case o.Stream == "":
		return errors.New("--stream must not be empty")
	case o.Shards < 1:
		return fmt.Errorf("--shards must be at least 1, got %d", o.Shards)
	case len(o.Modes) == 0:
		return errors.New("no mode selected")
	case o.Records < 1:
		return fmt.Errorf("--records must be at least 1, got %d", o.Records)
	case o.Size < 1 || o.Size > 1<<20:
		return fmt.Errorf("--size must be between 1 and 1048576 bytes, got %d", o.Size)
	case o.Batch < 1 || o.Batch > 500:
		return fmt.Errorf("--batch must be between 1 and 500 (the PutRecords limit), got %d", o.Batch)
	case o.Producers < 1:
		return fmt.Errorf("--producers must be at least 1, got %d", o.Producers)
	case o.Consumers < 0:
		return fmt.Errorf("--consumers must not be negative, got %d", o.Consumers)
	case o.ServerPID < 0:
		return fmt.Errorf("--server-pid must be a process id, got %d", o.ServerPID)
	}
	for _, m := range o.Modes {
		if m != modeSDK && m != modeRaw {
			return fmt.Errorf("unknown mode %q", m)
		}
	}
	return nil
}

// streamName returns the stream used by mode.
func (o *KinesisOptions) streamName(mode string) string {
	if len(o.Modes) == 1 {
		return o.Stream
	}
	return o.Stream + "-" + mode
}

// parseKinesisFlags parses `bench kinesis` flags. ok is false when the
// command must exit with code.
func parseKinesisFlags(args []string, stderr io.Writer) (o KinesisOptions, code int, ok bool) {
	o = DefaultKinesisOptions()
	fs := flag.NewFlagSet("tenantpulse bench kinesis", flag.ContinueOnError)
	fs.SetOutput(stderr)
	mode := "both"
	fs.StringVar(&o.Endpoint, "endpoint", "", "Kinesis-compatible endpoint URL, e.g. http://127.0.0.1:8080 (required)")
	fs.StringVar(&o.Region, "region", o.Region, "region for signing")
	fs.StringVar(&o.Stream, "stream", o.Stream, "stream name; with --mode both the modes use <stream>-sdk and <stream>-raw")
	fs.IntVar(&o.Shards, "shards", o.Shards, "shard count of a stream this run creates")
	fs.BoolVar(&o.Keep, "keep", false, "keep the streams at the end (default: delete the streams this run created; pre-existing streams are never deleted)")
	fs.StringVar(&mode, "mode", mode, "client mode: sdk, raw or both")
	fs.IntVar(&o.Records, "records", o.Records, "records to put (and get) per mode")
	fs.IntVar(&o.Size, "size", o.Size, "record data size in bytes")
	fs.IntVar(&o.Batch, "batch", o.Batch, "records per PutRecords request (max 500)")
	fs.IntVar(&o.Producers, "producers", o.Producers, "concurrent PutRecords senders")
	fs.IntVar(&o.Consumers, "consumers", 0, "concurrent shard readers (default: one per shard)")
	fs.BoolVar(&o.Sign, "sign", false, "SigV4-sign raw-mode requests (the SDK always signs)")
	fs.IntVar(&o.ServerPID, "server-pid", 0, "server process id, to read its CPU and RSS from /proc (default: try <endpoint>/metrics)")
	fs.BoolVar(&o.JSON, "json", false, "also print each phase result as a JSON object on its own line")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: tenantpulse bench kinesis --endpoint URL [flags]")
		fmt.Fprintln(w, "Puts --records records into a stream, then reads them back with one consumer per shard,")
		fmt.Fprintln(w, "once with the AWS SDK (sdk) and once with pre-encoded raw HTTP requests (raw).")
		fmt.Fprintln(w, "Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN if set, else bench/bench.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, 0, false
		}
		return o, 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bench kinesis: unexpected arguments %q\n", fs.Args())
		fs.Usage()
		return o, 2, false
	}
	switch mode {
	case "both":
		o.Modes = []string{modeSDK, modeRaw}
	case modeSDK, modeRaw:
		o.Modes = []string{mode}
	default:
		fmt.Fprintf(stderr, "bench kinesis: --mode must be sdk, raw or both, got %q\n", mode)
		return o, 2, false
	}
	if err := o.validate(); err != nil {
		fmt.Fprintf(stderr, "bench kinesis: %v\n", err)
		fs.Usage()
		return o, 2, false
	}
	return o, 0, true
}

func runKinesisCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, code, ok := parseKinesisFlags(args, stderr)
	if !ok {
		return code
	}
	if err := RunKinesis(ctx, o, stdout); err != nil {
		fmt.Fprintf(stderr, "bench kinesis: %v\n", err)
		return 1
	}
	return 0
}

// RunKinesis runs the Kinesis benchmark described by o and writes its report
// to out. It returns an error if any phase failed; the other modes still run
// unless ctx is done.
func RunKinesis(ctx context.Context, o KinesisOptions, out io.Writer) error {
	if err := o.validate(); err != nil {
		return err
	}
	creds := benchCredentials()
	api := newSDKClient(o, creds)

	mon, err := newServerMonitor(ctx, o.Endpoint, o.ServerPID)
	if err != nil {
		return err
	}

	fmt.Fprintf(out, "endpoint %s  records %d x %d B  batch %d  producers %d  modes %s\n",
		o.Endpoint, o.Records, o.Size, o.Batch, o.Producers, strings.Join(o.Modes, ","))
	if mon == nil {
		fmt.Fprintln(out, "server CPU: n/a (pass --server-pid)")
	} else {
		fmt.Fprintf(out, "server stats from %s\n", mon.src.describe())
	}

	w := newWorkload(o.Records, o.Batch, o.Size)

	var errs []error
	for _, mode := range o.Modes {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		if err := runKinesisMode(ctx, o, mode, api, creds, w, mon, out); err != nil {
			fmt.Fprintf(out, "%-4s FAILED: %v\n", mode, err)
			errs = append(errs, fmt.Errorf("%s mode: %w", mode, err))
		}
	}
	return errors.Join(errs...)
}

// runKinesisMode sets up the mode's stream, runs its put and get phases and
// deletes the stream if this run created it (unless o.Keep).
func runKinesisMode(ctx context.Context, o KinesisOptions, mode string, api *sdkClient, creds aws.Credentials, w *workload, mon *serverMonitor, out io.Writer) (err error) {
	name := o.streamName(mode)
	setupStart := time.Now()
	st, err := api.ensureStream(ctx, name, o.Shards)
	if err != nil {
		return fmt.Errorf("cannot set up stream %q: %w", name, err)
	}
	how := "created"
	if st.preexisting {
		how = "already existed"
	}
	fmt.Fprintf(out, "%-4s stream %s: %d shards, %s, ACTIVE after %.2fs\n", mode, name, len(st.shards), how, time.Since(setupStart).Seconds())
	defer func() {
		if o.Keep || st.preexisting {
			fmt.Fprintf(out, "%-4s kept stream %s\n", mode, name)
			return
		}
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if derr := api.deleteStream(dctx, name); derr != nil {
			err = errors.Join(err, fmt.Errorf("cannot delete stream %q: %w", name, derr))
			return
		}
		fmt.Fprintf(out, "%-4s deleted stream %s\n", mode, name)
	}()

	var (
		p putter
		r shardReader
	)
	switch mode {
	case modeSDK:
		p = newSDKPutter(api, name, w)
		r = &sdkReader{api: api, stream: name}
	case modeRaw:
		rc := newRawClient(o, creds)
		defer rc.close()
		p, err = newRawPutter(rc, name, w)
		if err != nil {
			return err
		}
		r = &rawReader{rc: rc, api: api, stream: name, size: o.Size}
	}

	probe := mon.begin(ctx)
	ps, err := runPut(ctx, p, w, o.Producers)
	usage := probe.end(ctx)
	if err != nil {
		return fmt.Errorf("put phase: %w", err)
	}
	res := ps.result(mode, name, usage)
	printResult(out, res, o.JSON)

	consumers := o.Consumers
	if consumers == 0 || consumers > len(st.shards) {
		consumers = len(st.shards)
	}
	target := int64(o.Records)
	if st.preexisting {
		target = 0 // unknown: read everything until caught up
	}
	probe = mon.begin(ctx)
	gs, err := runGet(ctx, r, st.shards, consumers, target)
	usage = probe.end(ctx)
	if err != nil {
		return fmt.Errorf("get phase: %w", err)
	}
	res = gs.result(mode, name, usage, st.preexisting)
	printResult(out, res, o.JSON)
	if !st.preexisting && gs.records < target {
		return fmt.Errorf("get phase: read %d records, want the %d put in this mode", gs.records, target)
	}
	return nil
}

func printResult(out io.Writer, r phaseResult, asJSON bool) {
	fmt.Fprintln(out, r.human())
	if asJSON {
		b, err := json.Marshal(r)
		if err != nil {
			panic(fmt.Sprintf("BUG: cannot marshal phase result: %v", err))
		}
		fmt.Fprintf(out, "%s\n", b)
	}
}
