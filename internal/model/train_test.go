package model

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func loadCompanies(t testing.TB) (Spec, []Example) {
	t.Helper()
	f, err := os.Open("../../examples/data/companies.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	spec, rows, err := ReadCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	return spec, rows
}

var fixedNow = func() time.Time { return time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC) }

// TestTrainCompanies trains both model types on the reference data set
// with the documented split (every fifth row held out).
//
// The baseline, for this split: scikit-learn 1.2.1 (Debian's
// python3-sklearn) StandardScaler + LogisticRegression() on the six numbers
// and the one-hot industry gets ROC AUC 0.972662 and accuracy 0.9145 at
// 0.5 on the held-out rows; RandomForestClassifier(200) gets AUC 1.0. The
// label is a rule: churn when #job30 <= 4, or #job90 <= 19, or the
// industry is retail, consulting or IT (a depth-5 tree finds it exactly).
func TestTrainCompanies(t *testing.T) {
	spec, rows := loadCompanies(t)
	if len(rows) != 10000 || len(spec.Features) != 7 {
		t.Fatalf("read %d rows, %d features", len(rows), len(spec.Features))
	}
	lin, err := Train(spec, rows, Options{Seed: 1, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("linear: %+v, %d epochs, threshold %.3f, %.0f ms", lin.Metrics, lin.Training.Epochs, lin.Threshold, lin.Training.DurationMs)
	if lin.Metrics.AUC < 0.972662 || lin.Metrics.Accuracy < 0.9145 || lin.Metrics.Rows != 2000 {
		t.Errorf("linear learner: AUC %.6f, accuracy %.4f on %d rows; scikit-learn's logistic regression gets 0.972662 and 0.9145",
			lin.Metrics.AUC, lin.Metrics.Accuracy, lin.Metrics.Rows)
	}
	bin, err := Train(spec, rows, Options{Type: TypeBinned, Seed: 1, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("binned: %+v, %d epochs, threshold %.3f, %.0f ms", bin.Metrics, bin.Training.Epochs, bin.Threshold, bin.Training.DurationMs)
	if bin.Metrics.AUC < 0.99 {
		t.Errorf("binned model: AUC %.6f, want at least 0.99", bin.Metrics.AUC)
	}
	// The learned bins include the rule's thresholds.
	edges := map[string][]float64{}
	for _, b := range bin.Bins {
		edges[bin.Columns[b.Column]] = b.Edges
	}
	if !slices.Contains(edges["job30"], 4.5) || !slices.Contains(edges["job90"], 19.5) {
		t.Errorf("bins of job30 %v and job90 %v miss the rule's cuts 4.5 and 19.5", edges["job30"], edges["job90"])
	}
	// The industries of the rule drive a score.
	x, _ := bin.Spec.Encode(nil, Facts{Num: map[string]float64{"jobs30d": 8, "jobs90d": 60}, Cat: map[string]string{"industry": "retail"}})
	d := bin.Explain(x, nil, 1)
	if !bin.Churn(bin.Score(x)) || d[0].Feature != "industry" || d[0].Contribution <= 0 || !strings.Contains(d[0].Text, "raises") {
		t.Errorf("a busy retail tenant: score %.3f, top driver %+v", bin.Score(x), d)
	}
}

func TestTrainDeterministic(t *testing.T) {
	spec, rows := loadCompanies(t)
	rows = rows[:3000]
	a, err := Train(spec, rows, Options{Seed: 7, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Train(spec, rows, Options{Seed: 7, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Train(spec, rows, Options{Seed: 8, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Weights, b.Weights) || a.Bias != b.Bias || a.Threshold != b.Threshold ||
		!reflect.DeepEqual(a.Metrics, b.Metrics) || !reflect.DeepEqual(a.Importance, b.Importance) {
		t.Error("the same seed gave different models")
	}
	// The files differ only in the training's duration.
	a.Training.DurationMs, b.Training.DurationMs = 0, 0
	fa, _ := a.Marshal()
	fb, _ := b.Marshal()
	if !bytes.Equal(fa, fb) {
		t.Error("the same seed gave different model files")
	}
	if slices.Equal(a.Weights, c.Weights) {
		t.Error("another seed gave the same weights")
	}
}

func TestModelFile(t *testing.T) {
	spec, rows := loadCompanies(t)
	m, err := Train(spec, rows[:2000], Options{Type: TypeBinned, Seed: 1, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Load(b)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := m.Spec.Encode(nil, rows[4].Facts)
	if got.Score(x) != m.Score(x) || got.Checksum != m.Checksum || !strings.HasPrefix(m.Checksum, "sha256:") {
		t.Fatalf("round trip: score %v vs %v, checksum %s vs %s", got.Score(x), m.Score(x), got.Checksum, m.Checksum)
	}
	// A changed weight breaks the checksum.
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	raw["threshold"] = 0.01
	bad, _ := json.Marshal(raw)
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("a changed file: %v", err)
	}
	for _, c := range []struct{ in, want string }{
		{`{}`, "format"},
		{`{"format":"tenantpulse.model/v9"}`, "format"},
		{`{"format":"tenantpulse.model/v1","extra":1}`, "unknown field"},
		{`not json`, "not a model file"},
	} {
		if _, err := Load([]byte(c.in)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Load(%s): %v, want an error about %s", c.in, err, c.want)
		}
	}
}

func TestEncode(t *testing.T) {
	spec, rows := loadCompanies(t)
	m, err := Train(spec, rows[:2000], Options{Seed: 1, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	cols := m.Spec.Columns()
	if cols[0] != "industry=IT" || cols[len(cols)-1] != "totalCharge" || len(cols) != m.Spec.Width() {
		t.Fatalf("columns %v", cols)
	}
	// An unknown industry is all zeros; a missing number is the mean.
	x, err := m.Spec.Encode(nil, Facts{Num: map[string]float64{"revenue": 5}, Cat: map[string]string{"industry": "space"}})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cols {
		switch {
		case strings.HasPrefix(c, "industry="):
			if x[i] != m.Means[i] || x[i] <= 0 {
				t.Errorf("%s = %v for an unknown industry, want its share %v", c, x[i], m.Means[i])
			}
		case c == "revenue":
			if x[i] != 5 {
				t.Errorf("revenue = %v", x[i])
			}
		case x[i] != m.Means[i]:
			t.Errorf("missing %s = %v, want the training mean %v", c, x[i], m.Means[i])
		}
	}
	d := m.Explain(x, &Facts{Num: map[string]float64{"revenue": 5}, Cat: map[string]string{"industry": "space"}}, 0)
	for _, dr := range d {
		if dr.Feature == "industry" && (math.Abs(dr.Contribution) > 1e-12 || !strings.Contains(dr.Text, `"space" is not one the model knows`)) {
			t.Errorf("unknown industry: %+v", dr)
		}
		if dr.Feature == "job30" && (dr.Value != nil || math.Abs(dr.Contribution) > 1e-12 || !strings.Contains(dr.Text, "unknown")) {
			t.Errorf("missing job30: %+v", dr)
		}
	}
	if _, err := m.Spec.Encode(nil, Facts{Num: map[string]float64{"revenue": math.NaN()}}); err == nil || !strings.Contains(err.Error(), "revenue") {
		t.Errorf("NaN: %v", err)
	}
}

// TestExplainSums checks that the drivers add up: the contributions of all
// features are the logit's distance from the average tenant's.
func TestExplainSums(t *testing.T) {
	spec, rows := loadCompanies(t)
	for _, typ := range []string{TypeLinear, TypeBinned} {
		m, err := Train(spec, rows[:4000], Options{Type: typ, Seed: 3, Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		base := m.Bias
		for i, w := range m.Weights {
			base += w * m.Means[i]
		}
		for _, b := range m.Bins {
			base += b.Mean
		}
		for _, r := range rows[4000:4050] {
			x, _ := m.Spec.Encode(nil, r.Facts)
			sum := 0.0
			ds := m.Explain(x, &r.Facts, 0)
			for i, d := range ds {
				sum += d.Contribution
				if i > 0 && math.Abs(d.Contribution) > math.Abs(ds[i-1].Contribution) {
					t.Fatalf("drivers not sorted by size: %+v", ds)
				}
			}
			if len(ds) != len(m.Spec.Features) || math.Abs(base+sum-m.Logit(x)) > 1e-9 {
				t.Fatalf("%s: base %v + contributions %v != logit %v", typ, base, sum, m.Logit(x))
			}
		}
	}
}

func TestReadCSV(t *testing.T) {
	spec, rows, err := ReadCSV(strings.NewReader("1,0.5,3\n0,1.5,4\n"))
	if err != nil || len(rows) != 2 || len(spec.Features) != 2 || !rows[0].Churn || rows[1].Facts.Num["f2"] != 4 {
		t.Fatalf("SageMaker CSV: %+v %+v %v", spec, rows, err)
	}
	for _, c := range []struct{ in, want string }{
		{"", "empty"},
		{"Company,Revenue\nx,1\n", "no Churn column"},
		{"Company,Churn\nx,1\n", "none of the features"},
		{"Revenue,Churn\n1,2\n", "line 2, column Churn"},
		{"Revenue,Churn\nabc,1\n", `line 2, column Revenue: "abc" is not a number`},
		{"1,2,3\n1,2\n", "line 2"},
		{"1,2\n5,1\n", "label"},
	} {
		if _, _, err := ReadCSV(strings.NewReader(c.in)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadCSV(%q): %v, want %q", c.in, err, c.want)
		}
	}
}

func TestTrainRejects(t *testing.T) {
	spec, rows := loadCompanies(t)
	if _, err := Train(spec, rows[:10], Options{}); err == nil || !strings.Contains(err.Error(), "too few") {
		t.Errorf("10 rows: %v", err)
	}
	same := slices.Clone(rows[:100])
	for i := range same {
		same[i].Churn = true
	}
	if _, err := Train(spec, same, Options{}); err == nil || !strings.Contains(err.Error(), "one label") {
		t.Errorf("one label: %v", err)
	}
	if _, err := Train(spec, rows, Options{Type: "forest"}); err == nil {
		t.Error("an unknown type trained")
	}
}

func TestAUC(t *testing.T) {
	if got := AUC([]float64{0.1, 0.4, 0.35, 0.8}, []float64{0, 0, 1, 1}); got != 0.75 {
		t.Errorf("AUC = %v, want 0.75", got)
	}
	if got := AUC([]float64{0.5, 0.5}, []float64{0, 1}); got != 0.5 {
		t.Errorf("AUC of a tie = %v, want 0.5", got)
	}
}

func BenchmarkScore(b *testing.B) {
	spec, rows := loadCompanies(b)
	for _, typ := range []string{TypeLinear, TypeBinned} {
		m, err := Train(spec, rows, Options{Type: typ, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		x, _ := m.Spec.Encode(nil, rows[0].Facts)
		b.Run(typ, func(b *testing.B) {
			s := 0.0
			for b.Loop() {
				s += m.Score(x)
			}
		})
	}
}

// TestThresholdFewValidationRows: with a hundred tenants the validation
// split holds a handful; when it has fewer than minThresholdRows churned
// tenants, the threshold is the one the training and validation rows
// together call best.
func TestThresholdFewValidationRows(t *testing.T) {
	spec := Spec{Features: []Feature{{Name: "x", Source: "x", Type: Numeric}}}
	var rows []Example
	for i := range 150 {
		churn := i%5 == 1 && Split(i) == "train" || i%10 == 4 // none in the validation split
		x := float64(i*7919%101) / 101
		if churn {
			x += 0.6
		}
		rows = append(rows, Example{Facts: Facts{Num: map[string]float64{"x": x}}, Churn: churn})
	}
	m, err := Train(spec, rows, Options{Seed: 1, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	scores, y := scoreSplits(t, m, rows, "train", "valid")
	if want := chooseThreshold(scores, y, "accuracy"); m.Threshold != want {
		t.Errorf("threshold %v, want %v (the best on the training and validation rows)", m.Threshold, want)
	}
}

// TestTrainHeldOutOneLabel: when every held-out row has one label the
// AUC is undefined; Train says so rather than writing NaN.
func TestTrainHeldOutOneLabel(t *testing.T) {
	spec := Spec{Features: []Feature{{Name: "x", Source: "x", Type: Numeric}}}
	var rows []Example
	for i := range 100 {
		churn := i%5 != 4 && i%3 == 0 // never in the held-out split
		rows = append(rows, Example{Facts: Facts{Num: map[string]float64{"x": float64(i % 7)}}, Churn: churn})
	}
	_, err := Train(spec, rows, Options{Seed: 1, Now: fixedNow})
	if err == nil || !strings.Contains(err.Error(), "held-out rows (every fifth) are all of one label") {
		t.Fatalf("err %v", err)
	}
}

// TestChooseThresholdSweep checks the one-sweep threshold search against
// trying every candidate with Evaluate, on scores with many ties, scores
// all on one side of 0.5, and one label only.
func TestChooseThresholdSweep(t *testing.T) {
	brute := func(scores, y []float64, criterion string) float64 {
		cands := append(slices.Clone(scores), 0.5)
		slices.Sort(cands)
		best, bestT := -1.0, 0.5
		for _, t := range slices.Compact(cands) {
			m := Evaluate(scores, y, t)
			v := m.Accuracy
			if criterion == "f1" {
				v = m.F1
			}
			if v > best+1e-12 || (math.Abs(v-best) <= 1e-12 && math.Abs(t-0.5) < math.Abs(bestT-0.5)) {
				best, bestT = v, t
			}
		}
		return bestT
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for trial := range 2000 {
		n := rng.IntN(40)
		levels := 1 + rng.IntN(12) // few levels: many ties
		lo, hi := 0.0, 1.0
		switch trial % 4 {
		case 1:
			hi = 0.5 // every score at or below 0.5
		case 2:
			lo = 0.5
		}
		scores, y := make([]float64, n), make([]float64, n)
		for i := range n {
			scores[i] = lo + (hi-lo)*float64(rng.IntN(levels+1))/float64(levels)
			if trial%7 != 3 && rng.Float64() < scores[i] {
				y[i] = 1
			}
		}
		for _, c := range []string{"accuracy", "f1"} {
			if got, want := chooseThreshold(scores, y, c), brute(scores, y, c); got != want {
				t.Fatalf("trial %d, %s: threshold %v, trying every candidate gives %v (scores %v, labels %v)", trial, c, got, want, scores, y)
			}
		}
	}
}
