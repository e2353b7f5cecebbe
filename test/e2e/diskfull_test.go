package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDiskFull fills a real (tmpfs) filesystem until writes hit ENOSPC:
// writes must fail with the retriable ProvisionedThroughputExceededException
// and nothing else, reads must keep working and return exactly the
// acknowledged records (nothing half written), a kill -9 on the full disk
// must restart with all of them, and once space comes back (by deleting a
// stream) writes succeed again and every acknowledged record survives
// kill -9.
func TestDiskFull(t *testing.T) {
	dir := mountTmpfs(t, 6)

	// --min-free-bytes 1 turns off the early refusal, so writes reach ENOSPC.
	args := []string{"--min-free-bytes", "1", "--segment-bytes", "1048576"}
	srv := startServerIn(t, dir, args...)
	api := &rawAPI{t: t, url: srv.url}
	api.call("CreateStream", `{"StreamName":"filler","ShardCount":2}`, nil)

	acked := map[string][]string{} // stream -> data of acknowledged records, in order
	sent := 0                      // makes every record's data unique
	put := func(stream string, batch int) (ok, throttled int) {
		var recs []string
		var body strings.Builder
		fmt.Fprintf(&body, `{"StreamName":%q,"Records":[`, stream)
		for i := 0; i < batch; i++ {
			sent++
			d := fmt.Sprintf("%s-%06d-%s", stream, sent, strings.Repeat("x", 1000))
			recs = append(recs, d)
			if i > 0 {
				body.WriteByte(',')
			}
			fmt.Fprintf(&body, `{"PartitionKey":"k%d","Data":%q}`, i%7, base64.StdEncoding.EncodeToString([]byte(d)))
		}
		body.WriteString("]}")
		var out struct {
			FailedRecordCount int
			Records           []struct{ SequenceNumber, ErrorCode string }
		}
		status, errType := api.try("PutRecords", body.String(), &out)
		if status != 200 {
			if errType != "ProvisionedThroughputExceededException" {
				t.Fatalf("PutRecords on a full disk: status %d %s, want 200 or ProvisionedThroughputExceededException", status, errType)
			}
			return 0, batch
		}
		for i, r := range out.Records {
			switch r.ErrorCode {
			case "":
				acked[stream] = append(acked[stream], recs[i])
				ok++
			case "ProvisionedThroughputExceededException":
				throttled++
			default:
				t.Fatalf("record failed with %s, want ProvisionedThroughputExceededException", r.ErrorCode)
			}
		}
		return ok, throttled
	}
	refused := 0
	for i := 0; refused < 5; i++ {
		if i > 10000 {
			t.Fatal("6 MiB never filled up")
		}
		if ok, _ := put("filler", 50); ok == 0 {
			refused++
		}
	}
	if len(acked["filler"]) < 1000 {
		t.Fatalf("only %d records fit before the disk was full", len(acked["filler"]))
	}
	// The refusals show in /healthz and /metrics.
	if status, body := getText(t, srv.url+"/healthz"); status != http.StatusServiceUnavailable || !strings.HasPrefix(body, "degraded: the stream store refuses writes: ") {
		t.Fatalf("/healthz on a full disk: %d %q, want 503 degraded: the stream store refuses writes", status, body)
	}
	if refused := metricValue(t, srv.url, `tenantpulse_store_records_refused_total{reason="low_space"}`) +
		metricValue(t, srv.url, `tenantpulse_store_records_refused_total{reason="write_error"}`); refused < 5*50 {
		t.Fatalf("/metrics counts %g refused records, want at least the %d refused here", refused, 5*50)
	}
	// Another stream's files may still have room in their last page; its
	// writes either succeed or are refused the same retriable way.
	put("jobs", 10)
	// Reads keep working and see exactly what was acknowledged.
	if got := api.readStream("filler"); !sameRecords(got, acked["filler"]) {
		t.Fatalf("filler holds %d records, %d were acknowledged; %s", len(got), len(acked["filler"]), diffRecords(got, acked["filler"]))
	}

	// A crash with the disk full: the server still starts, serves every
	// acknowledged record and refuses writes retriably.
	srv.kill9()
	srv = startServerIn(t, dir, args...)
	api.url = srv.url
	if got := api.readStream("filler"); !sameRecords(got, acked["filler"]) {
		t.Fatalf("after kill -9 on a full disk, filler holds %d records, %d were acknowledged; %s", len(got), len(acked["filler"]), diffRecords(got, acked["filler"]))
	}
	put("filler", 10)
	if !strings.Contains(srv.log.String(), "cannot create a segment; writes to this shard are refused until there is room") {
		t.Fatalf("the restart did not meet a full disk (the test proves nothing):\n%s", srv.log.String())
	}

	// Space comes back when a stream is deleted; writes then succeed.
	api.call("DeleteStream", `{"StreamName":"filler"}`, nil)
	waitFor(t, 30*time.Second, 50*time.Millisecond, func() error {
		if ok, _ := put("jobs", 20); ok == 0 {
			return fmt.Errorf("writes still refused after freeing space")
		}
		return nil
	})
	for i := 0; i < 5; i++ {
		put("jobs", 20)
	}
	srv.kill9()
	srv = startServerIn(t, dir, args...)
	api.url = srv.url
	if got := api.readStream("jobs"); !sameRecords(got, acked["jobs"]) {
		t.Fatalf("after kill -9, jobs holds %d records, %d were acknowledged; %s", len(got), len(acked["jobs"]), diffRecords(got, acked["jobs"]))
	}
	// With room again and writes succeeding, the server is healthy.
	waitFor(t, 30*time.Second, 100*time.Millisecond, func() error {
		put("jobs", 1)
		if status, body := getText(t, srv.url+"/healthz"); status != http.StatusOK || body != "ok\n" {
			return fmt.Errorf("/healthz with room again: %d %q", status, body)
		}
		return nil
	})
	var st syscall.Statfs_t
	syscall.Statfs(dir, &st)
	t.Logf("%d records acknowledged before the disk was full; %d after space came back; %d KiB free at the end",
		len(acked["filler"]), len(acked["jobs"]), st.Bavail*uint64(st.Bsize)/1024)
}

// TestDiskFullDegraded fills the data volume (a tmpfs) while the processor
// and the archiver have work to store: /healthz answers 503 naming the
// store's refusal, the failing checkpoints and the failing archive;
// /metrics has the free space and the failure counters; the checkpoint
// retries back off (a bounded number of ERROR lines over four seconds of
// full disk, where they were about 250 a second); once space is back,
// /healthz is ok again.
func TestDiskFullDegraded(t *testing.T) {
	mnt := mountTmpfs(t, 16)
	dataDir := filepath.Join(mnt, "data")
	// --min-free-bytes 1: only a really full disk refuses. The archive
	// stores files 6 s after their first record and the processor
	// checkpoints 8 s after its start, by which time the volume is full
	// (the events and the ballast below take well under a second).
	srv := startServerIn(t, dataDir, "--min-free-bytes", "1", "--archive-file-age", "6s", "--checkpoint-interval", "8s")
	postRecentEvents(t, srv.url, 11, 300)
	ballast := filepath.Join(mnt, "ballast")
	fillVolume(t, ballast)

	want := []string{"degraded: the stream store refuses writes: free space ", "below min_free_bytes 1 byte;",
		"analytics checkpoints failing since ", "no space left on device", "the archive failing since "}
	var degradedAt time.Time
	waitFor(t, time.Minute, 100*time.Millisecond, func() error {
		status, body := getText(t, srv.url+"/healthz")
		for _, w := range want {
			if status != http.StatusServiceUnavailable || !strings.Contains(body, w) {
				return fmt.Errorf("/healthz: %d %q, want 503 saying %q", status, body, w)
			}
		}
		degradedAt = time.Now()
		return nil
	})
	const ckLine = "cannot checkpoint"
	before := strings.Count(srv.log.String(), ckLine)
	cpu0 := cpuTicks(t, srv.cmd.Process.Pid)
	// Four seconds of full disk; the server says degraded all along.
	waitFor(t, time.Minute, 200*time.Millisecond, func() error {
		if status, body := getText(t, srv.url+"/healthz"); status != http.StatusServiceUnavailable {
			t.Fatalf("/healthz while the disk is still full: %d %q", status, body)
		}
		if d := time.Since(degradedAt); d < 4*time.Second {
			return fmt.Errorf("%s of full disk so far", d.Round(time.Millisecond))
		}
		return nil
	})
	lines := strings.Count(srv.log.String(), ckLine) - before
	window := time.Since(degradedAt)
	t.Logf("%d checkpoint ERROR lines in %s of full disk; the server used %.0f%% of a core",
		lines, window.Round(time.Millisecond), float64(cpuTicks(t, srv.cmd.Process.Pid)-cpu0)/100/window.Seconds()*100)
	// 4 shards; each retries after 100 ms, 200 ms, ... doubling: at most 6
	// attempts in any 4 s. Without the backoff: hundreds a second.
	if lines < 1 || lines > 4*6 {
		t.Fatalf("%d %q lines in 4 s of full disk, want 1 to 24 (one per attempt, backing off)", lines, ckLine)
	}
	api := &rawAPI{t: t, url: srv.url}
	if status, errType := api.try("PutRecord", `{"StreamName":"jobs","PartitionKey":"k","Data":"eA=="}`, nil); status != 400 || errType != "ProvisionedThroughputExceededException" {
		t.Fatalf("PutRecord on a full disk: %d %s, want ProvisionedThroughputExceededException", status, errType)
	}
	if free := metricValue(t, srv.url, "tenantpulse_data_free_bytes"); free >= 64<<10 {
		t.Errorf("tenantpulse_data_free_bytes = %g on a full volume", free)
	}
	if size := metricValue(t, srv.url, "tenantpulse_data_volume_bytes"); size != 16<<20 {
		t.Errorf("tenantpulse_data_volume_bytes = %g, want the tmpfs's %d", size, 16<<20)
	}
	for _, m := range []string{`tenantpulse_store_records_refused_total{reason="low_space"}`, "tenantpulse_analytics_checkpoint_failures_total",
		"tenantpulse_archive_failures_total", "tenantpulse_degraded"} {
		if v := metricValue(t, srv.url, m); v < 1 {
			t.Errorf("%s = %g on a full disk, want at least 1", m, v)
		}
	}

	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, 100*time.Millisecond, func() error {
		if status, body := getText(t, srv.url+"/healthz"); status != http.StatusOK || body != "ok\n" {
			return fmt.Errorf("/healthz after space came back: %d %q", status, body)
		}
		return nil
	})
	if v := metricValue(t, srv.url, "tenantpulse_degraded"); v != 0 {
		t.Errorf("tenantpulse_degraded = %g after space came back", v)
	}
}

// TestSmallVolumeWarns starts a server whose volume is smaller than the
// default min_free_bytes (64 MiB): it says so at start, naming both sizes
// and what to do, /healthz says degraded, and writes are refused
// retriably.
func TestSmallVolumeWarns(t *testing.T) {
	mnt := mountTmpfs(t, 8)
	srv := startServerIn(t, filepath.Join(mnt, "data"))
	log := srv.log.String()
	for _, w := range []string{"level=WARN", "is 8.0 MiB in all, smaller than min_free_bytes (64.0 MiB): every write will be refused", "--min-free-bytes"} {
		if !strings.Contains(log, w) {
			t.Errorf("the start-up log does not say %q:\n%s", w, log)
		}
	}
	if status, body := getText(t, srv.url+"/healthz"); status != http.StatusServiceUnavailable || !strings.Contains(body, "below min_free_bytes 64.0 MiB") {
		t.Errorf("/healthz on a volume under min_free_bytes: %d %q", status, body)
	}
	api := &rawAPI{t: t, url: srv.url}
	if status, errType := api.try("PutRecord", `{"StreamName":"jobs","PartitionKey":"k","Data":"eA=="}`, nil); status != 400 || errType != "ProvisionedThroughputExceededException" {
		t.Fatalf("PutRecord: %d %s, want ProvisionedThroughputExceededException", status, errType)
	}
}

// mountTmpfs mounts a tmpfs of mib MiB in a temporary directory for the
// test's life and returns its path.
func mountTmpfs(t *testing.T, mib int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%dm", mib), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("this test mounts a %d MiB tmpfs and needs root (CI runs as root): %v: %s", mib, err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fillVolume writes path until its volume has no room left.
func fillVolume(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, chunk := range []int{1 << 16, 1 << 12, 1} {
		buf := make([]byte, chunk)
		for {
			if _, err := f.Write(buf); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("filling the volume: %v", err)
				}
				break
			}
		}
	}
}

// cpuTicks returns the user and system CPU time of process pid so far, in
// clock ticks (1/100 s on Linux), from /proc/<pid>/stat.
func cpuTicks(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The fields after the command (which may hold spaces), from field 3.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return utime + stime
}

// getText GETs url and returns the status and body.
func getText(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, b.String()
}

// metricValue returns the value of the sample named (with its labels, as
// exposed) in the server's /metrics; the test fails if there is none.
func metricValue(t *testing.T, base, sample string) float64 {
	t.Helper()
	_, body := getText(t, base+"/metrics")
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("/metrics: %q: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no sample %s", sample)
	return 0
}

// sameRecords reports whether got holds exactly want's records, each once,
// with per-stream write order kept for records of the same partition key
// (the order of records within a shard is checked by the crash test).
func sameRecords(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	seen := map[string]int{}
	for _, g := range got {
		seen[g]++
	}
	for _, w := range want {
		if seen[w] != 1 {
			return false
		}
	}
	return true
}

// diffRecords describes how got differs from want.
func diffRecords(got, want []string) string {
	seen := map[string]int{}
	for _, g := range got {
		seen[g]++
	}
	var out []string
	for _, w := range want {
		if seen[w] == 0 {
			out = append(out, "missing "+w[:min(len(w), 20)])
		}
		if seen[w] > 1 {
			out = append(out, fmt.Sprintf("%d copies of %s", seen[w], w[:min(len(w), 20)]))
		}
		delete(seen, w)
	}
	for g := range seen {
		out = append(out, "unacknowledged "+g[:min(len(g), 20)])
	}
	if len(out) > 10 {
		out = append(out[:10], fmt.Sprintf("and %d more", len(out)-10))
	}
	return strings.Join(out, ", ")
}

// rawAPI calls the Kinesis JSON API with plain HTTP.
type rawAPI struct {
	t   *testing.T
	url string
}

func (a *rawAPI) try(op, body string, out any) (int, string) {
	a.t.Helper()
	req, _ := http.NewRequest("POST", a.url+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Kinesis_20131202."+op)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s: %v", op, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if resp.StatusCode != 200 {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		json.Unmarshal(buf.Bytes(), &e)
		if resp.StatusCode >= 500 {
			a.t.Fatalf("%s: status %d: %s", op, resp.StatusCode, buf.String())
		}
		return resp.StatusCode, e.Type
	}
	if out != nil {
		if err := json.Unmarshal(buf.Bytes(), out); err != nil {
			a.t.Fatalf("%s: %v", op, err)
		}
	}
	return 200, ""
}

func (a *rawAPI) call(op, body string, out any) {
	a.t.Helper()
	if status, typ := a.try(op, body, out); status != 200 {
		a.t.Fatalf("%s: %d %s", op, status, typ)
	}
}

// readStream reads every shard of a stream from TRIM_HORIZON to the end.
func (a *rawAPI) readStream(stream string) []string {
	a.t.Helper()
	var shards struct{ Shards []struct{ ShardId string } }
	a.call("ListShards", fmt.Sprintf(`{"StreamName":%q}`, stream), &shards)
	var out []string
	for _, sh := range shards.Shards {
		var it struct{ ShardIterator string }
		a.call("GetShardIterator", fmt.Sprintf(`{"StreamName":%q,"ShardId":%q,"ShardIteratorType":"TRIM_HORIZON"}`, stream, sh.ShardId), &it)
		iter := it.ShardIterator
		for {
			var page struct {
				Records            []struct{ Data []byte }
				NextShardIterator  string
				MillisBehindLatest int64
			}
			a.call("GetRecords", fmt.Sprintf(`{"ShardIterator":%q}`, iter), &page)
			for _, r := range page.Records {
				out = append(out, string(r.Data))
			}
			iter = page.NextShardIterator
			if len(page.Records) == 0 && page.MillisBehindLatest == 0 {
				break
			}
		}
	}
	return out
}
