package scoring

import (
	"cmp"
	"context"
	"fmt"
	"github.com/tenantpulse/tenantpulse/internal/httpfast"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultEndpoint is the endpoint the gateway scores with when a request
// names none: the reference demo's.
const DefaultEndpoint = "churn"

// Defaults of the limits on deployed models.
const (
	DefaultMaxModels     = 32
	DefaultMaxModelBytes = 4 << 20 // model files are tens of kilobytes
)

// Options configure the scoring service.
type Options struct {
	// Models are the endpoints to serve at start: name -> model file.
	// They win over a model of the same name kept in Dir.
	Models map[string]string
	// Dir keeps models deployed with PUT /v1/models/{name}
	// (<Dir>/<name>.model.json), loaded again at start; "" keeps them in
	// memory only.
	Dir string
	// MaxModels limits the endpoints PUT /v1/models/{name} can create:
	// past it, creating one more is 409 (default DefaultMaxModels).
	// Replacing a model, and the models loaded at start, are not limited.
	MaxModels int
	// MaxModelBytes limits the model file PUT /v1/models/{name} takes
	// (default DefaultMaxModelBytes).
	MaxModelBytes int64
	// Endpoint is the gateway's endpoint when a request names none
	// (default DefaultEndpoint).
	Endpoint string
	// SageMaker, when not nil, makes the gateway score at SageMaker
	// endpoints of the same names instead of in process. The local
	// endpoint of the same name still supplies the feature specification
	// and the drivers.
	SageMaker *SageMakerOptions
	// Predictor overrides the gateway's predictor (nil: in process, or
	// SageMaker when SageMaker is set).
	Predictor Predictor
	// Tenants serves GET /v1/tenants/{id}/risk; nil leaves the route out.
	Tenants TenantSource
	// Region and Account appear in SageMaker errors as the real service
	// writes them (defaults us-east-1 and 000000000000).
	Region  string
	Account string
	Logger  *slog.Logger
	// Registerer takes the Prometheus collectors (nil: none).
	Registerer prometheus.Registerer
	Now        func() time.Time
}

// Service is the scoring service: the endpoints, their SageMaker runtime
// API, model management and the gateway.
type Service struct {
	opts      Options
	endpoints *Endpoints
	predictor Predictor
	metrics   *metrics
	log       *slog.Logger
}

// New loads the models of opts.Models and of opts.Dir and returns the
// service; a model file that cannot be loaded is an error naming it.
func New(ctx context.Context, opts Options) (*Service, error) {
	opts.Endpoint = cmp.Or(opts.Endpoint, DefaultEndpoint)
	opts.MaxModels = cmp.Or(opts.MaxModels, DefaultMaxModels)
	opts.MaxModelBytes = cmp.Or(opts.MaxModelBytes, DefaultMaxModelBytes)
	if opts.MaxModels < 0 || opts.MaxModelBytes < 0 {
		return nil, fmt.Errorf("max_models (%d) and max_model_bytes (%d) must not be negative", opts.MaxModels, opts.MaxModelBytes)
	}
	opts.Region = cmp.Or(opts.Region, "us-east-1")
	opts.Account = cmp.Or(opts.Account, "000000000000")
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Service{opts: opts, log: opts.Logger, metrics: newMetrics(opts.Registerer)}
	s.endpoints = newEndpoints(opts.Dir, s.metrics, opts.Now)
	if err := s.endpoints.loadDir(); err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(opts.Models)) {
		path := opts.Models[name]
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("model %s: cannot read %w", name, err)
		}
		d, _, err := s.endpoints.Deploy(name, b, path, false, 0)
		if err != nil {
			return nil, fmt.Errorf("model %s=%s: %w", name, path, err)
		}
		s.log.Info("serving model", "endpoint", name, "file", path, "type", d.Model.Type,
			"columns", len(d.Model.Columns), "checksum", d.Model.Checksum)
	}
	switch {
	case opts.Predictor != nil:
		s.predictor = opts.Predictor
	case opts.SageMaker != nil:
		sm, err := NewSageMaker(ctx, *opts.SageMaker)
		if err != nil {
			return nil, err
		}
		s.predictor = sm
	default:
		s.predictor = s.endpoints
	}
	return s, nil
}

// Endpoints returns the registry of endpoints.
func (s *Service) Endpoints() *Endpoints { return s.endpoints }

// Register adds the routes to mux: POST /endpoints/{name}/invocations (the
// SageMaker runtime API), GET /v1/models, GET, PUT and DELETE
// /v1/models/{name},
// POST /v1/assess-churn, and GET /v1/tenants/{id}/risk when the service
// has a TenantSource. docs/scoring-api.md is the reference.
// InvokeRoute is InvokeEndpoint as a fast-path route (internal/httpfast):
// the same handler Register adds to the mux, served without net/http's
// per-request work on keep-alive connections.
func (s *Service) InvokeRoute() httpfast.Route {
	return httpfast.Route{Method: http.MethodPost, Prefix: "/endpoints/", Suffix: "/invocations", Param: "name", Handler: http.HandlerFunc(s.invoke)}
}

func (s *Service) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /endpoints/{name}/invocations", s.invoke)
	mux.HandleFunc("GET /v1/models", s.listModels)
	mux.HandleFunc("/v1/models", notAllowed("GET"))
	mux.HandleFunc("GET /v1/models/{name}", s.getModel)
	mux.HandleFunc("PUT /v1/models/{name}", s.putModel)
	mux.HandleFunc("DELETE /v1/models/{name}", s.deleteModel)
	mux.HandleFunc("/v1/models/{name}", notAllowed("GET, PUT, DELETE"))
	mux.HandleFunc("POST /v1/assess-churn", s.assessChurn)
	mux.HandleFunc("/v1/assess-churn", notAllowed("POST"))
	if s.opts.Tenants != nil {
		mux.HandleFunc("GET /v1/tenants/{id}/risk", s.tenantRisk)
		mux.HandleFunc("/v1/tenants/{id}/risk", notAllowed("GET"))
	}
}
