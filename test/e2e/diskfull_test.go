package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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
	dir := filepath.Join(t.TempDir(), "small")
	os.MkdirAll(dir, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("this test mounts a 6 MiB tmpfs and needs root (CI runs as root): %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })

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
	var st syscall.Statfs_t
	syscall.Statfs(dir, &st)
	t.Logf("%d records acknowledged before the disk was full; %d after space came back; %d KiB free at the end",
		len(acked["filler"]), len(acked["jobs"]), st.Bavail*uint64(st.Bsize)/1024)
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
