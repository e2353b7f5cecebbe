// Package sim implements `tenantpulse simulate`: a deterministic model of a
// SaaS business, the generator of its CloudEvents, the ground truth of the
// metrics those events imply, and the senders that deliver them to a
// tenantpulse server (the event API or the Kinesis API) with resumable
// progress. It owns no server internals: everything it knows about a server
// comes over the network.
//
// # The model
//
// Tenants are drawn from a PRNG of their own, seeded from (seed, tenant
// index), so a tenant's events do not depend on how other tenants' events
// interleave. Each has a name from word lists ("Oak Forge Travel", id
// "oak-forge-1e67": a slug plus 4 hex digits of a hash of (seed, index)),
// one of the nine industries of the reference data set, employees
// (lognormal, median 8,000), revenue (2 to 4 times employees, in $k), a plan
// (starter, pro, enterprise; larger companies take larger plans) with its
// monthly fee, a sentiment, a time zone, a number of seats and a cohort:
//
//   - healthy (65%): users churn around a stable target;
//   - growing (15%): more users over time (up to 3x), more jobs, plan
//     upgrades, employee growth (tenant.updated);
//   - drifting (20%): from a drift start 5 to 150 days after creation,
//     logins fall to 25% and jobs to 10% over 45 days, cancellations rise
//     from 4% to 35%, users are deleted down to 30%, sentiment steps down to
//     negative (tenant.updated); 60% of them stop all activity 25 to 70 days
//     after the drift start and emit tenant.deleted 2 days later, after which
//     the tenant emits nothing.
//
// Sessions (user.login, then user.logoff or, 20% of the time,
// user.session_timeout after a lognormal 35 minutes) and jobs (job.submitted,
// then job.terminated succeeded/failed or job.cancelled) arrive as Poisson
// processes proportional to the current users, 1.25 sessions and 1.1 jobs
// per user-day on average, modulated by the tenant's local hour and weekday
// (seasonality normalised to a weekly mean of 1) and sampled by thinning.
// With about 9 users per tenant that is about 45 events per tenant-day. New
// tenants are created at 0.001 per initial tenant per day.
//
// One min-heap of scheduled items ordered by (model time, insertion counter)
// drives everything; processing an item emits at most one event, so events
// come out in non-decreasing time order, ordinal 0, 1, 2, ... Event ids are
// "<seed>-<ordinal>".
//
// # Time
//
// Model time equals event time until Live. From Live on, the model runs K
// times faster than event time: model time m is stamped Live + (m-Live)/K,
// with K = Rate / intrinsic rate, the intrinsic rate being the expected
// events/s of the tenants at Live (seasonality averaged out). The live phase
// thus averages Rate events/s at wall-clock timestamps while the business
// keeps its shape (a model day passes in about 100 s at 200 tenants and
// 100 events/s); durationMs is measured in event time. Event times are whole
// milliseconds.
//
// # Ground truth
//
// Truth covers exactly the events Next has returned; asOf is the time of the
// last one. Days are UTC days; "the N days ending with asOf" are the UTC days
// D-N+1 ... D where D is asOf's UTC day. Per tenant (those with a
// tenant.created), sorted by id:
//
//   - users: user.added events minus user.deleted events;
//   - activeUsers30d: distinct users, not deleted, with a user.login on one of
//     the 30 days ending with asOf;
//   - lastActivity: the latest time of a user.login, user.logoff,
//     user.session_timeout, job.submitted, job.terminated or job.cancelled
//     (omitted when there is none);
//   - jobsSubmitted, jobsTerminated, jobsCancelled: counts of all time;
//   - jobs30d, jobs90d: job.submitted events on the 30 (90) days ending with
//     asOf;
//   - name, industry, sentiment, revenue, employees, monthlyFee, plan: the
//     latest values from tenant.created and tenant.updated;
//   - cohort: the model's cohort; churned: a tenant.deleted was emitted.
//
// # Sending and resuming
//
// Run (run.go) backfills history as fast as the server takes it, then sends
// live events when the clock reaches their time (events already past, after
// a pause, go as fast as possible: a catch-up). With Options.Out it writes
// NDJSON instead, unpaced. The senders (eventsapi.go: POST /v1/events;
// kinesis.go: PutRecords) retry throttling, 5xx and connection errors with
// exponential backoff and jitter and count non-retryable rejections, which
// would be a simulator bug. Concurrent batches finish out of order; the
// acknowledged ordinal is the prefix of events all delivered. The truth
// includes rejected events (there should be none). Settings and progress live
// on the server as the tag "tenantpulse.simulator.<seed>" of the companies
// stream (resume.go): a later run with the same seed replays the generator
// silently up to the acknowledged ordinal, reads the streams for this seed's
// events sent after it, and sends only what is missing.
package sim
