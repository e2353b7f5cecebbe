package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server's logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listenRE = regexp.MustCompile(`listening on ([0-9.:]+)`)

// startServe runs serve in-process and returns its address, its log and a
// stop function that returns serve's exit code.
func startServe(t *testing.T, args ...string) (string, *syncBuffer, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	code := make(chan int, 1)
	go func() { code <- serveMain(ctx, args, io.Discard, logs) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := listenRE.FindStringSubmatch(logs.String()); m != nil {
			stopped := false
			stop := func() int {
				if stopped {
					return 0
				}
				stopped = true
				cancel()
				return <-code
			}
			t.Cleanup(func() { stop() })
			return m[1], logs, stop
		}
		select {
		case c := <-code:
			cancel()
			t.Fatalf("serve exited with %d before listening:\n%s", c, logs)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not listen in 10s:\n%s", logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func kinesisCall(t *testing.T, addr, op, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+addr+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Kinesis_20131202."+op)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestServeHealthAndDefaultStreams(t *testing.T) {
	addr, _, stop := startServe(t, "--listen", "127.0.0.1:0", "--data", t.TempDir())
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	status, out := kinesisCall(t, addr, "ListStreams", "{}")
	names, _ := json.Marshal(out["StreamNames"])
	if status != 200 || string(names) != `["companies","jobs"]` {
		t.Fatalf("ListStreams = %d %s, want companies and jobs", status, names)
	}
	status, out = kinesisCall(t, addr, "DescribeStreamSummary", `{"StreamName":"jobs"}`)
	if n := out["StreamDescriptionSummary"].(map[string]any)["OpenShardCount"]; status != 200 || n != 2.0 {
		t.Fatalf("jobs has %v shards, want 2", n)
	}
	resp, err = http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if !bytes.Contains(b, []byte("process_cpu_seconds_total")) || !bytes.Contains(b, []byte("tenantpulse_kinesis_requests_total")) {
		t.Fatalf("metrics lack process and kinesis counters:\n%.500s", b)
	}
	if code := stop(); code != 0 {
		t.Fatalf("serve exited with %d after cancel", code)
	}
}

func TestConfigFileAndFlagsWin(t *testing.T) {
	fileData, flagData := filepath.Join(t.TempDir(), "from-file"), t.TempDir()
	cfg := filepath.Join(t.TempDir(), "tenantpulse.yaml")
	os.WriteFile(cfg, []byte(`
listen: 127.0.0.1:1
data: `+fileData+`
region: eu-west-1
fsync: interval
fsync_interval: 20ms
streams:
  - name: orders
    shards: 3
    retention_hours: 48
`), 0o644)
	addr, _, _ := startServe(t, "--config", cfg, "--listen", "127.0.0.1:0", "--data", flagData)
	if _, err := os.Stat(fileData); !os.IsNotExist(err) {
		t.Fatalf("the config file's data directory was used although --data was given (%v)", err)
	}
	status, out := kinesisCall(t, addr, "DescribeStreamSummary", `{"StreamName":"orders"}`)
	if status != 200 {
		t.Fatalf("orders: %d %v", status, out)
	}
	sum := out["StreamDescriptionSummary"].(map[string]any)
	if sum["OpenShardCount"] != 3.0 || sum["RetentionPeriodHours"] != 48.0 || sum["StreamARN"] != "arn:aws:kinesis:eu-west-1:000000000000:stream/orders" {
		t.Fatalf("orders from the config: %v", sum)
	}
	if _, err := os.Stat(filepath.Join(flagData, "streams", "s-orders")); err != nil {
		t.Fatalf("stream not under --data: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	f := func(yaml, want string) {
		t.Helper()
		cfg := filepath.Join(t.TempDir(), "c.yaml")
		os.WriteFile(cfg, []byte(yaml), 0o644)
		var stderr bytes.Buffer
		code := serveMain(context.Background(), []string{"--config", cfg, "--data", t.TempDir()}, io.Discard, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), want) {
			t.Fatalf("config %q: exit %d, stderr %q; want 2 and %q", yaml, code, stderr.String(), want)
		}
	}
	f("listn: 127.0.0.1:0\n", "field listn not found")
	f("fsync: sometimes\n", `fsync is "sometimes"`)
	f("streams:\n  - name: bad name\n    shards: 1\n", `stream name "bad name"`)
	f("streams:\n  - name: a\n    shards: 0\n", "shards is 0")
	f("max_future: -1s\n", "max_future -1s must be positive")
	f("max_models: 0\n", "max_models 0 must be at least 1")
	f("max_model_bytes: 10\n", "max_model_bytes 10 at least 1024")
}

func TestDeclaredStreamDisagreesWithStored(t *testing.T) {
	data := t.TempDir()
	_, _, stop := startServe(t, "--listen", "127.0.0.1:0", "--data", data)
	stop()
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(cfg, []byte("streams:\n  - name: jobs\n    shards: 4\n"), 0o644)
	addr, logs, _ := startServe(t, "--config", cfg, "--listen", "127.0.0.1:0", "--data", data)
	if !strings.Contains(logs.String(), `stream \"jobs\": the config declares 4 shards but the stored stream has 2; keeping the stored stream`) {
		t.Fatalf("no clear report of the mismatch in:\n%s", logs)
	}
	_, out := kinesisCall(t, addr, "DescribeStreamSummary", `{"StreamName":"jobs"}`)
	if n := out["StreamDescriptionSummary"].(map[string]any)["OpenShardCount"]; n != 2.0 {
		t.Fatalf("jobs has %v shards after restart, want the stored 2", n)
	}
}

// With the disk (nearly) full, writes fail retriably, nothing is written,
// and reads keep working.
func TestDiskFullRefusesWritesKeepsReads(t *testing.T) {
	data := t.TempDir()
	addr, _, stop := startServe(t, "--listen", "127.0.0.1:0", "--data", data)
	status, _ := kinesisCall(t, addr, "PutRecord", `{"StreamName":"jobs","PartitionKey":"t1","Data":"Zmlyc3Q="}`)
	if status != 200 {
		t.Fatalf("PutRecord: %d", status)
	}
	stop()
	addr, _, _ = startServe(t, "--listen", "127.0.0.1:0", "--data", data, "--min-free-bytes", "9223372036854775807")
	status, out := kinesisCall(t, addr, "PutRecord", `{"StreamName":"jobs","PartitionKey":"t1","Data":"c2Vjb25k"}`)
	if status != 400 || out["__type"] != "ProvisionedThroughputExceededException" {
		t.Fatalf("PutRecord on a full disk: %d %v", status, out)
	}
	status, out = kinesisCall(t, addr, "PutRecords", `{"StreamName":"jobs","Records":[{"PartitionKey":"t1","Data":"c2Vjb25k"}]}`)
	recs, _ := out["Records"].([]any)
	if status != 200 || out["FailedRecordCount"] != 1.0 || len(recs) != 1 || recs[0].(map[string]any)["ErrorCode"] != "ProvisionedThroughputExceededException" {
		t.Fatalf("PutRecords on a full disk: %d %v", status, out)
	}
	total := 0
	for _, shard := range []string{"shardId-000000000000", "shardId-000000000001"} {
		_, it := kinesisCall(t, addr, "GetShardIterator", `{"StreamName":"jobs","ShardId":"`+shard+`","ShardIteratorType":"TRIM_HORIZON"}`)
		status, out = kinesisCall(t, addr, "GetRecords", `{"ShardIterator":"`+it["ShardIterator"].(string)+`"}`)
		if status != 200 {
			t.Fatalf("GetRecords on a full disk: %d %v", status, out)
		}
		total += len(out["Records"].([]any))
	}
	if total != 1 {
		t.Fatalf("read %d records on a full disk, want the 1 written before", total)
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"version"}, &out, io.Discard); code != 0 || !strings.HasPrefix(out.String(), "tenantpulse ") {
		t.Fatalf("version: %d %q", code, out.String())
	}
	if code := run([]string{"nope"}, io.Discard, io.Discard); code != 2 {
		t.Fatalf("unknown command exit %d, want 2", code)
	}
}
