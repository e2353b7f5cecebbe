package analytics

// The JSON shapes of the analytics API. Headline field names are shared
// with the simulator's ground truth, the archive's snapshots and the
// dashboard (see docs/events.md, "Headline metrics").

// Tenant is one tenant's metrics as /v1/tenants lists them: the merge of
// its part in a companies shard (profile, users, sessions) and in a jobs
// shard (jobs), with trailing windows evaluated at AsOf.
type Tenant struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	Industry   string  `json:"industry"`
	Sentiment  string  `json:"sentiment"`
	Plan       string  `json:"plan,omitempty"`
	Revenue    float64 `json:"revenue"`
	Employees  int64   `json:"employees"`
	MonthlyFee float64 `json:"monthlyFee"`
	// TotalFee is the monthly fee in force at the start of each started
	// month since creation (until deletion), summed, as of AsOf.
	TotalFee float64 `json:"totalFee"`
	Created  string  `json:"created,omitempty"` // RFC 3339 ms; absent before tenant.created is seen
	Deleted  string  `json:"deleted,omitempty"`

	Users          int64 `json:"users"`
	UsersAdded     int64 `json:"usersAdded"`
	UsersDeleted   int64 `json:"usersDeleted"`
	ActiveUsers7d  int64 `json:"activeUsers7d"`
	ActiveUsers30d int64 `json:"activeUsers30d"`

	Logins            int64   `json:"logins"`
	Logoffs           int64   `json:"logoffs"`
	SessionTimeouts   int64   `json:"sessionTimeouts"`
	OpenSessions      int64   `json:"openSessions"`
	AvgSessionSeconds float64 `json:"avgSessionSeconds"`

	LastActivity string `json:"lastActivity,omitempty"` // RFC 3339 ms

	JobsSubmitted  int64   `json:"jobsSubmitted"`
	JobsTerminated int64   `json:"jobsTerminated"`
	JobsSucceeded  int64   `json:"jobsSucceeded"`
	JobsFailed     int64   `json:"jobsFailed"`
	JobsCancelled  int64   `json:"jobsCancelled"`
	Jobs30d        int64   `json:"jobs30d"`
	Jobs90d        int64   `json:"jobs90d"`
	JobsTrend      float64 `json:"jobsTrend"` // jobs30d*3 / jobs90d: the last 30 days against the 90-day pace; 1 when jobs90d is 0
	RunningJobs    int64   `json:"runningJobs"`
	CancelRate     float64 `json:"cancelRate"` // jobsCancelled / jobsSubmitted, 0 when none
	DataBytes      int64   `json:"dataBytes"`  // sum of job.submitted dataSize

	Risk *Risk `json:"risk,omitempty"` // absent until a model scores the tenant
}

// Day is one UTC day of a tenant's (or, in Summary, every tenant's)
// activity.
type Day struct {
	Date            string `json:"date"` // 2026-11-25
	JobsSubmitted   int64  `json:"jobsSubmitted"`
	JobsSucceeded   int64  `json:"jobsSucceeded"`
	JobsFailed      int64  `json:"jobsFailed"`
	JobsCancelled   int64  `json:"jobsCancelled"`
	DataBytes       int64  `json:"dataBytes"`
	Logins          int64  `json:"logins"`
	Logoffs         int64  `json:"logoffs"`
	SessionTimeouts int64  `json:"sessionTimeouts"`
	UsersAdded      int64  `json:"usersAdded"`
	UsersDeleted    int64  `json:"usersDeleted"`
}

// Hour is one UTC hour of a tenant's jobs.
type Hour struct {
	Hour           string `json:"hour"` // 2026-11-25T10:00:00Z
	JobsSubmitted  int64  `json:"jobsSubmitted"`
	JobsTerminated int64  `json:"jobsTerminated"`
	JobsCancelled  int64  `json:"jobsCancelled"`
}

// TenantDetail is /v1/tenants/{id}: the headline metrics and the daily
// and hourly series between From and To (days kept: the last 120; hours:
// the last 168).
type TenantDetail struct {
	Tenant
	AsOf  string `json:"asOf"`
	From  string `json:"from"`
	To    string `json:"to"`
	Days  []Day  `json:"days"`
	Hours []Hour `json:"hours"`
}

// Summary is /v1/summary: totals over every tenant and the daily series.
type Summary struct {
	AsOf           string           `json:"asOf"`
	Tenants        int64            `json:"tenants"`        // created and not deleted
	TenantsDeleted int64            `json:"tenantsDeleted"` // churned
	Users          int64            `json:"users"`
	ActiveUsers30d int64            `json:"activeUsers30d"`
	OpenSessions   int64            `json:"openSessions"`
	RunningJobs    int64            `json:"runningJobs"`
	JobsSubmitted  int64            `json:"jobsSubmitted"`
	JobsTerminated int64            `json:"jobsTerminated"`
	JobsCancelled  int64            `json:"jobsCancelled"`
	Jobs30d        int64            `json:"jobs30d"`
	Jobs90d        int64            `json:"jobs90d"`
	Industries     map[string]int64 `json:"industries"` // tenants per industry
	Days           []Day            `json:"days"`
}

// ShardStatus is one (stream, shard) in /v1/processor.
type ShardStatus struct {
	Stream             string `json:"stream"`
	Shard              string `json:"shard"`
	Worker             int    `json:"worker"`
	Position           string `json:"position"` // sequence number of the last record applied; "" before the first
	MillisBehindLatest int64  `json:"millisBehindLatest"`
	Watermark          string `json:"watermark,omitempty"` // the latest event time seen, RFC 3339 ms
	Records            int64  `json:"records"`             // records read
	Events             int64  `json:"events"`              // events applied
	Duplicates         int64  `json:"duplicates"`
	Late               int64  `json:"late"`        // applied although behind the watermark
	TooLate            int64  `json:"tooLate"`     // dead-lettered as too late by builds that wrote checkpoint version 1 (the 7-day rule); no longer grows
	Future             int64  `json:"future"`      // dated more than max-future after their arrival: dead letters
	Invalid            int64  `json:"invalid"`     // not valid events: dead letters
	DeadLetters        int64  `json:"deadLetters"` // TooLate + Future + Invalid
	Tenants            int64  `json:"tenants"`
	DedupeEntries      int64  `json:"dedupeEntries"`
	DedupeBytes        int64  `json:"dedupeBytes"`
	LastCheckpoint     string `json:"lastCheckpoint,omitempty"` // wall time, RFC 3339 ms
	CheckpointPosition string `json:"checkpointPosition,omitempty"`
}

// Processor is /v1/processor.
type Processor struct {
	Workers         int           `json:"workers"`
	AllowedLateness string        `json:"allowedLateness"` // Go duration, e.g. 168h0m0s
	MaxFuture       string        `json:"maxFuture"`       // Go duration, e.g. 1h0m0s: how far after its arrival a record's time may be
	Shards          []ShardStatus `json:"shards"`
}

// DeadLetter is one record the processor could not apply.
type DeadLetter struct {
	Stream   string `json:"stream"`
	Shard    string `json:"shard"`
	Sequence string `json:"sequenceNumber"`
	Arrival  string `json:"arrival"` // RFC 3339 ms
	Reason   string `json:"reason"`  // "future: ...", "invalid event: ..." or the wrong stream
	ID       string `json:"id,omitempty"`
	TenantID string `json:"tenantid,omitempty"`
	Data     string `json:"data"` // the record, cut to 1 KiB
}

// Risk is a tenant's latest churn-risk score: the model's probability of
// churn, whether it is at or above the model's threshold, a band (high when
// it is, medium from half the threshold, else low), the top drivers, and
// which model scored it when.
type Risk struct {
	Score     float64      `json:"score"`
	Churn     bool         `json:"churn"`
	Band      string       `json:"band"` // low, medium or high
	Threshold float64      `json:"threshold"`
	Drivers   []RiskDriver `json:"drivers"`
	Model     string       `json:"model"` // the endpoint's name and the model's checksum
	ScoredAt  string       `json:"scoredAt"`
}

// RiskDriver is one feature's part in a score: its value, its signed
// contribution to the log-odds of churn against the average tenant, and a
// sentence saying so.
type RiskDriver struct {
	Feature      string  `json:"feature"`
	Value        any     `json:"value"`
	Contribution float64 `json:"contribution"`
	Text         string  `json:"text"`
}

// RiskPoint is one score in a tenant's risk history.
type RiskPoint struct {
	Score    float64 `json:"score"`
	Churn    bool    `json:"churn"`
	Band     string  `json:"band"`
	Model    string  `json:"model"`
	ScoredAt string  `json:"scoredAt"`
}
