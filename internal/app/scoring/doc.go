// Package scoring is the scoring service, the reference architecture's
// SageMaker endpoint and its API Gateway + Lambda front: named model
// endpoints (Endpoints), each serving one internal/model churn model that
// can be swapped without a restart; the SageMaker runtime API over them
// (POST /endpoints/{name}/invocations, text/csv in, linear learner's JSON
// or JSON Lines out, SageMaker's errors), so the AWS CLI and SDKs work
// with --endpoint-url; model management under /v1/models; and the gateway,
// the anti-corruption layer that turns a business payload
// (POST /v1/assess-churn) or a live tenant's metrics
// (GET /v1/tenants/{id}/risk) into the model's features and scores them
// through a Predictor: in process, or at a real SageMaker endpoint with
// aws-sdk-go-v2.
//
// Training, encoding, scoring and explaining belong to internal/model; the
// live metrics to the analytics service, read through TenantSource. This
// package must not reach into either: it loads model files, serves them
// and maps facts.
//
// Non-obvious:
//   - The gateway always encodes with the local endpoint's Spec, also when
//     it scores at SageMaker: the column order is the model's, and the
//     drivers need the model. Deploy the same model file to both.
//   - A request scores with one model from start to end: the endpoint's
//     model is an atomic pointer loaded once per request. If a swap to a
//     model with other columns lands between the gateway's encoding and
//     its prediction, the gateway encodes again once.
//   - The invocation hot path parses CSV numbers by hand into a pooled
//     buffer and writes the response by hand: no per-row allocation.
//   - Models deployed with PUT are kept in <data>/models/<name>.model.json
//     (write, fsync, rename) and served again after a restart; --model
//     flags win over them. DELETE removes the file (fsync of the
//     directory) before the endpoint, so a failed delete changes nothing.
//     PUT is held to MaxModels and MaxModelBytes; what is loaded at start
//     is not, so lowering a limit never stops a start.
//   - No answer can carry NaN: model.Load refuses a model that could give
//     one inside the feature bounds, InvokeEndpoint refuses values outside
//     a column's bound, the gateway facts outside theirs, and live facts
//     are clamped to them (FactsOf).
package scoring
