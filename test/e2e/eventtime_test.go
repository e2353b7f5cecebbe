package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// timeResult is one result of POST /v1/events with the fields event time
// adds.
type timeResult struct {
	Status   string `json:"status"`
	ID       string `json:"id"`
	ShardID  string `json:"shardId"`
	Field    string `json:"field"`
	Reason   string `json:"reason"`
	Windowed *bool  `json:"windowed"`
}

// postTimes posts events as one JSON array and returns their results.
func postTimes(t *testing.T, base string, events ...string) []timeResult {
	t.Helper()
	resp, err := http.Post(base+"/v1/events", "application/json", strings.NewReader("["+strings.Join(events, ",")+"]"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r struct{ Results []timeResult }
	if resp.StatusCode != 200 || json.Unmarshal(b, &r) != nil || len(r.Results) != len(events) {
		t.Fatalf("POST /v1/events: %d %s", resp.StatusCode, b)
	}
	return r.Results
}

func jobAt(id, tenant string, at time.Time) string {
	return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"e2e","type":"job.submitted","time":%q,"tenantid":%q,"data":{"jobId":%q,"userId":"u","dataSize":1}}`,
		id, at.UTC().Format(time.RFC3339Nano), tenant, id)
}

func createdAt(tenant string, at time.Time) string {
	return fmt.Sprintf(`{"specversion":"1.0","id":"c-%s","source":"e2e","type":"tenant.created","time":%q,"tenantid":%q,"data":{"name":"N %s","industry":"retail","sentiment":"neutral","revenue":1,"employees":1,"monthlyFee":1}}`,
		tenant, at.UTC().Format(time.RFC3339Nano), tenant, tenant)
}

// readmeEvent returns the README's example tenant.created event.
func readmeEvent(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range bytes.Split(readme, []byte("\n")) {
		if bytes.HasPrefix(l, []byte(`{"specversion"`)) && bytes.Contains(l, []byte(`"type":"tenant.created"`)) {
			return string(l)
		}
	}
	t.Fatal("README.md has no example tenant.created event")
	return ""
}

type processorView struct {
	Shards []struct {
		Stream, Shard, Watermark string
		Future, DeadLetters      int64
	}
}

// TestEventTimeCannotBePoisoned: an event dated in 2100 is rejected by the
// event API; written with PutRecords (which does not validate), it and a
// week-ahead one are dead letters with their own reason, and every real
// event of the shard still counts. The README's example event (days
// behind the watermark) shows up, a 100-day backfill after live events
// counts in jobs30d/jobs90d, one older than 120 days counts in the totals
// only, and a restart keeps all of it.
func TestEventTimeCannotBePoisoned(t *testing.T) {
	srv := startServer(t)
	live := time.Now().UTC().Add(-time.Minute).Truncate(time.Millisecond)
	asOf := live.Format(time.RFC3339Nano)

	// The event API refuses 2100.
	if r := postTimes(t, srv.url, jobAt("p-2100", "poison", time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)))[0]; r.Status != "rejected" || r.Field != "time" ||
		!strings.Contains(r.Reason, "days") || !strings.Contains(r.Reason, "ahead of the server's clock") {
		t.Fatalf("a 2100 event: %+v, want rejected on time saying by how much", r)
	}

	// Live events: the poisoned tenant's first, then PutRecords of
	// records dated 2100 and a week ahead into its shard.
	poisonShard := postTimes(t, srv.url, jobAt("p-1", "poison", live))[0].ShardID
	kc := newKinesisClient(srv.url)
	out, err := kc.PutRecords(context.Background(), &kinesis.PutRecordsInput{StreamName: aws.String("jobs"), Records: []types.PutRecordsRequestEntry{
		{PartitionKey: aws.String("poison"), Data: []byte(jobAt("p-2100", "poison", time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)))},
		{PartitionKey: aws.String("poison"), Data: []byte(jobAt("p-week", "poison", time.Now().Add(7*24*time.Hour)))},
	}})
	if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 || aws.ToString(out.Records[0].ShardId) != poisonShard {
		t.Fatalf("PutRecords: %v %+v", err, out)
	}
	// Real events of other tenants, after the poison; the ones in its shard matter.
	var others []string
	for i := range 16 {
		id := fmt.Sprintf("other-%d", i)
		others = append(others, jobAt("o-"+id, id, live))
	}
	neighbour := "" // another tenant in the poisoned shard
	for i, r := range postTimes(t, srv.url, others...) {
		if r.Status != "accepted" {
			t.Fatalf("a live event: %+v", r)
		}
		if r.ShardID == poisonShard && neighbour == "" {
			neighbour = fmt.Sprintf("other-%d", i)
		}
	}
	if neighbour == "" {
		t.Fatal("no other tenant shares the poisoned shard; pick other ids")
	}

	// Live events on the companies shards, then the README's event, days
	// behind their watermark.
	var creates []string
	for i := range 16 {
		creates = append(creates, createdAt(fmt.Sprintf("other-%d", i), live))
	}
	postTimes(t, srv.url, creates...)
	waitFor(t, 20*time.Second, 50*time.Millisecond, func() error {
		var p processorView
		getJSON(t, srv.url+"/v1/processor", &p)
		for _, s := range p.Shards {
			if s.Stream == "companies" && s.Watermark < live.Format("2006-01-02") {
				return fmt.Errorf("companies %s: watermark %q, want today's", s.Shard, s.Watermark)
			}
		}
		return nil
	})
	if r := postTimes(t, srv.url, readmeEvent(t))[0]; r.Status != "accepted" {
		t.Fatalf("the README's event: %+v", r)
	}

	// A tenant's 100-day history after its live events, and one event
	// older than the 120 days the windows keep.
	postTimes(t, srv.url, jobAt("h-live", "hist", live))
	var hist []string
	for d := 100; d >= 1; d-- {
		hist = append(hist, jobAt(fmt.Sprint("h-", d), "hist", live.Add(-time.Duration(d)*24*time.Hour)))
	}
	hist = append(hist, jobAt("h-130", "hist", live.Add(-130*24*time.Hour)))
	res := postTimes(t, srv.url, hist...)
	for _, r := range res[:100] {
		if r.Status != "accepted" || r.Windowed != nil {
			t.Fatalf("a history event within 120 days: %+v", r)
		}
	}
	if r := res[100]; r.Status != "accepted" || r.Windowed == nil || *r.Windowed || !strings.Contains(r.Reason, "lifetime totals only") {
		t.Fatalf("a history event 130 days old: %+v, want accepted with windowed false and why", r)
	}

	check := func(base string, extra int64) error {
		tenants, err := apiTenants(t, base, asOf)
		if err != nil {
			return err
		}
		want := map[string][3]float64{"poison": {1, 1, 1}, "hist": {102, 30, 90}} // jobsSubmitted, jobs30d, jobs90d
		for i := range 16 {
			id, n := fmt.Sprintf("other-%d", i), float64(1)
			if id == neighbour {
				n += float64(extra)
			}
			want[id] = [3]float64{n, n, n}
		}
		for id, w := range want {
			tn, ok := tenants[id]
			if !ok {
				return fmt.Errorf("tenant %s is missing", id)
			}
			if got := [3]float64{num(tn["jobsSubmitted"]), num(tn["jobs30d"]), num(tn["jobs90d"])}; got != w {
				return fmt.Errorf("tenant %s: jobsSubmitted, jobs30d, jobs90d = %v, want %v", id, got, w)
			}
		}
		if acme, ok := tenants["acme"]; !ok || acme["name"] != "Acme" || acme["created"] != "2026-11-25T09:00:00.000Z" {
			return fmt.Errorf("the README's tenant: %v", acme)
		}
		var p processorView
		getJSON(t, base+"/v1/processor", &p)
		for _, s := range p.Shards {
			if s.Stream == "jobs" && s.Shard == poisonShard {
				if s.Future != 2 || s.DeadLetters != 2 || s.Watermark > time.Now().UTC().Add(time.Hour).Format(time.RFC3339Nano) {
					return fmt.Errorf("the poisoned shard: %+v, want 2 future dead letters and a watermark of now", s)
				}
			}
		}
		var dl struct {
			DeadLetters []struct{ Reason, TenantID string }
			Total       int64
		}
		getJSON(t, base+"/v1/dead-letters", &dl)
		if dl.Total != 2 || len(dl.DeadLetters) != 2 {
			return fmt.Errorf("dead letters %+v, want the 2 poison records", dl)
		}
		for _, d := range dl.DeadLetters {
			if d.TenantID != "poison" || !strings.HasPrefix(d.Reason, "future: ") || !strings.Contains(d.Reason, "max-future 1h0m0s") {
				return fmt.Errorf("dead letter %+v, want poison's with a future: reason", d)
			}
		}
		return nil
	}
	waitFor(t, 30*time.Second, 100*time.Millisecond, func() error { return check(srv.url, 0) })

	// A restart keeps all of it, and the shard still takes real events.
	srv.stop()
	srv2 := startServerIn(t, srv.dataDir)
	waitFor(t, 30*time.Second, 100*time.Millisecond, func() error { return check(srv2.url, 0) })
	if r := postTimes(t, srv2.url, jobAt("o-again", neighbour, live))[0]; r.ShardID != poisonShard {
		t.Fatalf("the neighbour's event went to %s, not the poisoned shard %s", r.ShardID, poisonShard)
	}
	waitFor(t, 30*time.Second, 100*time.Millisecond, func() error { return check(srv2.url, 1) })
}

// num reads a JSON number.
func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

// TestMaxFutureFlag: --max-future reaches both the event API and the
// processor.
func TestMaxFutureFlag(t *testing.T) {
	srv := startServer(t, "--max-future", "10m")
	ahead := time.Now().Add(30 * time.Minute)
	if r := postTimes(t, srv.url, jobAt("a-1", "acme", ahead))[0]; r.Status != "rejected" || r.Field != "time" || !strings.Contains(r.Reason, "at most 10m0s ahead") {
		t.Fatalf("an event 30 minutes ahead with --max-future 10m: %+v", r)
	}
	if r := postTimes(t, srv.url, jobAt("a-2", "acme", time.Now().Add(5*time.Minute)))[0]; r.Status != "accepted" {
		t.Fatalf("an event 5 minutes ahead with --max-future 10m: %+v", r)
	}
	kc := newKinesisClient(srv.url)
	if _, err := kc.PutRecord(context.Background(), &kinesis.PutRecordInput{StreamName: aws.String("jobs"), PartitionKey: aws.String("acme"),
		Data: []byte(jobAt("a-3", "acme", ahead))}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, 50*time.Millisecond, func() error {
		var dl struct {
			DeadLetters []struct{ Reason string }
		}
		getJSON(t, srv.url+"/v1/dead-letters", &dl)
		if len(dl.DeadLetters) != 1 || !strings.Contains(dl.DeadLetters[0].Reason, "more than the max-future 10m0s") {
			return fmt.Errorf("dead letters %+v, want the record 30 minutes ahead", dl)
		}
		return nil
	})
	var p struct{ MaxFuture string }
	getJSON(t, srv.url+"/v1/processor", &p)
	if p.MaxFuture != "10m0s" {
		t.Errorf("/v1/processor maxFuture %q, want 10m0s", p.MaxFuture)
	}
}
