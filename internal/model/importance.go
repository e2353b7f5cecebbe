package model

import (
	"math"
	"sort"
)

// FeatureImportance is what one feature does to the scores of a set of
// tenants (at training, the held-out split), in the terms of Explain: a
// tenant's contribution of the feature is how much it moves the log-odds
// of churn against the average tenant.
type FeatureImportance struct {
	Feature string `json:"feature"` // the spec's feature name
	Text    string `json:"text"`    // what it is, in words
	// Importance is the mean absolute contribution over the tenants.
	Importance float64 `json:"importance"`
	// Separation is the mean contribution over the churned tenants less
	// the mean over the retained ones: positive when the feature pushes
	// churned tenants towards churn more than retained ones, 0 when the
	// tenants are all of one label.
	Separation float64 `json:"separation"`
	// Direction is Separation's sign: 1, -1 or 0.
	Direction int `json:"direction"`
}

// importanceOf returns the importance of each feature of the spec over
// the encoded vectors xs with labels y (1 churned, 0 not), most important
// first (ties in the spec's order). One-hot columns and bins count as
// their feature.
func (m *Model) importanceOf(xs [][]float64, y []float64) []FeatureImportance {
	out := make([]FeatureImportance, len(m.Spec.Features))
	pos, neg := labelCounts(y)
	col := 0
	for fi := range m.Spec.Features {
		f := &m.Spec.Features[fi]
		var abs, churned, retained float64
		for r, x := range xs {
			c := m.contribution(f, col, x)
			abs += math.Abs(c)
			if y[r] == 1 {
				churned += c
			} else {
				retained += c
			}
		}
		imp := FeatureImportance{Feature: f.Name, Text: f.Text}
		if len(xs) > 0 {
			imp.Importance = abs / float64(len(xs))
		}
		if pos > 0 && neg > 0 {
			imp.Separation = churned/pos - retained/neg
			imp.Direction = int(sign(imp.Separation))
		}
		out[fi] = imp
		if f.Type == Categorical {
			col += len(f.Categories)
		} else {
			col++
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Importance > out[j].Importance })
	return out
}
