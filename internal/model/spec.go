package model

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tenantpulse/tenantpulse/internal/event"
)

// Facts are what is known of one tenant, by fact name (the names of
// Sources): numbers in Num, categories in Cat. A fact absent from both is
// missing.
type Facts struct {
	Num map[string]float64
	Cat map[string]string
}

// NewFacts returns empty Facts.
func NewFacts() Facts { return Facts{Num: map[string]float64{}, Cat: map[string]string{}} }

// Source describes one fact a feature can come from: where it is in a
// live tenant's metrics, in the business payload and in the reference data
// set, and how to say it in words.
type Source struct {
	Name    string // the fact's name, as in Facts
	Cat     bool   // a category (else a number)
	Live    string // the /v1/tenants field it is computed from
	Payload string // the business payload's field ("" when it has none)
	CSV     string // the reference data set's column ("" when it has none)
	Text    string // what it is, for a customer-success manager
	// Bound holds every value the fact can have (a number's): the event
	// API's bounds for what events carry, and what can be computed from
	// in-bounds events for the rest. The model's load check and Encode
	// rely on it.
	Bound Bound
}

// Bound is a closed interval of values.
type Bound struct{ Min, Max float64 }

// Contains reports whether v is in b (false for NaN).
func (b Bound) Contains(v float64) bool { return v >= b.Min && v <= b.Max }

// String writes b as "from 0 to 1e+15".
func (b Bound) String() string { return "from " + gnum(b.Min) + " to " + gnum(b.Max) }

// gnum writes v in the shortest form that reads back the same: 0, 3,
// 1e+15, 1.7e+308.
func gnum(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Clamp returns the value of b nearest to v (b.Min for NaN).
func (b Bound) Clamp(v float64) float64 {
	if v > b.Max {
		return b.Max
	}
	if !(v >= b.Min) {
		return b.Min
	}
	return v
}

// The bounds of facts that are not events' fields.
const (
	// maxCount is the largest count the analytics can hold (an int64).
	maxCount = float64(math.MaxInt64)
	// maxMonths is more months than event time can span (1677 to 2262,
	// the int64 nanoseconds of event.ParseTime): a total fee is at most
	// this many monthly fees.
	maxMonths = 7100
	// maxDays is more days than event time can span.
	maxDays = 213504
)

var (
	countBound = Bound{0, maxCount}
	// OtherBound is the bound of a fact Sources does not name (the
	// columns of SageMaker's headerless training CSV): a count's, either
	// sign.
	OtherBound = Bound{-maxCount, maxCount}
)

// Sources are the facts features are built from.
var Sources = []Source{
	{Name: "industry", Cat: true, Live: "industry", Payload: "industry", CSV: "Industry", Text: "industry"},
	{Name: "revenue", Live: "revenue", Payload: "revenu", CSV: "Revenue", Text: "annual revenue",
		Bound: Bound{0, event.MaxRevenue}},
	{Name: "employees", Live: "employees", Payload: "employees", CSV: "Employees", Text: "employees",
		Bound: Bound{0, event.MaxEmployees}},
	{Name: "jobs30d", Live: "jobs30d", Payload: "job30", CSV: "#job30", Text: "jobs in the last 30 days", Bound: countBound},
	{Name: "jobs90d", Live: "jobs90d", Payload: "job90", CSV: "#job90", Text: "jobs in the last 90 days", Bound: countBound},
	{Name: "monthlyFee", Live: "monthlyFee", Payload: "monthlyFee", CSV: "MonthlyCharge", Text: "monthly fee",
		Bound: Bound{0, event.MaxMonthlyFee}},
	{Name: "totalFee", Live: "totalFee", Payload: "totalFee", CSV: "TotalCharge", Text: "total fees paid",
		Bound: Bound{0, event.MaxMonthlyFee * maxMonths}},
	{Name: "users", Live: "users", Text: "users", Bound: Bound{-maxCount, maxCount}}, // added less deleted
	{Name: "activeUsers30d", Live: "activeUsers30d", Text: "users active in the last 30 days", Bound: countBound},
	{Name: "logins", Live: "logins", Text: "logins", Bound: countBound},
	{Name: "cancelRate", Live: "cancelRate", Text: "share of jobs cancelled", Bound: countBound}, // cancels of unseen jobs count too
	{Name: "daysSinceActivity", Live: "lastActivity", Text: "days since the last activity", Bound: Bound{0, maxDays}},
	{Name: "sentiment", Cat: true, Live: "sentiment", Text: "sentiment"},
	{Name: "jobsTrend", Live: "jobs30d, jobs90d", Text: "jobs of the last 30 days against the 90-day pace", Bound: Bound{0, 3}},
}

// BoundOf returns the bound of the numeric fact named name: its Source's,
// or OtherBound for a name Sources does not have.
func BoundOf(name string) Bound {
	if s, ok := SourceOf(name); ok && !s.Cat {
		return s.Bound
	}
	return OtherBound
}

// SourceOf returns the Source named name.
func SourceOf(name string) (Source, bool) {
	for _, s := range Sources {
		if s.Name == name {
			return s, true
		}
	}
	return Source{}, false
}

// Feature is one input of a model: a fact, numeric or one-hot encoded.
type Feature struct {
	Name   string `json:"name"`   // as the model's columns call it
	Source string `json:"source"` // the fact it is (a Sources name, or a column of a headerless CSV)
	Type   string `json:"type"`   // "numeric" or "categorical"
	// Categories are the one-hot columns of a categorical feature, in
	// order, learned from the training data. Another value (or none)
	// encodes as Shares: the average tenant.
	Categories []string `json:"categories,omitempty"`
	// Shares are the categories' shares of the training rows.
	Shares []float64 `json:"shares,omitempty"`
	// Default is what a missing number is taken as: the training mean.
	Default float64 `json:"default"`
	Text    string  `json:"text"` // what it is, in words
}

// Feature types.
const (
	Numeric     = "numeric"
	Categorical = "categorical"
)

// Spec is a model's feature specification: its features in order.
type Spec struct {
	Features []Feature `json:"features"`
}

// DefaultSpec returns the reference data set's seven columns: industry,
// revenue, employees, job30, job90, monthly and total charge.
func DefaultSpec() Spec {
	return specOf([][2]string{
		{"industry", "industry"}, {"revenue", "revenue"}, {"employees", "employees"},
		{"job30", "jobs30d"}, {"job90", "jobs90d"}, {"monthlyCharge", "monthlyFee"}, {"totalCharge", "totalFee"},
	})
}

// LiveSpec returns DefaultSpec plus the live signals: users, active
// users, logins, cancel rate, days since the last activity, sentiment and
// the trend of jobs (30 days against the 90-day pace).
func LiveSpec() Spec {
	s := DefaultSpec()
	s.Features = append(s.Features, specOf([][2]string{
		{"users", "users"}, {"activeUsers30d", "activeUsers30d"}, {"logins", "logins"}, {"cancelRate", "cancelRate"},
		{"daysSinceActivity", "daysSinceActivity"}, {"sentiment", "sentiment"}, {"jobsTrend", "jobsTrend"},
	}).Features...)
	return s
}

func specOf(pairs [][2]string) Spec {
	var s Spec
	for _, p := range pairs {
		src, ok := SourceOf(p[1])
		if !ok {
			panic("BUG: no source " + p[1])
		}
		f := Feature{Name: p[0], Source: src.Name, Type: Numeric, Text: src.Text}
		if src.Cat {
			f.Type = Categorical
		}
		s.Features = append(s.Features, f)
	}
	return s
}

// Columns returns the names of the encoded vector's columns, in order: a
// numeric feature's name, or name=category for each category of a
// categorical one.
func (s *Spec) Columns() []string {
	var cols []string
	for _, f := range s.Features {
		if f.Type == Categorical {
			for _, c := range f.Categories {
				cols = append(cols, f.Name+"="+c)
			}
			continue
		}
		cols = append(cols, f.Name)
	}
	return cols
}

// Width returns the number of columns of the encoded vector.
func (s *Spec) Width() int {
	n := 0
	for _, f := range s.Features {
		if f.Type == Categorical {
			n += len(f.Categories)
		} else {
			n++
		}
	}
	return n
}

// Bounds returns the bound of each column of the encoded vector: a
// numeric feature's (BoundOf its source), 0 to 1 for one-hot columns.
func (s *Spec) Bounds() []Bound {
	var out []Bound
	for _, f := range s.Features {
		if f.Type == Categorical {
			for range f.Categories {
				out = append(out, Bound{0, 1})
			}
			continue
		}
		out = append(out, BoundOf(f.Source))
	}
	return out
}

// Encode appends the encoded vector of facts to dst. A missing number is
// the feature's Default (the training mean); a category the model does not
// know, or a missing one, is the categories' Shares (the average tenant,
// so it moves a linear score neither way). A number that is not finite,
// or outside its fact's bound (BoundOf), is an error.
func (s *Spec) Encode(dst []float64, facts Facts) ([]float64, error) {
	for _, f := range s.Features {
		if f.Type == Categorical {
			v := facts.Cat[f.Source]
			hot := slices.Index(f.Categories, v)
			for j := range f.Categories {
				switch {
				case hot < 0 && j < len(f.Shares):
					dst = append(dst, f.Shares[j])
				case j == hot:
					dst = append(dst, 1)
				default:
					dst = append(dst, 0)
				}
			}
			continue
		}
		v, ok := facts.Num[f.Source]
		if !ok {
			v = f.Default
		} else if math.IsNaN(v) || math.IsInf(v, 0) {
			return dst, fmt.Errorf("%s: %v is not a number; send a finite number", f.Name, v)
		} else if b := BoundOf(f.Source); !b.Contains(v) {
			return dst, fmt.Errorf("%s: %s is outside the values %s can have, %s", f.Name, gnum(v), f.Text, b)
		}
		dst = append(dst, v)
	}
	return dst, nil
}

// Validate checks that the spec is usable: features named once, of a known
// type, categorical ones with categories named once.
func (s *Spec) Validate() error {
	if len(s.Features) == 0 {
		return fmt.Errorf("the feature specification has no features")
	}
	seen := map[string]bool{}
	for i, f := range s.Features {
		if f.Name == "" || strings.ContainsAny(f.Name, "=,\n") {
			return fmt.Errorf("feature %d: name %q must be non-empty, without '=', ',' or newlines", i, f.Name)
		}
		if seen[f.Name] {
			return fmt.Errorf("feature %q is listed twice", f.Name)
		}
		seen[f.Name] = true
		switch f.Type {
		case Numeric:
			if len(f.Categories) > 0 {
				return fmt.Errorf("feature %q is numeric but has categories", f.Name)
			}
		case Categorical:
			if len(f.Categories) == 0 {
				return fmt.Errorf("categorical feature %q has no categories", f.Name)
			}
			c := slices.Clone(f.Categories)
			slices.Sort(c)
			if len(slices.Compact(c)) != len(f.Categories) {
				return fmt.Errorf("categorical feature %q lists a category twice", f.Name)
			}
			if len(f.Shares) != 0 && len(f.Shares) != len(f.Categories) {
				return fmt.Errorf("categorical feature %q has %d shares for %d categories", f.Name, len(f.Shares), len(f.Categories))
			}
		default:
			return fmt.Errorf("feature %q: type %q is neither %s nor %s", f.Name, f.Type, Numeric, Categorical)
		}
	}
	return nil
}
