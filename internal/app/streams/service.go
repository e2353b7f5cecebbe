package streams

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenantpulse/tenantpulse/internal/awswire"
	"github.com/tenantpulse/tenantpulse/internal/bodylimit"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// Account is the AWS account id in every ARN and message.
const Account = "000000000000"

// targetPrefix starts every X-Amz-Target this service answers.
const targetPrefix = "Kinesis_20131202."

// maxBody bounds a request body: a 5 MiB PutRecords grows by a third in
// base64, plus keys and framing.
const maxBody = 10 << 20

// Options configures the Service.
type Options struct {
	Store *streamlog.Store
	// Region is used in ARNs when a request is not signed (signed
	// requests use their credential scope's region). Default us-east-1.
	Region string
	// ShardLimits "aws" enforces Kinesis's per-shard quotas; "" does not.
	ShardLimits string
	// AccountShardLimit bounds the open shards across streams, as
	// DescribeLimits reports (default 500).
	AccountShardLimit int
	// OnDemandStreamLimit bounds on-demand streams (default 50).
	OnDemandStreamLimit int
	// Consumers are the server's own consumers of streams (the analytics
	// processor, the archiver), which play the part of AWS's registered
	// (enhanced fan-out) consumers: DeleteStream of a stream one of them
	// reads fails with ResourceInUseException unless
	// EnforceConsumerDeletion is true.
	Consumers  []Consumer
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time
}

// Consumer is one of the server's own consumers of streams.
type Consumer struct {
	Name    string   // e.g. tenantpulse-analytics
	Streams []string // the streams it reads
}

// Service serves the Kinesis API.
type Service struct {
	opts   Options
	store  *streamlog.Store
	log    *slog.Logger
	ops    map[string]func(*call) error
	iters  *iteratorCodec
	limits *shardLimits
	hashes *streamlog.HashCache

	createMu sync.Mutex // serializes CreateStream's limit check with creation

	requests *prometheus.CounterVec
	records  *prometheus.CounterVec
}

// New returns a Service over opts.Store.
func New(opts Options) *Service {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.AccountShardLimit <= 0 {
		opts.AccountShardLimit = 500
	}
	if opts.OnDemandStreamLimit <= 0 {
		opts.OnDemandStreamLimit = 50
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Service{opts: opts, store: opts.Store, log: opts.Logger, iters: newIteratorCodec(), hashes: streamlog.NewHashCache()}
	if opts.ShardLimits == "aws" {
		s.limits = newShardLimits(opts.Now)
	}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenantpulse_kinesis_requests_total", Help: "Kinesis API requests by operation and outcome.",
	}, []string{"operation", "code"})
	s.records = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenantpulse_kinesis_records_total", Help: "Records written (in) and read (out) through the Kinesis API.",
	}, []string{"stream", "direction"})
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(s.requests, s.records)
	}
	s.ops = map[string]func(*call) error{
		"CreateStream":                  s.createStream,
		"DeleteStream":                  s.deleteStream,
		"ListStreams":                   s.listStreams,
		"DescribeStream":                s.describeStream,
		"DescribeStreamSummary":         s.describeStreamSummary,
		"ListShards":                    s.listShards,
		"PutRecord":                     s.putRecord,
		"PutRecords":                    s.putRecords,
		"GetShardIterator":              s.getShardIterator,
		"GetRecords":                    s.getRecords,
		"IncreaseStreamRetentionPeriod": s.increaseStreamRetentionPeriod,
		"DecreaseStreamRetentionPeriod": s.decreaseStreamRetentionPeriod,
		"AddTagsToStream":               s.addTagsToStream,
		"ListTagsForStream":             s.listTagsForStream,
		"RemoveTagsFromStream":          s.removeTagsFromStream,
		"DescribeLimits":                s.describeLimits,
	}
	return s
}

// IsKinesisRequest reports whether r is addressed to this service.
func IsKinesisRequest(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
}

// call is one request in flight.
type call struct {
	w      http.ResponseWriter
	r      *http.Request
	codec  awswire.Codec
	reqID  string
	region string
	body   []byte
	op     string
}

func (c *call) decode(v any) error { return c.codec.Unmarshal(c.body, v) }

func (c *call) reply(v any) error {
	awswire.WriteResponse(c.w, c.codec, c.reqID, v)
	return nil
}

var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 128<<10); return &b }}

// keepBody is the largest body buffer returned to bodyPool: the buffers of
// a burst of big (or slow) requests do not outlive it.
const keepBody = 1 << 20

// ServeHTTP answers one Kinesis API request.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{w: w, r: r, reqID: awswire.NewRequestID()}
	codec, ok := awswire.CodecFor(r.Header.Get("Content-Type"))
	if !ok {
		codec = awswire.JSON
		s.fail(c, awswire.Errorf(awswire.Serialization,
			"Content-Type %q is not supported; send application/x-amz-json-1.1 or application/x-amz-cbor-1.1", r.Header.Get("Content-Type")))
		return
	}
	c.codec = codec
	if r.Method != http.MethodPost {
		s.fail(c, awswire.Errorf(awswire.UnknownOperation, "Kinesis operations are sent with POST, not %s", r.Method))
		return
	}
	target := r.Header.Get("X-Amz-Target")
	c.op = strings.TrimPrefix(target, targetPrefix)
	fn, ok := s.ops[c.op]
	if !ok || !strings.HasPrefix(target, targetPrefix) {
		c.op = "unknown"
		s.fail(c, awswire.Errorf(awswire.UnknownOperation, "Operation %q is not supported; X-Amz-Target must be Kinesis_20131202.<Operation>", target))
		return
	}
	c.region = awswire.RegionFromAuthorization(r.Header.Get("Authorization"))
	if c.region == "" {
		c.region = s.opts.Region
	}
	bp := bodyPool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= keepBody {
			bodyPool.Put(bp)
		}
	}()
	body, err := readBody(r, (*bp)[:0])
	*bp = body
	if err != nil {
		s.fail(c, err)
		return
	}
	c.body = body
	if err := fn(c); err != nil {
		s.fail(c, err)
		return
	}
	s.requests.WithLabelValues(c.op, "200").Inc()
}

// readBody reads the body into buf, which grows with the bytes received
// (bodylimit.ReadAll). A body past the server's in-flight budget is
// throttled like a shard over its rate: retriable, at once.
func readBody(r *http.Request, buf []byte) ([]byte, error) {
	buf, err := bodylimit.ReadAll(r.Body, buf, maxBody)
	switch {
	case err == nil:
		return buf, nil
	case errors.Is(err, bodylimit.ErrTooLarge):
		return buf, awswire.Errorf(awswire.Serialization, "the request body is larger than %d bytes", maxBody)
	case errors.Is(err, bodylimit.ErrBusy):
		return buf, awswire.Errorf(awswire.ProvisionedThroughputExceeded,
			"Rate exceeded: the server is reading as many request bodies as its memory budget allows (--max-inflight-bytes). Retry with backoff.")
	}
	return buf, awswire.Errorf(awswire.Serialization, "cannot read the request body: %v", err)
}

func (s *Service) fail(c *call, err error) {
	err = mapStoreError(err)
	var we *awswire.Error
	if errors.As(err, &we) {
		s.requests.WithLabelValues(c.op, we.Type).Inc()
	} else {
		s.log.Error("kinesis request failed", "operation", c.op, "error", err)
		s.requests.WithLabelValues(c.op, "InternalFailure").Inc()
	}
	awswire.WriteError(c.w, c.codec, c.reqID, err)
}

// mapStoreError turns the store's sentinel errors into AWS errors.
func mapStoreError(err error) error {
	switch {
	case errors.Is(err, streamlog.ErrThrottled):
		return awswire.Errorf(awswire.ProvisionedThroughputExceeded, "Rate exceeded: %v. Retry with backoff.", err)
	case errors.Is(err, streamlog.ErrClosed):
		return awswire.Errorf(awswire.ResourceNotFound, "The stream was deleted while the request ran.")
	}
	return err
}

// streamARN formats a stream's ARN.
func streamARN(region, name string) string {
	return fmt.Sprintf("arn:aws:kinesis:%s:%s:stream/%s", region, Account, name)
}

// resolveStream finds the stream a request names by StreamName or StreamARN.
func (s *Service) resolveStream(name, arn string) (*streamlog.Stream, error) {
	name, err := streamNameFrom(name, arn)
	if err != nil {
		return nil, err
	}
	st, err := s.store.Stream(name)
	if err != nil {
		return nil, notFound(name)
	}
	return st, nil
}

func notFound(name string) error {
	return awswire.Errorf(awswire.ResourceNotFound, "Stream %s under account %s not found.", name, Account)
}

// streamNameFrom validates StreamName/StreamARN and returns the name.
func streamNameFrom(name, arn string) (string, error) {
	if arn != "" {
		n, err := parseStreamARN(arn)
		if err != nil {
			return "", err
		}
		if name != "" && name != n {
			return "", awswire.Errorf(awswire.InvalidArgument, "StreamName %q and StreamARN %q name different streams; send one of them", name, arn)
		}
		return n, nil
	}
	if name == "" {
		return "", awswire.Errorf(awswire.Validation, "Either StreamName or StreamARN should be provided.")
	}
	if err := validateStreamName(name); err != nil {
		return "", err
	}
	return name, nil
}

func parseStreamARN(arn string) (string, error) {
	bad := func() error {
		return awswire.Errorf(awswire.Validation,
			"1 validation error detected: Value '%s' at 'streamARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+", arn)
	}
	if len(arn) > 2048 {
		return "", bad()
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") || parts[2] != "kinesis" ||
		len(parts[4]) != 12 || !isDigits(parts[4]) || !strings.HasPrefix(parts[5], "stream/") {
		return "", bad()
	}
	if parts[4] != Account {
		return "", awswire.Errorf(awswire.ResourceNotFound, "Stream %s under account %s not found.", strings.TrimPrefix(parts[5], "stream/"), parts[4])
	}
	name := strings.TrimPrefix(parts[5], "stream/")
	if err := validateStreamName(name); err != nil {
		return "", err
	}
	return name, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func validateStreamName(name string) error {
	if len(name) < 1 || len(name) > 128 {
		return awswire.Errorf(awswire.Validation,
			"1 validation error detected: Value '%s' at 'streamName' failed to satisfy constraint: Member must have length between 1 and 128", name)
	}
	if !streamlog.ValidStreamName(name) {
		return awswire.Errorf(awswire.Validation,
			"1 validation error detected: Value '%s' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", name)
	}
	return nil
}

func validationf(value any, field, constraint string) error {
	return awswire.Errorf(awswire.Validation,
		"1 validation error detected: Value '%v' at '%s' failed to satisfy constraint: Member must %s", value, field, constraint)
}
