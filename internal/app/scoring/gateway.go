package scoring

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tenantpulse/tenantpulse/internal/bodylimit"
	"github.com/tenantpulse/tenantpulse/internal/model"
	"github.com/tenantpulse/tenantpulse/internal/restapi"
)

// Behavior: the gateway, the reference architecture's API Gateway + Lambda
// anti-corruption layer. POST /v1/assess-churn takes the business payload
// (payload.go), turns it into facts, encodes them with the endpoint's own
// feature specification (so the CSV columns are in the model's order,
// whatever the caller's), scores the row through the Predictor (in process
// or at SageMaker) and answers the score, the churn verdict and the top
// three drivers. ?model=NAME picks the endpoint (default: the service's
// Endpoint, churn). Errors are /v1's shape: 400 for a payload to fix, 503
// when no model is deployed, 502 when a remote endpoint fails.

// CodeUpstream is the /v1 error code of a remote model endpoint's failure.
const CodeUpstream = "UpstreamError"

// maxPayload bounds a POST /v1/assess-churn body.
const maxPayload = 64 << 10

// topDrivers is how many drivers a gateway response lists.
const topDrivers = 3

// apiError is a /v1 error to answer.
type apiError struct {
	status  int
	code    string
	message string
}

func badRequest(msg string) *apiError {
	return &apiError{http.StatusBadRequest, restapi.CodeInvalidRequest, msg}
}

// assessResponse is POST /v1/assess-churn's answer.
type assessResponse struct {
	CompanyID string         `json:"companyID"`
	Churn     bool           `json:"churn"`
	Score     float64        `json:"score"`
	Threshold float64        `json:"threshold"`
	Model     string         `json:"model"`
	Drivers   []model.Driver `json:"drivers"`
}

func (s *Service) assessChurn(w http.ResponseWriter, r *http.Request) {
	resp, aerr := s.assess(r)
	s.answer(w, "assess-churn", resp, aerr)
}

func (s *Service) answer(w http.ResponseWriter, route string, resp any, aerr *apiError) {
	if aerr != nil {
		s.metrics.gatewayRequest(route, aerr.status)
		if aerr.status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		restapi.WriteError(w, aerr.status, aerr.code, aerr.message)
		return
	}
	s.metrics.gatewayRequest(route, http.StatusOK)
	restapi.WriteJSON(w, http.StatusOK, resp)
}

func (s *Service) assess(r *http.Request) (*assessResponse, *apiError) {
	endpoint, aerr := s.endpointParam(r)
	if aerr != nil {
		return nil, aerr
	}
	// Any Content-Type: the body must be JSON whatever it says (curl -d
	// sends application/x-www-form-urlencoded).
	b, err := bodylimit.ReadAll(r.Body, nil, maxPayload)
	if errors.Is(err, bodylimit.ErrBusy) {
		return nil, &apiError{http.StatusTooManyRequests, restapi.CodeTooManyRequests, bodylimit.ErrBusy.Error()}
	}
	if err != nil && !errors.Is(err, bodylimit.ErrTooLarge) {
		return nil, badRequest("cannot read the request body: " + err.Error())
	}
	if err != nil {
		return nil, &apiError{http.StatusRequestEntityTooLarge, restapi.CodePayloadTooLarge,
			fmt.Sprintf("the payload is over %d bytes; send one company's facts", maxPayload)}
	}
	p, err := decodePayload(b)
	if err != nil {
		return nil, badRequest(err.Error())
	}
	sc, aerr := s.score(r.Context(), endpoint, p.Facts)
	if aerr != nil {
		return nil, aerr
	}
	return &assessResponse{CompanyID: p.CompanyID, Churn: sc.churn, Score: sc.score, Threshold: sc.threshold,
		Model: sc.model, Drivers: sc.drivers}, nil
}

// endpointParam returns the endpoint a gateway request names (?model=),
// refusing other query parameters so a typo is not silently ignored.
func (s *Service) endpointParam(r *http.Request) (string, *apiError) {
	q := r.URL.Query()
	for k, v := range q {
		if k != "model" {
			return "", badRequest(fmt.Sprintf("unknown query parameter %q; the only one is model (the endpoint to score with, default %s)", k, s.opts.Endpoint))
		}
		if len(v) > 1 {
			return "", badRequest("model is given more than once")
		}
	}
	if name := q.Get("model"); name != "" {
		return name, nil
	}
	return s.opts.Endpoint, nil
}

// scored is a gateway's result.
type scored struct {
	score, threshold float64
	churn            bool
	drivers          []model.Driver
	model            string // ModelID
}

// ModelID names the model that gave a score: the endpoint and the model
// file's checksum, as in "churn@sha256:…". Live risk, the tenant risk API
// and the gateway all say it so.
func ModelID(endpoint string, m *model.Model) string { return endpoint + "@" + m.Checksum }

// score encodes facts with the endpoint's model and scores them through
// the predictor. If the row is refused because the model was swapped for
// one with other columns in between, it tries once more with the new one.
func (s *Service) score(ctx context.Context, endpoint string, facts model.Facts) (scored, *apiError) {
	for attempt := 0; ; attempt++ {
		m := s.endpoints.Model(endpoint)
		if m == nil {
			return scored{}, &apiError{http.StatusServiceUnavailable, restapi.CodeUnavailable, noModelMessage(endpoint)}
		}
		x, err := m.Spec.Encode(make([]float64, 0, len(m.Columns)), facts)
		if err != nil {
			return scored{}, badRequest(err.Error())
		}
		preds, err := s.predictor.Predict(ctx, endpoint, appendRow(nil, x))
		var inErr *InputError
		switch {
		case err == nil && len(preds) != 1:
			return scored{}, &apiError{http.StatusBadGateway, CodeUpstream,
				fmt.Sprintf("endpoint %s answered %d predictions for one row", endpoint, len(preds))}
		case err == nil:
			p := preds[0]
			return scored{score: p.Score, threshold: m.Threshold, churn: p.PredictedLabel == 1,
				drivers: m.Explain(x, &facts, topDrivers), model: ModelID(endpoint, m)}, nil
		case errors.Is(err, ErrNoEndpoint):
			return scored{}, &apiError{http.StatusServiceUnavailable, restapi.CodeUnavailable,
				fmt.Sprintf("the model endpoint %s does not exist (%v); deploy it, or start tenantpulse serve without --sagemaker-region and --sagemaker-endpoint-url to score in process", endpoint, err)}
		case errors.As(err, &inErr) && attempt == 0 && s.endpoints.Model(endpoint) != m:
			continue // swapped meanwhile
		case errors.As(err, &inErr):
			return scored{}, &apiError{http.StatusBadGateway, CodeUpstream,
				fmt.Sprintf("endpoint %s refused the row encoded with the local model's columns; is the same model deployed there? It said: %s", endpoint, inErr.Message)}
		case ctx.Err() != nil:
			return scored{}, &apiError{http.StatusServiceUnavailable, restapi.CodeUnavailable, "the request was cancelled: " + ctx.Err().Error()}
		default:
			s.log.Warn("the model endpoint failed", "endpoint", endpoint, "error", err)
			return scored{}, &apiError{http.StatusBadGateway, CodeUpstream, fmt.Sprintf("endpoint %s failed: %v", endpoint, err)}
		}
	}
}

// notAllowed answers a method a route does not take, in the /v1 shape.
func notAllowed(allow string) http.HandlerFunc {
	methods := strings.Split(allow, ", ")
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		restapi.WriteError(w, http.StatusMethodNotAllowed, restapi.CodeMethodNotAllowed,
			fmt.Sprintf("%s %s is not supported; use %s", r.Method, r.URL.Path, strings.Join(methods, " or ")))
	}
}
