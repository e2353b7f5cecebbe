package scoring

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime/types"

	"github.com/tenantpulse/tenantpulse/internal/analytics"
	appanalytics "github.com/tenantpulse/tenantpulse/internal/app/analytics"
	"github.com/tenantpulse/tenantpulse/internal/model"
)

// tenants is a TenantSource over a fixed set.
type tenants map[string]analytics.Tenant

func (ts tenants) Tenant(id string) (analytics.Tenant, bool) { t, ok := ts[id]; return t, ok }

// referenceTenant has the reference payload's facts as live metrics.
func referenceTenant() analytics.Tenant {
	return analytics.Tenant{ID: "c1", Name: "Company 1", Industry: "retail", Sentiment: "neutral", Revenue: 9270,
		Employees: 4635, Jobs30d: 3, Jobs90d: 56, MonthlyFee: 446, TotalFee: 1476, Created: "2026-01-01T00:00:00.000Z",
		Users: 12, ActiveUsers30d: 7, Logins: 40, CancelRate: 0.1, LastActivity: "2026-03-01T00:00:00.000Z"}
}

type assessBody struct {
	CompanyID string
	Churn     bool
	Score     float64
	Threshold float64
	Model     string
	Drivers   []model.Driver
}

type riskBody struct {
	ID        string
	Score     float64
	Churn     bool
	Band      string
	Threshold float64
	Drivers   []model.Driver
	Model     string
	ScoredAt  string
}

func assess(t testing.TB, base, payload string, status int) (assessBody, apiErrorBody) {
	t.Helper()
	resp, b := call(t, "POST", base+"/v1/assess-churn", map[string]string{"Content-Type": "application/json"}, []byte(payload))
	if resp.StatusCode != status {
		t.Fatalf("POST /v1/assess-churn %s: %s; want %d: %s", payload, resp.Status, status, b)
	}
	var out assessBody
	var e apiErrorBody
	if status == 200 {
		decode(t, b, &out)
	} else {
		decode(t, b, &e)
	}
	return out, e
}

type apiErrorBody struct{ Error, Message string }

// TestSameScoreEveryPath sends the same facts through the gateway, the
// SageMaker API (encoded CSV) and the live path, in process and through
// the SageMaker predictor.
func TestSameScoreEveryPath(t *testing.T) {
	linear, _, _ := modelFiles(t)
	m := mustLoad(t, linear)
	now := time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)
	src := tenants{"c1": referenceTenant()}
	_, srv := startService(t, Options{Tenants: src, Now: func() time.Time { return now }})

	// The SageMaker API, with the row the model's own Spec encodes.
	x := encode(t, m, referenceFacts())
	resp, b := invoke(t, srv.URL, "churn", nil, appendRow(nil, x))
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s", resp.Status, b)
	}
	var inv struct{ Predictions []Prediction }
	decode(t, b, &inv)
	want := inv.Predictions[0].Score
	if want != m.Score(x) {
		t.Fatalf("invocations score %v; the model says %v", want, m.Score(x))
	}

	check := func(what string, score, threshold float64, churn bool, drivers []model.Driver) {
		t.Helper()
		if math.Abs(score-want) > 1e-12 {
			t.Fatalf("%s: score %v; invocations gave %v", what, score, want)
		}
		if threshold != m.Threshold || churn != m.Churn(want) {
			t.Fatalf("%s: threshold %v churn %v; want %v %v", what, threshold, churn, m.Threshold, m.Churn(want))
		}
		if len(drivers) != 3 {
			t.Fatalf("%s: %d drivers; want 3", what, len(drivers))
		}
		wantDrivers := m.Explain(x, nil, 3)
		for i := range drivers {
			if drivers[i].Feature != wantDrivers[i].Feature || math.Abs(drivers[i].Contribution-wantDrivers[i].Contribution) > 1e-12 || drivers[i].Text == "" {
				t.Fatalf("%s: driver %d %+v; want %+v", what, i, drivers[i], wantDrivers[i])
			}
		}
	}

	for _, payload := range []string{
		referencePayload,
		`{"companyID":"c1","industry":"retail","revenue":"9270","employees":" 4635 ","job30":"3","job90":56.0,"monthlyFee":4.46e2,"totalFee":1476}`,
	} {
		a, _ := assess(t, srv.URL, payload, 200)
		if a.CompanyID != "c1" || a.Model != "churn@"+m.Checksum || !strings.HasPrefix(m.Checksum, "sha256:") {
			t.Fatalf("%+v", a)
		}
		check("assess-churn", a.Score, a.Threshold, a.Churn, a.Drivers)
	}

	resp, b = call(t, "GET", srv.URL+"/v1/tenants/c1/risk", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s", resp.Status, b)
	}
	var r riskBody
	decode(t, b, &r)
	check("risk", r.Score, r.Threshold, r.Churn, r.Drivers)
	if r.ID != "c1" || r.Model != "churn@"+m.Checksum || r.ScoredAt != "2026-03-11T00:00:00.000Z" || r.Band != Band(r.Score, r.Threshold, r.Churn) {
		t.Fatalf("%+v", r)
	}

	// The gateway through the SageMaker predictor (aws-sdk-go-v2 with the
	// standard credential chain), at the first server's SageMaker API.
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	_, remote := startService(t, Options{Tenants: src, Now: func() time.Time { return now },
		SageMaker: &SageMakerOptions{Region: "us-west-2", EndpointURL: srv.URL}})
	a, _ := assess(t, remote.URL, referencePayload, 200)
	check("assess-churn via SageMaker", a.Score, a.Threshold, a.Churn, a.Drivers)
	resp, b = call(t, "GET", remote.URL+"/v1/tenants/c1/risk", nil, nil)
	decode(t, b, &r)
	check("risk via SageMaker", r.Score, r.Threshold, r.Churn, r.Drivers)

	// A remote without the endpoint: 503 saying so.
	_, nowhere := startService(t, Options{Models: map[string]string{"other": writeModel(t, linear)}})
	_, lonely := startService(t, Options{Models: map[string]string{"churn": writeModel(t, linear)},
		SageMaker: &SageMakerOptions{Region: "us-west-2", EndpointURL: nowhere.URL}})
	_, e := assess(t, lonely.URL, referencePayload, 503)
	if e.Error != "ServiceUnavailable" || !strings.Contains(e.Message, "Endpoint churn of account 000000000000 not found") {
		t.Fatalf("%+v", e)
	}
}

func TestSDKInvokeEndpoint(t *testing.T) {
	linear, _, _ := modelFiles(t)
	m := mustLoad(t, linear)
	_, srv := startService(t, Options{})
	c := sagemakerruntime.New(sagemakerruntime.Options{
		Region: "us-west-2", BaseEndpoint: aws.String(srv.URL),
		Credentials: aws.AnonymousCredentials{},
	})
	x := encode(t, m, referenceFacts())
	ctx := context.Background()
	out, err := c.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{
		EndpointName: aws.String("churn"), ContentType: aws.String("text/csv"), Body: appendRow(nil, x),
	})
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Predictions []Prediction }
	decode(t, out.Body, &got)
	if len(got.Predictions) != 1 || got.Predictions[0].Score != m.Score(x) ||
		aws.ToString(out.ContentType) != "application/json" || aws.ToString(out.InvokedProductionVariant) != "AllTraffic" {
		t.Fatalf("%s %+v", out.Body, out)
	}

	_, err = c.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{
		EndpointName: aws.String("nope"), ContentType: aws.String("text/csv"), Body: appendRow(nil, x),
	})
	var ve *types.ValidationError
	if !errors.As(err, &ve) || ve.ErrorMessage() != "Endpoint nope of account 000000000000 not found." {
		t.Fatalf("unknown endpoint: %T %v", err, err)
	}

	_, err = c.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{
		EndpointName: aws.String("churn"), ContentType: aws.String("text/csv"), Body: []byte("1,2,x"),
	})
	var me *types.ModelError
	if !errors.As(err, &me) || aws.ToInt32(me.OriginalStatusCode) != 400 ||
		!strings.Contains(aws.ToString(me.OriginalMessage), "row 1 has 3 columns") ||
		!strings.Contains(me.ErrorMessage(), "Received client error (400)") || aws.ToString(me.LogStreamArn) == "" {
		t.Fatalf("bad CSV: %T %v", err, err)
	}
}

func TestGatewayErrors(t *testing.T) {
	_, srv := startService(t, Options{Tenants: tenants{}})
	f := func(payload string, status int, code string, want ...string) {
		t.Helper()
		_, e := assess(t, srv.URL, payload, status)
		if e.Error != code {
			t.Fatalf("%s: error %q; want %q", payload, e.Error, code)
		}
		for _, w := range want {
			if !strings.Contains(e.Message, w) {
				t.Fatalf("%s: message %q lacks %q", payload, e.Message, w)
			}
		}
	}
	f(`{"companyID":"c1","industri":"retail","jobs30":3}`, 400, "InvalidRequest", `unknown field "industri", "jobs30"`, "job30")
	f(`{"revenu":true}`, 400, "InvalidRequest", "revenu is a boolean")
	f(`{"employees":"many"}`, 400, "InvalidRequest", `employees "many" is not a number`)
	f(`{"employees":""}`, 400, "InvalidRequest", "employees is an empty string")
	f(`{"job90":[1]}`, 400, "InvalidRequest", "job90 is an array")
	f(`{"industry":7}`, 400, "InvalidRequest", "industry is a number")
	f(`{"companyID":{}}`, 400, "InvalidRequest", "companyID is an object")
	f(`{"revenu":1,"revenue":2}`, 400, "InvalidRequest", "both revenu and revenue")
	f(`{"totalFee":1e999}`, 400, "InvalidRequest", "totalFee", "out of range")
	f(`[1]`, 400, "InvalidRequest", "array")
	f(`{"job30":3}{}`, 400, "InvalidRequest", "more after")
	f(`{"job30":`, 400, "InvalidRequest", "not valid JSON")
	f(`null`, 400, "InvalidRequest", "null")
	f(`{"job30":3}`+strings.Repeat(" ", maxPayload), 413, "PayloadTooLarge")
	// Missing and null facts are allowed: the model takes its defaults.
	a, _ := assess(t, srv.URL, `{"companyID":"x","industry":null}`, 200)
	if a.CompanyID != "x" || a.Score <= 0 || a.Score >= 1 {
		t.Fatalf("%+v", a)
	}

	resp, b := call(t, "POST", srv.URL+"/v1/assess-churn", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte(referencePayload))
	if resp.StatusCode != 200 {
		t.Fatalf("curl -d's Content-Type: %s %s", resp.Status, b)
	}
	resp, b = call(t, "POST", srv.URL+"/v1/assess-churn?modle=churn", nil, []byte(referencePayload))
	if resp.StatusCode != 400 || !strings.Contains(string(b), `modle`) {
		t.Fatalf("%s %s", resp.Status, b)
	}
	resp, b = call(t, "GET", srv.URL+"/v1/assess-churn", nil, nil)
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Fatalf("%s %s", resp.Status, b)
	}
	resp, b = call(t, "POST", srv.URL+"/v1/assess-churn?model=other", nil, []byte(referencePayload))
	if resp.StatusCode != 503 || !strings.Contains(string(b), "PUT /v1/models/other") {
		t.Fatalf("%s %s", resp.Status, b)
	}
	resp, b = call(t, "GET", srv.URL+"/v1/tenants/ghost/risk", nil, nil)
	if resp.StatusCode != 404 || !strings.Contains(string(b), `ghost`) {
		t.Fatalf("%s %s", resp.Status, b)
	}
}

func TestNoModel(t *testing.T) {
	_, srv := startService(t, Options{Models: map[string]string{}, Tenants: tenants{"c1": referenceTenant()}})
	_, e := assess(t, srv.URL, referencePayload, 503)
	if e.Error != "ServiceUnavailable" || !strings.Contains(e.Message, "PUT /v1/models/churn") || !strings.Contains(e.Message, "--model churn=FILE") {
		t.Fatalf("%+v", e)
	}
	resp, b := call(t, "GET", srv.URL+"/v1/tenants/c1/risk", nil, nil)
	if resp.StatusCode != 503 {
		t.Fatalf("%s %s", resp.Status, b)
	}
	resp, b = call(t, "GET", srv.URL+"/v1/models", nil, nil)
	if resp.StatusCode != 200 || strings.TrimSpace(string(b)) != `{"models":[]}` {
		t.Fatalf("%s %s", resp.Status, b)
	}
}

func TestFactsOf(t *testing.T) {
	now := time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC)
	tn := referenceTenant()
	f := FactsOf(tn, now)
	want := map[string]float64{"revenue": 9270, "employees": 4635, "jobs30d": 3, "jobs90d": 56, "monthlyFee": 446,
		"totalFee": 1476, "users": 12, "activeUsers30d": 7, "logins": 40, "cancelRate": 0.1,
		"daysSinceActivity": 10.5, "jobsTrend": 9.0 / 56}
	for k, v := range want {
		if got, ok := f.Num[k]; !ok || math.Abs(got-v) > 1e-12 {
			t.Errorf("%s = %v (%v); want %v", k, got, ok, v)
		}
	}
	if len(f.Num) != len(want) || f.Cat["industry"] != "retail" || f.Cat["sentiment"] != "neutral" || len(f.Cat) != 2 {
		t.Errorf("facts %+v", f)
	}
	// Every fact is a model.Sources name.
	for k := range f.Num {
		if _, ok := model.SourceOf(k); !ok {
			t.Errorf("fact %q is not a model source", k)
		}
	}
	tn.Jobs90d, tn.LastActivity = 0, "2026-03-12T00:00:00.000Z" // in the future: 0 days
	f = FactsOf(tn, now)
	if f.Num["jobsTrend"] != 1 || f.Num["daysSinceActivity"] != 0 {
		t.Errorf("jobsTrend %v daysSinceActivity %v", f.Num["jobsTrend"], f.Num["daysSinceActivity"])
	}
	// No profile yet: its zero numbers are missing, not zero.
	f = FactsOf(analytics.Tenant{ID: "x", Jobs30d: 2}, now)
	if _, ok := f.Num["revenue"]; ok {
		t.Errorf("revenue of a tenant without a profile: %v", f.Num["revenue"])
	}
	if _, ok := f.Num["daysSinceActivity"]; ok || f.Num["jobs30d"] != 2 {
		t.Errorf("facts %+v", f)
	}
}

func TestBand(t *testing.T) {
	f := func(score, threshold float64, churn bool, want string) {
		t.Helper()
		if got := Band(score, threshold, churn); got != want {
			t.Fatalf("Band(%v, %v, %v) = %s; want %s", score, threshold, churn, got, want)
		}
	}
	f(0.6, 0.5, true, BandHigh)
	f(0.25, 0.5, false, BandMedium)
	f(0.4, 0.5, false, BandMedium)
	f(0.2499, 0.5, false, BandLow)
}

// TestRoutesBesideAnalytics registers the scoring routes on the same mux as
// the analytics API, as serve does: the patterns must not conflict, and
// /v1/tenants/{id}/risk must reach the scoring service.
func TestRoutesBesideAnalytics(t *testing.T) {
	linear, _, _ := modelFiles(t)
	s, err := New(context.Background(), Options{Models: map[string]string{"churn": writeModel(t, linear)},
		Tenants: tenants{"c1": referenceTenant()}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	appanalytics.NewAPI(nil, nil).Register(mux)
	s.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, b := call(t, "GET", srv.URL+"/v1/tenants/c1/risk", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"band"`) {
		t.Fatalf("%s %s", resp.Status, b)
	}
	resp, b = call(t, "POST", srv.URL+"/v1/tenants/c1/risk", nil, nil)
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET" {
		t.Fatalf("%s %s", resp.Status, b)
	}
	resp, b = call(t, "GET", srv.URL+"/v1/tenants/c1/other", nil, nil)
	if resp.StatusCode != 404 {
		t.Fatalf("%s %s", resp.Status, b)
	}
}
