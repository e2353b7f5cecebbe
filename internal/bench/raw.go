package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Kinesis JSON 1.1 wire constants.
const (
	contentTypeJSON11  = "application/x-amz-json-1.1"
	targetPutRecords   = "Kinesis_20131202.PutRecords"
	targetGetRecords   = "Kinesis_20131202.GetRecords"
	signingServiceName = "kinesis"
	// verifyEvery is how often (in GetRecords responses) raw mode fully
	// parses a response to check its cheap record count.
	verifyEvery = 100
)

// Keys the raw mode looks for in responses. A JSON key cannot occur inside
// a string value unescaped, so bytes.Index/Count find only real keys.
var (
	keyFailedRecordCount  = []byte(`"FailedRecordCount"`)
	keySequenceNumber     = []byte(`"SequenceNumber"`)
	keyNextShardIterator  = []byte(`"NextShardIterator"`)
	keyMillisBehindLatest = []byte(`"MillisBehindLatest"`)
)

// apiError is an error response of the Kinesis API as the raw mode sees it.
type apiError struct {
	Status  int
	Type    string // __type without namespace, e.g. ResourceNotFoundException
	Message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s (HTTP %d): %s", e.Type, e.Status, e.Message)
}

// ErrorCode matches smithy.APIError so isThrottle handles both modes.
func (e *apiError) ErrorCode() string { return e.Type }

// isThrottle reports whether err is a throttling error worth retrying after
// a short pause.
func isThrottle(err error) bool {
	var ae interface{ ErrorCode() string }
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "ProvisionedThroughputExceededException", "ThrottlingException", "KMSThrottlingException":
		return true
	}
	return false
}

// parseAPIError builds an apiError from a non-200 response.
func parseAPIError(status int, header http.Header, body []byte) *apiError {
	e := &apiError{Status: status}
	var wire struct {
		Type     string `json:"__type"`
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	if json.Unmarshal(body, &wire) == nil {
		e.Type, e.Message = wire.Type, wire.Message
		if e.Message == "" {
			e.Message = wire.MessageU
		}
	}
	if e.Type == "" {
		e.Type = header.Get("X-Amzn-ErrorType")
	}
	// Strip a namespace ("com.amazonaws.kinesis#X") and a suffix ("X:http://...").
	if i := strings.LastIndexByte(e.Type, '#'); i >= 0 {
		e.Type = e.Type[i+1:]
	}
	if i := strings.IndexByte(e.Type, ':'); i >= 0 {
		e.Type = e.Type[:i]
	}
	if e.Type == "" {
		e.Type = "UnknownError"
	}
	if e.Message == "" {
		e.Message = strings.TrimSpace(string(body[:min(len(body), 200)]))
	}
	return e
}

// rawClient posts pre-encoded JSON 1.1 requests over keep-alive connections.
type rawClient struct {
	hc     *http.Client
	url    string
	sign   bool
	signer *v4.Signer
	creds  aws.Credentials
	region string
	bufs   sync.Pool // *bytes.Buffer for response bodies
}

func newRawClient(o KinesisOptions, creds aws.Credentials) *rawClient {
	conns := max(o.Producers, o.Consumers, o.Shards) + 4
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          2 * conns,
		MaxIdleConnsPerHost:   conns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
	u := o.Endpoint
	if pu, err := url.Parse(u); err == nil && pu.Path == "" {
		u += "/"
	}
	return &rawClient{
		hc:     &http.Client{Transport: tr},
		url:    u,
		sign:   o.Sign,
		signer: v4.NewSigner(),
		creds:  creds,
		region: o.Region,
		bufs:   sync.Pool{New: func() any { return new(bytes.Buffer) }},
	}
}

func (c *rawClient) close() { c.hc.CloseIdleConnections() }

func (c *rawClient) getBuf() *bytes.Buffer  { return c.bufs.Get().(*bytes.Buffer) }
func (c *rawClient) putBuf(b *bytes.Buffer) { c.bufs.Put(b) }

// post sends body to the operation target and reads a 200 response body
// into buf. payloadHash is the hex SHA-256 of body when already known.
func (c *rawClient) post(ctx context.Context, target string, body []byte, payloadHash string, buf *bytes.Buffer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("cannot build request: %w", err)
	}
	req.Header["Content-Type"] = []string{contentTypeJSON11}
	req.Header["X-Amz-Target"] = []string{target}
	if c.sign {
		if payloadHash == "" {
			payloadHash = hashHex(body)
		}
		if err := c.signer.SignHTTP(ctx, c.creds, req, payloadHash, signingServiceName, c.region, time.Now()); err != nil {
			return fmt.Errorf("cannot sign request: %w", err)
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return fmt.Errorf("cannot read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return parseAPIError(resp.StatusCode, resp.Header, buf.Bytes())
	}
	return nil
}

func hashHex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// rawPutter sends pre-encoded PutRecords bodies.
type rawPutter struct {
	rc         *rawClient
	streamJSON []byte
	w          *workload
	bodies     [][]byte
	hashes     []string // payload hashes of bodies when signing
}

func newRawPutter(rc *rawClient, stream string, w *workload) (*rawPutter, error) {
	sj, err := json.Marshal(stream)
	if err != nil {
		return nil, fmt.Errorf("cannot encode stream name: %w", err)
	}
	p := &rawPutter{rc: rc, streamJSON: sj, w: w}
	for _, b := range w.batches {
		body := appendPutRecords(nil, sj, b)
		p.bodies = append(p.bodies, body)
		if rc.sign {
			p.hashes = append(p.hashes, hashHex(body))
		} else {
			p.hashes = append(p.hashes, "")
		}
	}
	return p, nil
}

// appendPutRecords appends a PutRecords request body to dst.
func appendPutRecords(dst, streamJSON []byte, recs []recordRef) []byte {
	dst = append(dst, `{"StreamName":`...)
	dst = append(dst, streamJSON...)
	dst = append(dst, `,"Records":[`...)
	for i, r := range recs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"Data":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, r.data)
		dst = append(dst, `","PartitionKey":`...)
		dst = appendJSONString(dst, r.key)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

func appendJSONString(dst []byte, s string) []byte {
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("BUG: cannot encode string: %v", err))
	}
	return append(dst, b...)
}

func (p *rawPutter) putPrepared(ctx context.Context, idx int) (putResult, error) {
	return p.send(ctx, p.bodies[idx], p.hashes[idx], p.w.batches[idx])
}

func (p *rawPutter) putRecords(ctx context.Context, recs []recordRef) (putResult, error) {
	return p.send(ctx, appendPutRecords(nil, p.streamJSON, recs), "", recs)
}

func (p *rawPutter) send(ctx context.Context, body []byte, hash string, recs []recordRef) (putResult, error) {
	buf := p.rc.getBuf()
	defer p.rc.putBuf(buf)
	if err := p.rc.post(ctx, targetPutRecords, body, hash, buf); err != nil {
		return putResult{}, fmt.Errorf("PutRecords: %w", err)
	}
	if n, ok := jsonIntField(buf.Bytes(), keyFailedRecordCount); ok && n == 0 {
		return putResult{}, nil
	}
	return parsePutFailures(buf.Bytes(), recs)
}

// parsePutFailures fully parses a PutRecords response (the rare path) and
// returns the entries to retry.
func parsePutFailures(body []byte, recs []recordRef) (putResult, error) {
	var res putResult
	var resp struct {
		Records []struct {
			ErrorCode    string
			ErrorMessage string
		}
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return res, fmt.Errorf("PutRecords: cannot parse response: %w", err)
	}
	if len(resp.Records) != len(recs) {
		return res, fmt.Errorf("PutRecords: %d result entries for %d records", len(resp.Records), len(recs))
	}
	for i, r := range resp.Records {
		if r.ErrorCode != "" {
			res.failed = append(res.failed, recs[i])
			res.errorCode = r.ErrorCode
		}
	}
	return res, nil
}

// rawReader reads shards with hand-built GetRecords bodies. Its iterators
// are JSON string tokens (quotes and escapes included) so they are copied
// from a response into the next request without decoding.
type rawReader struct {
	rc     *rawClient
	api    *sdkClient
	stream string
	size   int
	pages  atomic.Int64
}

func (r *rawReader) iterator(ctx context.Context, shard string) (string, error) {
	it, err := r.api.trimHorizon(ctx, r.stream, shard)
	if err != nil {
		return "", err
	}
	return string(appendJSONString(nil, it)), nil
}

func (r *rawReader) getRecords(ctx context.Context, iter string) (page, error) {
	body := make([]byte, 0, len(iter)+48)
	body = append(body, `{"ShardIterator":`...)
	body = append(body, iter...)
	body = append(body, `,"Limit":10000}`...)
	buf := r.rc.getBuf()
	defer r.rc.putBuf(buf)
	if err := r.rc.post(ctx, targetGetRecords, body, "", buf); err != nil {
		return page{}, fmt.Errorf("GetRecords: %w", err)
	}
	pg, err := scanGetRecords(buf.Bytes(), r.pages.Add(1)%verifyEvery == 1)
	if err != nil {
		return page{}, fmt.Errorf("GetRecords: %w", err)
	}
	pg.bytes = int64(pg.records) * int64(r.size)
	return pg, nil
}

// scanGetRecords extracts the record count, NextShardIterator (as a JSON
// token) and MillisBehindLatest from a GetRecords response without parsing
// it. With verify, it also parses it fully and checks the cheap results.
func scanGetRecords(b []byte, verify bool) (page, error) {
	pg := page{records: bytes.Count(b, keySequenceNumber)}
	tok, err := jsonStringToken(b, keyNextShardIterator)
	if err != nil {
		return pg, err
	}
	pg.next = string(tok)
	pg.behind, _ = jsonIntField(b, keyMillisBehindLatest)
	if !verify {
		return pg, nil
	}
	var full struct {
		Records []struct {
			SequenceNumber *string
		}
		NextShardIterator *string
	}
	if err := json.Unmarshal(b, &full); err != nil {
		return pg, fmt.Errorf("response is not valid JSON: %w", err)
	}
	if len(full.Records) != pg.records {
		return pg, fmt.Errorf("counted %d %s keys but the response has %d records", pg.records, keySequenceNumber, len(full.Records))
	}
	var next string
	if full.NextShardIterator != nil {
		next = string(appendJSONString(nil, *full.NextShardIterator))
	}
	if (next == "") != (pg.next == "") {
		return pg, fmt.Errorf("scanned NextShardIterator %q disagrees with parsed %q", pg.next, next)
	}
	return pg, nil
}

// jsonIntField finds key (a quoted JSON key) in b and parses the integer
// after it. ok is false if the key is absent or its value is not an integer.
func jsonIntField(b, key []byte) (n int64, ok bool) {
	i := jsonValueStart(b, key)
	if i < 0 {
		return 0, false
	}
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	start := i
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int64(b[i]-'0')
	}
	if i == start {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// jsonStringToken finds key in b and returns its string value as a raw JSON
// token, quotes and escapes included; nil if the key is absent or null.
func jsonStringToken(b, key []byte) ([]byte, error) {
	i := jsonValueStart(b, key)
	if i < 0 || bytes.HasPrefix(b[i:], []byte("null")) {
		return nil, nil
	}
	if i >= len(b) || b[i] != '"' {
		return nil, fmt.Errorf("%s is not a string", key)
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return b[i : j+1], nil
		}
	}
	return nil, fmt.Errorf("%s: unterminated string", key)
}

// jsonValueStart returns the offset of the value of key in b, or -1.
func jsonValueStart(b, key []byte) int {
	i := bytes.Index(b, key)
	if i < 0 {
		return -1
	}
	i = skipSpace(b, i+len(key))
	if i >= len(b) || b[i] != ':' {
		return -1
	}
	return skipSpace(b, i+1)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
