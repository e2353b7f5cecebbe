package ingest

// POST /v1/events.
//
// Behavior: the body is one event or a JSON array of events
// (application/json, application/cloudevents+json,
// application/cloudevents-batch+json; a missing Content-Type means JSON) or
// NDJSON, one event per line (application/x-ndjson, application/ndjson,
// application/jsonl), optionally gzip-compressed (Content-Encoding: gzip).
// At most 5 MiB (after decompression) and 10,000 events; more is a 413. A
// JSON body that is not JSON is a 400 naming the line and column; in NDJSON
// a line that is not JSON is rejected alone. Each event gets a result, in
// order: accepted (with its stream, shard and sequence number), duplicate
// (its id + source was accepted within the dedupe window, or earlier in the
// same request) or rejected (with the error, the field and the reason, and
// retryable when sending it again may succeed). Accepted events are durable
// in their streams before the reply.

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/analytics"
	"github.com/tenantpulse/tenantpulse/internal/bodylimit"
	"github.com/tenantpulse/tenantpulse/internal/dedupe"
	"github.com/tenantpulse/tenantpulse/internal/event"
	"github.com/tenantpulse/tenantpulse/internal/restapi"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// Result statuses and the error codes of rejected events.
const (
	statusAccepted = iota + 1
	statusDuplicate
	statusRejected

	errInvalidEvent   = "InvalidEvent"
	errMalformedJSON  = "MalformedJSON"
	errTooLarge       = "EventTooLarge"
	errThrottled      = "ThroughputExceeded"
	errStreamNotFound = "StreamNotFound"
	errInternal       = "InternalError"
)

// result is what happened to one event of a request.
type result struct {
	status    uint8
	retryable bool
	typ       event.Type
	stream    uint8 // index into streamNames
	idOff     int32 // the event's id in request.arena
	idLen     int32
	tenantOff int32 // its tenant id in request.arena
	tenantLen int32
	dataOff   int32 // its stored bytes in request.stored
	dataLen   int32
	shard     *streamlog.Shard
	key       dedupe.Key
	seq       streamlog.Seq
	dupOf     int32 // the earlier copy in this request, or -1
	wait      *flight
	code      string
	field     string
	reason    string
	// old is set on an accepted event dated (at evTime) before the first
	// day any window holds (request.windowStart): it counts in lifetime
	// totals only, and its result says so ("windowed":false).
	old    bool
	evTime int64
}

var streamNames = [...]string{event.StreamCompanies, event.StreamJobs}

// request is the scratch of one POST, pooled.
type request struct {
	body    []byte
	arena   []byte // ids and tenant ids, escaped-free copies
	stored  []byte // the events as stored, one after another
	results []result
	groups  map[*streamlog.Shard]*group
	glist   []*group
	out     []byte
	dec     event.Decoder
	ev      event.Event
	// windowStart is analytics.WindowStart of the request's time.
	windowStart time.Time
}

// group is one request's events for one shard.
type group struct {
	shard   *streamlog.Shard
	idx     []int32
	entries []streamlog.Entry
	seqs    []streamlog.Seq
	f       *flight
	commit  *streamlog.Commit
}

var requestPool = sync.Pool{New: func() any { return &request{groups: map[*streamlog.Shard]*group{}} }}

func (q *request) reset() {
	q.body = q.body[:0]
	q.arena = q.arena[:0]
	q.stored = q.stored[:0]
	q.results = q.results[:0]
	q.out = q.out[:0]
	clear(q.groups)
	q.glist = q.glist[:0]
}

// badRequest is an error answered with a status for the whole request.
type badRequest struct {
	status int
	code   string
	msg    string
}

func (e *badRequest) Error() string { return e.msg }

func (s *Service) postEvents(w http.ResponseWriter, r *http.Request) {
	q := requestPool.Get().(*request)
	defer func() {
		if cap(q.body) > keepBody {
			q.body = nil
		}
		if cap(q.stored) <= 4*MaxBodyBytes {
			q.reset()
			requestPool.Put(q)
		}
	}()
	q.reset()
	status, err := s.handle(q, r)
	if err != nil {
		var br *badRequest
		if !errors.As(err, &br) {
			br = &badRequest{http.StatusInternalServerError, restapi.CodeInternal, err.Error()}
		}
		s.m.requests(br.status)
		if br == errBusy {
			w.Header().Set("Retry-After", "1")
		}
		restapi.WriteError(w, br.status, br.code, br.msg)
		return
	}
	s.m.requests(status)
	restapi.WriteRaw(w, status, q.out)
}

func (s *Service) handle(q *request, r *http.Request) (int, error) {
	ndjson, err := bodyKind(r.Header.Get("Content-Type"))
	if err != nil {
		return 0, err
	}
	if err := readBody(q, r); err != nil {
		return 0, err
	}
	s.m.bytes.Add(float64(len(q.body)))
	now := s.opts.Now()
	nowMs := now.UnixMilli()
	q.windowStart = analytics.WindowStart(now)
	if ndjson {
		err = s.parseNDJSON(q, nowMs)
	} else {
		err = s.parseJSON(q, nowMs)
	}
	if err != nil {
		return 0, err
	}
	s.write(q, nowMs)
	q.out = s.appendResponse(q.out, q)
	return http.StatusOK, nil
}

// bodyKind tells NDJSON from JSON by the Content-Type.
func bodyKind(ct string) (ndjson bool, err error) {
	if ct == "" {
		return false, nil
	}
	mt, params, perr := mime.ParseMediaType(ct)
	if perr != nil {
		return false, &badRequest{http.StatusUnsupportedMediaType, restapi.CodeUnsupportedMediaType,
			fmt.Sprintf("cannot parse Content-Type %q: %v", ct, perr)}
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return false, &badRequest{http.StatusUnsupportedMediaType, restapi.CodeUnsupportedMediaType,
			fmt.Sprintf("charset %q is not supported; send UTF-8", cs)}
	}
	switch mt {
	case "application/json", "application/cloudevents+json", "application/cloudevents-batch+json", "text/json":
		return false, nil
	case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines":
		return true, nil
	}
	return false, &badRequest{http.StatusUnsupportedMediaType, restapi.CodeUnsupportedMediaType,
		fmt.Sprintf("Content-Type %q is not supported; send application/json (one event or an array) or application/x-ndjson (one event per line)", mt)}
}

var errTooBig = &badRequest{http.StatusRequestEntityTooLarge, restapi.CodePayloadTooLarge,
	fmt.Sprintf("the body is larger than %d bytes (5 MiB); send fewer events per request", MaxBodyBytes)}

// errBusy answers a body past the server's in-flight budget: retriable.
var errBusy = &badRequest{http.StatusTooManyRequests, restapi.CodeTooManyRequests,
	"the server is reading as many request bodies as its memory budget allows (--max-inflight-bytes); retry the same request after a pause (Retry-After)"}

// keepBody is the largest body buffer a pooled request keeps, so an
// attack's buffers do not outlive it.
const keepBody = 1 << 20

// readBody reads the (decompressed) body into q.body, refusing more than
// MaxBodyBytes. The buffer grows with the bytes received
// (bodylimit.ReadAll); decompressed bytes are charged to the request's
// in-flight budget too.
func readBody(q *request, r *http.Request) error {
	if r.ContentLength > MaxBodyBytes && r.Header.Get("Content-Encoding") == "" {
		return errTooBig
	}
	var src io.Reader = r.Body
	switch enc := strings.ToLower(r.Header.Get("Content-Encoding")); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			if berr := bodyError(err); berr != nil {
				return berr
			}
			return &badRequest{http.StatusBadRequest, restapi.CodeInvalidRequest, "the body is not valid gzip: " + err.Error()}
		}
		defer zr.Close()
		src = bodylimit.Decoded(r.Body, zr)
	default:
		return &badRequest{http.StatusUnsupportedMediaType, restapi.CodeUnsupportedMediaType,
			fmt.Sprintf("Content-Encoding %q is not supported; send gzip or no encoding", enc)}
	}
	b, err := bodylimit.ReadAll(src, q.body[:0], MaxBodyBytes)
	q.body = b
	if err != nil {
		if berr := bodyError(err); berr != nil {
			return berr
		}
		return &badRequest{http.StatusBadRequest, restapi.CodeInvalidRequest, "cannot read the body: " + err.Error()}
	}
	return nil
}

// bodyError is the answer to a body that could not be read for a reason
// of the server's limits, or nil.
func bodyError(err error) *badRequest {
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, bodylimit.ErrTooLarge), errors.As(err, &mbe):
		return errTooBig
	case errors.Is(err, bodylimit.ErrBusy):
		return errBusy
	case errors.Is(err, bodylimit.ErrTimeout):
		return &badRequest{http.StatusRequestTimeout, restapi.CodeRequestTimeout, err.Error()}
	}
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// parseJSON parses one event or an array of them.
func (s *Service) parseJSON(q *request, nowMs int64) error {
	b := q.body
	i := skipSpace(b, 0)
	if i == len(b) {
		return &badRequest{http.StatusBadRequest, restapi.CodeInvalidRequest, "the body is empty; send one event or a JSON array of events"}
	}
	if b[i] != '[' {
		n, err := q.decode(b[i:])
		if se := (*event.SyntaxError)(nil); errors.As(err, &se) {
			return malformed(b, i+se.Offset, se.Msg)
		}
		if j := skipSpace(b, i+n); j != len(b) {
			return malformed(b, j, "unexpected data after the event; send a JSON array to send several")
		}
		s.addEvent(q, b[i:i+n], err, nowMs)
		return nil
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		if j := skipSpace(b, i+1); j != len(b) {
			return malformed(b, j, "unexpected data after the array")
		}
		return &badRequest{http.StatusBadRequest, restapi.CodeInvalidRequest, "the array holds no events"}
	}
	for {
		if len(q.results) == MaxRequestEvents {
			return &badRequest{http.StatusRequestEntityTooLarge, restapi.CodePayloadTooLarge,
				fmt.Sprintf("the request holds more than %d events; send fewer per request", MaxRequestEvents)}
		}
		n, err := q.decode(b[i:])
		if se := (*event.SyntaxError)(nil); errors.As(err, &se) {
			return malformed(b, i+se.Offset, se.Msg)
		}
		s.addEvent(q, b[i:i+n], err, nowMs)
		i = skipSpace(b, i+n)
		if i == len(b) {
			return malformed(b, i, "the array is not closed; expected ',' or ']'")
		}
		if b[i] == ']' {
			break
		}
		if b[i] != ',' {
			return malformed(b, i, "expected ',' or ']' after an event in the array")
		}
		i = skipSpace(b, i+1)
	}
	if j := skipSpace(b, i+1); j != len(b) {
		return malformed(b, j, "unexpected data after the array")
	}
	return nil
}

// parseNDJSON parses one event per line; blank lines are skipped, and a
// line that is not JSON is rejected alone.
func (s *Service) parseNDJSON(q *request, nowMs int64) error {
	b := q.body
	line := 0
	for start := 0; start < len(b); {
		end := bytes.IndexByte(b[start:], '\n')
		if end < 0 {
			end = len(b)
		} else {
			end += start
		}
		line++
		l := b[start:end]
		start = end + 1
		i := skipSpace(l, 0)
		if i == len(l) {
			continue
		}
		if len(q.results) == MaxRequestEvents {
			return &badRequest{http.StatusRequestEntityTooLarge, restapi.CodePayloadTooLarge,
				fmt.Sprintf("the request holds more than %d events; send fewer per request", MaxRequestEvents)}
		}
		n, err := q.decode(l[i:])
		if se := (*event.SyntaxError)(nil); errors.As(err, &se) {
			s.reject(q, errMalformedJSON, "", fmt.Sprintf("line %d is not valid JSON at column %d: %s", line, i+se.Offset+1, se.Msg))
			continue
		}
		if j := skipSpace(l, i+n); j != len(l) {
			s.reject(q, errMalformedJSON, "", fmt.Sprintf("line %d has data after the event at column %d; put one event per line", line, j+1))
			continue
		}
		s.addEvent(q, l[i:i+n], err, nowMs)
	}
	if len(q.results) == 0 {
		return &badRequest{http.StatusBadRequest, restapi.CodeInvalidRequest, "the body holds no events; send one event per line"}
	}
	return nil
}

// malformed is the 400 for a JSON body that breaks at byte off.
func malformed(b []byte, off int, msg string) error {
	off = min(off, len(b))
	line := 1 + bytes.Count(b[:off], []byte{'\n'})
	col := off - (bytes.LastIndexByte(b[:off], '\n') + 1) + 1
	return &badRequest{http.StatusBadRequest, restapi.CodeMalformedJSON,
		fmt.Sprintf("the body is not valid JSON at line %d, column %d (byte %d): %s", line, col, off, msg)}
}

func (s *Service) reject(q *request, code, field, reason string) {
	q.results = append(q.results, result{status: statusRejected, code: code, field: field, reason: reason, dupOf: -1})
}

// addEvent records one parsed value: a valid event is prepared for
// writing, anything else rejected with its reason.
func (s *Service) addEvent(q *request, raw []byte, err error, nowMs int64) {
	ev := &q.ev
	if err != nil {
		var fe *event.FieldError
		if errors.As(err, &fe) {
			code := errInvalidEvent
			if len(raw) > event.MaxSize {
				code = errTooLarge
			}
			s.reject(q, code, fe.Field, fe.Reason)
			r := &q.results[len(q.results)-1]
			r.idOff, r.idLen = q.addArena(ev.ID)
			return
		}
		s.reject(q, errInternal, "", err.Error())
		return
	}
	now := nowMs * 1e6
	if by, ahead := event.Ahead(ev.Time, now, s.opts.MaxFuture); ahead {
		s.reject(q, errInvalidEvent, "time", fmt.Sprintf("%s is %s ahead of the server's clock (%s); an event may be at most %s ahead (max_future): send the time the thing happened, and check the sender's clock",
			event.AppendTime(nil, ev.Time), by, event.AppendTime(nil, now), s.opts.MaxFuture))
		r := &q.results[len(q.results)-1]
		r.idOff, r.idLen = q.addArena(ev.ID)
		return
	}
	r := result{status: statusAccepted, dupOf: -1, typ: ev.Type}
	if ev.Time < q.windowStart.UnixNano() {
		r.old, r.evTime = true, ev.Time
	}
	if ev.Type.Stream() == event.StreamJobs {
		r.stream = 1
	}
	r.idOff, r.idLen = q.addArena(ev.ID)
	r.tenantOff, r.tenantLen = q.addArena(ev.TenantID)
	r.key = dedupe.KeyOf(ev.ID, ev.Source)
	off := len(q.stored)
	q.stored = event.AppendStored(q.stored, ev, nowMs)
	r.dataOff, r.dataLen = int32(off), int32(len(q.stored)-off)
	if r.dataLen > event.MaxSize {
		r.status, r.code, r.reason = statusRejected, errTooLarge, fmt.Sprintf("the event is %d bytes as stored; the limit is %d", r.dataLen, event.MaxSize)
		q.stored = q.stored[:off]
	}
	q.results = append(q.results, r)
}

// decode decodes the value at the start of b into q.ev, cleared first so
// a rejected event reports only what was read of it.
func (q *request) decode(b []byte) (int, error) {
	q.ev = event.Event{}
	return q.dec.Decode(b, &q.ev)
}

func (q *request) addArena(b []byte) (int32, int32) {
	off := len(q.arena)
	q.arena = append(q.arena, b...)
	return int32(off), int32(len(b))
}
