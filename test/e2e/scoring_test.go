package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/model"
	"github.com/tenantpulse/tenantpulse/internal/sim"
)

// TestScoringWithAWSCLI serves a model trained here with --model churn=FILE
// and checks that the seed's `aws sagemaker-runtime invoke-endpoint` with
// the encoded row scores exactly what POST /v1/assess-churn gives for the
// same facts, and that a bad row is the CLI's ModelError.
func TestScoringWithAWSCLI(t *testing.T) {
	if _, err := os.Stat(debianAWS); err != nil {
		t.Fatalf("the AWS CLI from Debian's awscli package is needed at %s (run make deps): %v", debianAWS, err)
	}
	m := trainCompanies(t, model.TypeLinear)
	file, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	modelPath := filepath.Join(dir, "churn.json")
	if err := os.WriteFile(modelPath, file, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "--model", "churn="+modelPath)

	// The reference payload's facts, encoded by the model's own Spec.
	facts := model.NewFacts()
	facts.Cat["industry"] = "retail"
	for k, v := range map[string]float64{"revenue": 9270, "employees": 4635, "jobs30d": 3, "jobs90d": 56, "monthlyFee": 446, "totalFee": 1476} {
		facts.Num[k] = v
	}
	x, err := m.Spec.Encode(nil, facts)
	if err != nil {
		t.Fatal(err)
	}
	var row []string
	for _, v := range x {
		row = append(row, strconv.FormatFloat(v, 'g', -1, 64))
	}
	if err := os.WriteFile(filepath.Join(dir, "row.csv"), []byte(strings.Join(row, ",")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	env := clientEnv(t)
	var meta struct{ ContentType, InvokedProductionVariant string }
	decodeJSON(t, runCmd(t, cliTimeout, dir, env, debianAWS, "sagemaker-runtime", "invoke-endpoint",
		"--endpoint-name", "churn", "--content-type", "text/csv", "--body", "fileb://row.csv",
		"--endpoint-url", srv.url, "out.json"), &meta)
	if meta.ContentType != "application/json" || meta.InvokedProductionVariant != "AllTraffic" {
		t.Fatalf("invoke-endpoint printed %+v; want application/json and AllTraffic", meta)
	}
	out, err := os.ReadFile(filepath.Join(dir, "out.json"))
	if err != nil {
		t.Fatal(err)
	}
	var inv struct {
		Predictions []struct {
			Score          float64 `json:"score"`
			PredictedLabel int     `json:"predicted_label"`
		} `json:"predictions"`
	}
	decodeJSON(t, string(out), &inv)
	if len(inv.Predictions) != 1 {
		t.Fatalf("out.json: %s; want one prediction", out)
	}
	cli := inv.Predictions[0]
	if cli.Score != m.Score(x) || (cli.PredictedLabel == 1) != m.Churn(cli.Score) {
		t.Fatalf("invoke-endpoint scored %+v; the model says %v (threshold %v)", cli, m.Score(x), m.Threshold)
	}
	// The CLI's request took the fast path (internal/httpfast), not net/http.
	resp, err := http.Get(srv.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(metrics, []byte("\ntenantpulse_http_fast_requests_total 1\n")) {
		t.Errorf("/metrics does not count the CLI's InvokeEndpoint on the fast path:\n%s", grepLines(metrics, "tenantpulse_http_"))
	}

	payload := `{"companyID":"c1","industry":"retail","revenu":9270,"employees":4635,"job30":3,"job90":56,"monthlyFee":446,"totalFee":1476}`
	resp, err = http.Post(srv.url+"/v1/assess-churn", "application/json", strings.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST /v1/assess-churn: %s %s", resp.Status, body)
	}
	var gw struct {
		CompanyID string
		Churn     bool
		Score     float64
		Model     string
		Drivers   []json.RawMessage
	}
	decodeJSON(t, string(body), &gw)
	if math.Abs(gw.Score-cli.Score) > 1e-12 || gw.Churn != (cli.PredictedLabel == 1) || gw.CompanyID != "c1" || gw.Model != "churn@"+m.Checksum || len(gw.Drivers) != 3 {
		t.Fatalf("assess-churn %s; invoke-endpoint scored %v", body, cli.Score)
	}

	// A row with a column missing: the CLI reports SageMaker's ModelError.
	if err := os.WriteFile(filepath.Join(dir, "bad.csv"), []byte(strings.Join(row[1:], ",")), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, debianAWS, "sagemaker-runtime", "invoke-endpoint", "--endpoint-name", "churn",
		"--content-type", "text/csv", "--body", "fileb://bad.csv", "--endpoint-url", srv.url, "bad-out.json")
	cmd.Dir, cmd.Env = dir, env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil {
		t.Fatal("invoke-endpoint with a short row succeeded")
	}
	want := "An error occurred (ModelError) when calling the InvokeEndpoint operation: Received client error (400) from primary with message \"row 1 has " +
		strconv.Itoa(len(x)-1) + " columns"
	if !strings.Contains(stderr.String(), want) {
		t.Fatalf("invoke-endpoint with a short row: stderr %q; want it to contain %q", stderr.String(), want)
	}
}

// TestScoringDeployAtRuntime starts serve without --model: the gateway
// answers 503 saying how to deploy; PUT /v1/models/churn deploys a model,
// which scores at once and again after a restart on the same data.
func TestScoringDeployAtRuntime(t *testing.T) {
	m := trainCompanies(t, model.TypeBinned)
	file, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	const payload = `{"companyID":"c2","industry":"finance","revenu":"99420","employees":49710,"job30":7,"job90":97,"monthlyFee":424,"totalFee":3039}`
	do := func(srv *server, method, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.url+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	data := t.TempDir()
	srv := startServerIn(t, data)
	if code, body := do(srv, "POST", "/v1/assess-churn", payload); code != 503 ||
		!strings.Contains(body, "PUT /v1/models/churn") || !strings.Contains(body, "--model churn=FILE") {
		t.Fatalf("without a model: %d %s", code, body)
	}
	if code, body := do(srv, "PUT", "/v1/models/churn", string(file)); code != 201 {
		t.Fatalf("PUT /v1/models/churn: %d %s", code, body)
	}
	var gw struct{ Score float64 }
	code, body := do(srv, "POST", "/v1/assess-churn", payload)
	decodeJSON(t, body, &gw)
	facts := model.NewFacts()
	facts.Cat["industry"] = "finance"
	for k, v := range map[string]float64{"revenue": 99420, "employees": 49710, "jobs30d": 7, "jobs90d": 97, "monthlyFee": 424, "totalFee": 3039} {
		facts.Num[k] = v
	}
	x, _ := m.Spec.Encode(nil, facts)
	if code != 200 || gw.Score != m.Score(x) {
		t.Fatalf("after PUT: %d %s; the model says %v", code, body, m.Score(x))
	}
	srv.stop()

	srv = startServerIn(t, data)
	code, body = do(srv, "POST", "/v1/assess-churn", payload)
	decodeJSON(t, body, &gw)
	if code != 200 || gw.Score != m.Score(x) {
		t.Fatalf("after a restart: %d %s; the model says %v", code, body, m.Score(x))
	}
}

// TestLiveRisk deploys a model, sends a simulated business, and checks
// that every live tenant gets a risk in /v1/tenants that matches
// GET /v1/tenants/{id}/risk, with a history, and that the webhook hears of
// the tenants above the threshold.
func TestLiveRisk(t *testing.T) {
	m := trainCompanies(t, model.TypeBinned)
	file, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	notified := map[string]string{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n struct {
			Tenant, Event string
			Risk          struct{ Churn bool }
		}
		json.NewDecoder(r.Body).Decode(&n)
		mu.Lock()
		notified[n.Tenant] = n.Event
		mu.Unlock()
	}))
	defer hook.Close()
	srv := startServer(t, "--risk-interval", "100ms", "--risk-webhook", hook.URL)
	req, _ := http.NewRequest(http.MethodPut, srv.url+"/v1/models/churn", bytes.NewReader(file))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT /v1/models/churn: %v %v", err, resp)
	}
	resp.Body.Close()
	// The start is a Monday midnight (UTC) 40 to 47 days ago, so the
	// simulator's weekly season, and with it the events, are the same
	// whenever the test runs.
	g := sim.New(sim.Config{Seed: 11, Tenants: 12, Start: time.Now().UTC().Add(-40 * 24 * time.Hour).Truncate(7 * 24 * time.Hour)})
	hc := &http.Client{Timeout: 30 * time.Second}
	for range 4 {
		var body []byte
		for range 5000 {
			var ok bool
			if body, _, ok = g.Next(body); !ok {
				t.Fatal("the simulator ran out")
			}
			body = append(body, '\n')
		}
		postUntilAnswered(t, hc, srv.url, body)
	}
	type tenant struct {
		ID      string
		Deleted string
		Risk    *struct {
			Score   float64
			Churn   bool
			Band    string
			Model   string
			Drivers []struct{ Feature, Text string }
		}
	}
	var list struct{ Tenants []tenant }
	// Every live tenant has a risk, the same as GET /v1/tenants/{id}/risk
	// computes and the last of its history, once the processor has
	// applied every event and the rescoring caught up.
	waitFor(t, time.Minute, 200*time.Millisecond, func() error {
		list.Tenants = nil
		resp, err := http.Get(srv.url + "/v1/tenants?limit=1000")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		json.NewDecoder(resp.Body).Decode(&list)
		if len(list.Tenants) == 0 {
			return fmt.Errorf("no tenants yet")
		}
		for _, tn := range list.Tenants {
			if tn.Deleted == "" && tn.Risk == nil {
				return fmt.Errorf("tenant %s has no risk yet", tn.ID)
			}
		}
		for _, tn := range list.Tenants {
			if tn.Risk == nil || tn.Deleted != "" { // a deleted tenant keeps its last live risk
				continue
			}
			var live struct{ Score float64 }
			r, err := http.Get(srv.url + "/v1/tenants/" + tn.ID + "/risk")
			if err != nil {
				return err
			}
			json.NewDecoder(r.Body).Decode(&live)
			r.Body.Close()
			if math.Abs(live.Score-tn.Risk.Score) > 1e-6 {
				return fmt.Errorf("tenant %s: /v1/tenants says %v, /risk says %v", tn.ID, tn.Risk.Score, live.Score)
			}
			var h struct{ History []struct{ Score float64 } }
			r, err = http.Get(srv.url + "/v1/tenants/" + tn.ID + "/risk/history")
			if err != nil {
				return err
			}
			json.NewDecoder(r.Body).Decode(&h)
			r.Body.Close()
			if len(h.History) == 0 || h.History[len(h.History)-1].Score != tn.Risk.Score {
				return fmt.Errorf("tenant %s: history %+v, latest %v", tn.ID, h.History, tn.Risk.Score)
			}
		}
		return nil
	})
	for _, tn := range list.Tenants {
		if tn.Risk == nil {
			continue
		}
		if !strings.HasPrefix(tn.Risk.Model, "churn@sha256:") || len(tn.Risk.Drivers) != 3 || tn.Risk.Drivers[0].Text == "" {
			t.Fatalf("tenant %s: risk %+v", tn.ID, tn.Risk)
		}
	}
	// A tenant's last notification says where it is now: above the
	// threshold ("risk.high") or back below ("risk.cleared"). Scores may
	// still move (a day ends, a window slides), so both sides are read
	// afresh until they agree.
	high := 0
	waitFor(t, 30*time.Second, 100*time.Millisecond, func() error {
		list.Tenants = nil
		getJSON(t, srv.url+"/v1/tenants?limit=1000", &list)
		high = 0
		for _, tn := range list.Tenants {
			if tn.Risk != nil && tn.Risk.Churn {
				high++
			}
		}
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, ev := range notified {
			if ev == "risk.high" {
				n++
			}
		}
		if n != high {
			return fmt.Errorf("%d tenants last notified above the threshold, %d are", n, high)
		}
		return nil
	})
	t.Logf("%d tenants, %d above the threshold", len(list.Tenants), high)
	if high == 0 {
		t.Fatal("no tenant is above the threshold: the test cannot check the webhook")
	}
}

// trainCompanies trains a model of type typ on the reference data set.
func trainCompanies(t *testing.T, typ string) *model.Model {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot(t), "examples", "data", "companies.csv"))
	if err != nil {
		t.Fatal(err)
	}
	spec, rows, err := model.ReadCSV(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Train(spec, rows, model.Options{Type: typ, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// grepLines returns the lines of b that contain s.
func grepLines(b []byte, s string) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
