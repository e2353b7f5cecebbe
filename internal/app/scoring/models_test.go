package scoring

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenantpulse/tenantpulse/internal/model"
)

func TestModelsAPI(t *testing.T) {
	linear, binned, _ := modelFiles(t)
	ml, mb := mustLoad(t, linear), mustLoad(t, binned)
	dir := t.TempDir()
	_, srv := startService(t, Options{Dir: dir})

	var list struct{ Models []modelSummary }
	resp, b := call(t, "GET", srv.URL+"/v1/models", nil, nil)
	decode(t, b, &list)
	if resp.StatusCode != 200 || len(list.Models) != 1 || list.Models[0].Name != "churn" || list.Models[0].Checksum != ml.Checksum ||
		list.Models[0].Columns != len(ml.Columns) || list.Models[0].Type != "linear" {
		t.Fatalf("%s %s", resp.Status, b)
	}

	var v modelView
	resp, b = call(t, "GET", srv.URL+"/v1/models/churn", nil, nil)
	decode(t, b, &v)
	if resp.StatusCode != 200 || strings.Join(v.Columns, ",") != strings.Join(ml.Columns, ",") || v.Threshold != ml.Threshold ||
		!reflect.DeepEqual(v.Metrics, ml.Metrics) || v.Training.Rows != ml.Training.Rows || len(v.Features) != len(ml.Spec.Features) ||
		len(v.Features[0].Categories) == 0 || v.Features[0].Text == "" || v.Checksum != ml.Checksum {
		t.Fatalf("%s %s", resp.Status, b)
	}
	// What a chart of the model needs: the held-out ROC curve, the
	// importance of the features and the weights of the columns.
	if roc := v.Metrics.ROC; len(roc) < 2 || roc[0] != (model.ROCPoint{Threshold: 1}) || roc[len(roc)-1].FPR != 1 || roc[len(roc)-1].TPR != 1 ||
		!reflect.DeepEqual(v.Importance, ml.Importance) || len(v.Importance) != len(ml.Spec.Features) || v.Importance[0].Text == "" {
		t.Fatalf("ROC %v, importance %+v", v.Metrics.ROC, v.Importance)
	}
	if len(v.Weights) != len(ml.Columns) {
		t.Fatalf("%d weights for %d columns: %+v", len(v.Weights), len(ml.Columns), v.Weights)
	}
	for i, w := range v.Weights {
		if w.Column != ml.Columns[i] || w.Weight != ml.Weights[i] || w.Bin != nil {
			t.Fatalf("weight %d: %+v, want %s %v", i, w, ml.Columns[i], ml.Weights[i])
		}
	}
	resp, b = call(t, "GET", srv.URL+"/v1/models/nope", nil, nil)
	if resp.StatusCode != 404 || !strings.Contains(string(b), "PUT /v1/models/nope") {
		t.Fatalf("%s %s", resp.Status, b)
	}

	// A damaged file: 400 with the loader's message, nothing changed.
	damaged := strings.Replace(string(binned), `"threshold": `, `"threshold": 1`, 1)
	_, loadErr := loadModel([]byte(damaged))
	for _, bad := range []struct{ body, want string }{
		{damaged, loadErr},
		{"{", "not a model file"},
		{"", "the body is empty"},
	} {
		resp, b = call(t, "PUT", srv.URL+"/v1/models/churn", nil, []byte(bad.body))
		var e apiErrorBody
		decode(t, b, &e)
		if resp.StatusCode != 400 || e.Error != "InvalidRequest" || !strings.Contains(e.Message, bad.want) {
			t.Fatalf("PUT %.20q: %s %+v; want 400 with %q", bad.body, resp.Status, e, bad.want)
		}
	}
	resp, b = call(t, "PUT", srv.URL+"/v1/models/bad_name", nil, binned)
	if resp.StatusCode != 400 || !strings.Contains(string(b), "endpoint name") {
		t.Fatalf("%s %s", resp.Status, b)
	}
	resp, b = call(t, "GET", srv.URL+"/v1/models/churn", nil, nil)
	decode(t, b, &v)
	if v.Checksum != ml.Checksum {
		t.Fatalf("a refused PUT changed the model: %s", v.Checksum)
	}

	// Swap and create.
	resp, b = call(t, "PUT", srv.URL+"/v1/models/churn", nil, binned)
	decode(t, b, &v)
	if resp.StatusCode != 200 || v.Checksum != mb.Checksum || v.Type != "binned" || v.Source != "PUT /v1/models/churn" ||
		!reflect.DeepEqual(v.Importance, mb.Importance) || !reflect.DeepEqual(v.Metrics.ROC, mb.Metrics.ROC) {
		t.Fatalf("%s %s", resp.Status, b)
	}
	// A binned model's weights: a column's bins in its place, in order.
	checkBinnedWeights(t, mb, v.Weights)
	resp, b = call(t, "PUT", srv.URL+"/v1/models/churn-v2", nil, linear)
	if resp.StatusCode != 201 {
		t.Fatalf("%s %s", resp.Status, b)
	}
	x := encode(t, mb, referenceFacts())
	_, b = invoke(t, srv.URL, "churn", nil, appendRow(nil, x))
	var inv struct{ Predictions []Prediction }
	decode(t, b, &inv)
	if inv.Predictions[0].Score != mb.Score(x) || mb.Score(x) == ml.Score(x) {
		t.Fatalf("after the swap the score is %v; binned %v, linear %v", inv.Predictions[0].Score, mb.Score(x), ml.Score(x))
	}
	resp, b = call(t, "POST", srv.URL+"/v1/models/churn", nil, nil)
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, PUT, DELETE" {
		t.Fatalf("%s %s", resp.Status, b)
	}

	// A new service on the same directory serves what was PUT.
	s2, err := New(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := s2.Endpoints().Names(); strings.Join(got, " ") != "churn churn-v2" {
		t.Fatalf("after a restart: %v", got)
	}
	if s2.Endpoints().Model("churn").Checksum != mb.Checksum || s2.Endpoints().Model("churn-v2").Checksum != ml.Checksum {
		t.Fatal("after a restart the models differ")
	}
	// ... unless --model names the endpoint: the flag wins.
	s3, err := New(context.Background(), Options{Dir: dir, Models: map[string]string{"churn": writeModel(t, linear)}})
	if err != nil {
		t.Fatal(err)
	}
	if s3.Endpoints().Model("churn").Checksum != ml.Checksum {
		t.Fatal("the --model file did not win over the stored model")
	}
}

// checkBinnedWeights checks the weights of binned model m's view: the
// columns in order, a binned column as one weight per bin with the bin's
// range.
func checkBinnedWeights(t *testing.T, m *model.Model, ws []weightView) {
	t.Helper()
	var want []weightView
	k := 0
	for c, name := range m.Columns {
		if k < len(m.Bins) && m.Bins[k].Column == c {
			b := m.Bins[k]
			for j, w := range b.Weights {
				bv := &binView{Index: j, Text: b.Describe(j)}
				if j > 0 {
					bv.Above = &b.Edges[j-1]
				}
				if j < len(b.Edges) {
					bv.AtMost = &b.Edges[j]
				}
				want = append(want, weightView{Column: name, Weight: w, Bin: bv})
			}
			k++
			continue
		}
		want = append(want, weightView{Column: name, Weight: m.Weights[c]})
	}
	if len(m.Bins) == 0 || !reflect.DeepEqual(ws, want) {
		t.Fatalf("weights %+v\nwant %+v", ws, want)
	}
	// The reference data set's rule cuts job30 at 4.5.
	found := false
	for _, w := range ws {
		found = found || w.Column == "job30" && w.Bin != nil && w.Bin.AtMost != nil && *w.Bin.AtMost == 4.5 && w.Bin.Text != ""
	}
	if !found {
		t.Fatalf("no bin of job30 ends at 4.5: %+v", ws)
	}
}

// TestModelsAPIFileBeforeROC serves a model file written before the ROC
// curve and the importance were added: it deploys, at start and with PUT,
// and GET /v1/models/{name} shows it without them, with its weights.
func TestModelsAPIFileBeforeROC(t *testing.T) {
	old, err := os.ReadFile("../../model/testdata/binned-before-roc.model.json")
	if err != nil {
		t.Fatal(err)
	}
	mo := mustLoad(t, old)
	_, srv := startService(t, Options{Models: map[string]string{"churn": writeModel(t, old)}})
	resp, b := call(t, "PUT", srv.URL+"/v1/models/old", nil, old)
	if resp.StatusCode != 201 {
		t.Fatalf("PUT: %s %s", resp.Status, b)
	}
	for _, name := range []string{"churn", "old"} {
		resp, b := call(t, "GET", srv.URL+"/v1/models/"+name, nil, nil)
		var raw map[string]json.RawMessage
		decode(t, b, &raw)
		var metrics map[string]json.RawMessage
		decode(t, raw["metrics"], &metrics)
		if resp.StatusCode != 200 || raw["importance"] != nil || metrics["roc"] != nil || metrics["auc"] == nil {
			t.Fatalf("%s: %s %s", name, resp.Status, b)
		}
		var v modelView
		decode(t, b, &v)
		if v.Checksum != mo.Checksum {
			t.Fatalf("%s: checksum %s, the file's %s", name, v.Checksum, mo.Checksum)
		}
		checkBinnedWeights(t, mo, v.Weights)
	}
	x := encode(t, mo, referenceFacts())
	_, b = invoke(t, srv.URL, "old", nil, appendRow(nil, x))
	var inv struct{ Predictions []Prediction }
	decode(t, b, &inv)
	if len(inv.Predictions) != 1 || inv.Predictions[0].Score != mo.Score(x) {
		t.Fatalf("invocation: %s", b)
	}
}

func loadModel(b []byte) (any, string) {
	_, _, err := newEndpoints("", newMetrics(nil), time.Now).Deploy("x", b, "", false, 0)
	if err == nil {
		return nil, ""
	}
	return nil, err.Error()
}

func TestNewBadModel(t *testing.T) {
	f := func(models map[string]string, want ...string) {
		t.Helper()
		_, err := New(context.Background(), Options{Models: models})
		if err == nil {
			t.Fatalf("%v: no error", models)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("%v: %v; want %q", models, err, w)
			}
		}
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"format":"tenantpulse.model/v0"}`), 0o644)
	f(map[string]string{"churn": bad}, "churn="+bad, "model format")
	f(map[string]string{"churn": filepath.Join(dir, "missing.json")}, "missing.json", "no such file")
	linear, _, _ := modelFiles(t)
	f(map[string]string{"no_underscores": writeModel(t, linear)}, "endpoint name")

	// A damaged stored model stops the start too, naming the file.
	os.WriteFile(filepath.Join(dir, "churn"+modelFileExt), []byte("{"), 0o644)
	if _, err := New(context.Background(), Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), "churn"+modelFileExt) {
		t.Fatalf("damaged stored model: %v", err)
	}
}

// TestSwapUnderLoad swaps the model of "churn" while invocations and
// gateway requests run: every request succeeds with one of the models,
// never a mix; the gateway also survives swaps to a model with other
// columns.
func TestSwapUnderLoad(t *testing.T) {
	linear, binned, narrow := modelFiles(t)
	ml, mb := mustLoad(t, linear), mustLoad(t, binned)
	reg := prometheus.NewRegistry()
	_, srv := startService(t, Options{Registerer: reg, Models: map[string]string{
		"churn": writeModel(t, linear), "gw": writeModel(t, linear)}})
	x := encode(t, ml, referenceFacts())
	row := appendRow(nil, x)
	scores := map[float64]bool{ml.Score(x): true, mb.Score(x): true}
	mn := mustLoad(t, narrow)
	gwScores := map[float64]bool{ml.Score(x): true, mn.Score(encode(t, mn, referenceFacts())): true}

	var stop atomic.Bool
	var wg sync.WaitGroup
	var requests atomic.Int64
	errc := make(chan error, 8)
	post := func(url, ct string, body []byte) (int, []byte, error) {
		resp, err := http.Post(url, ct, bytes.NewReader(body))
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for !stop.Load() {
				var score float64
				var ok bool
				if g%2 == 0 {
					status, b, err := post(srv.URL+"/endpoints/churn/invocations", "text/csv", row)
					var inv struct{ Predictions []Prediction }
					if err == nil {
						err = json.Unmarshal(b, &inv)
					}
					if err != nil || status != 200 || len(inv.Predictions) != 1 {
						errc <- fmt.Errorf("invocation during a swap: %d %s %v", status, b, err)
						return
					}
					score = inv.Predictions[0].Score
					ok = scores[score]
				} else {
					status, b, err := post(srv.URL+"/v1/assess-churn?model=gw", "application/json", []byte(referencePayload))
					var a assessBody
					if err == nil {
						err = json.Unmarshal(b, &a)
					}
					if err != nil || status != 200 {
						errc <- fmt.Errorf("gateway during a swap: %d %s %v", status, b, err)
						return
					}
					score = a.Score
					ok = gwScores[score]
				}
				if !ok {
					errc <- fmt.Errorf("worker %d: score %v is none of the models'", g, score)
					return
				}
				requests.Add(1)
			}
		}(g)
	}
	for i := 0; i < 60; i++ {
		file := [][]byte{binned, linear}[i%2]
		if resp, b := call(t, "PUT", srv.URL+"/v1/models/churn", nil, file); resp.StatusCode != 200 {
			t.Fatalf("%s %s", resp.Status, b)
		}
		file = [][]byte{narrow, linear}[i%2]
		if resp, b := call(t, "PUT", srv.URL+"/v1/models/gw", nil, file); resp.StatusCode != 200 {
			t.Fatalf("%s %s", resp.Status, b)
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if requests.Load() == 0 {
		t.Fatal("no request ran")
	}
	if got := counter(t, reg, "tenantpulse_scoring_deploys_total", "endpoint", "churn"); got != 61 {
		t.Fatalf("deploys of churn: %v; want 61", got)
	}
	if got := counter(t, reg, "tenantpulse_scoring_invocations_total", "endpoint", "churn", "outcome", "ok"); got == 0 {
		t.Fatal("no invocation counted")
	}
}

// counter returns the value of the counter name with the given label
// pairs in reg (0 when there is none).
func counter(t testing.TB, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for i := 0; i < len(labels); i += 2 {
				found := false
				for _, l := range m.GetLabel() {
					found = found || l.GetName() == labels[i] && l.GetValue() == labels[i+1]
				}
				if !found {
					continue metric
				}
			}
			if h := m.GetHistogram(); h != nil {
				return float64(h.GetSampleCount())
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}
