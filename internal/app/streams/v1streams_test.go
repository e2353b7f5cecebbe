package streams_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tenantpulse/tenantpulse/internal/app/ingest"
	"github.com/tenantpulse/tenantpulse/internal/app/streams"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// v1Streams mirrors the GET /v1/streams response.
type v1Streams struct {
	RateWindowSeconds int    `json:"rateWindowSeconds"`
	RecentEnd         string `json:"recentEnd"`
	Streams           []struct {
		Name             string   `json:"name"`
		Status           string   `json:"status"`
		ARN              string   `json:"arn"`
		Mode             string   `json:"mode"`
		ShardCount       int      `json:"shardCount"`
		RetentionHours   int      `json:"retentionHours"`
		Created          string   `json:"created"`
		Records          uint64   `json:"recordsWritten"`
		Bytes            uint64   `json:"bytesWritten"`
		RecordsPerSecond float64  `json:"recordsPerSecond"`
		BytesPerSecond   float64  `json:"bytesPerSecond"`
		RecentRecords    []uint64 `json:"recentRecords"`
		Shards           []struct {
			ShardID            string  `json:"shardId"`
			StartingHashKey    string  `json:"startingHashKey"`
			EndingHashKey      string  `json:"endingHashKey"`
			LastSequenceNumber *string `json:"lastSequenceNumber"`
			Records            uint64  `json:"recordsWritten"`
			Bytes              uint64  `json:"bytesWritten"`
			RecordsPerSecond   float64 `json:"recordsPerSecond"`
			BytesPerSecond     float64 `json:"bytesPerSecond"`
		} `json:"shards"`
	} `json:"streams"`
}

// shardWant is what a shard's entry should say.
type shardWant struct {
	records, bytes uint64
	last           string // "" : none
}

// startV1Server serves the Kinesis API, the event API and GET /v1/streams
// as cmd/tenantpulse does, over a store and services on clock.
func startV1Server(t *testing.T, clock *testClock) (url string, client *kinesis.Client) {
	t.Helper()
	store, err := streamlog.Open(streamlog.Options{Dir: t.TempDir(), MinFreeBytes: 1, Now: clock.Now})
	if err != nil {
		t.Fatalf("cannot open the store: %v", err)
	}
	svc := streams.New(streams.Options{Store: store, Region: "eu-west-1", Now: clock.Now})
	events := ingest.New(ingest.Options{Store: store, Now: clock.Now})
	if err := events.Rebuild(); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	events.Register(mux)
	svc.RegisterAPI(mux)
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost || streams.IsKinesisRequest(r) {
			svc.ServeHTTP(w, r)
			return
		}
		http.Error(w, "not the Kinesis API", http.StatusNotFound)
	})
	hs := httptest.NewServer(mux)
	t.Cleanup(func() { hs.Close(); store.Close() })
	return hs.URL, newClient(hs.URL, nil)
}

func getV1Streams(t *testing.T, url string) v1Streams {
	t.Helper()
	resp, err := http.Get(url + "/v1/streams")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /v1/streams: %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var v v1Streams
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("GET /v1/streams: %v: %s", err, body)
	}
	return v
}

// storedShards reads every record of a stream back through GetRecords and
// says what each shard's entry must count: records, partition key + data
// bytes and the newest sequence number.
func storedShards(t *testing.T, c *kinesis.Client, stream string) map[string]shardWant {
	t.Helper()
	out := map[string]shardWant{}
	for _, sh := range listAllShards(t, c, stream) {
		w := shardWant{}
		for _, r := range readShard(t, c, stream, *sh.ShardId) {
			w.records++
			w.bytes += uint64(len(*r.PartitionKey) + len(r.Data))
			w.last = *r.SequenceNumber
		}
		out[*sh.ShardId] = w
	}
	return out
}

func TestV1StreamsCountsWritesFromBothAPIs(t *testing.T) {
	created := time.Date(2026, 11, 25, 10, 0, 0, 250e6, time.UTC)
	clock := frozenClock(created)
	url, c := startV1Server(t, clock)
	createStream(t, c, "jobs", 2)
	createStream(t, c, "companies", 1)
	createStream(t, c, "audit", 3)

	v := getV1Streams(t, url)
	if v.RateWindowSeconds != 60 || len(v.Streams) != 3 {
		t.Fatalf("before any write: %+v", v)
	}
	maxKey := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1)).String()
	for i, want := range []struct {
		name   string
		shards int
	}{{"audit", 3}, {"companies", 1}, {"jobs", 2}} {
		s := v.Streams[i]
		if s.Name != want.name || s.Status != "ACTIVE" || s.ARN != "arn:aws:kinesis:eu-west-1:000000000000:stream/"+want.name ||
			s.Mode != "PROVISIONED" || s.ShardCount != want.shards || len(s.Shards) != want.shards || s.RetentionHours != 24 ||
			s.Created != "2026-11-25T10:00:00.250Z" || s.Records != 0 || s.Bytes != 0 || s.RecordsPerSecond != 0 {
			t.Errorf("stream %d before any write: %+v", i, s)
		}
		for k, sh := range s.Shards {
			if sh.ShardID != fmt.Sprintf("shardId-%012d", k) || sh.LastSequenceNumber != nil || sh.Records != 0 || sh.BytesPerSecond != 0 {
				t.Errorf("%s shard %d before any write: %+v", s.Name, k, sh)
			}
		}
		if s.Shards[0].StartingHashKey != "0" || s.Shards[len(s.Shards)-1].EndingHashKey != maxKey {
			t.Errorf("%s: hash key ranges %+v do not cover the key space", s.Name, s.Shards)
		}
	}

	// Writes through the Kinesis API (PutRecords, PutRecord) and the event
	// API (which writes to jobs and companies).
	var entries []types.PutRecordsRequestEntry
	for i := range 40 {
		entries = append(entries, types.PutRecordsRequestEntry{
			PartitionKey: aws.String(fmt.Sprintf("tenant-%d", i)), Data: []byte(strings.Repeat("x", i*7)),
		})
	}
	out, err := c.PutRecords(ctxT(t), &kinesis.PutRecordsInput{StreamName: aws.String("jobs"), Records: entries})
	if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
		t.Fatalf("PutRecords: %v %+v", err, out)
	}
	if _, err := c.PutRecord(ctxT(t), &kinesis.PutRecordInput{
		StreamName: aws.String("audit"), PartitionKey: aws.String("k"), Data: []byte("hello"),
	}); err != nil {
		t.Fatalf("PutRecord: %v", err)
	}
	body := `{"specversion":"1.0","id":"e1","source":"test","type":"job.submitted","time":"2026-11-25T09:00:00.000Z","tenantid":"acme","data":{"jobId":"j1","userId":"u1","dataSize":10}}` + "\n" +
		`{"specversion":"1.0","id":"e2","source":"test","type":"user.login","time":"2026-11-25T09:00:00.000Z","tenantid":"acme","data":{"userId":"u1","sessionId":"s1"}}` + "\n"
	resp, err := http.Post(url+"/v1/events", "application/x-ndjson", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	reply, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(reply), `"failedEventCount":0`) {
		t.Fatalf("POST /v1/events: %d %s", resp.StatusCode, reply)
	}

	// at is the index in recentRecords of the writes' second (-1: out of
	// the window).
	check := func(what string, v v1Streams, perSecond bool, at int) {
		t.Helper()
		for _, s := range v.Streams {
			if len(s.RecentRecords) != 60 {
				t.Fatalf("%s: %s has %d recentRecords, want 60", what, s.Name, len(s.RecentRecords))
			}
			for i, n := range s.RecentRecords {
				if want := map[bool]uint64{true: s.Records}[i == at]; n != want {
					t.Errorf("%s: %s wrote %d records in second %d of the window (%v), want %d", what, s.Name, n, i, s.RecentRecords, want)
				}
			}
			want := storedShards(t, c, s.Name)
			var records, bytes uint64
			for _, sh := range s.Shards {
				w := want[sh.ShardID]
				records, bytes = records+w.records, bytes+w.bytes
				last := ""
				if sh.LastSequenceNumber != nil {
					last = *sh.LastSequenceNumber
				}
				if sh.Records != w.records || sh.Bytes != w.bytes || last != w.last {
					t.Errorf("%s: %s %s counts %d records, %d bytes, last %q; the shard holds %d, %d, %q",
						what, s.Name, sh.ShardID, sh.Records, sh.Bytes, last, w.records, w.bytes, w.last)
				}
				wantRec, wantBytes := 0.0, 0.0
				if perSecond {
					wantRec, wantBytes = round3(float64(w.records)/60), round3(float64(w.bytes)/60)
				}
				if sh.RecordsPerSecond != wantRec || sh.BytesPerSecond != wantBytes {
					t.Errorf("%s: %s %s at %v records/s, %v bytes/s; want %v, %v",
						what, s.Name, sh.ShardID, sh.RecordsPerSecond, sh.BytesPerSecond, wantRec, wantBytes)
				}
			}
			if s.Records != records || s.Bytes != bytes {
				t.Errorf("%s: %s totals %d records, %d bytes; its shards hold %d, %d", what, s.Name, s.Records, s.Bytes, records, bytes)
			}
			wantRec, wantBytes := 0.0, 0.0
			if perSecond {
				wantRec, wantBytes = round3(float64(records)/60), round3(float64(bytes)/60)
			}
			if math.Abs(s.RecordsPerSecond-wantRec) > 0.002 || math.Abs(s.BytesPerSecond-wantBytes) > 0.002 {
				t.Errorf("%s: %s at %v records/s, %v bytes/s; want %v, %v", what, s.Name, s.RecordsPerSecond, s.BytesPerSecond, wantRec, wantBytes)
			}
		}
	}
	v = getV1Streams(t, url)
	check("after the writes", v, true, 59)
	if v.RecentEnd != "2026-11-25T10:00:00.000Z" {
		t.Errorf("recentEnd %q, want the start of the clock's second", v.RecentEnd)
	}
	for i, want := range []uint64{1, 1, 41} {
		if s := v.Streams[i]; s.Records != want || s.RecordsPerSecond <= 0 || s.BytesPerSecond <= 0 {
			t.Errorf("%s: %d records at %v records/s, %v bytes/s; want %d at a positive rate", s.Name, s.Records, s.RecordsPerSecond, s.BytesPerSecond, want)
		}
	}

	clock.Advance(59 * time.Second) // the writes' second is still in the window
	v = getV1Streams(t, url)
	check("59 s later", v, true, 0)
	if v.RecentEnd != "2026-11-25T10:00:59.000Z" {
		t.Errorf("59 s later recentEnd is %q", v.RecentEnd)
	}
	clock.Advance(time.Second) // and now it is not
	v = getV1Streams(t, url)
	check("60 s later", v, false, -1)
	if v.Streams[2].Records != 41 {
		t.Errorf("jobs: %d records after the window, want 41 still", v.Streams[2].Records)
	}
}

func TestV1StreamsRefusesMethodsAndParameters(t *testing.T) {
	url, _ := startV1Server(t, shiftedClock())
	f := func(method, path string, status int, code, msg string) {
		t.Helper()
		req, _ := http.NewRequest(method, url+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e struct{ Error, Message string }
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
			t.Fatalf("%s %s: the body is not the /v1 error shape: %v", method, path, err)
		}
		if resp.StatusCode != status || e.Error != code || !strings.Contains(e.Message, msg) {
			t.Errorf("%s %s: %d %+v; want %d %s with %q", method, path, resp.StatusCode, e, status, code, msg)
		}
		if status == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != "GET" {
			t.Errorf("%s %s: Allow %q, want GET", method, path, resp.Header.Get("Allow"))
		}
	}
	f("POST", "/v1/streams", 405, "MethodNotAllowed", "POST /v1/streams is not supported; use GET")
	f("DELETE", "/v1/streams", 405, "MethodNotAllowed", "use GET")
	f("GET", "/v1/streams?limit=5", 400, "InvalidRequest", `unknown parameter "limit"; /v1/streams takes none`)
	f("GET", "/v1/streams?a=1&b=2", 400, "InvalidRequest", `unknown parameter "a"`)
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
