package model

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"
)

// Example is one labelled row: what is known of a tenant, and whether it
// churned.
type Example struct {
	Facts Facts
	Churn bool
}

// Options configure Train. The zero value gives SageMaker linear
// learner's defaults where it has them.
type Options struct {
	Type      string  // TypeLinear (default) or TypeBinned
	Seed      uint64  // shuffling and initialization; same seed, same model
	Epochs    int     // at most; default 15
	BatchSize int     // default 100
	LearnRate float64 // Adam's step; default 0.01
	L1        float64 // default 0
	L2        float64 // weight decay; default 0.0001
	// Criterion the threshold maximizes on the validation split:
	// "accuracy" (default) or "f1".
	Criterion string
	Patience  int     // epochs without improvement before stopping; default 3
	Tolerance float64 // relative improvement that counts; default 0.001
	MaxBins   int     // binned: most bins per numeric column; default 16
	Input     string  // recorded in the model
	Now       func() time.Time
}

func (o *Options) defaults() error {
	if o.Type == "" {
		o.Type = TypeLinear
	}
	if o.Type != TypeLinear && o.Type != TypeBinned {
		return fmt.Errorf("model type %q is neither %s nor %s", o.Type, TypeLinear, TypeBinned)
	}
	if o.Epochs <= 0 {
		o.Epochs = 15
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 100
	}
	if o.LearnRate <= 0 {
		o.LearnRate = 0.01
	}
	if o.L2 == 0 {
		o.L2 = 0.0001
	}
	if o.L1 < 0 || o.L2 < 0 {
		return errors.New("l1 and l2 must not be negative")
	}
	if o.Criterion == "" {
		o.Criterion = "accuracy"
	}
	if o.Criterion != "accuracy" && o.Criterion != "f1" {
		return fmt.Errorf("criterion %q is neither accuracy nor f1", o.Criterion)
	}
	if o.Patience <= 0 {
		o.Patience = 3
	}
	if o.Tolerance <= 0 {
		o.Tolerance = 0.001
	}
	if o.MaxBins <= 1 {
		o.MaxBins = 16
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// Split reports which part row i of the input is in: the held-out test
// split (every fifth row), the validation split (every tenth of the rest)
// or training.
func Split(i int) string {
	switch {
	case i%5 == 4:
		return "test"
	case (i-i/5)%10 == 9:
		return "valid"
	default:
		return "train"
	}
}

// Train fits a model of spec (its categories and defaults are learned
// here) on rows, and measures it on the held-out split.
func Train(spec Spec, rows []Example, opts Options) (*Model, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	start := time.Now()
	var train, valid, test []int
	for i := range rows {
		switch Split(i) {
		case "test":
			test = append(test, i)
		case "valid":
			valid = append(valid, i)
		default:
			train = append(train, i)
		}
	}
	if len(train) < 10 || len(valid) == 0 || len(test) == 0 {
		return nil, fmt.Errorf("%d rows are too few to train on; give at least 20", len(rows))
	}
	if pos := churnedIn(rows, train); pos == 0 || pos == len(train) {
		return nil, errors.New("the training rows are all of one label; a classifier needs both churned and retained tenants")
	}
	if pos := churnedIn(rows, test); pos == 0 || pos == len(test) {
		return nil, fmt.Errorf("the %d held-out rows (every fifth) are all of one label, so the held-out metrics are undefined; give more rows, or more of the rarer label", len(test))
	}
	spec = learnSpec(spec, rows, train)
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	width := spec.Width()
	x := make([]float64, 0, len(rows)*width)
	for i := range rows {
		var err error
		if x, err = spec.Encode(x, rows[i].Facts); err != nil {
			return nil, fmt.Errorf("row %d: %w", i+1, err)
		}
	}
	row := func(i int) []float64 { return x[i*width : (i+1)*width] }
	y := make([]float64, len(rows))
	for i := range rows {
		if rows[i].Churn {
			y[i] = 1
		}
	}

	m := &Model{Format: FormatV1, Type: opts.Type, Spec: spec, Columns: spec.Columns(), Criterion: opts.Criterion}
	// The design: the encoded columns, or for binned models each numeric
	// column's bins one-hot.
	d := newDesign(width)
	if opts.Type == TypeBinned {
		for _, c := range numericColumns(&spec) {
			vals := make([]float64, len(train))
			ys := make([]float64, len(train))
			for k, i := range train {
				vals[k], ys[k] = row(i)[c], y[i]
			}
			d.bin(c, learnEdges(vals, ys, opts.MaxBins, max(5, len(train)/50)))
		}
	}
	z := make([][]float64, len(rows))
	for i := range rows {
		z[i] = d.expand(row(i), nil)
	}
	// Standardize the design on the training rows.
	nz := d.width
	mean, std := make([]float64, nz), make([]float64, nz)
	for _, i := range train {
		for j, v := range z[i] {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(len(train))
	}
	for _, i := range train {
		for j, v := range z[i] {
			std[j] += (v - mean[j]) * (v - mean[j])
		}
	}
	for j := range std {
		std[j] = math.Sqrt(std[j] / float64(len(train)))
		if std[j] < 1e-12 {
			std[j] = 1
		}
	}
	for i := range z {
		for j := range z[i] {
			z[i][j] = (z[i][j] - mean[j]) / std[j]
		}
	}
	w, b, epochs := fit(z, y, train, valid, nz, &opts)
	// Fold the standardization into the weights.
	wf := make([]float64, nz)
	bias := b
	for j := range w {
		wf[j] = w[j] / std[j]
		bias -= w[j] * mean[j] / std[j]
	}
	d.fold(m, wf, bias)
	// Means of the columns and of the bin weights, for Explain.
	m.Means = make([]float64, width)
	for _, i := range train {
		for c, v := range row(i) {
			m.Means[c] += v
		}
	}
	for c := range m.Means {
		m.Means[c] /= float64(len(train))
	}
	for k := range m.Bins {
		bn := &m.Bins[k]
		for _, i := range train {
			bn.Mean += bn.Weights[bn.bin(row(i)[bn.Column])]
		}
		bn.Mean /= float64(len(train))
	}
	// The threshold, on the validation split; when that holds fewer than
	// minThresholdRows of either label (a few hundred tenants), on the
	// training and validation splits together, as SageMaker does without
	// a validation channel.
	on := valid
	if vpos := churnedIn(rows, valid); vpos < minThresholdRows || len(valid)-vpos < minThresholdRows {
		on = append(slices.Clone(train), valid...)
	}
	vs := make([]float64, len(on))
	vy := make([]float64, len(on))
	for k, i := range on {
		vs[k], vy[k] = m.Score(row(i)), y[i]
	}
	m.Threshold = chooseThreshold(vs, vy, opts.Criterion)
	ts := make([]float64, len(test))
	ty := make([]float64, len(test))
	for k, i := range test {
		ts[k], ty[k] = m.Score(row(i)), y[i]
	}
	m.Metrics = Evaluate(ts, ty, m.Threshold)
	m.Metrics.ROC = ROC(ts, ty, MaxROCPoints)
	tx := make([][]float64, len(test))
	for k, i := range test {
		tx[k] = row(i)
	}
	m.Importance = m.importanceOf(tx, ty)
	m.Training = TrainingInfo{Input: opts.Input, Rows: len(rows), TrainRows: len(train), ValidRows: len(valid), TestRows: len(test),
		Epochs: epochs, Seed: opts.Seed, L1: opts.L1, L2: opts.L2, BatchSize: opts.BatchSize, LearnRate: opts.LearnRate,
		TrainedAt: opts.Now().UTC().Format(time.RFC3339), DurationMs: float64(time.Since(start).Microseconds()) / 1000}
	// What Load would refuse is not written: rows inside the feature
	// bounds (Encode checked them) give weights that pass by far.
	if err := m.CheckFinite(); err != nil {
		return nil, fmt.Errorf("the trained model cannot be served: %w", err)
	}
	return m, nil
}

// learnSpec fills in what the spec learns from the training rows: the
// categories of categorical features (sorted) and the defaults (means) of
// numeric ones.
func learnSpec(spec Spec, rows []Example, train []int) Spec {
	out := Spec{Features: slices.Clone(spec.Features)}
	for k := range out.Features {
		f := &out.Features[k]
		if f.Type == Categorical {
			if len(f.Categories) > 0 {
				continue // given: keep them (and their shares)
			}
			seen := map[string]bool{}
			for _, i := range train {
				if v, ok := rows[i].Facts.Cat[f.Source]; ok && v != "" {
					seen[v] = true
				}
			}
			for c := range seen {
				f.Categories = append(f.Categories, c)
			}
			sort.Strings(f.Categories)
			f.Shares = make([]float64, len(f.Categories))
			for _, i := range train {
				if j := slices.Index(f.Categories, rows[i].Facts.Cat[f.Source]); j >= 0 {
					f.Shares[j]++
				}
			}
			for j := range f.Shares {
				f.Shares[j] /= float64(len(train))
			}
			continue
		}
		sum, n := 0.0, 0
		for _, i := range train {
			if v, ok := rows[i].Facts.Num[f.Source]; ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
				sum += v
				n++
			}
		}
		if n > 0 {
			f.Default = sum / float64(n)
		}
	}
	return out
}

// numericColumns returns the column index of each numeric feature.
func numericColumns(spec *Spec) []int {
	var out []int
	col := 0
	for _, f := range spec.Features {
		if f.Type == Categorical {
			col += len(f.Categories)
			continue
		}
		out = append(out, col)
		col++
	}
	return out
}

// design maps an encoded vector to the columns the learner fits: each
// column as it is, or a binned column as one indicator per bin.
type design struct {
	cols  int
	edges map[int][]float64 // binned columns
	at    []int             // where each column's design columns start
	width int
}

func newDesign(width int) *design {
	d := &design{cols: width, edges: map[int][]float64{}}
	d.layout()
	return d
}

func (d *design) bin(col int, edges []float64) {
	d.edges[col] = edges
	d.layout()
}

func (d *design) layout() {
	d.at = make([]int, d.cols)
	n := 0
	for c := range d.cols {
		d.at[c] = n
		if e, ok := d.edges[c]; ok {
			n += len(e) + 1
		} else {
			n++
		}
	}
	d.width = n
}

func (d *design) expand(x, dst []float64) []float64 {
	dst = slices.Grow(dst[:0], d.width)[:d.width]
	clear(dst)
	for c, v := range x {
		if e, ok := d.edges[c]; ok {
			b := Bins{Edges: e}
			dst[d.at[c]+b.bin(v)] = 1
		} else {
			dst[d.at[c]] = v
		}
	}
	return dst
}

// fold sets m's weights, bins and bias from the design's weights.
func (d *design) fold(m *Model, w []float64, bias float64) {
	m.Weights = make([]float64, d.cols)
	m.Bias = bias
	cols := make([]int, 0, len(d.edges))
	for c := range d.edges {
		cols = append(cols, c)
	}
	sort.Ints(cols)
	for c := range d.cols {
		if _, ok := d.edges[c]; !ok {
			m.Weights[c] = w[d.at[c]]
		}
	}
	for _, c := range cols {
		e := d.edges[c]
		m.Bins = append(m.Bins, Bins{Column: c, Edges: slices.Clone(e), Weights: slices.Clone(w[d.at[c] : d.at[c]+len(e)+1])})
	}
}

// fit runs mini-batch Adam on the logistic loss with L1 and L2, stopping
// early when the validation loss stops improving, and returns the best
// weights, bias and the epochs run.
func fit(z [][]float64, y []float64, train, valid []int, n int, o *Options) ([]float64, float64, int) {
	rng := rand.New(rand.NewPCG(o.Seed, 0x7e4a))
	w := make([]float64, n)
	for j := range w {
		w[j] = (rng.Float64() - 0.5) * 0.01
	}
	b := 0.0
	mw, vw := make([]float64, n), make([]float64, n)
	var mb, vb float64
	const beta1, beta2, eps = 0.9, 0.999, 1e-8
	step := 0
	grad := make([]float64, n)
	order := slices.Clone(train)
	best := math.Inf(1)
	bestW, bestB := slices.Clone(w), b
	bad, epochs := 0, 0
	// A few hundred rows make a handful of mini-batches a pass: an epoch is
	// then as many passes as make minEpochSteps steps, so small data sets
	// are fitted too.
	stepsPerPass := (len(order) + o.BatchSize - 1) / o.BatchSize
	passes := (minEpochSteps + stepsPerPass - 1) / stepsPerPass
	for epoch := 0; epoch < o.Epochs; epoch++ {
		epochs++
		for pass := 0; pass < passes; pass++ {
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			for s := 0; s < len(order); s += o.BatchSize {
				batch := order[s:min(s+o.BatchSize, len(order))]
				clear(grad)
				gb := 0.0
				for _, i := range batch {
					zi := z[i]
					p := b
					for j, v := range zi {
						p += w[j] * v
					}
					e := sigmoid(p) - y[i]
					for j, v := range zi {
						grad[j] += e * v
					}
					gb += e
				}
				inv := 1 / float64(len(batch))
				step++
				c1 := 1 - math.Pow(beta1, float64(step))
				c2 := 1 - math.Pow(beta2, float64(step))
				for j := range w {
					g := grad[j]*inv + o.L2*w[j]
					if o.L1 > 0 {
						g += o.L1 * sign(w[j])
					}
					mw[j] = beta1*mw[j] + (1-beta1)*g
					vw[j] = beta2*vw[j] + (1-beta2)*g*g
					w[j] -= o.LearnRate * (mw[j] / c1) / (math.Sqrt(vw[j]/c2) + eps)
				}
				g := gb * inv
				mb = beta1*mb + (1-beta1)*g
				vb = beta2*vb + (1-beta2)*g*g
				b -= o.LearnRate * (mb / c1) / (math.Sqrt(vb/c2) + eps)
			}
		}
		loss := 0.0
		for _, i := range valid {
			p := b
			for j, v := range z[i] {
				p += w[j] * v
			}
			loss += logLoss(p, y[i])
		}
		loss /= float64(len(valid))
		if loss < best*(1-o.Tolerance) {
			best, bad = loss, 0
			copy(bestW, w)
			bestB = b
		} else {
			if loss < best {
				best = loss
				copy(bestW, w)
				bestB = b
			}
			bad++
			if bad >= o.Patience {
				break
			}
		}
	}
	return bestW, bestB, epochs
}

func sign(v float64) float64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// logLoss is the logistic loss of logit p for label y, computed stably.
func logLoss(p, y float64) float64 {
	// log(1+exp(p)) - y*p
	var l float64
	if p > 0 {
		l = p + math.Log1p(math.Exp(-p))
	} else {
		l = math.Log1p(math.Exp(p))
	}
	return l - y*p
}

// learnEdges finds cut points of vals that separate the labels best:
// recursive binary splits by Gini impurity, each side keeping at least
// minLeaf rows, until maxBins bins or no split helps.
func learnEdges(vals, ys []float64, maxBins, minLeaf int) []float64 {
	idx := make([]int, len(vals))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return vals[idx[a]] < vals[idx[b]] })
	sv := make([]float64, len(vals))
	sy := make([]float64, len(vals))
	for k, i := range idx {
		sv[k], sy[k] = vals[i], ys[i]
	}
	type seg struct{ lo, hi int } // [lo, hi) of the sorted rows
	segs := []seg{{0, len(sv)}}
	var edges []float64
	for len(edges)+1 < maxBins {
		bestGain, bestSeg, bestAt := 1e-4, -1, 0
		for si, s := range segs {
			at, gain := bestSplit(sv[s.lo:s.hi], sy[s.lo:s.hi], minLeaf)
			gain *= float64(s.hi-s.lo) / float64(len(sv))
			if at > 0 && gain > bestGain {
				bestGain, bestSeg, bestAt = gain, si, s.lo+at
			}
		}
		if bestSeg < 0 {
			break
		}
		s := segs[bestSeg]
		edges = append(edges, (sv[bestAt-1]+sv[bestAt])/2)
		segs = append(segs[:bestSeg], append([]seg{{s.lo, bestAt}, {bestAt, s.hi}}, segs[bestSeg+1:]...)...)
	}
	sort.Float64s(edges)
	return edges
}

// bestSplit returns where to cut sorted values (between v[at-1] and v[at])
// for the largest drop in Gini impurity, and that drop; at is 0 when no cut
// keeps minLeaf rows on each side between distinct values.
func bestSplit(v, y []float64, minLeaf int) (int, float64) {
	n := len(v)
	total := 0.0
	for _, t := range y {
		total += t
	}
	gini := func(pos, cnt float64) float64 {
		if cnt == 0 {
			return 0
		}
		p := pos / cnt
		return 2 * p * (1 - p)
	}
	parent := gini(total, float64(n))
	bestAt, bestGain := 0, 0.0
	left := 0.0
	for k := 1; k < n; k++ {
		left += y[k-1]
		if k < minLeaf || n-k < minLeaf || v[k] == v[k-1] {
			continue
		}
		l, r := float64(k), float64(n-k)
		g := parent - (l*gini(left, l)+r*gini(total-left, r))/float64(n)
		if g > bestGain {
			bestAt, bestGain = k, g
		}
	}
	return bestAt, bestGain
}

// minEpochSteps is the fewest optimizer steps an epoch takes (see fit).
const minEpochSteps = 50

// minThresholdRows is the fewest rows of each label the validation split
// needs to choose the threshold alone.
const minThresholdRows = 10

// churnedIn counts the churned rows among rows[idx].
func churnedIn(rows []Example, idx []int) int {
	n := 0
	for _, i := range idx {
		if rows[i].Churn {
			n++
		}
	}
	return n
}

// labelCounts counts the labels y holds: pos churned (1), neg not.
func labelCounts(y []float64) (pos, neg float64) {
	for _, v := range y {
		if v == 1 {
			pos++
		} else {
			neg++
		}
	}
	return pos, neg
}

// chooseThreshold returns the score threshold that maximizes criterion on
// scores with labels y (ties broken towards 0.5).
func chooseThreshold(scores, y []float64, criterion string) float64 {
	// One sweep over the scores in ascending order: at each candidate t,
	// the rows below it are the ones predicted retained.
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(scores[a], scores[b]) })
	pos, neg := labelCounts(y)
	var posBelow, negBelow float64
	best, bestT := -1.0, 0.5
	consider := func(t float64) {
		m := metricsOf(pos-posBelow, neg-negBelow, negBelow, posBelow)
		v := m.Accuracy
		if criterion == "f1" {
			v = m.F1
		}
		if v > best+1e-12 || (math.Abs(v-best) <= 1e-12 && math.Abs(t-0.5) < math.Abs(bestT-0.5)) {
			best, bestT = v, t
		}
	}
	half := false // 0.5 is a candidate too, in its place
	for i := 0; i < len(idx); {
		t := scores[idx[i]]
		if !half && 0.5 <= t {
			half = true
			if t != 0.5 {
				consider(0.5)
			}
		}
		consider(t)
		for ; i < len(idx) && scores[idx[i]] == t; i++ {
			if y[idx[i]] == 1 {
				posBelow++
			} else {
				negBelow++
			}
		}
	}
	if !half {
		consider(0.5)
	}
	return bestT
}

// Evaluate returns the metrics of scores against labels y (1 churned, 0
// not) at threshold.
func Evaluate(scores, y []float64, threshold float64) Metrics {
	var tp, fp, tn, fn float64
	for i, s := range scores {
		pred := s >= threshold
		switch {
		case pred && y[i] == 1:
			tp++
		case pred:
			fp++
		case y[i] == 1:
			fn++
		default:
			tn++
		}
	}
	m := metricsOf(tp, fp, tn, fn)
	m.Rows, m.AUC = len(scores), AUC(scores, y)
	return m
}

// metricsOf returns accuracy, precision, recall and F1 from the counts of
// a confusion matrix.
func metricsOf(tp, fp, tn, fn float64) Metrics {
	var m Metrics
	if n := tp + fp + tn + fn; n > 0 {
		m.Accuracy = (tp + tn) / n
	}
	if tp+fp > 0 {
		m.Precision = tp / (tp + fp)
	}
	if tp+fn > 0 {
		m.Recall = tp / (tp + fn)
	}
	if m.Precision+m.Recall > 0 {
		m.F1 = 2 * m.Precision * m.Recall / (m.Precision + m.Recall)
	}
	return m
}

// AUC returns the area under the ROC curve of scores for labels y: the
// chance that a random churned row scores above a random retained one
// (ties count half).
func AUC(scores, y []float64) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	var pos, neg, rankSum float64
	for k := 0; k < len(idx); {
		j := k
		for j < len(idx) && scores[idx[j]] == scores[idx[k]] {
			j++
		}
		avg := float64(k+j+1) / 2 // mean of ranks k+1..j
		for _, i := range idx[k:j] {
			if y[i] == 1 {
				rankSum += avg
				pos++
			} else {
				neg++
			}
		}
		k = j
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}
