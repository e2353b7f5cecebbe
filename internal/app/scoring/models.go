package scoring

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/bodylimit"
	"github.com/tenantpulse/tenantpulse/internal/model"
	"github.com/tenantpulse/tenantpulse/internal/restapi"
)

// Behavior: GET /v1/models lists the endpoints; GET /v1/models/{name}
// shows one endpoint's model (its columns are the CSV order
// /endpoints/{name}/invocations takes); PUT /v1/models/{name} with a model
// file as the body deploys it, creating the endpoint or swapping its model
// between two requests, with no restart. A file the loader refuses
// (including a model that could score NaN inside the feature bounds) is
// 400 with the loader's message and changes nothing; a file over
// MaxModelBytes is 413, and creating an endpoint past MaxModels 409
// (LimitExceeded), each saying the limit and how to raise it. DELETE
// /v1/models/{name} removes the endpoint and its file (204); 404 when
// there is none.

// modelSummary is one endpoint in GET /v1/models.
type modelSummary struct {
	Name       string  `json:"name"`
	Type       string  `json:"type"`
	Columns    int     `json:"columns"`
	Threshold  float64 `json:"threshold"`
	AUC        float64 `json:"auc"`
	Checksum   string  `json:"checksum"`
	TrainedAt  string  `json:"trainedAt,omitempty"`
	Source     string  `json:"source"`
	DeployedAt string  `json:"deployedAt"`
}

// modelView is GET /v1/models/{name}.
type modelView struct {
	Name      string          `json:"name"`
	Type      string          `json:"type"`
	Columns   []string        `json:"columns"`
	Features  []model.Feature `json:"features"`
	Threshold float64         `json:"threshold"`
	Criterion string          `json:"criterion"`
	Metrics   model.Metrics   `json:"metrics"` // with the held-out ROC curve when the file has it
	// Importance is the model file's, absent when the file predates it.
	Importance []model.FeatureImportance `json:"importance,omitempty"`
	Weights    []weightView              `json:"weights"`
	Training   model.TrainingInfo        `json:"training"`
	Checksum   string                    `json:"checksum"`
	Source     string                    `json:"source"`
	DeployedAt string                    `json:"deployedAt"`
	Invoke     string                    `json:"invoke"` // where to send CSV rows
}

// weightView is one weight of the linear learner: a column's (log-odds
// per unit of it), or for a binned column one per bin (log-odds added
// when the value is in the bin).
type weightView struct {
	Column string   `json:"column"`
	Weight float64  `json:"weight"`
	Bin    *binView `json:"bin,omitempty"`
}

// binView is the bin of a binned column's weight: its values are over
// Above (none below the first bin) and at most AtMost (none above the
// last).
type binView struct {
	Index  int      `json:"index"`
	Above  *float64 `json:"above,omitempty"`
	AtMost *float64 `json:"atMost,omitempty"`
	Text   string   `json:"text"`
}

// weights lists m's weights in column order, a binned column's bins in
// its place.
func weights(m *model.Model) []weightView {
	binned := map[int]*model.Bins{}
	for i := range m.Bins {
		binned[m.Bins[i].Column] = &m.Bins[i]
	}
	out := make([]weightView, 0, len(m.Columns))
	for c, name := range m.Columns {
		b := binned[c]
		if b == nil {
			out = append(out, weightView{Column: name, Weight: m.Weights[c]})
			continue
		}
		for k, w := range b.Weights {
			bv := &binView{Index: k, Text: b.Describe(k)}
			if k > 0 {
				bv.Above = new(b.Edges[k-1])
			}
			if k < len(b.Edges) {
				bv.AtMost = new(b.Edges[k])
			}
			out = append(out, weightView{Column: name, Weight: w, Bin: bv})
		}
	}
	return out
}

const timeLayout = "2006-01-02T15:04:05.000Z07:00"

func view(name string, d *Deployment) modelView {
	m := d.Model
	return modelView{
		Name: name, Type: m.Type, Columns: m.Columns, Features: m.Spec.Features, Threshold: m.Threshold,
		Criterion: m.Criterion, Metrics: m.Metrics, Importance: m.Importance, Weights: weights(m),
		Training: m.Training, Checksum: m.Checksum,
		Source: d.Source, DeployedAt: d.DeployedAt.UTC().Format(timeLayout),
		Invoke: "POST /endpoints/" + name + "/invocations",
	}
}

func (s *Service) listModels(w http.ResponseWriter, r *http.Request) {
	out := struct {
		Models []modelSummary `json:"models"`
	}{Models: []modelSummary{}}
	for _, name := range s.endpoints.Names() {
		d := s.endpoints.Get(name).Deployment()
		m := d.Model
		out.Models = append(out.Models, modelSummary{
			Name: name, Type: m.Type, Columns: len(m.Columns), Threshold: m.Threshold, AUC: m.Metrics.AUC,
			Checksum: m.Checksum, TrainedAt: m.Training.TrainedAt, Source: d.Source,
			DeployedAt: d.DeployedAt.UTC().Format(timeLayout),
		})
	}
	restapi.WriteJSON(w, http.StatusOK, out)
}

func (s *Service) getModel(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	ep := s.endpoints.Get(name)
	if ep == nil {
		restapi.WriteError(w, http.StatusNotFound, restapi.CodeNotFound, noModelMessage(name))
		return
	}
	restapi.WriteJSON(w, http.StatusOK, view(name, ep.Deployment()))
}

func (s *Service) putModel(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := validName(name); err != nil {
		restapi.WriteError(w, http.StatusBadRequest, restapi.CodeInvalidRequest, err.Error())
		return
	}
	limit := s.opts.MaxModelBytes
	if r.ContentLength > limit {
		s.modelTooBig(w, fmt.Sprintf(" is %d bytes,", r.ContentLength))
		return
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.Is(err, bodylimit.ErrBusy) {
			w.Header().Set("Retry-After", "1")
			restapi.WriteError(w, http.StatusTooManyRequests, restapi.CodeTooManyRequests, err.Error())
			return
		}
		if errors.As(err, &tooBig) {
			s.modelTooBig(w, " is")
			return
		}
		restapi.WriteError(w, http.StatusBadRequest, restapi.CodeInvalidRequest, "cannot read the request body: "+err.Error())
		return
	}
	if len(b) == 0 {
		restapi.WriteError(w, http.StatusBadRequest, restapi.CodeInvalidRequest,
			"the body is empty; send a model file (tenantpulse's JSON model format, docs/format/model.md)")
		return
	}
	start := time.Now()
	d, created, err := s.endpoints.Deploy(name, b, "PUT /v1/models/"+name, true, s.opts.MaxModels)
	if err != nil {
		var load *loadError
		if errors.As(err, &load) {
			restapi.WriteError(w, http.StatusBadRequest, restapi.CodeInvalidRequest, load.Error())
			return
		}
		if errors.Is(err, ErrTooManyEndpoints) {
			restapi.WriteError(w, http.StatusConflict, restapi.CodeLimitExceeded, err.Error())
			return
		}
		s.log.Error("cannot deploy a model", "endpoint", name, "error", err)
		restapi.WriteError(w, http.StatusInternalServerError, restapi.CodeInternal, err.Error())
		return
	}
	s.log.Info("deployed model", "endpoint", name, "type", d.Model.Type, "columns", len(d.Model.Columns),
		"checksum", d.Model.Checksum, "created", created, "took", time.Since(start))
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	restapi.WriteJSON(w, status, view(name, d))
}

// modelTooBig answers a PUT whose model file is over MaxModelBytes; is
// says how big it is when that is known (" is 5000000 bytes,").
func (s *Service) modelTooBig(w http.ResponseWriter, is string) {
	restapi.WriteError(w, http.StatusRequestEntityTooLarge, restapi.CodePayloadTooLarge,
		fmt.Sprintf("the model file%s over max_model_bytes (%d bytes); raise the limit with --max-model-bytes or max_model_bytes in the config file",
			is, s.opts.MaxModelBytes))
}

func (s *Service) deleteModel(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	d, err := s.endpoints.Delete(name)
	switch {
	case errors.Is(err, ErrNoEndpoint):
		restapi.WriteError(w, http.StatusNotFound, restapi.CodeNotFound, fmt.Sprintf("no model is deployed at endpoint %q; GET /v1/models lists them", name))
		return
	case err != nil:
		s.log.Error("cannot delete a model", "endpoint", name, "error", err)
		restapi.WriteError(w, http.StatusInternalServerError, restapi.CodeInternal, err.Error())
		return
	}
	s.log.Info("deleted model", "endpoint", name, "checksum", d.Model.Checksum, "source", d.Source)
	w.WriteHeader(http.StatusNoContent)
}

func noModelMessage(name string) string {
	return fmt.Sprintf("no model is deployed at endpoint %q; deploy one with PUT /v1/models/%s (the body a model file) or start tenantpulse serve with --model %s=FILE",
		name, name, name)
}
