package scoring

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenantpulse/tenantpulse/internal/analytics"
	"github.com/tenantpulse/tenantpulse/internal/model"
	"github.com/tenantpulse/tenantpulse/internal/restapi/restapitest"
)

// finiteJSON fails the test unless b is JSON (one value, or one per line
// for JSON lines) whose every number is finite.
func finiteJSON(t testing.TB, what string, b []byte) {
	t.Helper()
	if err := restapitest.FiniteJSON(b); err != nil {
		t.Errorf("%s: %v: %.300s", what, err, b)
	}
}

// hugeModel returns the reference linear model with weights so large
// that some inputs inside the feature bounds score NaN: +1e300 on revenue
// and -1e300 on employees.
func hugeModel(t testing.TB) []byte {
	t.Helper()
	linear, _, _ := modelFiles(t)
	m := mustLoad(t, linear)
	for i, c := range m.Columns {
		switch c {
		case "revenue":
			m.Weights[i] = 1e300
		case "employees":
			m.Weights[i] = -1e300
		}
	}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHugeWeightsRefused: a model that can score NaN inside the feature
// bounds is refused by PUT (400, the /v1 error shape, nothing stored),
// by --model and from the models directory at start. Before the load
// check, PUT answered 201 and InvokeEndpoint "score":NaN.
func TestHugeWeightsRefused(t *testing.T) {
	huge := hugeModel(t)
	const why = "the model can give a score that is not a number: column revenue (weight 1e+300, values from 0 to 1e+15) reaches +Inf"
	dir := t.TempDir()
	_, srv := startService(t, Options{Dir: dir})
	resp, b := call(t, "PUT", srv.URL+"/v1/models/huge", nil, huge)
	var e struct{ Error, Message string }
	decode(t, b, &e)
	if resp.StatusCode != 400 || e.Error != "InvalidRequest" || !strings.Contains(e.Message, why) {
		t.Fatalf("PUT a model with weights ±1e300: %s %s; want 400 InvalidRequest saying %q", resp.Status, b, why)
	}
	if resp, _ := call(t, "GET", srv.URL+"/v1/models/huge", nil, nil); resp.StatusCode != 404 {
		t.Fatalf("GET the refused model: %s", resp.Status)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("the refused model left %d files in the models directory", len(ents))
	}
	// --model
	if _, err := New(context.Background(), Options{Models: map[string]string{"churn": writeModel(t, huge)}}); err == nil || !strings.Contains(err.Error(), why) {
		t.Fatalf("--model churn=huge: %v", err)
	}
	// a file in the models directory (written by an older version)
	dir2 := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir2, "churn.model.json"), huge, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(context.Background(), Options{Dir: dir2}); err == nil || !strings.Contains(err.Error(), why) ||
		!strings.Contains(err.Error(), "deploy a good model there again or remove the file") {
		t.Fatalf("a huge model in the directory: %v", err)
	}
}

func modelFilesLinear(t testing.TB) []byte { l, _, _ := modelFiles(t); return l }

// TestInvokeBounds: InvokeEndpoint scores the feature bounds themselves
// (finite JSON, CSV in, JSON and JSON lines out) and refuses a value
// outside them as the other bad values are (ModelError, 424, the row and
// column named, with the bound).
func TestInvokeBounds(t *testing.T) {
	_, srv := startService(t, Options{})
	m := mustLoad(t, modelFilesLinear(t))
	bounds := m.Spec.Bounds()
	lo, hi := make([]float64, len(bounds)), make([]float64, len(bounds))
	for i, b := range bounds {
		lo[i], hi[i] = b.Min, b.Max
	}
	body := append(appendRow(nil, lo), appendRow(nil, hi)...)
	for _, accept := range []string{"application/json", "application/jsonlines"} {
		resp, b := invoke(t, srv.URL, "churn", map[string]string{"Accept": accept}, body)
		if resp.StatusCode != 200 {
			t.Fatalf("the bounds, %s: %s %s", accept, resp.Status, b)
		}
		finiteJSON(t, "InvokeEndpoint "+accept, b)
	}
	col := -1
	for i, c := range m.Columns {
		if c == "revenue" {
			col = i
		}
	}
	for _, v := range []string{"1.7e308", "1000000000000000.2", "-1"} {
		row := appendRow(nil, lo)
		fields := strings.Split(strings.TrimSuffix(string(row), "\n"), ",")
		fields[col] = v
		resp, b := invoke(t, srv.URL, "churn", nil, []byte("\n"+strings.Join(fields, ",")+"\n"))
		var me struct {
			OriginalStatusCode int
			OriginalMessage    string
		}
		decode(t, b, &me)
		want := "row 2, column " + strconv.Itoa(col+1) + " (revenue): " + v + " is outside the values the column can have, from 0 to 1e+15"
		if resp.StatusCode != 424 || resp.Header.Get("X-Amzn-Errortype") == "" || !strings.HasPrefix(resp.Header.Get("X-Amzn-Errortype"), "ModelError") ||
			me.OriginalStatusCode != 400 || !strings.Contains(me.OriginalMessage, want) {
			t.Fatalf("revenue %s: %s %s %s; want a ModelError saying %q", v, resp.Status, resp.Header.Get("X-Amzn-Errortype"), b, want)
		}
	}
}

// TestGatewayBounds: POST /v1/assess-churn scores payloads at the bounds
// and refuses one beyond them (400, naming the fact and the bound); GET
// /v1/tenants/{id}/risk scores a tenant whose stored metrics are beyond
// them (state from before the bounds existed) as the nearest bound, with
// finite JSON.
func TestGatewayBounds(t *testing.T) {
	legacy := referenceTenant()
	legacy.Revenue, legacy.MonthlyFee, legacy.TotalFee = 1.7e308, 1.7e308, math.MaxFloat64
	legacy.Jobs30d, legacy.Jobs90d, legacy.CancelRate = math.MaxInt64, math.MaxInt64, 1e300
	_, srv := startService(t, Options{Tenants: tenants{"c1": legacy}})
	resp, b := call(t, "POST", srv.URL+"/v1/assess-churn", nil,
		[]byte(`{"companyID":"c1","industry":"retail","revenu":1e15,"employees":1000000000,"job30":9223372036854775807,"job90":0,"monthlyFee":1e12,"totalFee":7.1e15}`))
	if resp.StatusCode != 200 {
		t.Fatalf("assess-churn at the bounds: %s %s", resp.Status, b)
	}
	finiteJSON(t, "assess-churn", b)
	resp, b = call(t, "POST", srv.URL+"/v1/assess-churn", nil, []byte(`{"companyID":"c1","industry":"retail","revenu":1.7e308}`))
	var e struct{ Error, Message string }
	decode(t, b, &e)
	if want := "revenue: 1.7e+308 is outside the values annual revenue can have, from 0 to 1e+15"; resp.StatusCode != 400 || e.Error != "InvalidRequest" || !strings.Contains(e.Message, want) {
		t.Fatalf("assess-churn revenu 1.7e308: %s %s; want 400 saying %q", resp.Status, b, want)
	}
	resp, b = call(t, "GET", srv.URL+"/v1/tenants/c1/risk", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("risk of a tenant with out-of-bounds metrics: %s %s", resp.Status, b)
	}
	finiteJSON(t, "tenant risk", b)
}

// TestFactsOfClamps: live facts are inside the feature bounds whatever
// the metrics hold.
func TestFactsOfClamps(t *testing.T) {
	tn := analytics.Tenant{Created: "2026-01-01T00:00:00.000Z", Revenue: 1.7e308, MonthlyFee: math.MaxFloat64, TotalFee: 1e300,
		Employees: math.MaxInt64, Users: math.MinInt64, CancelRate: 1e300, LastActivity: "1677-09-22T00:00:00Z"}
	f := FactsOf(tn, time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC))
	for k, v := range f.Num {
		if b := model.BoundOf(k); !b.Contains(v) {
			t.Errorf("%s = %v, outside %s", k, v, b)
		}
	}
	if f.Num["revenue"] != 1e15 || f.Num["monthlyFee"] != 1e12 || f.Num["employees"] != 1e9 {
		t.Errorf("clamped to %v %v %v", f.Num["revenue"], f.Num["monthlyFee"], f.Num["employees"])
	}
}

// TestDeleteModel: DELETE /v1/models/{name} removes the endpoint (204)
// and its file, so a restart does not serve it again; InvokeEndpoint then
// answers SageMaker's error for a missing endpoint, the gateway 503, and
// a second DELETE 404. An endpoint from --model goes until the next start.
func TestDeleteModel(t *testing.T) {
	linear := modelFilesLinear(t)
	dir := t.TempDir()
	reg := prometheus.NewRegistry()
	s, srv := startService(t, Options{Dir: dir, Account: "123456789012", Registerer: reg})
	if resp, b := call(t, "PUT", srv.URL+"/v1/models/gone", nil, linear); resp.StatusCode != 201 {
		t.Fatalf("PUT: %s %s", resp.Status, b)
	}
	if _, err := os.Stat(filepath.Join(dir, "gone.model.json")); err != nil {
		t.Fatal(err)
	}
	invoke(t, srv.URL, "gone", nil, []byte("1\n"))
	if n := endpointSeries(t, reg, "gone"); n == 0 {
		t.Fatal("no series of endpoint gone before the DELETE")
	}
	resp, b := call(t, "DELETE", srv.URL+"/v1/models/gone", nil, nil)
	if resp.StatusCode != 204 || len(b) != 0 {
		t.Fatalf("DELETE: %s %s", resp.Status, b)
	}
	// Its metrics go with it: names cannot pile up label values.
	if n := endpointSeries(t, reg, "gone"); n != 0 {
		t.Fatalf("%d series of the deleted endpoint remain in /metrics", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "gone.model.json")); !os.IsNotExist(err) {
		t.Fatalf("the model file is still there: %v", err)
	}
	if resp, b := call(t, "GET", srv.URL+"/v1/models/gone", nil, nil); resp.StatusCode != 404 {
		t.Fatalf("GET after DELETE: %s %s", resp.Status, b)
	}
	resp, b = invoke(t, srv.URL, "gone", nil, []byte("1\n"))
	var e struct{ Message string }
	decode(t, b, &e)
	if resp.StatusCode != 400 || !strings.HasPrefix(resp.Header.Get("X-Amzn-Errortype"), "ValidationError") ||
		e.Message != "Endpoint gone of account 123456789012 not found." {
		t.Fatalf("InvokeEndpoint after DELETE: %s %s %s", resp.Status, resp.Header.Get("X-Amzn-Errortype"), b)
	}
	if resp, b := call(t, "POST", srv.URL+"/v1/assess-churn?model=gone", nil, []byte(referencePayload)); resp.StatusCode != 503 {
		t.Fatalf("assess-churn after DELETE: %s %s", resp.Status, b)
	}
	resp, b = call(t, "DELETE", srv.URL+"/v1/models/gone", nil, nil)
	var ne struct{ Error, Message string }
	decode(t, b, &ne)
	if resp.StatusCode != 404 || ne.Error != "NotFound" || !strings.Contains(ne.Message, `no model is deployed at endpoint "gone"`) {
		t.Fatalf("second DELETE: %s %s", resp.Status, b)
	}
	// The --model endpoint churn: gone now, back at the next start.
	if resp, b := call(t, "DELETE", srv.URL+"/v1/models/churn", nil, nil); resp.StatusCode != 204 {
		t.Fatalf("DELETE churn: %s %s", resp.Status, b)
	}
	if s.Endpoints().Get("churn") != nil {
		t.Fatal("churn is still served")
	}
	// A restart on the same directory serves neither of the deleted ones.
	s2, err := New(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if names := s2.Endpoints().Names(); len(names) != 0 {
		t.Fatalf("after a restart: %v", names)
	}
}

// TestModelLimits: PUT refuses a new endpoint past MaxModels (409
// LimitExceeded) and a file over MaxModelBytes (413), each message saying
// the limit and how to raise it; replacing a model at the limit works, and
// deleting one makes room.
func TestModelLimits(t *testing.T) {
	linear := modelFilesLinear(t)
	dir := t.TempDir()
	_, srv := startService(t, Options{Dir: dir, MaxModels: 2, MaxModelBytes: int64(len(linear))})
	put := func(name string, body []byte, status int, code, want string) {
		t.Helper()
		resp, b := call(t, "PUT", srv.URL+"/v1/models/"+name, nil, body)
		if resp.StatusCode != status {
			t.Fatalf("PUT %s: %s %s, want %d", name, resp.Status, b, status)
		}
		if code == "" {
			return
		}
		var e struct{ Error, Message string }
		decode(t, b, &e)
		if e.Error != code || !strings.Contains(e.Message, want) {
			t.Fatalf("PUT %s: %s %s; want %s saying %q", name, resp.Status, b, code, want)
		}
	}
	put("a", linear, 201, "", "")
	put("b", linear, 409, "LimitExceeded",
		"2 models are deployed, the limit (max_models); delete one with DELETE /v1/models/{name}, or raise the limit with --max-models or max_models in the config file")
	put("a", linear, 200, "", "") // replacing is not creating
	put("churn", linear, 200, "", "")
	if _, err := os.Stat(filepath.Join(dir, "b.model.json")); !os.IsNotExist(err) {
		t.Fatalf("the refused model was stored: %v", err)
	}
	if resp, _ := call(t, "DELETE", srv.URL+"/v1/models/a", nil, nil); resp.StatusCode != 204 {
		t.Fatalf("DELETE a: %s", resp.Status)
	}
	put("b", linear, 201, "", "")
	big := append(bytes.Clone(linear), ' ')
	put("churn", big, 413, "PayloadTooLarge", "the model file is "+strconv.Itoa(len(big))+" bytes, over max_model_bytes ("+
		strconv.Itoa(len(linear))+" bytes); raise the limit with --max-model-bytes or max_model_bytes in the config file")
	// Without a Content-Length (chunked), the same.
	req, _ := http.NewRequest("PUT", srv.URL+"/v1/models/churn", io.MultiReader(bytes.NewReader(big)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 413 || !strings.Contains(string(b), "the model file is over max_model_bytes") {
		t.Fatalf("chunked PUT over the limit: %s %s", resp.Status, b)
	}
	if m := mustLoad(t, linear); srvModel(t, srv.URL, "churn") != m.Checksum {
		t.Fatal("a refused PUT changed the model")
	}
	// Defaults.
	s, err := New(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.opts.MaxModels != 32 || s.opts.MaxModelBytes != 4<<20 {
		t.Fatalf("defaults %d models, %d bytes", s.opts.MaxModels, s.opts.MaxModelBytes)
	}
}

func srvModel(t *testing.T, base, name string) string {
	t.Helper()
	var v modelView
	_, b := call(t, "GET", base+"/v1/models/"+name, nil, nil)
	decode(t, b, &v)
	return v.Checksum
}

// TestNonFiniteScoreNeverWritten: should a model score NaN after all (a
// bug: the load check makes it unreachable), InvokeEndpoint answers
// InternalFailure instead of a 200 with "score":NaN, and the gateway a
// 502, both valid JSON.
func TestNonFiniteScoreNeverWritten(t *testing.T) {
	s, srv := startService(t, Options{})
	m := s.Endpoints().Model("churn")
	x := encode(t, m, referenceFacts())
	m.Bias = math.NaN() // what Load refuses; set behind its back
	resp, b := invoke(t, srv.URL, "churn", nil, appendRow(nil, x))
	if resp.StatusCode != 500 || !strings.HasPrefix(resp.Header.Get("X-Amzn-Errortype"), "InternalFailure") ||
		!strings.Contains(string(b), "the model scored a number that is not finite for row 1") {
		t.Fatalf("InvokeEndpoint with a NaN score: %s %s %s", resp.Status, resp.Header.Get("X-Amzn-Errortype"), b)
	}
	finiteJSON(t, "InvokeEndpoint error", b)
	resp, b = call(t, "POST", srv.URL+"/v1/assess-churn", nil, []byte(referencePayload))
	if resp.StatusCode != 502 || !strings.Contains(string(b), "not finite") {
		t.Fatalf("assess-churn with a NaN score: %s %s", resp.Status, b)
	}
	finiteJSON(t, "assess-churn error", b)
}

// endpointSeries counts the series labelled endpoint=name in reg.
func endpointSeries(t *testing.T, reg *prometheus.Registry, name string) int {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "endpoint" && l.GetValue() == name {
					n++
				}
			}
		}
	}
	return n
}
