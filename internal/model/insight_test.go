package model

import (
	"bytes"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestROC(t *testing.T) {
	f := func(scores, y []float64, maxPoints int, want []ROCPoint) {
		t.Helper()
		got := ROC(scores, y, maxPoints)
		if !slices.Equal(got, want) {
			t.Fatalf("ROC(%v, %v, %d) = %v, want %v", scores, y, maxPoints, got, want)
		}
	}
	scores, y := []float64{0.1, 0.4, 0.35, 0.8}, []float64{0, 0, 1, 1}
	f(scores, y, 0, []ROCPoint{{0, 0, 1}, {0, 0.5, 0.8}, {0.5, 0.5, 0.4}, {0.5, 1, 0.35}, {1, 1, 0.1}})
	// Thinned: the first, the last, and evenly between.
	f(scores, y, 3, []ROCPoint{{0, 0, 1}, {0.5, 0.5, 0.4}, {1, 1, 0.1}})
	// Ties are one point; a score of 1 puts the first threshold above it.
	f([]float64{1, 0.5, 0.5}, []float64{1, 0, 1}, 0, []ROCPoint{{0, 0, math.Nextafter(1, 2)}, {0, 0.5, 1}, {1, 1, 0.5}})
	f([]float64{0.2, 0.3}, []float64{1, 1}, 0, nil)
	if a, want := ROCArea(ROC(scores, y, 0)), AUC(scores, y); a != want {
		t.Errorf("area %v, AUC %v", a, want)
	}
	// Many distinct scores: at most maxPoints, from (0, 0) to (1, 1), the
	// area of the whole curve the AUC.
	scores, y = nil, nil
	for i := range 5000 {
		scores = append(scores, float64(i*7919%5003)/5003)
		y = append(y, float64(i%3%2))
	}
	full, thin := ROC(scores, y, 0), ROC(scores, y, MaxROCPoints)
	if len(full) != 5001 || len(thin) != MaxROCPoints || thin[0] != full[0] || thin[len(thin)-1] != full[len(full)-1] ||
		full[len(full)-1].FPR != 1 || full[len(full)-1].TPR != 1 {
		t.Fatalf("%d points, thinned %d: %v ... %v", len(full), len(thin), thin[:2], thin[len(thin)-2:])
	}
	if a, want := ROCArea(full), AUC(scores, y); math.Abs(a-want) > 1e-12 {
		t.Errorf("area %v, AUC %v", a, want)
	}
}

// TestTrainROCAndImportance checks what Train stores of the held-out
// split beyond the metrics: the ROC curve agrees with the AUC, and the
// importance names each feature once, most important first, led by the
// features of the data set's churn rule.
func TestTrainROCAndImportance(t *testing.T) {
	spec, rows := loadCompanies(t)
	for _, typ := range []string{TypeLinear, TypeBinned} {
		m, err := Train(spec, rows, Options{Type: typ, Seed: 1, Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		roc := m.Metrics.ROC
		if len(roc) < 2 || len(roc) > MaxROCPoints || roc[0].FPR != 0 || roc[0].TPR != 0 ||
			roc[len(roc)-1].FPR != 1 || roc[len(roc)-1].TPR != 1 {
			t.Fatalf("%s: ROC of %d points: %v", typ, len(roc), roc)
		}
		for i := 1; i < len(roc); i++ {
			if roc[i].Threshold >= roc[i-1].Threshold || roc[i].FPR < roc[i-1].FPR || roc[i].TPR < roc[i-1].TPR {
				t.Fatalf("%s: ROC points %d and %d out of order: %v %v", typ, i-1, i, roc[i-1], roc[i])
			}
		}
		if a := ROCArea(roc); math.Abs(a-m.Metrics.AUC) > 0.01 {
			t.Errorf("%s: the area under the stored ROC is %.6f, the AUC %.6f", typ, a, m.Metrics.AUC)
		}
		imp := m.Importance
		var names []string
		for i, f := range imp {
			names = append(names, f.Feature)
			if i > 0 && f.Importance > imp[i-1].Importance || f.Text == "" || f.Importance < 0 ||
				f.Direction != int(sign(f.Separation)) {
				t.Fatalf("%s: importance %d: %+v", typ, i, imp)
			}
		}
		slices.Sort(names)
		if strings.Join(names, ",") != "employees,industry,job30,job90,monthlyCharge,revenue,totalCharge" {
			t.Fatalf("%s: importance of %v", typ, names)
		}
		top := []string{imp[0].Feature, imp[1].Feature, imp[2].Feature}
		slices.Sort(top)
		if strings.Join(top, ",") != "industry,job30,job90" || imp[0].Direction != 1 {
			t.Errorf("%s: the most important features are %+v, want the rule's industry, job30 and job90 driving churn", typ, imp[:3])
		}
		t.Logf("%s: ROC area %.6f of %d points, AUC %.6f; importance %+v", typ, ROCArea(roc), len(roc), m.Metrics.AUC, imp)
	}
}

// TestImportanceIsExplain checks that a feature's importance is the mean
// size of the contributions Explain reports over the held-out rows, and
// its separation the churned rows' mean contribution less the retained
// rows'.
func TestImportanceIsExplain(t *testing.T) {
	spec, rows := loadCompanies(t)
	for _, typ := range []string{TypeLinear, TypeBinned} {
		m, err := Train(spec, rows[:3000], Options{Type: typ, Seed: 2, Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		abs, sep := map[string]float64{}, map[string]float64{}
		var n, pos, neg float64
		for i, r := range rows[:3000] {
			if Split(i) != "test" {
				continue
			}
			n++
			if r.Churn {
				pos++
			} else {
				neg++
			}
		}
		for i, r := range rows[:3000] {
			if Split(i) != "test" {
				continue
			}
			x, _ := m.Spec.Encode(nil, r.Facts)
			for _, d := range m.Explain(x, &r.Facts, 0) {
				abs[d.Feature] += math.Abs(d.Contribution) / n
				if r.Churn {
					sep[d.Feature] += d.Contribution / pos
				} else {
					sep[d.Feature] -= d.Contribution / neg
				}
			}
		}
		if len(m.Importance) != len(m.Spec.Features) {
			t.Fatalf("%s: %d importances for %d features", typ, len(m.Importance), len(m.Spec.Features))
		}
		for _, f := range m.Importance {
			if math.Abs(f.Importance-abs[f.Feature]) > 1e-9 || math.Abs(f.Separation-sep[f.Feature]) > 1e-9 {
				t.Errorf("%s: %+v; Explain gives importance %v, separation %v", typ, f, abs[f.Feature], sep[f.Feature])
			}
		}
	}
}

// TestLoadBeforeROC loads a model file written before the ROC curve and
// the importance were added (testdata/binned-before-roc.model.json,
// written by commit 8ddc4e0): it loads, scores, explains, and writes
// itself again with the same checksum.
func TestLoadBeforeROC(t *testing.T) {
	b, err := os.ReadFile("testdata/binned-before-roc.model.json")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(`"roc"`)) || bytes.Contains(b, []byte(`"importance"`)) {
		t.Fatal("the old file has the new fields")
	}
	m, err := Load(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Metrics.ROC != nil || m.Importance != nil || m.Type != TypeBinned || len(m.Bins) == 0 {
		t.Fatalf("loaded %+v %+v", m.Metrics, m.Importance)
	}
	_, rows := loadCompanies(t)
	x, err := m.Spec.Encode(nil, rows[0].Facts)
	if err != nil {
		t.Fatal(err)
	}
	if s := m.Score(x); s < 0 || s > 1 || len(m.Explain(x, nil, 3)) != 3 {
		t.Fatalf("score %v", s)
	}
	old := m.Checksum
	again, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if m.Checksum != old || !bytes.Equal(append(again, '\n'), b) {
		t.Errorf("written again: checksum %s, was %s; same bytes: %v", m.Checksum, old, bytes.Equal(append(again, '\n'), b))
	}
}

func TestLoadRejectsBadROCAndImportance(t *testing.T) {
	spec, rows := loadCompanies(t)
	m, err := Train(spec, rows[:1000], Options{Seed: 1, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	f := func(change func(m *Model), want string) {
		t.Helper()
		c := *m
		c.Metrics.ROC = slices.Clone(m.Metrics.ROC)
		c.Importance = slices.Clone(m.Importance)
		change(&c)
		b, err := c.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Load(b); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load: %v, want an error about %s", err, want)
		}
	}
	f(func(m *Model) { m.Metrics.ROC[3].TPR = 1.5 }, "ROC point 3")
	f(func(m *Model) { m.Metrics.ROC[3], m.Metrics.ROC[4] = m.Metrics.ROC[4], m.Metrics.ROC[3] }, "ROC point 4")
	f(func(m *Model) { m.Importance[0].Feature = "nope" }, `"nope"`)
	f(func(m *Model) { m.Importance[1].Feature = m.Importance[0].Feature }, "twice")
}
