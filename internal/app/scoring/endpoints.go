package scoring

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/fsutil"
	"github.com/tenantpulse/tenantpulse/internal/model"
)

// ErrNoEndpoint reports that no model is deployed at the endpoint a
// Predictor was asked for. Callers test for it with errors.Is.
var ErrNoEndpoint = errors.New("no such endpoint")

// ErrTooManyEndpoints reports a deploy that would create an endpoint past
// the limit on their number (Options.MaxModels). Callers test for it with
// errors.Is.
var ErrTooManyEndpoints = errors.New("too many endpoints")

// modelFileExt names the model files Endpoints keeps in its directory:
// <dir>/<endpoint>.model.json.
const modelFileExt = ".model.json"

// Endpoints is the registry of named endpoints, each serving one model.
// Reads take no lock: the set of endpoints is an immutable map behind an
// atomic pointer, and each endpoint's model another atomic pointer, so a
// deploy swaps a model between two requests and a request scores with one
// model from start to end. Writers serialize on mu.
//
// *Endpoints is also the embedded Predictor.
type Endpoints struct {
	mu      sync.Mutex
	byName  atomic.Pointer[map[string]*Endpoint]
	dir     string // "" keeps deployed models in memory only
	metrics *metrics
	now     func() time.Time
}

// Endpoint is one named endpoint.
type Endpoint struct {
	name    string
	cur     atomic.Pointer[Deployment]
	metrics *epMetrics
}

// Deployment is a model as an endpoint serves it.
type Deployment struct {
	Model      *model.Model
	Source     string    // the file it was loaded from, or "PUT /v1/models/{name}"
	DeployedAt time.Time // when it started serving
	// widthHint ends the message of a row with the wrong number of
	// columns: what the model takes and where to see the order.
	widthHint string
	// bounds are the model's column bounds (Spec.Bounds): a row with a
	// value outside them is refused, so the score stays finite (the
	// model's load check holds inside them).
	bounds []model.Bound
}

// Name returns the endpoint's name.
func (e *Endpoint) Name() string { return e.name }

// Deployment returns what the endpoint serves now (never nil once the
// endpoint is listed).
func (e *Endpoint) Deployment() *Deployment { return e.cur.Load() }

func newEndpoints(dir string, m *metrics, now func() time.Time) *Endpoints {
	r := &Endpoints{dir: dir, metrics: m, now: now}
	empty := map[string]*Endpoint{}
	r.byName.Store(&empty)
	return r
}

// Get returns the endpoint named name, or nil.
func (r *Endpoints) Get(name string) *Endpoint { return (*r.byName.Load())[name] }

// Model returns the model the endpoint named name serves, or nil.
func (r *Endpoints) Model(name string) *model.Model {
	if e := r.Get(name); e != nil {
		return e.cur.Load().Model
	}
	return nil
}

// Names returns the endpoints' names, sorted.
func (r *Endpoints) Names() []string {
	return slices.Sorted(maps.Keys(*r.byName.Load()))
}

// Deploy loads file (a model file) and makes it what endpoint name
// serves, creating the endpoint if needed. source says where the file came
// from; persist writes it to the registry's directory first (crash-safe),
// so it is served again after a restart. When maxEndpoints > 0, creating
// an endpoint beyond that many is ErrTooManyEndpoints (wrapped); replacing
// an endpoint's model is always allowed. Nothing changes on error. It
// reports whether the endpoint is new.
func (r *Endpoints) Deploy(name string, file []byte, source string, persist bool, maxEndpoints int) (*Deployment, bool, error) {
	if err := validName(name); err != nil {
		return nil, false, &loadError{err}
	}
	m, err := model.Load(file)
	if err != nil {
		return nil, false, &loadError{err}
	}
	d := &Deployment{Model: m, Source: source, DeployedAt: r.now().UTC(), widthHint: widthHint(name, m), bounds: m.Spec.Bounds()}
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur := *r.byName.Load(); maxEndpoints > 0 && cur[name] == nil && len(cur) >= maxEndpoints {
		return nil, false, fmt.Errorf("%w: %d models are deployed, the limit (max_models); delete one with DELETE /v1/models/{name}, "+
			"or raise the limit with --max-models or max_models in the config file", ErrTooManyEndpoints, len(cur))
	}
	if persist && r.dir != "" {
		if err := os.MkdirAll(r.dir, 0o755); err != nil {
			return nil, false, fmt.Errorf("cannot create the models directory: %w", err)
		}
		if err := fsutil.WriteAtomic(filepath.Join(r.dir, name+modelFileExt), file); err != nil {
			return nil, false, fmt.Errorf("cannot store the model: %w", err)
		}
	}
	old := *r.byName.Load()
	e, ok := old[name]
	if !ok {
		e = &Endpoint{name: name, metrics: r.metrics.endpoint(name)}
		e.cur.Store(d)
		next := maps.Clone(old)
		next[name] = e
		r.byName.Store(&next)
	} else {
		e.cur.Store(d)
	}
	r.metrics.deploys.WithLabelValues(name).Inc()
	return d, !ok, nil
}

// Delete removes the endpoint named name, and its model file from the
// registry's directory (crash-safe: the directory is fsynced), so a
// restart does not serve it again; a model given with --model is served
// again at the next start. It returns what the endpoint served, or
// ErrNoEndpoint (wrapped). Nothing changes on error. Requests already
// scoring with the model finish with it.
func (r *Endpoints) Delete(name string) (*Deployment, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := *r.byName.Load()
	e := old[name]
	if e == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoEndpoint, name)
	}
	if r.dir != "" {
		err := os.Remove(filepath.Join(r.dir, name+modelFileExt))
		switch {
		case err == nil:
			if err := fsutil.SyncDir(r.dir); err != nil {
				return nil, fmt.Errorf("cannot delete the model file: %w", err)
			}
		case !errors.Is(err, os.ErrNotExist): // not there: a --model endpoint
			return nil, fmt.Errorf("cannot delete the model file: %w", err)
		}
	}
	next := maps.Clone(old)
	delete(next, name)
	r.byName.Store(&next)
	r.metrics.forget(name)
	return e.cur.Load(), nil
}

// loadDir deploys every model file the directory holds.
func (r *Endpoints) loadDir() error {
	if r.dir == "" {
		return nil
	}
	fsutil.RemoveTemps(r.dir)
	ents, err := os.ReadDir(r.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot read the models directory: %w", err)
	}
	for _, ent := range ents {
		name, ok := strings.CutSuffix(ent.Name(), modelFileExt)
		if !ok || ent.IsDir() {
			continue
		}
		path := filepath.Join(r.dir, ent.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("cannot read model file %s: %w", path, err)
		}
		if _, _, err := r.Deploy(name, b, path, false, 0); err != nil {
			return fmt.Errorf("model file %s (deployed with PUT /v1/models/%s): %w; deploy a good model there again or remove the file", path, name, err)
		}
	}
	return nil
}

// loadError is a model file (or endpoint name) Deploy refuses, as
// opposed to a failure to store it.
type loadError struct{ err error }

func (e *loadError) Error() string { return e.err.Error() }
func (e *loadError) Unwrap() error { return e.err }

// validName checks an endpoint name as SageMaker does: 1 to 63 of a-z,
// A-Z, 0-9 and '-', starting and ending with a letter or digit.
func validName(name string) error {
	ok := len(name) >= 1 && len(name) <= 63 && name[0] != '-' && name[len(name)-1] != '-'
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
	}
	if !ok {
		return fmt.Errorf("endpoint name %q: use 1 to 63 of a-z, A-Z, 0-9 and '-', starting and ending with a letter or digit", name)
	}
	return nil
}

func widthHint(name string, m *model.Model) string {
	cols := m.Spec.Columns()
	return fmt.Sprintf("endpoint %s takes %d, in this order (GET /v1/models/%s lists them): %s",
		name, len(cols), name, strings.Join(cols, ","))
}

// Prediction is one row's result, as SageMaker linear learner's binary
// classifier gives it.
type Prediction struct {
	Score          float64 `json:"score"`
	PredictedLabel int     `json:"predicted_label"`
}

// Predictor scores CSV rows (each the encoded vector of the endpoint's
// model, in its column order) at a named endpoint: in process
// (*Endpoints) or at a SageMaker endpoint (*SageMaker). A Predictor
// returns one Prediction per row, or an error and nothing: ErrNoEndpoint
// (wrapped) when the endpoint has no model, an *InputError when the model
// cannot read the rows.
type Predictor interface {
	Predict(ctx context.Context, endpoint string, csvRows []byte) ([]Prediction, error)
}

// InputError reports rows the model cannot read: SageMaker's ModelError
// with OriginalStatusCode 400.
type InputError struct {
	Message string
}

func (e *InputError) Error() string { return e.Message }

// Predict implements Predictor in process.
func (r *Endpoints) Predict(ctx context.Context, endpoint string, csvRows []byte) ([]Prediction, error) {
	e := r.Get(endpoint)
	if e == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoEndpoint, endpoint)
	}
	d := e.cur.Load()
	m := d.Model
	x, rows, rerr := parseRows(nil, csvRows, len(m.Columns), d.bounds)
	if rerr != nil {
		return nil, &InputError{Message: rerr.message(d)}
	}
	if rows == 0 {
		return nil, &InputError{Message: noRowsMessage}
	}
	out := make([]Prediction, rows)
	w := len(m.Columns)
	for i := range out {
		out[i] = predict(m, x[i*w:(i+1)*w])
		if !validScore(out[i].Score) {
			return nil, fmt.Errorf("the model at endpoint %s scored a number that is not finite for row %d; this is a bug, please report it", endpoint, i+1)
		}
	}
	return out, nil
}

// validScore reports whether s is a probability (false for NaN).
func validScore(s float64) bool { return s >= 0 && s <= 1 }

func predict(m *model.Model, x []float64) Prediction {
	s := m.Score(x)
	p := Prediction{Score: s}
	if m.Churn(s) {
		p.PredictedLabel = 1
	}
	return p
}

const noRowsMessage = "the body has no CSV rows; send one row of numbers per line"

// message says what is wrong with a body sent to d's endpoint.
func (e *rowError) message(d *Deployment) string {
	if e.Value != "" || e.Column > 0 {
		col := ""
		if cols := d.Model.Columns; e.Column <= len(cols) {
			col = " (" + cols[e.Column-1] + ")"
		}
		if e.Bound != nil {
			return fmt.Sprintf("row %d, column %d%s: %s is outside the values the column can have, %s (the feature bounds, docs/scoring-api.md); send a value inside them",
				e.Row, e.Column, col, e.Value, e.Bound)
		}
		return fmt.Sprintf("row %d, column %d%s: %q is not a number; every value must be a finite number", e.Row, e.Column, col, e.Value)
	}
	return fmt.Sprintf("row %d has %d columns; %s", e.Row, e.Cols, d.widthHint)
}
