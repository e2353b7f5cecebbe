package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// delstreamLoad posts events to the event API without pause, a batch at a
// time, each batch for the tenants of the current phase (prefix), and
// records every event answered accepted. Each batch has, per tenant, one
// user.added (stream companies) and one job.submitted (stream jobs).
type delstreamLoad struct {
	url    string
	prefix atomic.Pointer[string]
	hc     *http.Client

	mu       sync.Mutex
	accepted map[string]delstreamEvent // by event id
	rejected map[string]int            // error code -> count
	batches  atomic.Int64
	failed   atomic.Pointer[string] // an answer the load cannot explain
}

type delstreamEvent struct{ tenant, stream string }

const delstreamTenants = 5

func (l *delstreamLoad) run(ctx context.Context) {
	for n := 0; ctx.Err() == nil; n++ {
		prefix := *l.prefix.Load()
		var body bytes.Buffer
		now := time.Now().UTC().Format(time.RFC3339Nano)
		type sent struct {
			id string
			ev delstreamEvent
		}
		var batch []sent
		for i := range delstreamTenants {
			tenant := fmt.Sprintf("%s-%d", prefix, i)
			u := fmt.Sprintf("%s-u-%d", tenant, n)
			j := fmt.Sprintf("%s-j-%d", tenant, n)
			fmt.Fprintf(&body, `{"specversion":"1.0","id":%q,"source":"delstream","type":"user.added","time":%q,"tenantid":%q,"data":{"userId":%q}}`+"\n", u, now, tenant, u)
			fmt.Fprintf(&body, `{"specversion":"1.0","id":%q,"source":"delstream","type":"job.submitted","time":%q,"tenantid":%q,"data":{"jobId":%q,"userId":"u-1","dataSize":10}}`+"\n", j, now, tenant, j)
			batch = append(batch, sent{u, delstreamEvent{tenant, "companies"}}, sent{j, delstreamEvent{tenant, "jobs"}})
		}
		resp, err := l.hc.Post(l.url+"/v1/events", "application/x-ndjson", &body)
		if err != nil {
			if ctx.Err() == nil {
				msg := err.Error()
				l.failed.Store(&msg)
			}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var r struct {
			Results []struct{ Status, ID, Stream, Error string }
		}
		if resp.StatusCode != 200 || json.Unmarshal(b, &r) != nil || len(r.Results) != len(batch) {
			msg := fmt.Sprintf("POST /v1/events: %d %s", resp.StatusCode, b)
			l.failed.Store(&msg)
			return
		}
		l.mu.Lock()
		for i, res := range r.Results {
			switch {
			case res.Status == "accepted" && res.ID == batch[i].id && res.Stream == batch[i].ev.stream:
				l.accepted[res.ID] = batch[i].ev
			case res.Status == "rejected" && res.Error == "StreamNotFound":
				l.rejected[res.Error]++ // while its stream is deleted
			default:
				msg := fmt.Sprintf("event %s answered %+v", batch[i].id, res)
				l.failed.Store(&msg)
			}
		}
		l.mu.Unlock()
		l.batches.Add(1)
	}
}

// want returns, per tenant of prefix, how many of its events of stream
// were accepted.
func (l *delstreamLoad) want(prefix, stream string) map[string]int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int64{}
	for i := range delstreamTenants {
		out[fmt.Sprintf("%s-%d", prefix, i)] = 0
	}
	for _, ev := range l.accepted {
		if strings.HasPrefix(ev.tenant, prefix+"-") && ev.stream == stream {
			out[ev.tenant]++
		}
	}
	return out
}

// waitBatches waits until the load has had n more batches answered.
func (l *delstreamLoad) waitBatches(t *testing.T, n int64) {
	t.Helper()
	target := l.batches.Load() + n
	waitFor(t, 60*time.Second, 5*time.Millisecond, func() error {
		if msg := l.failed.Load(); msg != nil {
			t.Fatalf("the load failed: %s", *msg)
		}
		if got := l.batches.Load(); got < target {
			return fmt.Errorf("%d batches answered, waiting for %d", got, target)
		}
		return nil
	})
}

// consumerStream is one entry of streams in /v1/processor and /v1/archive.
type consumerStream struct {
	Stream, State, Created, ResetAt, ResetReason string
	Resets                                       int
}

// consumerStreams returns /v1/processor's (or /v1/archive's) streams by
// name.
func consumerStreams(t *testing.T, url string) map[string]consumerStream {
	t.Helper()
	var p struct{ Streams []consumerStream }
	getJSON(t, url, &p)
	out := map[string]consumerStream{}
	for _, s := range p.Streams {
		out[s.Stream] = s
	}
	return out
}

// checkCounted reports how /v1/tenants differs from the accepted events:
// field of each tenant of prefix must count its accepted events of stream.
func checkCounted(t *testing.T, base string, l *delstreamLoad, prefix, stream, field string) error {
	tenants, err := apiTenants(t, base, time.Now().UTC().Format(time.RFC3339))
	if err != nil {
		return err
	}
	for tenant, n := range l.want(prefix, stream) {
		got, _ := tenants[tenant][field].(float64)
		if int64(got) != n {
			return fmt.Errorf("tenant %s: %s %v, want the %d accepted %s events", tenant, field, tenants[tenant][field], n, stream)
		}
	}
	return nil
}

// TestDeleteAndRecreateCoreStreams deletes each core stream (companies,
// then jobs) with EnforceConsumerDeletion while events flow through
// POST /v1/events, creates it again with the same shard count, and checks
// that every event accepted after the recreation is counted in
// /v1/tenants and archived exactly once, that /v1/processor and
// /v1/archive show the reset, and that a restart keeps all of it. A
// DeleteStream without EnforceConsumerDeletion, from the AWS CLI, is
// refused with ResourceInUseException.
func TestDeleteAndRecreateCoreStreams(t *testing.T) {
	if _, err := os.Stat(debianAWS); err != nil {
		t.Fatalf("the AWS CLI from Debian's awscli package is needed at %s (run make deps): %v", debianAWS, err)
	}
	srv := startServer(t)
	kc := newKinesisClient(srv.url)
	ctx := context.Background()

	// Refused without EnforceConsumerDeletion: the processor and the
	// archiver are the core streams' registered consumers.
	cli := exec.Command(debianAWS, "--endpoint-url", srv.url, "kinesis", "delete-stream", "--stream-name", "jobs")
	cli.Env = clientEnv(t)
	out, err := cli.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "ResourceInUseException") || !strings.Contains(string(out), "EnforceConsumerDeletion") {
		t.Fatalf("aws kinesis delete-stream jobs without --enforce-consumer-deletion: %v\n%s", err, out)
	}
	if _, err := kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("jobs")}); err != nil {
		t.Fatalf("jobs is gone after a refused DeleteStream: %v", err)
	}

	load := &delstreamLoad{url: srv.url, hc: &http.Client{Timeout: 30 * time.Second},
		accepted: map[string]delstreamEvent{}, rejected: map[string]int{}}
	prefix := "a"
	load.prefix.Store(&prefix)
	lctx, stopLoad := context.WithCancel(ctx)
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		load.run(lctx)
	}()
	defer func() { stopLoad(); <-loadDone }()
	load.waitBatches(t, 20)

	for i, name := range []string{"companies", "jobs"} {
		sum, err := kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		shards := aws.ToInt32(sum.StreamDescriptionSummary.OpenShardCount)
		if _, err := kc.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name), EnforceConsumerDeletion: aws.Bool(true)}); err != nil {
			t.Fatalf("DeleteStream %s with EnforceConsumerDeletion: %v", name, err)
		}
		load.waitBatches(t, 10) // events of the deleted stream are refused meanwhile
		if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
			t.Fatalf("CreateStream %s: %v", name, err)
		}
		next := string(rune('b' + i)) // fresh tenants: what they send is all after the recreation
		load.prefix.Store(&next)
		load.waitBatches(t, 30)
	}
	stopLoad()
	<-loadDone
	if msg := load.failed.Load(); msg != nil {
		t.Fatalf("the load failed: %s", *msg)
	}
	if load.rejected["StreamNotFound"] == 0 {
		t.Error("no event was refused while a stream was deleted: the load did not run through the deletions")
	}

	// b-* sent after companies came back (jobs was deleted later, so only
	// their companies events are sure to count); c-* after both.
	counted := func(base string) error {
		for _, c := range []struct{ prefix, stream, field string }{
			{"b", "companies", "usersAdded"}, {"c", "companies", "usersAdded"}, {"c", "jobs", "jobsSubmitted"},
		} {
			if err := checkCounted(t, base, load, c.prefix, c.stream, c.field); err != nil {
				return err
			}
		}
		return nil
	}
	waitFor(t, 60*time.Second, 50*time.Millisecond, func() error { return counted(srv.url) })
	// The consumers look for a stream created again every 2 s.
	checkResets := func(base string) {
		t.Helper()
		waitFor(t, 30*time.Second, 50*time.Millisecond, func() error {
			for _, path := range []string{"/v1/processor", "/v1/archive"} {
				streams := consumerStreams(t, base+path)
				if len(streams) != 2 {
					return fmt.Errorf("%s: streams %+v, want companies and jobs", path, streams)
				}
				for name, st := range streams {
					if st.State != "reading" || st.Resets != 1 || st.ResetAt == "" || st.ResetReason == "" || st.Created == "" {
						return fmt.Errorf("%s: stream %s %+v, want it reading the new stream after 1 reset", path, name, st)
					}
				}
			}
			return nil
		})
	}
	checkResets(srv.url)
	for _, name := range []string{"companies", "jobs"} {
		for _, component := range []string{"analytics", "archive"} {
			if !strings.Contains(srv.log.String(), `level=WARN msg="dropped what was read of the stream and its checkpoints; the stream is read again from its start once it exists" component=`+component+` stream=`+name) {
				t.Errorf("the log does not say the %s component dropped what it held of %s", component, name)
			}
		}
	}

	// A restart keeps it right; then a clean stop stores every open file.
	srv.stop()
	srv = startServerIn(t, srv.dataDir)
	waitFor(t, 60*time.Second, 50*time.Millisecond, func() error { return counted(srv.url) })
	checkResets(srv.url)
	srv.stop()

	archived := map[string]int{}
	for _, r := range readArchive(t, srv.dataDir) {
		archived[r.id]++
	}
	missing, twice := 0, 0
	for id, ev := range load.accepted {
		if ev.tenant[0] == 'c' || ev.tenant[0] == 'b' && ev.stream == "companies" {
			if archived[id] == 0 {
				missing++
			}
		}
	}
	for _, n := range archived {
		if n > 1 {
			twice++
		}
	}
	if missing > 0 || twice > 0 {
		t.Errorf("the archive lacks %d events accepted after the recreations and holds %d twice", missing, twice)
	}
}
