package model

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// FormatV1 is the model file's format version.
const FormatV1 = "tenantpulse.model/v1"

// Model types.
const (
	TypeLinear = "linear" // a linear learner over the encoded columns
	TypeBinned = "binned" // a linear learner over learned bins of the numeric columns
)

// Model is a trained churn model. Score and Explain take the encoded
// vector of its Spec (Columns order).
type Model struct {
	Format  string   `json:"format"`
	Type    string   `json:"type"`
	Spec    Spec     `json:"spec"`
	Columns []string `json:"columns"`
	// The score is sigmoid(Bias + sum of Weights[i]*x[i] + the weight of
	// each binned column's bin).
	Bias    float64   `json:"bias"`
	Weights []float64 `json:"weights"` // per column; 0 for binned columns
	Bins    []Bins    `json:"bins,omitempty"`
	// Means are the training means of the columns: Explain reports each
	// feature's contribution against the average tenant.
	Means     []float64 `json:"means"`
	Threshold float64   `json:"threshold"` // churn when score >= Threshold
	Criterion string    `json:"criterion"` // what the threshold maximizes on the validation split
	Metrics   Metrics   `json:"metrics"`   // on the held-out split
	// Importance is what drives the scores of the held-out split, per
	// feature, most important first. Files written before it was added
	// have none.
	Importance []FeatureImportance `json:"importance,omitempty"`
	Training   TrainingInfo        `json:"training"`
	Checksum   string              `json:"checksum"` // sha256 of the file with this field empty
}

// Bins are the learned bins of one numeric column: bin k holds
// Edges[k-1] < x <= Edges[k] (bin 0 everything up to Edges[0], the last
// everything above the last edge), and adds Weights[k] to the logit.
type Bins struct {
	Column  int       `json:"column"`
	Edges   []float64 `json:"edges"`
	Weights []float64 `json:"weights"`
	Mean    float64   `json:"mean"` // the training mean of the weight, for Explain
}

// TrainingInfo records how a model was trained.
type TrainingInfo struct {
	Input      string  `json:"input,omitempty"`
	Rows       int     `json:"rows"`      // all rows read
	TrainRows  int     `json:"trainRows"` // fitted on
	ValidRows  int     `json:"validRows"` // early stopping and threshold
	TestRows   int     `json:"testRows"`  // the held-out split the metrics are of
	Epochs     int     `json:"epochs"`    // run before stopping
	Seed       uint64  `json:"seed"`
	L1         float64 `json:"l1"`
	L2         float64 `json:"l2"`
	BatchSize  int     `json:"batchSize"`
	LearnRate  float64 `json:"learningRate"`
	TrainedAt  string  `json:"trainedAt,omitempty"`
	DurationMs float64 `json:"durationMs"`
}

// Metrics are a model's quality on a labelled set.
type Metrics struct {
	Accuracy  float64 `json:"accuracy"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	AUC       float64 `json:"auc"`
	Rows      int     `json:"rows"`
	// ROC is the ROC curve whose area AUC is, thinned to at most
	// MaxROCPoints points. Train fills it in (Evaluate does not); files
	// written before it was added have none.
	ROC []ROCPoint `json:"roc,omitempty"`
}

// Logit returns the model's log-odds of churn for x, the encoded vector
// (len(x) must be len(Columns)).
func (m *Model) Logit(x []float64) float64 {
	z := m.Bias
	w := m.Weights[:len(x)]
	for i, v := range x {
		z += w[i] * v
	}
	for i := range m.Bins {
		b := &m.Bins[i]
		z += b.Weights[b.bin(x[b.Column])]
	}
	return z
}

// Score returns the churn probability of x.
func (m *Model) Score(x []float64) float64 { return sigmoid(m.Logit(x)) }

// Churn reports whether score is at or above the threshold.
func (m *Model) Churn(score float64) bool { return score >= m.Threshold }

func (b *Bins) bin(v float64) int {
	// Few edges: a linear scan beats a binary search.
	k := 0
	for k < len(b.Edges) && v > b.Edges[k] {
		k++
	}
	return k
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// Driver is one feature's part in a score: its value and how much it moves
// the log-odds of churn against the average tenant (positive raises the
// risk), with a sentence saying so.
type Driver struct {
	Feature      string  `json:"feature"`
	Value        any     `json:"value"` // a number, a category, or null when missing
	Contribution float64 `json:"contribution"`
	Text         string  `json:"text"`
}

// Explain returns the top k drivers of x's score by the size of their
// contribution (all when k <= 0). facts, when not nil, supplies the values
// as they were given (a category the model does not know, a missing
// number), for the texts.
func (m *Model) Explain(x []float64, facts *Facts, k int) []Driver {
	var out []Driver
	col := 0
	for fi := range m.Spec.Features {
		f := &m.Spec.Features[fi]
		d := Driver{Feature: f.Name}
		if f.Type == Categorical {
			var given string
			var known bool
			if facts != nil {
				given, known = facts.Cat[f.Source]
			}
			d.Contribution = m.contribution(f, col, x)
			hot := -1
			for j := range f.Categories {
				if x[col+j] == 1 {
					hot = j
				}
			}
			col += len(f.Categories)
			switch {
			case hot >= 0:
				d.Value = f.Categories[hot]
				d.Text = fmt.Sprintf("%s is %s", upper(f.Text), f.Categories[hot])
			case known && given != "":
				d.Value = given
				d.Text = fmt.Sprintf("%s %q is not one the model knows, so it counts as average", upper(f.Text), given)
			default:
				d.Value = nil
				d.Text = fmt.Sprintf("%s is unknown, so it counts as average", upper(f.Text))
			}
			d.Text += effect(d.Contribution)
			out = append(out, d)
			continue
		}
		v := x[col]
		missing := facts != nil && !hasNum(facts, f.Source)
		d.Contribution = m.contribution(f, col, x)
		var binText string
		for i := range m.Bins {
			if b := &m.Bins[i]; b.Column == col {
				binText = b.Describe(b.bin(v))
			}
		}
		if missing {
			d.Value = nil
			d.Text = fmt.Sprintf("%s is unknown, so it counts as the average (%s)", upper(f.Text), num(m.Means[col]))
		} else {
			d.Value = v
			d.Text = fmt.Sprintf("%s: %s", upper(f.Text), num(v))
			switch {
			case binText != "":
				d.Text += " (" + binText + ")"
			case v < m.Means[col]:
				d.Text += fmt.Sprintf(", below the average of %s", num(m.Means[col]))
			case v > m.Means[col]:
				d.Text += fmt.Sprintf(", above the average of %s", num(m.Means[col]))
			}
		}
		d.Text += effect(d.Contribution)
		col++
		out = append(out, d)
	}
	sort.SliceStable(out, func(i, j int) bool { return math.Abs(out[i].Contribution) > math.Abs(out[j].Contribution) })
	if k > 0 && len(out) > k {
		out = out[:k]
	}
	return out
}

// contribution returns how much feature f, whose columns start at col,
// moves x's log-odds of churn against the average tenant: its weights
// times its columns' distance from their training means, plus for a
// binned column its bin's weight less the bins' training mean. Explain
// and the importance of features both take it from here.
func (m *Model) contribution(f *Feature, col int, x []float64) float64 {
	if f.Type == Categorical {
		c := 0.0
		for j := range f.Categories {
			c += m.Weights[col+j] * (x[col+j] - m.Means[col+j])
		}
		return c
	}
	c := m.Weights[col] * (x[col] - m.Means[col])
	for i := range m.Bins {
		if b := &m.Bins[i]; b.Column == col {
			c += b.Weights[b.bin(x[col])] - b.Mean
		}
	}
	return c
}

func hasNum(f *Facts, name string) bool { _, ok := f.Num[name]; return ok }

// effect says what a contribution does to the risk.
func effect(c float64) string {
	switch {
	case c > 0.05:
		return ": raises the churn risk"
	case c < -0.05:
		return ": lowers the churn risk"
	default:
		return ": no effect on the churn risk"
	}
}

// Describe says which values bin k holds ("at most 4.50", "over 4.50 and
// at most 19.50", "over 19.50"); "" when there is a single bin.
func (b *Bins) Describe(k int) string {
	switch {
	case len(b.Edges) == 0:
		return ""
	case k == 0:
		return "at most " + num(b.Edges[0])
	case k == len(b.Edges):
		return "over " + num(b.Edges[k-1])
	default:
		return "over " + num(b.Edges[k-1]) + " and at most " + num(b.Edges[k])
	}
}

func num(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// upper capitalizes the first letter of an ASCII text.
func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Marshal returns the model file: indented JSON with the checksum set.
func (m *Model) Marshal() ([]byte, error) {
	c := *m
	c.Checksum = ""
	b, err := json.Marshal(&c)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	c.Checksum = "sha256:" + hex.EncodeToString(sum[:])
	m.Checksum = c.Checksum
	return json.MarshalIndent(&c, "", "  ")
}

// Load reads a model file, checking its format, checksum and consistency.
func Load(b []byte) (*Model, error) {
	var m Model
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not a model file: %w", err)
	}
	if m.Format != FormatV1 {
		return nil, fmt.Errorf("model format %q is not %q; train the model again with this version", m.Format, FormatV1)
	}
	want := m.Checksum
	m.Checksum = ""
	compact, err := json.Marshal(&m)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(compact)
	if got := "sha256:" + hex.EncodeToString(sum[:]); got != want {
		return nil, fmt.Errorf("the model file's checksum is %s, its contents give %s: it was changed or damaged", want, got)
	}
	m.Checksum = want
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("the model file is inconsistent: %w", err)
	}
	if err := m.CheckFinite(); err != nil {
		return nil, err
	}
	return &m, nil
}

// maxLogit bounds the worst-case log-odds CheckFinite accepts: half the
// largest float64, so the rounding of the sums a score adds up cannot
// reach infinity.
const maxLogit = math.MaxFloat64 / 2

// CheckFinite returns an error when the model can give a non-finite
// logit or driver contribution (so a NaN score, or a response JSON cannot
// carry) for an encoded vector inside the column bounds (Spec.Bounds): it
// bounds the logit by interval arithmetic, |bias| plus each weight times
// the largest magnitude of its column plus each binned column's largest
// bin weight, and the contributions likewise around the training means.
// A missing number's Default must be inside its bound and a category's
// share between 0 and 1, so that what Encode fills in is in bounds too.
// Load calls it.
func (m *Model) CheckFinite() error {
	bounds := m.Spec.Bounds()
	if len(bounds) != len(m.Weights) || len(bounds) != len(m.Means) {
		return errors.New("columns, weights and means do not match the feature specification")
	}
	for _, f := range m.Spec.Features {
		if f.Type == Numeric {
			if b := BoundOf(f.Source); !b.Contains(f.Default) {
				return fmt.Errorf("feature %s: its default (the value of a missing number) %s is outside the values %s can have, %s; train the model again on data inside the bounds",
					f.Name, gnum(f.Default), f.Text, b)
			}
		}
		for _, sh := range f.Shares {
			if !(sh >= 0 && sh <= 1) {
				return fmt.Errorf("feature %s: a category's share %s is not between 0 and 1", f.Name, gnum(sh))
			}
		}
	}
	refuse := func(what string, v float64) error {
		return fmt.Errorf("the model can give a score that is not a number: %s reaches %s for inputs inside the feature bounds "+
			"(|weight| times the largest |value| of its column, summed; docs/format/model.md), more than %s; "+
			"the weights are too large: train the model again (tenantpulse train, with a larger --l2 if need be)", what, gnum(v), gnum(maxLogit))
	}
	logit, contrib := math.Abs(m.Bias), 0.0
	for i, b := range bounds {
		w := math.Abs(m.Weights[i])
		if w == 0 {
			continue
		}
		l := w * max(math.Abs(b.Min), math.Abs(b.Max))
		c := w * max(math.Abs(b.Min-m.Means[i]), math.Abs(b.Max-m.Means[i]))
		if !(l <= maxLogit) || !(c <= maxLogit) {
			return refuse(fmt.Sprintf("column %s (weight %s, values %s)", m.Columns[i], gnum(m.Weights[i]), b), max(l, c))
		}
		logit += l
		contrib += c
	}
	for _, b := range m.Bins {
		var l, c float64
		for _, w := range b.Weights {
			l, c = max(l, math.Abs(w)), max(c, math.Abs(w-b.Mean))
		}
		logit += l
		contrib += c
	}
	if !(logit <= maxLogit) {
		return refuse("the log-odds", logit)
	}
	if !(contrib <= maxLogit) {
		return refuse("the sum of the drivers' contributions", contrib)
	}
	return nil
}

func (m *Model) validate() error {
	if m.Type != TypeLinear && m.Type != TypeBinned {
		return fmt.Errorf("type %q is neither %s nor %s", m.Type, TypeLinear, TypeBinned)
	}
	if err := m.Spec.Validate(); err != nil {
		return err
	}
	cols := m.Spec.Columns()
	if len(cols) != len(m.Columns) || len(m.Weights) != len(cols) || len(m.Means) != len(cols) {
		return errors.New("columns, weights and means do not match the feature specification")
	}
	for i := range cols {
		if cols[i] != m.Columns[i] {
			return fmt.Errorf("column %d is %q, the specification says %q", i, m.Columns[i], cols[i])
		}
	}
	for _, b := range m.Bins {
		if b.Column < 0 || b.Column >= len(cols) || len(b.Weights) != len(b.Edges)+1 || !sort.Float64sAreSorted(b.Edges) {
			return fmt.Errorf("the bins of column %d are malformed", b.Column)
		}
	}
	if math.IsNaN(m.Threshold) || m.Threshold < 0 || m.Threshold > 1 {
		return fmt.Errorf("threshold %v is not in [0, 1]", m.Threshold)
	}
	for i, p := range m.Metrics.ROC {
		if !(p.FPR >= 0 && p.FPR <= 1 && p.TPR >= 0 && p.TPR <= 1) ||
			i > 0 && (p.FPR < m.Metrics.ROC[i-1].FPR || p.TPR < m.Metrics.ROC[i-1].TPR) {
			return fmt.Errorf("ROC point %d (%v, %v) is outside [0, 1] or before the one preceding it", i, p.FPR, p.TPR)
		}
	}
	seen := map[string]bool{}
	for _, imp := range m.Importance {
		if seen[imp.Feature] || !slices.ContainsFunc(m.Spec.Features, func(f Feature) bool { return f.Name == imp.Feature }) {
			return fmt.Errorf("importance of feature %q: not a feature of the specification, or listed twice", imp.Feature)
		}
		seen[imp.Feature] = true
	}
	return nil
}
