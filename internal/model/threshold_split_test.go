package model

import (
	"slices"
	"testing"
)

// TestThresholdChosenOnValidationSplit: the threshold is fitted on the
// validation split, never on the held-out test split it is measured on.
// The splits disagree on purpose: the training rows churn above x = 0.5
// (the model learns "higher x, more risk"), the validation rows above
// x = 0.8 and the test rows above x = 0.2. A threshold chosen on the
// validation rows separates them perfectly and misclassifies test rows;
// one chosen on the test rows would do the opposite.
func TestThresholdChosenOnValidationSplit(t *testing.T) {
	spec := Spec{Features: []Feature{{Name: "x", Source: "x", Type: Numeric}}}
	cut := map[string]float64{"train": 0.5, "valid": 0.8, "test": 0.2}
	var rows []Example
	for i := range 3000 {
		x := float64(i*7919%1000) / 1000
		rows = append(rows, Example{Facts: Facts{Num: map[string]float64{"x": x}}, Churn: x > cut[Split(i)]})
	}
	m, err := Train(spec, rows, Options{Seed: 1, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	accuracy := func(split string) float64 {
		scores, y := scoreSplits(t, m, rows, split)
		return Evaluate(scores, y, m.Threshold).Accuracy
	}
	if v, ts := accuracy("valid"), accuracy("test"); v != 1 || ts > 0.9 {
		t.Fatalf("threshold %v: accuracy %.3f on the validation split, %.3f on the test split; want 1 on validation (where it is chosen) and the test split's own cut missed",
			m.Threshold, v, ts)
	}
	if m.Metrics.Accuracy > 0.9 {
		t.Fatalf("held-out accuracy %.3f: the test split's metrics look fitted to it", m.Metrics.Accuracy)
	}
}

// scoreSplits returns m's scores of the rows in the named splits and
// their labels (1 churned).
func scoreSplits(t *testing.T, m *Model, rows []Example, splits ...string) (scores, y []float64) {
	t.Helper()
	for i, r := range rows {
		if !slices.Contains(splits, Split(i)) {
			continue
		}
		x, err := m.Spec.Encode(nil, r.Facts)
		if err != nil {
			t.Fatal(err)
		}
		scores = append(scores, m.Score(x))
		y = append(y, map[bool]float64{true: 1}[r.Churn])
	}
	return scores, y
}
