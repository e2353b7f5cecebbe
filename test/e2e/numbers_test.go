package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemakerruntime/types"

	"github.com/tenantpulse/tenantpulse/internal/model"
	"github.com/tenantpulse/tenantpulse/internal/restapi/restapitest"
)

// The documented bounds (docs/events.md, docs/scoring-api.md "Feature
// bounds"), written here rather than taken from the code.
const (
	maxRevenue    = "1000000000000000" // 1e15
	maxMonthlyFee = "1000000000000"    // 1e12
	maxEmployees  = "1000000000"       // 1e9
	maxDataSize   = "1000000000000000" // 1e15
	maxDurationMs = "1000000000000"    // 1e12
)

// columnBound returns the documented bound of a column of the reference
// model (DefaultSpec: industry one-hot, revenue, employees, job30, job90,
// monthlyCharge, totalCharge).
func columnBound(t *testing.T, col string) (lo, hi float64) {
	t.Helper()
	switch {
	case strings.HasPrefix(col, "industry="):
		return 0, 1
	case col == "revenue":
		return 0, 1e15
	case col == "employees":
		return 0, 1e9
	case col == "job30", col == "job90":
		return 0, 9223372036854775807
	case col == "monthlyCharge":
		return 0, 1e12
	case col == "totalCharge":
		return 0, 7.1e15
	}
	t.Fatalf("no documented bound for column %q", col)
	return 0, 0
}

// TestNumbersStayNumbers feeds extreme values through every path into the
// built server, with a model deployed, and checks that every JSON answer
// parses and holds only finite numbers:
//   - POST /v1/events: the documented bounds themselves are accepted
//     (revenue 1e15, monthlyFee 1e12, employees 1e9, 9,300 jobs of
//     dataSize 1e15, durationMs 1e12), values past them and bad tenant
//     ids are rejected naming the field and the bound;
//   - PutRecords (the Kinesis API does not validate events): records
//     past the bounds or with bad tenant ids are dead letters with the
//     same reasons, and nothing of them reaches the tenants;
//   - every endpoint: /v1/tenants (sorted several ways), /v1/tenants/{id},
//     /v1/summary, /v1/tenants/{id}/risk and its history, POST
//     /v1/assess-churn, InvokeEndpoint (JSON and JSON lines, raw and with
//     aws-sdk-go-v2) at the column bounds, /v1/models, /v1/models/{name},
//     /v1/dead-letters, /v1/processor;
//   - a model with weights of ±1e300 is refused by PUT;
//   - DELETE /v1/models/{name}, then a restart: the endpoint stays gone;
//     --max-models and --max-model-bytes hold PUT to their limits.
//
// Before the fixes, revenue 1.7e308 was accepted and /v1/tenants answered
// 500 (json: unsupported value: -Inf) once the model scored the tenant,
// and the huge model deployed and answered "score":NaN.
func TestNumbersStayNumbers(t *testing.T) {
	srv := startServer(t, "--risk-interval", "100ms")
	hc := &http.Client{Timeout: 30 * time.Second}
	good := trainCompanies(t, model.TypeLinear)
	goodFile, err := good.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if resp, b := do(t, hc, "PUT", srv.url+"/v1/models/churn", "", goodFile); resp.StatusCode != 201 {
		t.Fatalf("PUT /v1/models/churn: %s %s", resp.Status, b)
	}

	// The event API: the bounds, and past them.
	now := time.Now().UTC().Truncate(time.Millisecond)
	ts := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339Nano) }
	n := 0
	evt := func(typ, tenant, at, data string) string {
		n++
		return fmt.Sprintf(`{"specversion":"1.0","id":"n-%d","source":"e2e","type":%q,"time":%q,"tenantid":%s,"data":%s}`,
			n, typ, at, tenant, data)
	}
	var body bytes.Buffer
	line := func(s string) { body.WriteString(s + "\n") }
	// tenant.created first, 100 days back (four months of fees), then the
	// rest in time order, so no event is behind its shard's watermark.
	line(evt("tenant.created", `"edge-max"`, ts(-100*24*time.Hour),
		`{"name":"Max","industry":"retail","sentiment":"negative","revenue":`+maxRevenue+`,"employees":`+maxEmployees+`,"monthlyFee":`+maxMonthlyFee+`}`))
	line(evt("tenant.created", `"edge-zero"`, ts(-100*24*time.Hour),
		`{"name":"Zero","industry":"finance","revenue":0,"employees":0,"monthlyFee":0}`))
	line(evt("tenant.updated", `"edge-max"`, ts(-99*24*time.Hour), `{"revenue":1e15,"monthlyFee":1E12}`))
	line(evt("user.added", `"edge-max"`, ts(-3*time.Hour), `{"userId":"u1"}`))
	line(evt("user.login", `"edge-max"`, ts(-3*time.Hour), `{"userId":"u1","sessionId":"s1"}`))
	line(evt("user.logoff", `"edge-max"`, ts(-2*time.Hour), `{"userId":"u1","sessionId":"s1"}`))
	const jobs = 9300 // 9,300 × 1e15 bytes is past int64 (9.22e18): dataBytes saturates
	for i := range jobs {
		line(evt("job.submitted", `"edge-max"`, ts(-time.Hour+time.Duration(i)*time.Millisecond),
			fmt.Sprintf(`{"jobId":"j%d","userId":"u1","dataSize":%s}`, i, maxDataSize)))
	}
	line(evt("job.terminated", `"edge-max"`, ts(-time.Minute), `{"jobId":"j0","status":"failed","durationMs":`+maxDurationMs+`}`))
	line(evt("job.cancelled", `"edge-max"`, ts(-time.Minute), `{"jobId":"j1","userId":"u1"}`))
	accepted := n
	rejects := []struct{ event, field, reason string }{
		{evt("tenant.created", `"bad-1"`, ts(0), `{"name":"B","revenue":1.7e308}`), "data.revenue", "must be at most 1000000000000000 (1e15), got 1.7e308"},
		{evt("tenant.created", `"bad-2"`, ts(0), `{"name":"B","monthlyFee":1.7e308}`), "data.monthlyFee", "must be at most 1000000000000 (1e12), got 1.7e308"},
		{evt("tenant.updated", `"bad-3"`, ts(0), `{"revenue":1000000000000000.5}`), "data.revenue", "must be at most 1000000000000000 (1e15)"},
		{evt("tenant.updated", `"bad-4"`, ts(0), `{"employees":1000000001}`), "data.employees", "must be at most 1000000000 (1e9), got 1000000001"},
		{evt("job.submitted", `"bad-5"`, ts(0), `{"jobId":"j","userId":"u","dataSize":9223372036854775807}`), "data.dataSize", "must be at most 1000000000000000 (1e15)"},
		{evt("job.terminated", `"bad-6"`, ts(0), `{"jobId":"j","status":"failed","durationMs":1000000000001}`), "data.durationMs", "must be at most 1000000000000 (1e12)"},
		{evt("tenant.updated", `"bad-7"`, ts(0), `{"revenue":1e400}`), "data.revenue", "must be at most 1000000000000000 (1e15), got 1e400"},
		{evt("user.added", `"bad\ud800"`, ts(0), `{"userId":"u"}`), "tenantid", "unpaired surrogate escape"},
		{evt("user.added", `"bad\udbff"`, ts(0), `{"userId":"u"}`), "tenantid", "unpaired surrogate escape"},
		{evt("user.added", `"bad\u0000"`, ts(0), `{"userId":"u"}`), "tenantid", "must not contain control characters"},
		{evt("user.added", `"bad\n"`, ts(0), `{"userId":"u"}`), "tenantid", "found U+000A at byte 3"},
	}
	for _, r := range rejects {
		line(r.event)
	}
	resp, b := do(t, hc, "POST", srv.url+"/v1/events", "application/x-ndjson", body.Bytes())
	var reply struct {
		FailedEventCount int `json:"failedEventCount"`
		Results          []struct{ Status, Field, Reason string }
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &reply) != nil || len(reply.Results) != accepted+len(rejects) {
		t.Fatalf("POST /v1/events: %s %.500s", resp.Status, b)
	}
	for i, r := range reply.Results[:accepted] {
		if r.Status != "accepted" {
			t.Fatalf("event %d at the bounds: %+v", i, r)
		}
	}
	for i, want := range rejects {
		got := reply.Results[accepted+i]
		if got.Status != "rejected" || got.Field != want.field || !strings.Contains(got.Reason, want.reason) {
			t.Errorf("%s: %+v; want rejected, field %s, reason containing %q", want.event, got, want.field, want.reason)
		}
	}
	if reply.FailedEventCount != len(rejects) {
		t.Errorf("failedEventCount %d, want %d", reply.FailedEventCount, len(rejects))
	}

	// The Kinesis API: the same values written straight to the streams.
	kc := kinesis.New(kinesis.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.url), Credentials: aws.AnonymousCredentials{}})
	put := func(stream string, recs ...[2]string) {
		t.Helper()
		in := &kinesis.PutRecordsInput{StreamName: aws.String(stream)}
		for _, r := range recs {
			in.Records = append(in.Records, ktypes.PutRecordsRequestEntry{PartitionKey: aws.String(r[0]), Data: []byte(r[1])})
		}
		out, err := kc.PutRecords(context.Background(), in)
		if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
			t.Fatalf("PutRecords %s: %v %+v", stream, err, out)
		}
	}
	deadReasons := map[string]string{ // id -> what the dead letter's reason must say
		"k-1": "data.revenue: must be at most 1000000000000000 (1e15), got 1.7e308",
		"k-2": "data.monthlyFee: must be at most 1000000000000 (1e12), got 1e13",
		"k-3": "data.dataSize: must be at most 1000000000000000 (1e15), got 9223372036854775807",
		"k-4": "tenantid: must not hold an unpaired surrogate escape",
		"k-5": "tenantid: must not contain control characters (U+0000 to U+001F, U+007F to U+009F); found U+0085 at byte 3",
		"k-6": "data.durationMs: must be at most 1000000000000 (1e12), got 1000000000001",
	}
	kev := func(id, typ, tenant, data string) string {
		return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"e2e-kinesis","type":%q,"time":%q,"tenantid":%s,"data":%s}`,
			id, typ, ts(0), tenant, data)
	}
	put("companies",
		[2]string{"kin-huge", kev("k-1", "tenant.created", `"kin-huge"`, `{"name":"H","revenue":1.7e308}`)},
		[2]string{"kin-huge", kev("k-2", "tenant.updated", `"kin-huge"`, `{"monthlyFee":1e13}`)},
		[2]string{"kin-lone", kev("k-4", "user.added", `"kin\ud800"`, `{"userId":"u"}`)},
		[2]string{"kin-c1", kev("k-5", "user.added", `"kin\u0085"`, `{"userId":"u"}`)},
		[2]string{"kin-ok", kev("k-7", "tenant.created", `"kin-ok"`, `{"name":"OK","revenue":1e15}`)},
	)
	put("jobs",
		[2]string{"kin-huge", kev("k-3", "job.submitted", `"kin-huge"`, `{"jobId":"j","userId":"u","dataSize":9223372036854775807}`)},
		[2]string{"kin-huge", kev("k-6", "job.terminated", `"kin-huge"`, `{"jobId":"j","status":"failed","durationMs":1000000000001}`)},
	)
	waitFor(t, 30*time.Second, 100*time.Millisecond, func() error {
		var dl struct {
			DeadLetters []struct{ ID, Reason string }
		}
		_, b := do(t, hc, "GET", srv.url+"/v1/dead-letters", "", nil)
		if err := json.Unmarshal(b, &dl); err != nil {
			return err
		}
		found := map[string]string{}
		for _, d := range dl.DeadLetters {
			found[d.ID] = d.Reason
		}
		for id, want := range deadReasons {
			if !strings.Contains(found[id], want) {
				return fmt.Errorf("dead letter %s: reason %q, want it to contain %q (all: %s)", id, found[id], want, b)
			}
		}
		return nil
	})
	if resp, b := do(t, hc, "GET", srv.url+"/v1/tenants/kin-huge", "", nil); resp.StatusCode != 404 {
		t.Errorf("a tenant of dead-lettered records only: %s %s", resp.Status, b)
	}

	// The accepted events are counted, and the model scored the tenants.
	waitFor(t, 60*time.Second, 100*time.Millisecond, func() error {
		for _, id := range []string{"edge-max", "edge-zero", "kin-ok"} {
			resp, b := do(t, hc, "GET", srv.url+"/v1/tenants/"+id, "", nil)
			if resp.StatusCode != 200 {
				return fmt.Errorf("GET /v1/tenants/%s: %s %s", id, resp.Status, b)
			}
			var v struct {
				JobsSubmitted int64
				Risk          *struct{ Score float64 }
			}
			json.Unmarshal(b, &v)
			if v.Risk == nil || id == "edge-max" && v.JobsSubmitted != jobs {
				return fmt.Errorf("%s: %d jobs, risk %v", id, v.JobsSubmitted, v.Risk)
			}
		}
		return nil
	})
	var maxT struct {
		Revenue, MonthlyFee, TotalFee float64
		Employees, DataBytes          int64
		AvgSessionSeconds             float64
	}
	_, b = do(t, hc, "GET", srv.url+"/v1/tenants/edge-max", "", nil)
	decodeJSON(t, string(b), &maxT)
	if maxT.Revenue != 1e15 || maxT.MonthlyFee != 1e12 || maxT.Employees != 1e9 || maxT.DataBytes != math.MaxInt64 ||
		maxT.TotalFee < 4e12 || maxT.TotalFee > 5e12 || maxT.AvgSessionSeconds != 3600 {
		t.Errorf("edge-max: %+v; want the bounds, dataBytes saturated at 2^63-1, 4 or 5 monthly fees of 1e12, a 1 h session", maxT)
	}

	// Every endpoint answers finite JSON.
	var cols struct{ Columns []string }
	_, b = do(t, hc, "GET", srv.url+"/v1/models/churn", "", nil)
	decodeJSON(t, string(b), &cols)
	lo, hi, mix := make([]string, len(cols.Columns)), make([]string, len(cols.Columns)), make([]string, len(cols.Columns))
	for i, c := range cols.Columns {
		l, h := columnBound(t, c)
		lo[i], hi[i] = strconv.FormatFloat(l, 'g', -1, 64), strconv.FormatFloat(h, 'g', -1, 64)
		mix[i] = lo[i]
		if i%2 == 0 {
			mix[i] = hi[i]
		}
	}
	rows := []byte(strings.Join(lo, ",") + "\n" + strings.Join(hi, ",") + "\n" + strings.Join(mix, ",") + "\n")
	scanAll := func() {
		t.Helper()
		for _, p := range []string{"/v1/tenants", "/v1/tenants?sort=revenue", "/v1/tenants?sort=dataBytes&order=desc",
			"/v1/tenants?sort=totalFee", "/v1/tenants?sort=risk", "/v1/tenants?sort=avgSessionSeconds&order=desc", "/v1/tenants/edge-max", "/v1/tenants/edge-zero", "/v1/tenants/kin-ok",
			"/v1/summary", "/v1/tenants/edge-max/risk", "/v1/tenants/edge-zero/risk", "/v1/tenants/edge-max/risk/history",
			"/v1/models", "/v1/models/churn", "/v1/dead-letters", "/v1/processor"} {
			resp, b := do(t, hc, "GET", srv.url+p, "", nil)
			if resp.StatusCode != 200 {
				t.Errorf("GET %s: %s %.300s", p, resp.Status, b)
				continue
			}
			finiteJSON(t, "GET "+p, b)
		}
		for _, payload := range []string{
			`{"companyID":"max","industry":"retail","revenu":1e15,"employees":1e9,"job30":9223372036854775807,"job90":9223372036854775807,"monthlyFee":1e12,"totalFee":7.1e15}`,
			`{"companyID":"min","industry":"nope","revenu":0,"employees":0,"job30":0,"job90":0,"monthlyFee":0,"totalFee":0}`,
			`{"companyID":"none"}`,
		} {
			resp, b := do(t, hc, "POST", srv.url+"/v1/assess-churn", "application/json", []byte(payload))
			if resp.StatusCode != 200 {
				t.Errorf("assess-churn %s: %s %s", payload, resp.Status, b)
				continue
			}
			finiteJSON(t, "assess-churn", b)
		}
		for _, accept := range []string{"application/json", "application/jsonlines"} {
			req, _ := http.NewRequest("POST", srv.url+"/endpoints/churn/invocations", bytes.NewReader(rows))
			req.Header.Set("Content-Type", "text/csv")
			req.Header.Set("Accept", accept)
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("InvokeEndpoint at the bounds, %s: %s %s", accept, resp.Status, b)
				continue
			}
			finiteJSON(t, "InvokeEndpoint "+accept, b)
		}
	}
	scanAll()

	// Past the bounds: the gateway and InvokeEndpoint refuse, with finite
	// JSON errors.
	resp, b = do(t, hc, "POST", srv.url+"/v1/assess-churn", "application/json", []byte(`{"companyID":"x","revenu":1.7e308}`))
	if resp.StatusCode != 400 || !strings.Contains(string(b), "revenue: 1.7e+308 is outside the values annual revenue can have, from 0 to 1e+15") {
		t.Errorf("assess-churn with revenu 1.7e308: %s %s", resp.Status, b)
	}
	sm := sagemakerruntime.New(sagemakerruntime.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.url), Credentials: aws.AnonymousCredentials{}})
	out, err := sm.InvokeEndpoint(context.Background(), &sagemakerruntime.InvokeEndpointInput{
		EndpointName: aws.String("churn"), ContentType: aws.String("text/csv"), Body: rows})
	if err != nil {
		t.Fatalf("InvokeEndpoint (aws-sdk-go-v2) at the bounds: %v", err)
	}
	finiteJSON(t, "InvokeEndpoint (aws-sdk-go-v2)", out.Body)
	over := make([]string, len(hi))
	copy(over, hi)
	for i, c := range cols.Columns {
		if c == "revenue" {
			over[i] = "1.7e308"
		}
	}
	_, err = sm.InvokeEndpoint(context.Background(), &sagemakerruntime.InvokeEndpointInput{
		EndpointName: aws.String("churn"), ContentType: aws.String("text/csv"), Body: []byte(strings.Join(over, ",") + "\n")})
	var me *smtypes.ModelError
	if !errors.As(err, &me) || aws.ToInt32(me.OriginalStatusCode) != 400 ||
		!strings.Contains(aws.ToString(me.OriginalMessage), "1.7e308 is outside the values the column can have, from 0 to 1e+15") {
		t.Errorf("InvokeEndpoint with revenue 1.7e308: %v; want a ModelError naming the bound", err)
	}

	// A model that can score NaN is refused, and churn keeps its model.
	huge := trainCompanies(t, model.TypeLinear)
	for i, c := range huge.Columns {
		switch c {
		case "revenue":
			huge.Weights[i] = 1e300
		case "employees":
			huge.Weights[i] = -1e300
		}
	}
	hugeFile, err := huge.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	resp, b = do(t, hc, "PUT", srv.url+"/v1/models/churn", "", hugeFile)
	var apiErr struct{ Error, Message string }
	if resp.StatusCode != 400 || json.Unmarshal(b, &apiErr) != nil || apiErr.Error != "InvalidRequest" ||
		!strings.Contains(apiErr.Message, "the model can give a score that is not a number: column revenue (weight 1e+300, values from 0 to 1e+15)") {
		t.Fatalf("PUT a model with weights ±1e300: %s %s", resp.Status, b)
	}
	var v struct{ Checksum string }
	_, b = do(t, hc, "GET", srv.url+"/v1/models/churn", "", nil)
	decodeJSON(t, string(b), &v)
	if v.Checksum != good.Checksum {
		t.Fatalf("after the refused PUT, churn serves %s, want %s", v.Checksum, good.Checksum)
	}

	// DELETE, then a restart: the endpoint stays gone.
	if resp, b := do(t, hc, "PUT", srv.url+"/v1/models/extra", "", goodFile); resp.StatusCode != 201 {
		t.Fatalf("PUT /v1/models/extra: %s %s", resp.Status, b)
	}
	if resp, b := do(t, hc, "DELETE", srv.url+"/v1/models/extra", "", nil); resp.StatusCode != 204 {
		t.Fatalf("DELETE /v1/models/extra: %s %s", resp.Status, b)
	}
	missing := func(base string) {
		t.Helper()
		sm := sagemakerruntime.New(sagemakerruntime.Options{Region: "us-east-1", BaseEndpoint: aws.String(base), Credentials: aws.AnonymousCredentials{}})
		_, err := sm.InvokeEndpoint(context.Background(), &sagemakerruntime.InvokeEndpointInput{
			EndpointName: aws.String("extra"), ContentType: aws.String("text/csv"), Body: rows})
		var ve *smtypes.ValidationError
		if !errors.As(err, &ve) || !strings.Contains(ve.ErrorMessage(), "Endpoint extra of account") {
			t.Fatalf("InvokeEndpoint on the deleted endpoint: %v; want a ValidationError saying it is not found", err)
		}
		if resp, b := do(t, hc, "GET", base+"/v1/models/extra", "", nil); resp.StatusCode != 404 {
			t.Fatalf("GET /v1/models/extra after DELETE: %s %s", resp.Status, b)
		}
	}
	missing(srv.url)
	srv.stop()
	// The restart also sets the limits on deployed models.
	srv2 := startServerIn(t, srv.dataDir, "--risk-interval", "100ms", "--max-models", "1", "--max-model-bytes", strconv.Itoa(len(goodFile)))
	missing(srv2.url)
	var list struct{ Models []struct{ Name string } }
	_, b = do(t, hc, "GET", srv2.url+"/v1/models", "", nil)
	decodeJSON(t, string(b), &list)
	if len(list.Models) != 1 || list.Models[0].Name != "churn" {
		t.Fatalf("after a restart the models are %s; want churn only", b)
	}
	if resp, b := do(t, hc, "PUT", srv2.url+"/v1/models/extra", "", goodFile); resp.StatusCode != 409 ||
		!strings.Contains(string(b), `"error":"LimitExceeded"`) || !strings.Contains(string(b), "raise the limit with --max-models or max_models") {
		t.Fatalf("PUT a second model with --max-models 1: %s %s", resp.Status, b)
	}
	if resp, b := do(t, hc, "PUT", srv2.url+"/v1/models/churn", "", append(goodFile, ' ')); resp.StatusCode != 413 ||
		!strings.Contains(string(b), "over max_model_bytes ("+strconv.Itoa(len(goodFile))+" bytes); raise the limit with --max-model-bytes") {
		t.Fatalf("PUT a model over --max-model-bytes: %s %s", resp.Status, b)
	}
	if resp, b := do(t, hc, "PUT", srv2.url+"/v1/models/churn", "", goodFile); resp.StatusCode != 200 {
		t.Fatalf("replacing churn at the limits: %s %s", resp.Status, b)
	}
	// The restored state answers finite JSON too.
	srv = srv2
	waitFor(t, 60*time.Second, 100*time.Millisecond, func() error {
		resp, b := do(t, hc, "GET", srv.url+"/v1/tenants/edge-max", "", nil)
		if resp.StatusCode != 200 || !bytes.Contains(b, []byte(`"risk"`)) {
			return fmt.Errorf("GET /v1/tenants/edge-max after the restart: %s %.200s", resp.Status, b)
		}
		return nil
	})
	scanAll()
}

// do sends a request and returns the response with its body read.
func do(t *testing.T, hc *http.Client, method, u, contentType string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	return resp, b
}

// finiteJSON fails the test unless b is JSON (one value, or one per line
// for JSON lines) whose every number is finite.
func finiteJSON(t *testing.T, what string, b []byte) {
	t.Helper()
	if err := restapitest.FiniteJSON(b); err != nil {
		t.Errorf("%s: %v: %.300s", what, err, b)
	}
}
