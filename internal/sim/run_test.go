package sim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tenantpulse/tenantpulse/internal/app/streams"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// testServer serves the real Kinesis API (an in-process streams service
// with companies and jobs, 2 shards each) and, when events is set, a fake
// POST /v1/events.
func testServer(t *testing.T, events http.HandlerFunc) (string, *kinesis.Client) {
	t.Helper()
	return testServerLimits(t, events, "")
}

// testServerLimits is testServer with the streams service's shard limits
// ("aws" throttles like Kinesis: 1,000 records/s per shard).
func testServerLimits(t *testing.T, events http.HandlerFunc, limits string) (string, *kinesis.Client) {
	t.Helper()
	store, err := streamlog.Open(streamlog.Options{Dir: t.TempDir(), MinFreeBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	for _, name := range []string{StreamCompanies, StreamJobs} {
		if _, err := store.CreateStream(streamlog.StreamConfig{Name: name, ShardCount: 2, RetentionHours: 24}); err != nil {
			t.Fatal(err)
		}
	}
	var now func() time.Time
	var requests atomic.Int64
	if limits != "" {
		// A clock that moves 50 ms with each request, so the quotas refill
		// by the same amount per request however fast this machine is: a
		// sender of 500-record batches outruns them, deterministically.
		base := time.Now()
		now = func() time.Time { return base.Add(time.Duration(requests.Load()) * 50 * time.Millisecond) }
	}
	svc := streams.New(streams.Options{Store: store, ShardLimits: limits, Now: now})
	mux := http.NewServeMux()
	mux.Handle("/{$}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		svc.ServeHTTP(w, r)
	}))
	if events != nil {
		mux.HandleFunc("POST /v1/events", events)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	url := "http://" + ln.Addr().String()
	return url, newKinesisClient(url, 4)
}

var runNow = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func runOptions(url string) Options {
	return Options{Seed: 7, Tenants: 10, Rate: 1000, History: 2 * 24 * time.Hour, Now: runNow,
		Endpoint: url, Via: "events", Batch: 100, Concurrency: 3}
}

// expected returns the first n events of o's settings as lines, via --out.
func expected(t *testing.T, o Options, n int64) [][]byte {
	t.Helper()
	var buf bytes.Buffer
	o.Out, o.Count, o.TruthPath = &buf, n, ""
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n"))
}

// fakeEvents is a POST /v1/events that records what it accepts and can
// fail on purpose.
type fakeEvents struct {
	mu        sync.Mutex
	requests  int
	maxBatch  int
	accepted  map[string][]byte
	fail      func(req int, pos int, id string) (status string, retryable bool) // per event
	reqStatus func(req int) int                                                 // per request
}

func (f *fakeEvents) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	if r.Header.Get("Content-Type") != "application/x-ndjson" {
		http.Error(w, "bad content type", http.StatusUnsupportedMediaType)
		return
	}
	if f.reqStatus != nil {
		if code := f.reqStatus(f.requests); code != http.StatusOK {
			w.WriteHeader(code)
			fmt.Fprintf(w, `{"message":"status %d on purpose"}`, code)
			return
		}
	}
	type result struct {
		Status    string `json:"status"`
		ID        string `json:"id"`
		Error     string `json:"error,omitempty"`
		Reason    string `json:"reason,omitempty"`
		Retryable bool   `json:"retryable,omitempty"`
	}
	var resp struct {
		FailedEventCount int      `json:"failedEventCount"`
		Results          []result `json:"results"`
	}
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		line := append([]byte(nil), sc.Bytes()...)
		var ev struct{ ID string }
		json.Unmarshal(line, &ev)
		status, retryable := "accepted", false
		if f.fail != nil {
			status, retryable = f.fail(f.requests, n, ev.ID)
		}
		if _, dup := f.accepted[ev.ID]; dup && status == "accepted" {
			status = "duplicate"
		}
		res := result{Status: status, ID: ev.ID}
		switch status {
		case "accepted":
			f.accepted[ev.ID] = line
		case "rejected":
			resp.FailedEventCount++
			res.Error, res.Reason, res.Retryable = "ThroughputExceeded", "on purpose", retryable
		}
		resp.Results = append(resp.Results, res)
		n++
	}
	f.maxBatch = max(f.maxBatch, n)
	json.NewEncoder(w).Encode(resp)
}

func TestSendEventsRetries(t *testing.T) {
	f := &fakeEvents{accepted: map[string][]byte{}}
	f.reqStatus = func(req int) int {
		if req == 1 || req == 4 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	}
	f.fail = func(req, pos int, id string) (string, bool) {
		if req%5 == 0 && pos%7 == 0 {
			return "rejected", true
		}
		return "accepted", false
	}
	url, kc := testServer(t, f.ServeHTTP)
	o := runOptions(url)
	o.Count = 3000
	o.TruthPath = t.TempDir() + "/truth.json"
	sum, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sent != 3000 || sum.Delivered != 3000 || sum.Rejected != 0 || sum.Retried == 0 {
		t.Fatalf("summary %+v: want 3000 sent and delivered, none rejected, some retried", sum)
	}
	want := expected(t, o, 3000)
	if len(f.accepted) != len(want) {
		t.Fatalf("the server accepted %d events, want %d", len(f.accepted), len(want))
	}
	for i, line := range want {
		if got := f.accepted[fmt.Sprintf("7-%d", i)]; !bytes.Equal(got, line) {
			t.Fatalf("event %d: server got %s, want %s", i, got, line)
		}
	}
	if f.maxBatch > o.Batch {
		t.Errorf("a request had %d events, --batch is %d", f.maxBatch, o.Batch)
	}
	p, ok, err := readProgress(context.Background(), kc, 7)
	if err != nil || !ok || p.Acked != 2999 || p.Tenants != 10 || p.Live != runNow.UnixMilli() {
		t.Fatalf("stored progress %+v %v %v, want acked 2999", p, ok, err)
	}
	var tr Truth
	b, _ := readFile(o.TruthPath)
	if err := json.Unmarshal(b, &tr); err != nil || tr.Events != 3000 || len(tr.Tenants) != 10 {
		t.Fatalf("truth: %v, %d events, %d tenants", err, tr.Events, len(tr.Tenants))
	}
}

func TestSendEventsRejected(t *testing.T) {
	f := &fakeEvents{accepted: map[string][]byte{}}
	f.fail = func(req, pos int, id string) (string, bool) {
		if id == "7-5" {
			return "rejected", false
		}
		return "accepted", false
	}
	url, _ := testServer(t, f.ServeHTTP)
	o := runOptions(url)
	o.Count = 200
	sum, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rejected != 1 || sum.Delivered != 199 || len(sum.Reasons) != 1 || !strings.Contains(sum.Reasons[0], "7-5") {
		t.Fatalf("summary %+v: want one rejection of 7-5 reported", sum)
	}
}

func TestSendEventsClientError(t *testing.T) {
	f := &fakeEvents{accepted: map[string][]byte{}, reqStatus: func(int) int { return http.StatusBadRequest }}
	url, _ := testServer(t, f.ServeHTTP)
	o := runOptions(url)
	o.Count = 200
	_, err := Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "status 400 on purpose") {
		t.Fatalf("err = %v, want the server's message", err)
	}
}

// readAll reads both streams from the trim horizon: event lines by id.
func readAll(t *testing.T, kc *kinesis.Client) map[string][][]byte {
	t.Helper()
	ctx := context.Background()
	got := map[string][][]byte{}
	for _, stream := range []string{StreamCompanies, StreamJobs} {
		shards, err := listShards(ctx, kc, stream)
		if err != nil {
			t.Fatal(err)
		}
		for _, shard := range shards {
			it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: aws.String(shard), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
			if err != nil {
				t.Fatal(err)
			}
			iter := it.ShardIterator
			for iter != nil {
				out, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range out.Records {
					var ev struct{ ID, Type, TenantID string }
					if err := json.Unmarshal(r.Data, &ev); err != nil {
						t.Fatal(err)
					}
					if want := streamOfType(ev.Type); want != stream {
						t.Errorf("%s in stream %s", ev.Type, stream)
					}
					if aws.ToString(r.PartitionKey) != ev.TenantID {
						t.Errorf("partition key %s for tenant %s", aws.ToString(r.PartitionKey), ev.TenantID)
					}
					got[ev.ID] = append(got[ev.ID], r.Data)
				}
				if len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0 {
					break
				}
				iter = out.NextShardIterator
			}
		}
	}
	return got
}

func streamOfType(typ string) string {
	if strings.HasPrefix(typ, "job.") {
		return StreamJobs
	}
	return StreamCompanies
}

// checkExactlyOnce checks the streams hold exactly want, once each.
func checkExactlyOnce(t *testing.T, got map[string][][]byte, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("the streams hold %d distinct ids, want %d", len(got), len(want))
	}
	for i, line := range want {
		recs := got[fmt.Sprintf("7-%d", i)]
		if len(recs) != 1 || !bytes.Equal(recs[0], line) {
			t.Fatalf("event %d stored %d times (%q), want once: %s", i, len(recs), recs, line)
		}
	}
}

func TestKinesisSendAndResume(t *testing.T) {
	url, kc := testServer(t, nil)
	ctx := context.Background()
	o := runOptions(url)
	o.Via, o.Count, o.Batch = "kinesis", 2000, 300
	sum, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Delivered != 2000 || sum.Resumed {
		t.Fatalf("first run: %+v", sum)
	}
	checkExactlyOnce(t, readAll(t, kc), expected(t, o, 2000))

	// As if the last run died before storing its last progress: the tag
	// says 1500 while 1501..1999 are stored.
	p, _, err := readProgress(ctx, kc, 7)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Clean || p.Acked != 1999 {
		t.Fatalf("after a clean stop the tag says %s; want acked=1999 clean=1", p)
	}
	p.Acked, p.Clean = 1500, false
	if err := writeProgress(ctx, kc, 7, p); err != nil {
		t.Fatal(err)
	}
	o.Count = 500
	o.Tenants, o.History = 99, 99*time.Hour // ignored: the stored settings win
	o.Now = runNow.Add(time.Hour)
	sum, err = Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Resumed || !sum.Scanned || sum.Replayed != 1501 || sum.Skipped != 499 || sum.Sent != 500 || sum.Last != 2499 {
		t.Fatalf("resumed run: %+v; want resumed, the streams scanned, 1501 replayed, 499 skipped, 500 sent up to 2499", sum)
	}
	o.Tenants, o.History, o.Now = 10, 2*24*time.Hour, runNow
	checkExactlyOnce(t, readAll(t, kc), expected(t, o, 2500))
	if p, _, _ := readProgress(ctx, kc, 7); p.Acked != 2499 {
		t.Fatalf("stored acked %d, want 2499", p.Acked)
	}
}

// TestResumeAfterCleanStop: a run that stopped with everything it sent
// acknowledged marks its progress clean, and the next run resumes without
// reading the streams, after clearing the mark and before sending.
func TestResumeAfterCleanStop(t *testing.T) {
	f := &fakeEvents{accepted: map[string][]byte{}}
	var mu sync.Mutex
	sent := map[string]int{} // by id, over both runs
	var kc *kinesis.Client
	observe, cleanAtFirstSend := false, true
	url, kc := testServer(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		for _, line := range bytes.Split(bytes.TrimSpace(body), []byte("\n")) {
			var ev struct{ ID string }
			json.Unmarshal(line, &ev)
			sent[ev.ID]++
		}
		if observe {
			observe = false
			p, _, _ := readProgress(r.Context(), kc, 7)
			cleanAtFirstSend = p.Clean
		}
		mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		f.ServeHTTP(w, r)
	})
	ctx := context.Background()
	o := runOptions(url)
	o.Count = 1000
	if _, err := Run(ctx, o); err != nil {
		t.Fatal(err)
	}
	if p, _, _ := readProgress(ctx, kc, 7); !p.Clean || p.Acked != 999 {
		t.Fatalf("after a clean stop the tag says %s; want acked=999 clean=1", p)
	}
	mu.Lock()
	observe = true
	mu.Unlock()
	o.Count = 500
	sum, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Resumed || sum.Scanned || sum.Replayed != 1000 || sum.Sent != 500 {
		t.Fatalf("resumed run: %+v; want resumed without a scan, 1000 replayed, 500 sent", sum)
	}
	if cleanAtFirstSend {
		t.Fatal("the resumed run sent while the tag still said clean: a crash then would skip the scan")
	}
	if p, _, _ := readProgress(ctx, kc, 7); !p.Clean || p.Acked != 1499 {
		t.Fatalf("after the second clean stop the tag says %s; want acked=1499 clean=1", p)
	}
	if len(sent) != 1500 {
		t.Fatalf("%d distinct events sent over both runs, want 1500", len(sent))
	}
	for id, n := range sent {
		if n != 1 {
			t.Fatalf("event %s sent %d times", id, n)
		}
	}
}

// TestKinesisThrottled sends faster than the shards' quotas allow: the
// records PutRecords fails are sent again until all are stored once.
func TestKinesisThrottled(t *testing.T) {
	url, kc := testServerLimits(t, nil, "aws")
	o := runOptions(url)
	o.Via, o.Count, o.Batch, o.Concurrency, o.History = "kinesis", 5000, 500, 4, 30*24*time.Hour
	sum, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Delivered != 5000 || sum.Retried == 0 {
		t.Fatalf("summary %+v: want 5000 delivered after some retries", sum)
	}
	checkExactlyOnce(t, readAll(t, kc), expected(t, o, 5000))
}

func TestStopOnCancel(t *testing.T) {
	f := &fakeEvents{accepted: map[string][]byte{}}
	url, kc := testServer(t, f.ServeHTTP)
	o := runOptions(url)
	o.History, o.Rate = 0, 50 // live only: paced, so it runs until cancelled
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(700*time.Millisecond, cancel)
	o.TruthPath = t.TempDir() + "/truth.json"
	sum, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sent == 0 || sum.Delivered != sum.Sent || int64(len(f.accepted)) != sum.Sent {
		t.Fatalf("summary %+v, server accepted %d: want every event sent delivered", sum, len(f.accepted))
	}
	p, _, _ := readProgress(context.Background(), kc, 7)
	var tr Truth
	b, _ := readFile(o.TruthPath)
	json.Unmarshal(b, &tr)
	if p.Acked != sum.Sent-1 || tr.Events != sum.Sent {
		t.Fatalf("acked %d, truth covers %d events, sent %d", p.Acked, tr.Events, sum.Sent)
	}
}

func TestTracker(t *testing.T) {
	tr := newTracker(9)
	tr.markDone(11, 12)
	if tr.acked() != 9 {
		t.Fatalf("acked %d with 10 missing", tr.acked())
	}
	tr.markDone(10)
	if tr.acked() != 12 {
		t.Fatalf("acked %d, want 12", tr.acked())
	}
	for i := int64(13); i < 20000; i += 2 {
		tr.markDone(i + 1)
		tr.markDone(i)
	}
	if tr.acked() != 20000 {
		t.Fatalf("acked %d, want 20000", tr.acked())
	}
}

func TestProgressRoundTrip(t *testing.T) {
	p := Progress{Tenants: 300, Start: 1764064800000, Live: 1774432800000, Rate: 200.5, Acked: -1, At: 1774432801234}
	for _, clean := range []bool{false, true} {
		p.Clean = clean
		got, err := ParseProgress(p.String())
		if err != nil || got != p || strings.Contains(p.String(), "clean") != clean {
			t.Fatalf("ParseProgress(%q) = %+v, %v", p.String(), got, err)
		}
	}
	if len(p.String()) > 256 {
		t.Fatalf("tag value of %d characters", len(p.String()))
	}
	for _, bad := range []string{"", "v2 tenants=1", "v1 tenants=x start=1 live=1 rate=1 acked=1 at=1", "v1 tenants=1 start=1 live=1 rate=1 acked=1", "v1 tenants=1 start=1 live=1 rate=1 acked=1 at=1 clean=yes"} {
		if _, err := ParseProgress(bad); err == nil {
			t.Errorf("ParseProgress(%q) succeeded", bad)
		}
	}
}

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }

// stallSender holds the first batch until release is closed and records
// the latest event time of every batch it is given meanwhile.
type stallSender struct {
	mu       sync.Mutex
	calls    int
	release  chan struct{}
	stallMin int64
	maxWhile int64 // latest event time sent while the first batch stalled
}

func (s *stallSender) send(ctx context.Context, b *batch, st *Stats) error {
	s.mu.Lock()
	s.calls++
	first := s.calls == 1
	if first {
		s.stallMin = b.minT
	} else {
		select {
		case <-s.release:
		default:
			s.maxWhile = max(s.maxWhile, b.maxT)
		}
	}
	s.mu.Unlock()
	if first {
		<-s.release
	}
	return nil
}

// TestPoolBoundsSpread: while one batch straggles, the others run at most
// MaxSpread of event time ahead of it, so no event of it arrives further
// behind than that; once it is done, the rest go.
func TestPoolBoundsSpread(t *testing.T) {
	snd := &stallSender{release: make(chan struct{})}
	tr := newTracker(-1)
	p := newPool(context.Background(), snd, &Stats{}, tr, 4, 10)
	day := int64(24 * time.Hour)
	var dispatched atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 40 { // 40 batches of 10 events, a quarter day apart
			b := p.get("")
			for k := range 10 {
				ord := int64(i*10 + k)
				b.add([]byte("x"), Info{Ordinal: ord, Time: int64(i)*day/4 + int64(k)}, time.Now())
			}
			p.dispatch(b)
			dispatched.Add(1)
		}
	}()
	// The stalled batch is the first one a worker took: batch j, starting
	// j quarter days in. Batches up to j+15 end within MaxSpread (4 days)
	// of its start (15 quarter days and 9 ns later); j+16 must wait.
	sent := func() (calls int, canGo int64, ahead int64) {
		snd.mu.Lock()
		defer snd.mu.Unlock()
		return snd.calls, snd.stallMin/(day/4) + 16, snd.maxWhile - snd.stallMin
	}
	waitFor(t, "the batches within MaxSpread of the stalled one to be sent", func() bool {
		calls, canGo, _ := sent()
		return calls > 0 && int64(calls) >= canGo
	})
	calls, canGo, ahead := sent()
	if ahead > int64(MaxSpread) || int64(calls) != canGo || dispatched.Load() != canGo {
		t.Fatalf("while a batch stalled, %d batches were dispatched and %d sent, up to %v of event time ahead of it; want %d, within %v",
			dispatched.Load(), calls, time.Duration(ahead), canGo, MaxSpread)
	}
	close(snd.release)
	<-done
	if err := p.close(); err != nil {
		t.Fatal(err)
	}
	if tr.acked() != 399 {
		t.Fatalf("acked %d, want 399", tr.acked())
	}
}

// waitFor polls cond until it holds, failing the test after 10 s.
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
