package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// eventsReply is POST /v1/events' answer.
type eventsReply struct {
	FailedEventCount int `json:"failedEventCount"`
	Results          []struct {
		Status    string `json:"status"`
		ID        string `json:"id"`
		Reason    string `json:"reason"`
		Retryable bool   `json:"retryable"`
	} `json:"results"`
}

// TestEventsKill9LosesNothing sends events to POST /v1/events from
// concurrent producers that resend a batch until it is answered, kill -9s
// the server at random points and restarts it, then reads both streams
// back: every event answered accepted or duplicate is stored, and no event
// is stored twice, because the dedupe window is rebuilt from the streams
// after each restart.
func TestEventsKill9LosesNothing(t *testing.T) {
	const (
		producers = 4
		kills     = 6
		maxBatch  = 200
	)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	dataDir := t.TempDir()
	srv := startServerIn(t, dataDir)
	var url atomic.Pointer[string]
	url.Store(&srv.url)

	var (
		mu    sync.Mutex
		acked = map[string]bool{}
		sent  = map[string]bool{}
		nAck  atomic.Int64
	)
	ctx, cancel := context.WithCancel(context.Background())
	hc := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prng := rand.New(rand.NewPCG(seed, uint64(p)+10))
			for n := 0; ctx.Err() == nil; {
				size := 1 + prng.IntN(maxBatch)
				var body bytes.Buffer
				ids := make([]string, size)
				for i := range ids {
					id := fmt.Sprintf("p%d-%d", p, n)
					n++
					ids[i] = id
					tenant := fmt.Sprintf("tenant-%d", prng.IntN(50))
					if prng.IntN(2) == 0 {
						fmt.Fprintf(&body, `{"specversion":"1.0","id":%q,"source":"crash","type":"user.login","time":"2026-11-25T10:00:00Z","tenantid":%q,"data":{"userId":"u1","sessionId":"s1"}}`+"\n", id, tenant)
					} else {
						fmt.Fprintf(&body, `{"specversion":"1.0","id":%q,"source":"crash","type":"job.submitted","time":"2026-11-25T10:00:00Z","tenantid":%q,"data":{"jobId":"j1","userId":"u1","dataSize":1}}`+"\n", id, tenant)
					}
				}
				mu.Lock()
				for _, id := range ids {
					sent[id] = true
				}
				mu.Unlock()
				// Resend the same batch until it is answered.
				for ctx.Err() == nil {
					resp, err := hc.Post(*url.Load()+"/v1/events", "application/x-ndjson", bytes.NewReader(body.Bytes()))
					if err != nil {
						time.Sleep(20 * time.Millisecond)
						continue
					}
					b, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					if err != nil {
						// Cut off by a kill: not answered.
						time.Sleep(20 * time.Millisecond)
						continue
					}
					if resp.StatusCode != 200 {
						t.Errorf("POST /v1/events: %d %s", resp.StatusCode, b)
						return
					}
					var r eventsReply
					if err := json.Unmarshal(b, &r); err != nil || len(r.Results) != size {
						t.Errorf("reply %.300s: %v", b, err)
						return
					}
					retry := false
					mu.Lock()
					for i, res := range r.Results {
						switch {
						case res.Status == "accepted" || res.Status == "duplicate":
							if res.ID != ids[i] {
								t.Errorf("result %d names %s, sent %s", i, res.ID, ids[i])
							}
							acked[ids[i]] = true
							nAck.Add(1)
						case res.Retryable:
							retry = true
						default:
							t.Errorf("event %s rejected: %+v", ids[i], res)
						}
					}
					mu.Unlock()
					if !retry {
						break
					}
				}
			}
		}()
	}

	for k := range kills {
		target := nAck.Load() + int64(2000+rng.IntN(8000))
		waitFor(t, 2*time.Minute, 5*time.Millisecond, func() error {
			if t.Failed() {
				t.FailNow()
			}
			if nAck.Load() < target {
				return fmt.Errorf("%d of %d events acknowledged", nAck.Load(), target)
			}
			return nil
		})
		srv.kill9()
		t.Logf("kill %d after %d acknowledged events", k+1, nAck.Load())
		srv = startServerIn(t, dataDir)
		url.Store(&srv.url)
	}
	time.Sleep(200 * time.Millisecond)
	cancel()
	wg.Wait()

	c := newKinesisClient(srv.url)
	count := map[string]int{}
	for _, stream := range []string{"companies", "jobs"} {
		for _, data := range readStream(t, c, stream) {
			var e struct{ ID, Source, Receivedtime string }
			if err := json.Unmarshal(data, &e); err != nil {
				t.Fatalf("stored record %q: %v", data, err)
			}
			if e.Source != "crash" || e.Receivedtime == "" {
				t.Fatalf("stored record %s lacks source or receivedtime", data)
			}
			count[e.ID]++
		}
	}
	mu.Lock()
	defer mu.Unlock()
	lost, twice, unknown := 0, 0, 0
	for id := range acked {
		if count[id] == 0 {
			lost++
			if lost < 5 {
				t.Errorf("acknowledged event %s is not stored", id)
			}
		}
	}
	for id, n := range count {
		if n > 1 {
			twice++
			if twice < 5 {
				t.Errorf("event %s is stored %d times", id, n)
			}
		}
		if !sent[id] {
			unknown++
		}
	}
	if lost+twice+unknown > 0 {
		t.Fatalf("%d acknowledged events lost, %d stored more than once, %d never sent, of %d acknowledged", lost, twice, unknown, len(acked))
	}
	t.Logf("%d events acknowledged over %d kills, %d stored, each once", len(acked), kills, len(count))
}

// readStream reads every record of every shard of stream from TRIM_HORIZON.
func readStream(t *testing.T, c *kinesis.Client, stream string) [][]byte {
	t.Helper()
	ctx := context.Background()
	shards, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatalf("ListShards %s: %v", stream, err)
	}
	var out [][]byte
	for _, sh := range shards.Shards {
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: aws.String(stream), ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			t.Fatalf("GetShardIterator %s/%s: %v", stream, aws.ToString(sh.ShardId), err)
		}
		for next := it.ShardIterator; ; {
			res, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: next})
			if err != nil {
				t.Fatalf("GetRecords %s/%s: %v", stream, aws.ToString(sh.ShardId), err)
			}
			for _, rec := range res.Records {
				out = append(out, rec.Data)
			}
			next = res.NextShardIterator
			if len(res.Records) == 0 && aws.ToInt64(res.MillisBehindLatest) == 0 {
				break
			}
		}
	}
	return out
}

// TestEventsAPIOverTheBinary: the built server takes a batch with good,
// repeated and bad events, a malformed body, an oversized one and a wrong
// content type, answers each as documented, and reports it on /metrics.
func TestEventsAPIOverTheBinary(t *testing.T) {
	srv := startServer(t)
	post := func(ct string, body []byte) (int, []byte) {
		t.Helper()
		resp, err := http.Post(srv.url+"/v1/events", ct, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	good := `{"specversion":"1.0","id":"b1","source":"e2e","type":"tenant.created","time":"2026-11-25T10:00:00Z","tenantid":"acme","data":{"name":"Acme","industry":"retail","sentiment":"positive","revenue":1.5e6,"employees":40,"monthlyFee":499}}`
	bad := `{"specversion":"1.0","id":"b2","source":"e2e","type":"job.submitted","time":"2026-11-25T10:00:00Z","tenantid":"acme","data":{"jobId":"j","userId":"u","dataSize":-1}}`
	code, b := post("application/json", []byte("["+good+","+good+","+bad+"]"))
	var r eventsReply
	if code != 200 || json.Unmarshal(b, &r) != nil {
		t.Fatalf("%d %s", code, b)
	}
	if r.FailedEventCount != 1 || len(r.Results) != 3 || r.Results[0].Status != "accepted" || r.Results[1].Status != "duplicate" || r.Results[2].Status != "rejected" {
		t.Fatalf("reply %s", b)
	}
	if code, b := post("application/json", []byte(`[{"id":1,}]`)); code != 400 || !bytes.Contains(b, []byte(`"MalformedJSON"`)) {
		t.Errorf("malformed: %d %s", code, b)
	}
	if code, b := post("application/json", bytes.Repeat([]byte(" "), 6<<20)); code != 413 {
		t.Errorf("oversized: %d %s", code, b)
	}
	if code, b := post("application/xml", []byte(good)); code != 415 {
		t.Errorf("wrong content type: %d %s", code, b)
	}
	resp, err := http.Get(srv.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`tenantpulse_events_total{result="accepted"} 1`,
		`tenantpulse_events_total{result="duplicate"} 1`,
		`tenantpulse_events_total{result="rejected"} 1`,
		`tenantpulse_events_requests_total{code="413"} 1`,
		`tenantpulse_events_dedupe_entries 1`,
	} {
		if !bytes.Contains(m, []byte(want)) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	c := newKinesisClient(srv.url)
	if recs := readStream(t, c, "companies"); len(recs) != 1 || !bytes.Contains(recs[0], []byte(`"receivedtime":"`)) {
		t.Errorf("companies holds %q, want the one tenant.created with a receivedtime", recs)
	}
}
