package model

import (
	"math"
	"sort"
)

// MaxROCPoints is the most points Train keeps of the held-out ROC curve.
const MaxROCPoints = 101

// ROCPoint is one point of a ROC curve: calling every tenant whose score is
// at or above Threshold churned flags FPR of the retained tenants (false
// positives) and TPR of the churned ones (true positives).
type ROCPoint struct {
	FPR       float64 `json:"fpr"`
	TPR       float64 `json:"tpr"`
	Threshold float64 `json:"threshold"`
}

// ROC returns the ROC curve of scores for labels y (1 churned, 0 not): the
// point (0, 0), whose threshold is above every score (1, or the next
// float64 above the highest score when that is 1), then one point per
// distinct score from the highest down, the last (1, 1) at the lowest
// score. Its trapezoid area is AUC's value. When it has more than
// maxPoints points (and maxPoints >= 2), maxPoints of them are kept,
// evenly spaced along the list, the first and the last among them. It is
// nil when y holds only one label, where the curve is undefined.
func ROC(scores, y []float64, maxPoints int) []ROCPoint {
	pos, neg := labelCounts(y)
	if pos == 0 || neg == 0 {
		return nil
	}
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	top := 1.0
	if hi := scores[idx[0]]; hi >= 1 {
		top = math.Nextafter(hi, math.Inf(1))
	}
	pts := []ROCPoint{{Threshold: top}}
	var tp, fp float64
	for k := 0; k < len(idx); {
		s := scores[idx[k]]
		for ; k < len(idx) && scores[idx[k]] == s; k++ {
			if y[idx[k]] == 1 {
				tp++
			} else {
				fp++
			}
		}
		pts = append(pts, ROCPoint{FPR: fp / neg, TPR: tp / pos, Threshold: s})
	}
	n := len(pts)
	if maxPoints < 2 || n <= maxPoints {
		return pts
	}
	out := make([]ROCPoint, maxPoints)
	for k := range out {
		out[k] = pts[(k*(n-1)+(maxPoints-1)/2)/(maxPoints-1)]
	}
	return out
}

// ROCArea returns the trapezoid area under the points of a ROC curve, in
// their order.
func ROCArea(pts []ROCPoint) float64 {
	a := 0.0
	for i := 1; i < len(pts); i++ {
		a += (pts[i].FPR - pts[i-1].FPR) * (pts[i].TPR + pts[i-1].TPR) / 2
	}
	return a
}
