// Package trainset builds a churn model's training examples from the
// archive and a labels file: `tenantpulse train --archive ... --labels ...`.
//
// It replays every archived event through the same aggregations the live
// processor runs (internal/analytics), so the metrics a model is trained
// on are computed exactly as the ones it later scores, and turns each
// tenant's metrics as of one time into model facts with scoring.FactsOf,
// the function the live path uses. Labels say which tenants churned: a CSV
// of (tenant id, churned) or the simulator's ground truth (JSON).
//
// It owns no storage format: it reads archive files through catalog and
// parquetfile and never writes.
//
// Non-obvious:
//   - Each tenant's events are replayed apart from the others', in event
//     time order, with event time as arrival, so a tenant's metrics do not
//     depend on how its events interleaved with other tenants' in a shard
//     and no event is "too late". A record archived twice (a retried send)
//     counts once, as it did live.
//   - "As of" defaults to the latest event time in the archive; events
//     after it are ignored, so a model can be trained on what was known at
//     a cut-off and labelled by what happened later.
package trainset
