package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func runMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code = Main(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

// phaseLines returns the JSON phase results printed with --json.
func phaseLines(t *testing.T, stdout string) []phaseResult {
	t.Helper()
	var rs []phaseResult
	for _, line := range strings.Split(stdout, "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var r phaseResult
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("bad JSON line %q: %v", line, err)
		}
		rs = append(rs, r)
	}
	return rs
}

func TestKinesisBothModes(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	f, srv := newFakeKinesis(t)
	code, stdout, stderr := runMain(t, "kinesis", "--endpoint", srv.URL, "--records", "20000",
		"--size", "100", "--batch", "500", "--producers", "4", "--shards", "2", "--stream", "t1", "--json")
	t.Logf("stdout:\n%s", stdout)
	if code != 0 {
		t.Fatalf("exit code %d, stderr:\n%s", code, stderr)
	}
	for _, mode := range []string{"sdk", "raw"} {
		put := regexp.MustCompile(`(?m)^` + mode + `\s+put\s+20000 records in .* retries (\d+)`).FindStringSubmatch(stdout)
		if put == nil {
			t.Fatalf("no %s put line with 20000 records", mode)
		}
		if n, _ := strconv.Atoi(put[1]); n == 0 {
			t.Errorf("%s put: retries 0, want > 0 (the fake injects partial failures)", mode)
		}
		if !regexp.MustCompile(`(?m)^` + mode + `\s+get\s+20000 records in `).MatchString(stdout) {
			t.Errorf("no %s get line with 20000 records", mode)
		}
		if !strings.Contains(stdout, mode+"  deleted stream t1-"+mode) {
			t.Errorf("%s stream not reported deleted", mode)
		}
	}
	if !strings.Contains(stdout, "server cpu ") || !strings.Contains(stdout, "rss 90 MiB") {
		t.Errorf("server stats from /metrics missing")
	}
	rs := phaseLines(t, stdout)
	if len(rs) != 4 {
		t.Fatalf("got %d JSON phase lines, want 4", len(rs))
	}
	for _, r := range rs {
		if r.Records != 20000 || r.Bytes != 20000*100 {
			t.Errorf("%s %s: records %d bytes %d, want 20000 and 2000000", r.Mode, r.Phase, r.Records, r.Bytes)
		}
		if r.Phase == "put" && (r.Retries == 0 || r.P50Ms == nil || r.ServerCPUPer1M == nil) {
			t.Errorf("%s put: incomplete result %+v", r.Mode, r)
		}
		if r.Mode == "raw" && r.Phase == "get" && r.Retries == 0 {
			t.Errorf("raw get: throttled 0, want > 0 (the fake throttles unsigned GetRecords)")
		}
	}
	if names := f.streamNames(); len(names) != 0 {
		t.Errorf("streams left behind: %v", names)
	}
	if f.unsignedPut == 0 || f.signedPuts == 0 {
		t.Errorf("signed puts %d, unsigned puts %d: want both (sdk signs, raw does not)", f.signedPuts, f.unsignedPut)
	}
}

func TestKinesisRawSigned(t *testing.T) {
	f, srv := newFakeKinesis(t)
	code, stdout, stderr := runMain(t, "kinesis", "--endpoint", srv.URL+"/", "--mode", "raw", "--sign",
		"--records", "1234", "--batch", "100", "--shards", "3", "--consumers", "2", "--stream", "signed")
	if code != 0 {
		t.Fatalf("exit code %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !regexp.MustCompile(`(?m)^raw\s+get\s+1234 records`).MatchString(stdout) {
		t.Errorf("no raw get line with 1234 records:\n%s", stdout)
	}
	if f.unsignedPut != 0 || f.signedPuts == 0 {
		t.Errorf("signed puts %d, unsigned %d: want only signed", f.signedPuts, f.unsignedPut)
	}
}

func TestKinesisReusedStream(t *testing.T) {
	f, srv := newFakeKinesis(t)
	args := []string{"kinesis", "--endpoint", srv.URL, "--mode", "sdk", "--records", "1000", "--stream", "reuse"}
	if code, stdout, stderr := runMain(t, append(args, "--keep")...); code != 0 {
		t.Fatalf("first run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr := runMain(t, args...)
	if code != 0 {
		t.Fatalf("second run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"already existed", "get  2000 records", "existed before this run", "kept stream reuse"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("second run output lacks %q:\n%s", want, stdout)
		}
	}
	if names := f.streamNames(); len(names) != 1 {
		t.Errorf("streams %v, want the pre-existing one kept", names)
	}
}

func TestKinesisPutFailure(t *testing.T) {
	f, srv := newFakeKinesis(t)
	f.failPut = "AccessDeniedException"
	code, stdout, stderr := runMain(t, "kinesis", "--endpoint", srv.URL, "--records", "100", "--stream", "fail")
	if code != 1 {
		t.Fatalf("exit code %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "AccessDeniedException") || !strings.Contains(stderr, "injected failure") {
		t.Errorf("stderr lacks the server's error:\n%s", stderr)
	}
	if names := f.streamNames(); len(names) != 0 {
		t.Errorf("streams left behind after failure: %v", names)
	}
}

func TestMainUsage(t *testing.T) {
	f := func(wantCode int, wantOut string, args ...string) {
		t.Helper()
		code, stdout, stderr := runMain(t, args...)
		if code != wantCode {
			t.Errorf("%q: exit %d, want %d", args, code, wantCode)
		}
		if !strings.Contains(stdout+stderr, wantOut) {
			t.Errorf("%q: output lacks %q:\n%s%s", args, wantOut, stdout, stderr)
		}
	}
	f(2, "usage: tenantpulse bench")
	f(2, `unknown benchmark "nope"`, "nope")
	f(0, "kinesis", "-h")
	f(0, "--endpoint", "kinesis", "-h")
	f(2, "--endpoint is required", "kinesis")
	f(2, "--mode must be", "kinesis", "--endpoint", "http://x", "--mode", "fast")
	f(2, "--batch must be between 1 and 500", "kinesis", "--endpoint", "http://x", "--batch", "501")
	f(2, "unexpected arguments", "kinesis", "--endpoint", "http://x", "extra")
}

func TestWorkload(t *testing.T) {
	f := func(total, batch int) {
		t.Helper()
		w := newWorkload(total, batch, 10)
		n := 0
		keys := map[string]bool{}
		for k := range w.numBatches() {
			b := w.batches[w.batchIndex(k)]
			n += len(b)
			for _, r := range b {
				keys[r.key] = true
				if len(r.data) != 10 {
					t.Fatalf("record size %d", len(r.data))
				}
			}
		}
		if n != total {
			t.Errorf("total %d batch %d: batches hold %d records", total, batch, n)
		}
	}
	f(1, 500)
	f(499, 500)
	f(500, 500)
	f(1001, 500)
	f(100000, 500)
	f(7, 1)
}

func TestScanGetRecords(t *testing.T) {
	f := func(body string, verify bool, wantN int, wantNext string, wantBehind int64, wantErr bool) {
		t.Helper()
		pg, err := scanGetRecords([]byte(body), verify)
		if (err != nil) != wantErr {
			t.Fatalf("%s: err %v, want error %v", body, err, wantErr)
		}
		if err != nil {
			return
		}
		if pg.records != wantN || pg.next != wantNext || pg.behind != wantBehind {
			t.Errorf("%s: got %d %q %d, want %d %q %d", body, pg.records, pg.next, pg.behind, wantN, wantNext, wantBehind)
		}
	}
	f(`{"Records":[],"NextShardIterator":"abc","MillisBehindLatest":0}`, true, 0, `"abc"`, 0, false)
	f(`{"Records":[{"SequenceNumber":"1","PartitionKey":"\"SequenceNumber\""},{"SequenceNumber" : "2"}],"NextShardIterator" : "a\"b\u003c","MillisBehindLatest": 12}`, true, 2, `"a\"b\u003c"`, 12, false)
	f(`{"Records":[],"NextShardIterator":null}`, true, 0, "", 0, false)
	f(`{"Records":[]}`, false, 0, "", 0, false)
	f(`{"Records":[{"X":"\"SequenceNumber\":1"}],"SequenceNumber":1}`, false, 1, "", 0, false)
	f(`{"Records":[],"SequenceNumber":1}`, true, 0, "", 0, true)
	f(`{"NextShardIterator":"abc`, false, 0, "", 0, true)
	f(`{"NextShardIterator":"abc","Records":[`, true, 0, "", 0, true)
}

func TestJSONIntField(t *testing.T) {
	f := func(body string, wantN int64, wantOK bool) {
		t.Helper()
		n, ok := jsonIntField([]byte(body), keyFailedRecordCount)
		if n != wantN || ok != wantOK {
			t.Errorf("%s: got %d %v, want %d %v", body, n, ok, wantN, wantOK)
		}
	}
	f(`{"FailedRecordCount":0,"Records":[]}`, 0, true)
	f(`{"FailedRecordCount" : 17}`, 17, true)
	f(`{"FailedRecordCount":-1}`, -1, true)
	f(`{"FailedRecordCount":null}`, 0, false)
	f(`{"Records":[]}`, 0, false)
}

func TestParsePutFailures(t *testing.T) {
	recs := []recordRef{{key: "a"}, {key: "b"}, {key: "c"}}
	res, err := parsePutFailures([]byte(`{"FailedRecordCount":2,"Records":[{"ErrorCode":"ProvisionedThroughputExceededException"},{"SequenceNumber":"1","ShardId":"s"},{"ErrorCode":"InternalFailure"}]}`), recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.failed) != 2 || res.failed[0].key != "a" || res.failed[1].key != "c" || res.errorCode != "InternalFailure" {
		t.Errorf("got %+v", res)
	}
	if _, err := parsePutFailures([]byte(`{"Records":[{}]}`), recs); err == nil {
		t.Error("want an error for a short Records list")
	}
}

func TestParseAPIError(t *testing.T) {
	f := func(body, header, wantType, wantMsg string, throttle bool) {
		t.Helper()
		h := map[string][]string{}
		if header != "" {
			h["X-Amzn-Errortype"] = []string{header}
		}
		e := parseAPIError(400, h, []byte(body))
		if e.Type != wantType || e.Message != wantMsg || isThrottle(fmt.Errorf("wrapped: %w", e)) != throttle {
			t.Errorf("%s: got %+v", body, e)
		}
	}
	f(`{"__type":"ProvisionedThroughputExceededException","message":"slow down"}`, "", "ProvisionedThroughputExceededException", "slow down", true)
	f(`{"__type":"com.amazonaws.kinesis.v20131202#ResourceNotFoundException","Message":"gone"}`, "", "ResourceNotFoundException", "gone", false)
	f(`oops`, "ThrottlingException:http://internal", "ThrottlingException", "oops", true)
	f(``, "", "UnknownError", "", false)
}

func TestParseProcStatCPU(t *testing.T) {
	stat := "1234 (my (weird) prog) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 75 0 0 20 0 4 0 100 1000000 2000 18446744073709551615\n"
	ticks, err := parseProcStatCPU([]byte(stat))
	if err != nil || ticks != 325 {
		t.Errorf("got %d, %v; want 325", ticks, err)
	}
	if _, err := parseProcStatCPU([]byte("1234 (x) S 1 2")); err == nil {
		t.Error("want an error for a short stat line")
	}
	rss, hwm := parseProcStatusMem([]byte("Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n"))
	if rss != 1<<20 || hwm != 2<<20 {
		t.Errorf("rss %d hwm %d", rss, hwm)
	}
}

func TestProcSourceSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	if ct := clockTicks(); ct < 1 || ct > 10000 {
		t.Errorf("clock ticks %v", ct)
	}
	m, err := newServerMonitor(context.Background(), "http://127.0.0.1:1", os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	p := m.begin(context.Background())
	x := 0
	for i := range 10_000_000 {
		x += i % 7
	}
	_ = x
	u := p.end(context.Background())
	if !u.ok || u.rss <= 0 || u.peakRSS < u.rss || u.cpuSeconds < 0 {
		t.Errorf("usage %+v", u)
	}
	if _, err := newServerMonitor(context.Background(), "", 1<<30); err == nil {
		t.Error("want an error for a missing pid")
	}
}

func TestParseMetrics(t *testing.T) {
	s, err := parseMetrics([]byte("# HELP x\nprocess_cpu_seconds_total 12.5\nprocess_resident_memory_bytes 8.388608e+06\nother{a=\"b\"} 1\n"))
	if err != nil || s.cpu != 12.5 || s.rss != 8<<20 {
		t.Errorf("got %+v, %v", s, err)
	}
	if _, err := parseMetrics([]byte("go_goroutines 5\n")); err == nil {
		t.Error("want an error without process_cpu_seconds_total")
	}
}

func TestReportFormat(t *testing.T) {
	f := func(n int64, want string) {
		t.Helper()
		if got := commas(n); got != want {
			t.Errorf("commas(%d) = %q, want %q", n, got, want)
		}
	}
	f(0, "0")
	f(999, "999")
	f(1000, "1,000")
	f(311526, "311,526")
	f(-1234567, "-1,234,567")

	lat := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if p := percentile(lat, 0.5); p != 5 {
		t.Errorf("p50 = %v", p)
	}
	if p := percentile(lat, 0.99); p != 10 {
		t.Errorf("p99 = %v", p)
	}

	s := putStats{records: 1_000_000, bytes: 100_000_000, wall: 3210 * time.Millisecond, retries: 0,
		latencies: []time.Duration{12100 * time.Microsecond, 30200 * time.Microsecond}}
	u := serverUsage{ok: true, cpuSeconds: 1.1, rss: 84 << 20, peakRSS: 84 << 20}
	got := s.result("sdk", "x", u).human()
	want := "sdk  put  1000000 records in 3.21s  311,526 rec/s  31.2 MB/s  p50 12.1ms p99 30.2ms  retries 0  server cpu 1.10 s/1M rec (34%)  rss 84 MiB"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// scanStatuses agrees with encoding/json on the server's replies.
func TestScanStatuses(t *testing.T) {
	reply := []byte(`{"failedEventCount":2,"results":[{"status":"accepted","id":"a","stream":"jobs","shardId":"shardId-000000000000","sequenceNumber":"1"},{"status":"duplicate","id":"{\"status\":\"accepted\""},{"status":"rejected","id":"c","error":"ThroughputExceeded","reason":"x","retryable":true},{"status":"rejected","error":"InvalidEvent","field":"time","reason":"bad {\"status\":\"accepted\"}","retryable":false}]}` + "\n")
	got, err := scanStatuses(reply)
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		Results []struct {
			Status    string
			Retryable bool
		}
	}
	if err := json.Unmarshal(reply, &want); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want.Results) {
		t.Fatalf("scanStatuses found %d results, encoding/json %d: %q", len(got), len(want.Results), got)
	}
	for i, w := range want.Results {
		g := got[i]
		switch {
		case w.Status == "rejected" && w.Retryable:
			if g != "retry" {
				t.Errorf("result %d: %q, want retry", i, g)
			}
		case w.Status == "rejected":
			if !strings.Contains(g, "InvalidEvent") {
				t.Errorf("result %d: %q, want the rejection", i, g)
			}
		case g != w.Status:
			t.Errorf("result %d: %q, want %q", i, g, w.Status)
		}
	}
	if _, err := scanStatuses([]byte(`{"error":"MalformedJSON"}`)); err == nil {
		t.Error("an error reply was not reported")
	}
}

func TestReadResponse(t *testing.T) {
	in := "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length: 11\r\n\r\n{\"score\":1}HTTP/1.1 424 Failed Dependency\r\nContent-Length: 2\r\n\r\n{}"
	r := bufio.NewReader(strings.NewReader(in))
	status, body, err := readResponse(r, nil)
	if err != nil || status != 200 || string(body) != `{"score":1}` {
		t.Fatalf("first: %d %q %v", status, body, err)
	}
	status, body, err = readResponse(r, body[:0])
	if err != nil || status != 424 || string(body) != `{}` {
		t.Fatalf("second: %d %q %v", status, body, err)
	}
	if _, _, err := readResponse(bufio.NewReader(strings.NewReader("HTTP/1.1 200 OK\r\n\r\n")), nil); err == nil {
		t.Error("a response without Content-Length was read")
	}
	if _, _, err := readResponse(bufio.NewReader(strings.NewReader("SSH-2.0\r\n")), nil); err == nil {
		t.Error("a non-HTTP answer was read")
	}
}
