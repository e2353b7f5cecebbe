package model

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// boundsModel returns a small valid model over revenue, employees and a
// one-hot industry: weights w (one per column: revenue, employees,
// industry=a, industry=b), bias and, for a binned model, bins.
func boundsModel(typ string, bias float64, w []float64, bins []Bins) *Model {
	spec := Spec{Features: []Feature{
		{Name: "revenue", Source: "revenue", Type: Numeric, Default: 5000, Text: "annual revenue"},
		{Name: "employees", Source: "employees", Type: Numeric, Default: 40, Text: "employees"},
		{Name: "industry", Source: "industry", Type: Categorical, Categories: []string{"a", "b"}, Shares: []float64{0.25, 0.75}, Text: "industry"},
	}}
	return &Model{Format: FormatV1, Type: typ, Spec: spec, Columns: spec.Columns(), Bias: bias, Weights: w,
		Bins: bins, Means: []float64{5000, 40, 0.25, 0.75}, Threshold: 0.5, Criterion: "accuracy"}
}

// reload marshals m and loads the file, as a deploy does.
func reload(t *testing.T, m *Model) (*Model, error) {
	t.Helper()
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return Load(b)
}

// finiteEverywhere scores m at every corner of its column bounds and at
// random points inside them, and returns a point where the score or a
// driver's contribution is not finite, or nil.
func finiteEverywhere(m *Model) []float64 {
	bounds := m.Spec.Bounds()
	check := func(x []float64) bool {
		if s := m.Score(x); !(s >= 0 && s <= 1) {
			return false
		}
		for _, d := range m.Explain(x, nil, 0) {
			if math.IsNaN(d.Contribution) || math.IsInf(d.Contribution, 0) {
				return false
			}
		}
		return true
	}
	x := make([]float64, len(bounds))
	for corner := range 1 << len(bounds) {
		for i, b := range bounds {
			x[i] = b.Min
			if corner&(1<<i) != 0 {
				x[i] = b.Max
			}
		}
		if !check(x) {
			return x
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		for i, b := range bounds {
			x[i] = b.Min + r.Float64()*(b.Max-b.Min)
		}
		if !check(x) {
			return x
		}
	}
	return nil
}

// TestLoadRefusesNonFiniteScores: a model whose weights are so large that
// some input inside the feature bounds (revenue up to 1e15, employees up
// to 1e9: docs/events.md) gives a NaN score or an infinite driver is
// refused at load with a message naming what overflows. Before the check,
// Load accepted them and InvokeEndpoint answered "score":NaN.
func TestLoadRefusesNonFiniteScores(t *testing.T) {
	f := func(name string, m *Model, want string) {
		t.Helper()
		got, err := reload(t, m)
		if err == nil {
			if x := finiteEverywhere(got); x != nil {
				t.Fatalf("%s: Load accepted a model that scores %v at %v", name, got.Score(x), x)
			}
			t.Fatalf("%s: Load accepted the model; want an error containing %q", name, want)
		}
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: Load: %v; want it to contain %q", name, err, want)
		}
	}
	const notNumber = "the model can give a score that is not a number"
	// +Inf from revenue, -Inf from employees: NaN at (1e15, 1e9).
	f("opposite huge weights", boundsModel(TypeLinear, 0, []float64{1e300, -1e300, 0, 0}, nil),
		notNumber+": column revenue (weight 1e+300, values from 0 to 1e+15) reaches +Inf")
	// Each column finite, their sum not.
	f("sum overflows", boundsModel(TypeLinear, 0, []float64{6e292, -6e298, 0, 0}, nil), notNumber+": the log-odds reaches 1.2e+308")
	f("bias and a weight", boundsModel(TypeLinear, 1.7e308, []float64{5e292, 0, 0, 0}, nil), notNumber+": the log-odds reaches +Inf")
	// Contributions are measured from the means: the logit is fine at
	// both ends, the contribution is not.
	m := boundsModel(TypeLinear, 0, []float64{0, 0, 1e308, 0}, nil)
	m.Means[2] = -1e308
	f("contribution around the mean", m, notNumber+": column industry=a")
	// Binned: the bins' weights add up past the largest float64, and a
	// linear weight goes the other way.
	f("binned", boundsModel(TypeBinned, 0, []float64{-1e300, 0, 0, 0},
		[]Bins{{Column: 1, Edges: []float64{10}, Weights: []float64{1.7e308, 1.7e308}}}), notNumber+": column revenue")
	f("binned sum", boundsModel(TypeBinned, 0, []float64{0, 0, 0, 0},
		[]Bins{{Column: 0, Edges: []float64{10}, Weights: []float64{-1.7e308, 1e308}}, {Column: 1, Edges: []float64{10}, Weights: []float64{1.7e308, 1e308}}}),
		notNumber+": the log-odds reaches +Inf")
	f("binned contribution", boundsModel(TypeBinned, 0, []float64{0, 0, 0, 0},
		[]Bins{{Column: 0, Edges: []float64{10}, Weights: []float64{-8e307, 8e307}, Mean: 1.7e308}}),
		notNumber+": the sum of the drivers' contributions")
	// What Encode fills in for a missing fact must be in bounds too.
	m = boundsModel(TypeLinear, 0, []float64{1, 0, 0, 0}, nil)
	m.Spec.Features[0].Default = 1.7e308
	f("default out of bounds", m, "feature revenue: its default (the value of a missing number) 1.7e+308 is outside the values annual revenue can have, from 0 to 1e+15")
	m = boundsModel(TypeLinear, 0, []float64{1, 0, 0, 0}, nil)
	m.Spec.Features[2].Shares = []float64{-1e300, 2}
	f("shares", m, "feature industry: a category's share -1e+300 is not between 0 and 1")
}

// TestLoadAcceptsLargeFiniteModels: models up to the limit load, and then
// score finite numbers at every corner of the bounds and inside them; so
// do random models of every magnitude that Load accepts.
func TestLoadAcceptsLargeFiniteModels(t *testing.T) {
	for _, m := range []*Model{
		boundsModel(TypeLinear, 1, []float64{1e-6, -0.5, 2, -2}, nil),
		boundsModel(TypeLinear, 0, []float64{8e292, -1e-6, 0, 0}, nil), // 8e307 at revenue 1e15
		boundsModel(TypeBinned, 0, []float64{0, 0, 1, 1}, []Bins{{Column: 1, Edges: []float64{10, 100}, Weights: []float64{-3, 0, 3}}}),
	} {
		got, err := reload(t, m)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if x := finiteEverywhere(got); x != nil {
			t.Fatalf("model %v scores %v at %v", m.Weights, got.Score(x), x)
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	accepted, refused := 0, 0
	for range 300 {
		w := make([]float64, 4)
		for i := range w {
			w[i] = (r.Float64()*2 - 1) * math.Pow(10, float64(r.IntN(600)-300))
		}
		m := boundsModel(TypeLinear, (r.Float64()*2-1)*math.Pow(10, float64(r.IntN(600)-300)), w, nil)
		got, err := reload(t, m)
		if err != nil {
			refused++
			continue
		}
		accepted++
		if x := finiteEverywhere(got); x != nil {
			t.Fatalf("Load accepted weights %v bias %v, which score %v at %v", w, m.Bias, got.Score(x), x)
		}
	}
	if accepted == 0 || refused == 0 {
		t.Fatalf("%d accepted, %d refused: the random models do not test both sides", accepted, refused)
	}
}

// TestEncodeBounds: Encode refuses a fact outside the bounds the model's
// load check assumed, naming it and the bound; the bounds themselves
// encode.
func TestEncodeBounds(t *testing.T) {
	spec := LiveSpec()
	spec.Features[0].Categories = []string{"retail"}
	f := func(name string, v float64, want string) {
		t.Helper()
		facts := NewFacts()
		facts.Num[name] = v
		_, err := spec.Encode(nil, facts)
		if want == "" {
			if err != nil {
				t.Fatalf("%s=%v: %v", name, v, err)
			}
			return
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s=%v: %v; want an error containing %q", name, v, err, want)
		}
	}
	f("revenue", 1e15, "")
	f("revenue", 1.7e308, "revenue: 1.7e+308 is outside the values annual revenue can have, from 0 to 1e+15")
	f("revenue", -1, "from 0 to 1e+15")
	f("monthlyFee", 1e12, "")
	f("monthlyFee", 1.0000001e12, "monthlyCharge: 1.0000001e+12 is outside the values monthly fee can have, from 0 to 1e+12")
	f("employees", 1e9, "")
	f("employees", 1e9+1, "from 0 to 1e+09")
	f("totalFee", 7.1e15, "")
	f("totalFee", 7.2e15, "from 0 to 7.1e+15")
	f("jobsTrend", 3, "")
	f("jobsTrend", 3.5, "from 0 to 3")
	f("jobs30d", float64(math.MaxInt64), "")
	f("jobs30d", 1e19, "from 0 to 9.223372036854776e+18")
	f("users", -float64(math.MaxInt64), "")
	f("daysSinceActivity", 213504, "")
	f("daysSinceActivity", 213505, "from 0 to 213504")
	f("revenue", math.Inf(1), "is not a number")
}

// TestTrainRefusesOutOfBoundsRows: a training row with a fact outside its
// bound is an error naming the row, so train never fits (and writes) a
// model on values the server would refuse to score.
func TestTrainRefusesOutOfBoundsRows(t *testing.T) {
	spec := Spec{Features: []Feature{{Name: "revenue", Source: "revenue", Type: Numeric, Text: "annual revenue"}}}
	var rows []Example
	for i := range 40 {
		f := NewFacts()
		f.Num["revenue"] = float64(i * 1000)
		rows = append(rows, Example{Facts: f, Churn: i%2 == 0})
	}
	if _, err := Train(spec, rows, Options{Seed: 1}); err != nil {
		t.Fatalf("in bounds: %v", err)
	}
	rows[7].Facts.Num["revenue"] = 1e16
	_, err := Train(spec, rows, Options{Seed: 1})
	if want := "row 8: revenue: 1e+16 is outside the values annual revenue can have, from 0 to 1e+15"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Train with revenue 1e16: %v; want %q", err, want)
	}
}
