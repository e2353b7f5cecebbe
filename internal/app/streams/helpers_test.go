package streams_test

// Shared test helpers: a real service over real HTTP on 127.0.0.1:0, an
// aws-sdk-go-v2 Kinesis client, signed raw JSON/CBOR requests, a
// controllable clock and a polling helper.

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/tenantpulse/tenantpulse/internal/app/streams"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// testRegion is the region every request is signed for; ARNs must carry it.
const testRegion = "us-west-2"

const account = "000000000000"

// testServer is one tenantpulse Kinesis service on 127.0.0.1:0, wired like
// cmd/tenantpulse/serve.go (mux on "/{$}", HTTP/1.1 and cleartext HTTP/2).
type testServer struct {
	url    string
	store  *streamlog.Store
	client *kinesis.Client
}

// startServer starts the service with opts (Store is filled in) and returns
// it with an SDK client. Everything is torn down when the test ends.
func startServer(t *testing.T, opts streams.Options) *testServer {
	t.Helper()
	store, err := streamlog.Open(streamlog.Options{Dir: t.TempDir(), MinFreeBytes: 1})
	if err != nil {
		t.Fatalf("cannot open the store: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	opts.Store = store
	svc := streams.New(opts)

	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost || streams.IsKinesisRequest(r) {
			svc.ServeHTTP(w, r)
			return
		}
		http.Error(w, "not the Kinesis API", http.StatusNotFound)
	})
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: mux, Protocols: &protocols, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("cannot listen: %v", err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		srv.Serve(ln)
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close()
		}
		<-served
	})
	url := "http://" + ln.Addr().String()
	return &testServer{url: url, store: store, client: newClient(url, nil)}
}

// newClient returns an SDK client for url that signs for testRegion and
// never retries, so every error reaches the test. rt is the HTTP transport
// (nil: a clone of http.DefaultTransport).
func newClient(url string, rt http.RoundTripper) *kinesis.Client {
	if rt == nil {
		rt = http.DefaultTransport.(*http.Transport).Clone()
	}
	cfg := aws.Config{
		Region:      testRegion,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
		HTTPClient:  &http.Client{Transport: bufferedBodies{rt}},
	}
	return kinesis.NewFromConfig(cfg, func(o *kinesis.Options) { o.BaseEndpoint = aws.String(url) })
}

// bufferedBodies reads each response body completely before handing the
// response to the SDK. smithy-go closes the request body as soon as Do
// returns; over HTTP/1.1 that can make net/http's writeLoop close the
// connection while a large response (such as a 1,500-record GetRecords) is
// still being read, and the call fails with "use of closed network
// connection" (aws/aws-sdk-go-v2#2737; the SDK's answer is to retry, which
// these tests turn off). This is a client-side race, not the server's.
type bufferedBodies struct{ next http.RoundTripper }

func (b bufferedBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := b.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// testClock is a clock for Options.Now. A shifted clock follows the wall
// clock plus an offset; a frozen one moves only when advanced.
type testClock struct {
	mu     sync.Mutex
	frozen bool
	at     time.Time     // frozen clocks
	offset time.Duration // shifted clocks
}

func shiftedClock() *testClock { return &testClock{} }

func frozenClock(at time.Time) *testClock { return &testClock{frozen: true, at: at} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		return c.at
	}
	return time.Now().Add(c.offset)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = c.at.Add(d)
	c.offset += d
}

// waitFor polls cond until it holds, failing the test after 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitPastMillis waits until the wall clock is at least d past ms (Unix ms).
func waitPastMillis(t *testing.T, ms int64, d time.Duration) {
	t.Helper()
	waitFor(t, "the clock to move on", func() bool { return time.Now().UnixMilli() >= ms+d.Milliseconds() })
}

// --- SDK helpers ---

func ctxT(t *testing.T) context.Context { return t.Context() }

func createStream(t *testing.T, c *kinesis.Client, name string, shards int32) {
	t.Helper()
	if _, err := c.CreateStream(ctxT(t), &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		t.Fatalf("CreateStream %s: %v", name, err)
	}
}

func listStreamNames(t *testing.T, c *kinesis.Client) []string {
	t.Helper()
	out, err := c.ListStreams(ctxT(t), &kinesis.ListStreamsInput{})
	if err != nil {
		t.Fatalf("ListStreams: %v", err)
	}
	return out.StreamNames
}

func listAllShards(t *testing.T, c *kinesis.Client, stream string) []types.Shard {
	t.Helper()
	out, err := c.ListShards(ctxT(t), &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatalf("ListShards %s: %v", stream, err)
	}
	if out.NextToken != nil {
		t.Fatalf("ListShards %s: unexpected NextToken for a small stream", stream)
	}
	return out.Shards
}

// readShard reads every record of a shard from TRIM_HORIZON to its end.
func readShard(t *testing.T, c *kinesis.Client, stream, shardID string) []types.Record {
	t.Helper()
	it, err := c.GetShardIterator(ctxT(t), &kinesis.GetShardIteratorInput{
		StreamName: aws.String(stream), ShardId: aws.String(shardID), ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		t.Fatalf("GetShardIterator %s/%s: %v", stream, shardID, err)
	}
	return drain(t, c, it.ShardIterator)
}

// drain reads from iterator until a response returns no records.
func drain(t *testing.T, c *kinesis.Client, iterator *string) []types.Record {
	t.Helper()
	var all []types.Record
	for range 1000 {
		out, err := c.GetRecords(ctxT(t), &kinesis.GetRecordsInput{ShardIterator: iterator})
		if err != nil {
			t.Fatalf("GetRecords: %v", err)
		}
		if out.NextShardIterator == nil {
			t.Fatalf("GetRecords returned no NextShardIterator for an open shard")
		}
		all = append(all, out.Records...)
		if len(out.Records) == 0 {
			return all
		}
		iterator = out.NextShardIterator
	}
	t.Fatalf("GetRecords never reached the end of the shard")
	return nil
}

// readStream reads every shard of stream.
func readStream(t *testing.T, c *kinesis.Client, stream string) []types.Record {
	t.Helper()
	var all []types.Record
	for _, sh := range listAllShards(t, c, stream) {
		all = append(all, readShard(t, c, stream, *sh.ShardId)...)
	}
	return all
}

// shardForKey returns the id of the shard whose hash key range holds the
// MD5 of pk, computed independently of the server.
func shardForKey(t *testing.T, shards []types.Shard, pk string) string {
	t.Helper()
	sum := md5.Sum([]byte(pk))
	return shardForHash(t, shards, new(big.Int).SetBytes(sum[:]))
}

func shardForHash(t *testing.T, shards []types.Shard, h *big.Int) string {
	t.Helper()
	for _, sh := range shards {
		start, end := bigDec(t, *sh.HashKeyRange.StartingHashKey), bigDec(t, *sh.HashKeyRange.EndingHashKey)
		if start.Cmp(h) <= 0 && h.Cmp(end) <= 0 {
			return *sh.ShardId
		}
	}
	t.Fatalf("no shard holds hash key %s", h)
	return ""
}

func bigDec(t *testing.T, s string) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		t.Fatalf("%q is not a decimal integer", s)
	}
	return n
}

// checkSeq checks that s looks like a Kinesis sequence number.
func checkSeq(t *testing.T, s *string) string {
	t.Helper()
	if s == nil {
		t.Fatal("missing sequence number")
	}
	if len(*s) != 56 || strings.Trim(*s, "0123456789") != "" {
		t.Fatalf("sequence number %q is not 56 decimal digits", *s)
	}
	return *s
}

// seqLess compares two sequence numbers numerically.
func seqLess(t *testing.T, a, b string) bool {
	t.Helper()
	return bigDec(t, a).Cmp(bigDec(t, b)) < 0
}

// apiError asserts that err is an *E returned by the service with an
// x-amzn-RequestId, and returns it.
func apiError[E error](t *testing.T, err error) E {
	t.Helper()
	var target E
	if err == nil {
		t.Fatalf("got no error, want %T", target)
	}
	if !errors.As(err, &target) {
		t.Fatalf("got error %v (%T), want %T", err, err, target)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error %v carries no HTTP response", err)
	}
	if re.HTTPStatusCode() != http.StatusBadRequest {
		t.Errorf("%T came with HTTP status %d, want 400", target, re.HTTPStatusCode())
	}
	if re.ServiceRequestID() == "" {
		t.Errorf("%T came without x-amzn-RequestId", target)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorMessage() == "" {
		t.Errorf("%T came without a message", target)
	}
	return target
}

// --- raw HTTP helpers ---

type rawResponse struct {
	status int
	proto  int
	header http.Header
	body   []byte
}

// rawCall posts body to the server with the given target and content type,
// signed with SigV4 for testRegion when sign is true. target "" sends no
// X-Amz-Target header.
func rawCall(t *testing.T, hc *http.Client, url, target, contentType string, body []byte, sign bool) rawResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), http.MethodPost, url+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	if sign {
		sum := sha256.Sum256(body)
		creds := aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "SECRET"}
		if err := v4.NewSigner().SignHTTP(ctxT(t), creds, req, hex.EncodeToString(sum[:]), "kinesis", testRegion, time.Now()); err != nil {
			t.Fatalf("cannot sign: %v", err)
		}
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the response to %s: %v", target, err)
	}
	if resp.Header.Get("X-Amzn-RequestId") == "" {
		t.Errorf("%s: response (status %d) has no x-amzn-RequestId", target, resp.StatusCode)
	}
	return rawResponse{status: resp.StatusCode, proto: resp.ProtoMajor, header: resp.Header, body: b}
}

// postJSON sends a signed JSON 1.1 request for op with body v (a map or raw
// []byte) and returns the response.
func (s *testServer) postJSON(t *testing.T, op string, v any) rawResponse {
	t.Helper()
	body, ok := v.([]byte)
	if !ok {
		var err error
		if body, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	return rawCall(t, nil, s.url, "Kinesis_20131202."+op, "application/x-amz-json-1.1", body, true)
}

// decodeJSONOK decodes a 200 JSON response, keeping numbers exact.
func decodeJSONOK(t *testing.T, r rawResponse) map[string]any {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.status, r.body)
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

// wantJSONError checks a JSON error response: status 400, the error type in
// X-Amzn-ErrorType and __type, and a message containing msg.
func wantJSONError(t *testing.T, r rawResponse, typ, msg string) {
	t.Helper()
	if r.status != http.StatusBadRequest {
		t.Errorf("status %d, want 400 (body %s)", r.status, r.body)
	}
	if got := r.header.Get("X-Amzn-ErrorType"); got != typ {
		t.Errorf("X-Amzn-ErrorType %q, want %q", got, typ)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		t.Errorf("Content-Type %q, want application/x-amz-json-1.1", ct)
	}
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body is not JSON: %v: %q", err, r.body)
	}
	if e.Type != typ {
		t.Errorf("__type %q, want %q (message %q)", e.Type, typ, e.Message)
	}
	if e.Message == "" || !strings.Contains(e.Message, msg) {
		t.Errorf("message %q, want one containing %q", e.Message, msg)
	}
}
