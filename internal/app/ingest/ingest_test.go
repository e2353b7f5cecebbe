package ingest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"github.com/prometheus/client_golang/prometheus"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/event"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

type testServer struct {
	t     *testing.T
	dir   string
	store *streamlog.Store
	svc   *Service
	url   string
	now   *atomic.Int64 // Unix ms; 0 means the wall clock
}

func startTest(t *testing.T, dir string, opts Options) *testServer {
	return startTestStore(t, dir, opts, streamlog.Options{})
}

func startTestStore(t *testing.T, dir string, opts Options, so streamlog.Options) *testServer {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	ts := &testServer{t: t, dir: dir, now: new(atomic.Int64)}
	now := func() time.Time {
		if ms := ts.now.Load(); ms != 0 {
			return time.UnixMilli(ms)
		}
		return time.Now()
	}
	so.Dir, so.Now = dir, now
	store, err := streamlog.Open(so)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"companies", "jobs"} {
		if _, err := store.Stream(name); err != nil {
			if _, err := store.CreateStream(streamlog.StreamConfig{Name: name, ShardCount: 2}); err != nil {
				t.Fatal(err)
			}
		}
	}
	opts.Store, opts.Now = store, now
	svc := New(opts)
	if err := svc.Rebuild(); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	svc.Register(mux)
	hs := httptest.NewServer(mux)
	ts.store, ts.svc, ts.url = store, svc, hs.URL
	t.Cleanup(func() { hs.Close(); store.Close() })
	return ts
}

type reply struct {
	FailedEventCount int           `json:"failedEventCount"`
	Results          []replyResult `json:"results"`
}

// replyResult is one event's result.
type replyResult struct {
	Status         string `json:"status"`
	ID             string `json:"id"`
	Stream         string `json:"stream"`
	ShardID        string `json:"shardId"`
	SequenceNumber string `json:"sequenceNumber"`
	Error          string `json:"error"`
	Field          string `json:"field"`
	Reason         string `json:"reason"`
	Retryable      bool   `json:"retryable"`
	Windowed       *bool  `json:"windowed"` // absent unless false
}

func (ts *testServer) post(ct string, body []byte, hdr ...string) (int, []byte) {
	ts.t.Helper()
	req, _ := http.NewRequest("POST", ts.url+"/v1/events", bytes.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if got := resp.Header.Get("Content-Type"); got != "application/json" {
		ts.t.Errorf("Content-Type = %q", got)
	}
	return resp.StatusCode, b
}

func (ts *testServer) send(ct string, body string) reply {
	ts.t.Helper()
	code, b := ts.post(ct, []byte(body))
	if code != 200 {
		ts.t.Fatalf("status %d: %s", code, b)
	}
	var r reply
	if err := json.Unmarshal(b, &r); err != nil {
		ts.t.Fatalf("reply %s: %v", b, err)
	}
	return r
}

// stored returns every record in stream name, in shard order.
func (ts *testServer) stored(name string) []map[string]any {
	ts.t.Helper()
	st, err := ts.store.Stream(name)
	if err != nil {
		ts.t.Fatal(err)
	}
	var out []map[string]any
	buf := make([]byte, streamlog.MinReadBuffer)
	for _, sh := range st.Shards() {
		for from := uint64(0); ; {
			res, err := sh.Read(from, 1000, 1<<30, buf, nil)
			if err != nil {
				ts.t.Fatal(err)
			}
			for _, r := range res.Records {
				var m map[string]any
				if err := json.Unmarshal(r.Data, &m); err != nil {
					ts.t.Fatalf("stored record %q is not JSON: %v", r.Data, err)
				}
				if m["tenantid"] != string(r.PartitionKey) {
					ts.t.Errorf("record partition key %q, tenantid %v", r.PartitionKey, m["tenantid"])
				}
				out = append(out, m)
			}
			from = res.Next
			if res.AtEnd || len(res.Records) == 0 {
				break
			}
		}
	}
	return out
}

func ev(id, typ, tenant, data string) string {
	return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"test","type":%q,"time":"2026-11-25T10:00:00.123Z","tenantid":%q,"data":%s}`, id, typ, tenant, data)
}

func TestAcceptedEventIsStoredWithReceivedTime(t *testing.T) {
	ts := startTest(t, "", Options{})
	ts.now.Store(time.Date(2026, 11, 25, 12, 0, 0, 456e6, time.UTC).UnixMilli())
	r := ts.send("application/json", ev("e1", "job.submitted", "acme", `{"jobId":"j1","userId":"u1","dataSize":10,"extra":{"kept":[1,2]}}`))
	if r.FailedEventCount != 0 || len(r.Results) != 1 {
		t.Fatalf("reply %+v", r)
	}
	got := r.Results[0]
	if got.Status != "accepted" || got.ID != "e1" || got.Stream != "jobs" || !strings.HasPrefix(got.ShardID, "shardId-") || len(got.SequenceNumber) != 56 {
		t.Fatalf("result %+v", got)
	}
	recs := ts.stored("jobs")
	if len(recs) != 1 || len(ts.stored("companies")) != 0 {
		t.Fatalf("stored %d in jobs, want 1 (and none in companies)", len(recs))
	}
	m := recs[0]
	if m["receivedtime"] != "2026-11-25T12:00:00.456Z" {
		t.Errorf("receivedtime = %v", m["receivedtime"])
	}
	data := m["data"].(map[string]any)
	if data["jobId"] != "j1" || data["extra"] == nil {
		t.Errorf("stored data %v lost fields", data)
	}
}

func TestRoutingByTenant(t *testing.T) {
	ts := startTest(t, "", Options{})
	var body strings.Builder
	body.WriteString("[")
	for i := range 200 {
		if i > 0 {
			body.WriteString(",")
		}
		tenant := fmt.Sprintf("t%d", i%20)
		if i%2 == 0 {
			body.WriteString(ev(fmt.Sprint("u", i), "user.login", tenant, `{"userId":"u","sessionId":"s"}`))
		} else {
			body.WriteString(ev(fmt.Sprint("j", i), "job.cancelled", tenant, `{"jobId":"j","userId":"u"}`))
		}
	}
	body.WriteString("]")
	r := ts.send("application/cloudevents-batch+json", body.String())
	shardOf := map[string]string{}
	for i, res := range r.Results {
		if res.Status != "accepted" {
			t.Fatalf("event %d: %+v", i, res)
		}
		tenant := fmt.Sprintf("t%d", i%20)
		wantStream := map[bool]string{true: "companies", false: "jobs"}[i%2 == 0]
		if res.Stream != wantStream {
			t.Fatalf("event %d went to %s, want %s", i, res.Stream, wantStream)
		}
		k := res.Stream + "/" + tenant
		if prev, ok := shardOf[k]; ok && prev != res.ShardID {
			t.Fatalf("tenant %s is in %s and %s of %s", tenant, prev, res.ShardID, res.Stream)
		}
		shardOf[k] = res.ShardID
		st, _ := ts.store.Stream(res.Stream)
		if want := st.ShardFor(streamlog.HashPartitionKey([]byte(tenant))).ID(); res.ShardID != want {
			t.Fatalf("tenant %s routed to %s, MD5 says %s", tenant, res.ShardID, want)
		}
	}
	if n := len(ts.stored("companies")) + len(ts.stored("jobs")); n != 200 {
		t.Fatalf("stored %d events, want 200", n)
	}
}

func TestPartialBatch(t *testing.T) {
	ts := startTest(t, "", Options{})
	ts.send("application/json", ev("old", "user.added", "acme", `{"userId":"u1"}`))
	body := "[" + strings.Join([]string{
		ev("a", "user.added", "acme", `{"userId":"u2"}`),
		ev("b", "user.added", "acme", `{}`),
		`42`,
		ev("a", "user.added", "acme", `{"userId":"u2"}`),
		ev("old", "user.added", "acme", `{"userId":"u1"}`),
		ev("c", "job.terminated", "acme", `{"jobId":"j","status":"maybe","durationMs":1}`),
		ev("d", "job.terminated", "acme", `{"jobId":"j","status":"failed","durationMs":1}`),
	}, ",\n") + "]"
	r := ts.send("application/json", body)
	want := []struct{ status, id, err, field string }{
		{"accepted", "a", "", ""},
		{"rejected", "b", "InvalidEvent", "data.userId"},
		{"rejected", "", "InvalidEvent", ""},
		{"duplicate", "a", "", ""},
		{"duplicate", "old", "", ""},
		{"rejected", "c", "InvalidEvent", "data.status"},
		{"accepted", "d", "", ""},
	}
	if r.FailedEventCount != 3 || len(r.Results) != len(want) {
		t.Fatalf("reply %+v", r)
	}
	for i, w := range want {
		g := r.Results[i]
		if g.Status != w.status || g.ID != w.id || g.Error != w.err || g.Field != w.field {
			t.Errorf("result %d = %+v, want %+v", i, g, w)
		}
		if g.Status == "rejected" && (g.Reason == "" || g.Retryable) {
			t.Errorf("result %d: rejection %+v lacks a reason or claims to be retryable", i, g)
		}
	}
	if n := len(ts.stored("companies")); n != 2 {
		t.Errorf("companies holds %d events, want 2 (old, a)", n)
	}
	if n := len(ts.stored("jobs")); n != 1 {
		t.Errorf("jobs holds %d events, want 1 (d)", n)
	}
}

func TestNDJSONRejectsABadLineAlone(t *testing.T) {
	ts := startTest(t, "", Options{})
	body := ev("1", "user.login", "t", `{"userId":"u","sessionId":"s"}`) + "\n" +
		`{"specversion":"1.0","id":"2",` + "\n" +
		"\r\n" +
		ev("3", "user.logoff", "t", `{"userId":"u","sessionId":"s"}`) + " x\n" +
		ev("4", "user.logoff", "t", `{"userId":"u","sessionId":"s"}`) + "\r\n"
	r := ts.send("application/x-ndjson", body)
	if r.FailedEventCount != 2 || len(r.Results) != 4 {
		t.Fatalf("reply %+v", r)
	}
	for i, want := range []string{"accepted", "rejected", "rejected", "accepted"} {
		if r.Results[i].Status != want {
			t.Errorf("line result %d = %+v, want %s", i, r.Results[i], want)
		}
	}
	if !strings.Contains(r.Results[1].Reason, "line 2") || r.Results[1].Error != "MalformedJSON" {
		t.Errorf("bad line's result %+v does not name line 2", r.Results[1])
	}
	if !strings.Contains(r.Results[2].Reason, "line 4") {
		t.Errorf("trailing data's result %+v does not name line 4", r.Results[2])
	}
	if n := len(ts.stored("companies")); n != 2 {
		t.Errorf("stored %d, want 2", n)
	}
}

func TestBadRequests(t *testing.T) {
	ts := startTest(t, "", Options{})
	f := func(ct, body string, wantCode int, wantErr, wantMsg string) {
		t.Helper()
		code, b := ts.post(ct, []byte(body))
		var e struct{ Error, Message string }
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("%q: reply %s: %v", body, b, err)
		}
		if code != wantCode || e.Error != wantErr || !strings.Contains(e.Message, wantMsg) {
			t.Errorf("%q: got %d %s %q, want %d %s containing %q", body, code, e.Error, e.Message, wantCode, wantErr, wantMsg)
		}
	}
	f("application/json", `{"specversion":`, 400, "MalformedJSON", "line 1, column 16")
	f("application/json", "[\n"+ev("1", "user.added", "t", `{"userId":"u"}`)+",\n  {\"a\" 1}]", 400, "MalformedJSON", "line 3, column 8")
	f("application/json", ev("1", "user.added", "t", `{"userId":"u"}`)+" {}", 400, "MalformedJSON", "unexpected data after the event")
	f("application/json", `[`+ev("1", "user.added", "t", `{"userId":"u"}`), 400, "MalformedJSON", "not closed")
	f("application/json", "   ", 400, "InvalidRequest", "empty")
	f("application/json", "[]", 400, "InvalidRequest", "no events")
	f("application/x-ndjson", "\n\n", 400, "InvalidRequest", "no events")
	f("text/plain", "{}", 415, "UnsupportedMediaType", "application/x-ndjson")
	f("application/json; charset=latin1", "{}", 415, "UnsupportedMediaType", "UTF-8")
	// No event of a rejected body is stored.
	if n := len(ts.stored("companies")); n != 0 {
		t.Errorf("bad requests stored %d events", n)
	}

	// Too large: bytes, events.
	big := bytes.Repeat([]byte(" "), MaxBodyBytes+1)
	copy(big, "[")
	if code, b := ts.post("application/json", big); code != 413 || !bytes.Contains(b, []byte("PayloadTooLarge")) {
		t.Errorf("oversized body: %d %s", code, b)
	}
	var many bytes.Buffer
	for i := range MaxRequestEvents + 1 {
		many.WriteString(ev(fmt.Sprint(i), "user.added", "t", `{"userId":"u"}`) + "\n")
	}
	if code, b := ts.post("application/x-ndjson", many.Bytes()); code != 413 || !bytes.Contains(b, []byte("10000 events")) {
		t.Errorf("10,001 events: %d %s", code, b)
	}
	if n := len(ts.stored("companies")); n != 0 {
		t.Errorf("oversized requests stored %d events", n)
	}

	// Wrong method.
	resp, err := http.Get(ts.url + "/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET /v1/events: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestEventSizeLimit(t *testing.T) {
	ts := startTest(t, "", Options{})
	pad := strings.Repeat("x", event.MaxSize)
	body := ev("big", "user.added", "t", `{"userId":"u","pad":"`+pad+`"}`) + "\n" + ev("ok", "user.added", "t", `{"userId":"u"}`)
	r := ts.send("application/x-ndjson", body)
	if len(r.Results) != 2 || r.Results[0].Status != "rejected" || r.Results[0].Error != "EventTooLarge" || r.Results[1].Status != "accepted" {
		t.Fatalf("reply %+v", r)
	}
}

func TestGzipBody(t *testing.T) {
	ts := startTest(t, "", Options{})
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	io.WriteString(zw, ev("z", "user.added", "t", `{"userId":"u"}`))
	zw.Close()
	code, b := ts.post("application/json", zb.Bytes(), "Content-Encoding", "gzip")
	if code != 200 || !bytes.Contains(b, []byte(`"accepted"`)) {
		t.Fatalf("gzip: %d %s", code, b)
	}
	// A bomb: more than 5 MiB once inflated.
	zb.Reset()
	zw = gzip.NewWriter(&zb)
	zw.Write(bytes.Repeat([]byte(" "), MaxBodyBytes+10))
	zw.Close()
	if code, b := ts.post("application/json", zb.Bytes(), "Content-Encoding", "gzip"); code != 413 {
		t.Fatalf("inflated oversize: %d %s", code, b)
	}
}

func TestDedupeWindowExpires(t *testing.T) {
	ts := startTest(t, "", Options{DedupeWindow: time.Minute})
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).UnixMilli() // the event's time is 10:00:00.123: not ahead of max-future
	e := ev("e", "user.added", "t", `{"userId":"u"}`)
	for _, c := range []struct {
		at   int64
		want string
	}{{0, "accepted"}, {59_999, "duplicate"}, {60_000, "accepted"}, {60_001, "duplicate"}} {
		ts.now.Store(base + c.at)
		if r := ts.send("", e); r.Results[0].Status != c.want {
			t.Errorf("at +%dms: %s, want %s", c.at, r.Results[0].Status, c.want)
		}
	}
	// The same id from another source is another event.
	if r := ts.send("", strings.Replace(e, `"source":"test"`, `"source":"other"`, 1)); r.Results[0].Status != "accepted" {
		t.Errorf("same id, other source: %s", r.Results[0].Status)
	}
	if n := len(ts.stored("companies")); n != 3 {
		t.Errorf("stored %d, want 3", n)
	}
}

// Many clients racing to send the same events: each is stored once.
func TestConcurrentDuplicates(t *testing.T) {
	ts := startTest(t, "", Options{})
	var body strings.Builder
	for i := range 50 {
		body.WriteString(ev(fmt.Sprint("e", i), "job.submitted", fmt.Sprint("t", i%7), `{"jobId":"j","userId":"u","dataSize":1}`) + "\n")
	}
	var accepted, dups atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, b := ts.post("application/x-ndjson", []byte(body.String()))
			var r reply
			if code != 200 || json.Unmarshal(b, &r) != nil {
				t.Errorf("%d %s", code, b)
				return
			}
			for _, res := range r.Results {
				switch res.Status {
				case "accepted":
					accepted.Add(1)
				case "duplicate":
					dups.Add(1)
				default:
					t.Errorf("result %+v", res)
				}
			}
		}()
	}
	wg.Wait()
	if accepted.Load() != 50 || dups.Load() != 7*50 {
		t.Fatalf("accepted %d, duplicates %d; want 50 and 350", accepted.Load(), dups.Load())
	}
	if n := len(ts.stored("jobs")); n != 50 {
		t.Fatalf("stored %d, want 50", n)
	}
}

// After a restart the window is rebuilt from the streams.
func TestDedupeSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ts := startTest(t, dir, Options{})
	ts.send("", ev("r1", "user.added", "t", `{"userId":"u"}`))
	ts.store.Close()
	ts2 := startTest(t, dir, Options{})
	if got := ts2.svc.DedupeStats().Entries; got != 1 {
		t.Fatalf("rebuilt window holds %d identities, want 1", got)
	}
	if r := ts2.send("", ev("r1", "user.added", "t", `{"userId":"u"}`)); r.Results[0].Status != "duplicate" {
		t.Fatalf("after restart: %+v", r.Results[0])
	}
}

// A write that fails is reported retryable and forgotten by the window,
// so sending it again is not mistaken for a duplicate.
func TestFailedWriteIsRetryable(t *testing.T) {
	// A data disk that never has the free space asked for refuses writes.
	ts := startTestStore(t, "", Options{}, streamlog.Options{MinFreeBytes: 1 << 62})
	r := ts.send("", ev("f1", "user.added", "t", `{"userId":"u"}`))
	if g := r.Results[0]; g.Status != "rejected" || !g.Retryable || g.Error != "ThroughputExceeded" || r.FailedEventCount != 1 {
		t.Fatalf("write to a closed store: %+v", r)
	}
	if n := ts.svc.DedupeStats().Entries; n != 0 {
		t.Fatalf("the window remembers %d identities of failed writes", n)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	ts := startTest(t, "", Options{Registerer: reg, DedupeMaxBytes: 1 << 20})
	ts.send("application/x-ndjson", ev("m1", "user.added", "t", `{"userId":"u"}`)+"\n"+ev("m1", "user.added", "t", `{"userId":"u"}`)+"\n"+ev("m2", "user.added", "t", `{}`))
	ts.post("text/plain", []byte("x"))
	got := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "/" + l.GetValue()
			}
			got[name] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	for name, want := range map[string]float64{
		"tenantpulse_events_total/accepted":               1,
		"tenantpulse_events_total/duplicate":              1,
		"tenantpulse_events_total/rejected":               1,
		"tenantpulse_events_requests_total/200":           1,
		"tenantpulse_events_requests_total/415":           1,
		"tenantpulse_events_accepted_total/user.added":    1,
		"tenantpulse_events_accepted_total/job.submitted": 0,
		"tenantpulse_events_dedupe_entries":               1,
		"tenantpulse_events_dedupe_capacity":              24576,
		"tenantpulse_events_dedupe_evicted_total":         0,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", name, v, ok, want)
		}
	}
	if v := got["tenantpulse_events_dedupe_bytes"]; v <= 0 || v > 1<<20 {
		t.Errorf("tenantpulse_events_dedupe_bytes = %v, want at most the 1 MiB configured", v)
	}
}

// While a stream is deleted its events are rejected with StreamNotFound and
// a reason that says how to get it back; once it is created again (no
// restart) they are accepted into the new stream. A write that loses the
// race with the deletion is reported the same way.
func TestDeletedStreamRejectsUntilCreatedAgain(t *testing.T) {
	ts := startTest(t, "", Options{})
	if err := ts.store.DeleteStream("jobs"); err != nil {
		t.Fatal(err)
	}
	r := ts.send("", ev("d1", "job.submitted", "t", `{"jobId":"j","userId":"u","dataSize":1}`))
	g := r.Results[0]
	if g.Status != "rejected" || g.Error != "StreamNotFound" || g.Retryable || !strings.Contains(g.Reason, "CreateStream") {
		t.Fatalf("an event of a deleted stream: %+v", g)
	}
	if _, err := ts.store.CreateStream(streamlog.StreamConfig{Name: "jobs", ShardCount: 3}); err != nil {
		t.Fatal(err)
	}
	r = ts.send("", ev("d1", "job.submitted", "t", `{"jobId":"j","userId":"u","dataSize":1}`))
	if g := r.Results[0]; g.Status != "accepted" || g.Stream != "jobs" {
		t.Fatalf("an event of the recreated stream: %+v", g)
	}
	if n := len(ts.stored("jobs")); n != 1 {
		t.Fatalf("the recreated stream holds %d records, want 1", n)
	}

	var res result
	ts.svc.fail(&res, fmt.Errorf("cannot append: %w: jobs", streamlog.ErrStreamDeleted))
	if res.status != statusRejected || res.code != errStreamNotFound || res.retryable {
		t.Errorf("a write that raced the deletion: %+v", res)
	}
}
