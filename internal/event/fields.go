package event

// Stream names the events are routed to.
const (
	StreamCompanies = "companies" // tenant.* and user.* events
	StreamJobs      = "jobs"      // job.* events
)

// MaxSize is the largest event, in bytes of its JSON text, that Decode
// accepts: a Kinesis record's data limit.
const MaxSize = 1 << 20

// MaxTenantIDLen is the longest tenantid in bytes: a Kinesis partition
// key's limit.
const MaxTenantIDLen = 256

// Type is a known event type. The zero value is TypeUnknown.
type Type uint8

// The known event types.
const (
	TypeUnknown Type = iota
	TenantCreated
	TenantUpdated
	TenantDeleted
	UserAdded
	UserDeleted
	UserLogin
	UserLogoff
	UserSessionTimeout
	JobSubmitted
	JobTerminated
	JobCancelled
	numTypes
)

// Types lists every known type, in declaration order.
var Types = []Type{
	TenantCreated, TenantUpdated, TenantDeleted,
	UserAdded, UserDeleted, UserLogin, UserLogoff, UserSessionTimeout,
	JobSubmitted, JobTerminated, JobCancelled,
}

// String returns the CloudEvents type name, such as "tenant.created", or
// "unknown" for TypeUnknown and out-of-range values.
func (t Type) String() string {
	if t == TypeUnknown || t >= numTypes {
		return "unknown"
	}
	return typeSpecs[t].name
}

// Stream returns the stream the type is routed to: StreamCompanies or
// StreamJobs, or "" for TypeUnknown.
func (t Type) Stream() string {
	if t == TypeUnknown || t >= numTypes {
		return ""
	}
	return typeSpecs[t].stream
}

// ParseType returns the type named s (case-sensitive).
func ParseType(s []byte) (Type, bool) {
	switch string(s) {
	case "tenant.created":
		return TenantCreated, true
	case "tenant.updated":
		return TenantUpdated, true
	case "tenant.deleted":
		return TenantDeleted, true
	case "user.added":
		return UserAdded, true
	case "user.deleted":
		return UserDeleted, true
	case "user.login":
		return UserLogin, true
	case "user.logoff":
		return UserLogoff, true
	case "user.session_timeout":
		return UserSessionTimeout, true
	case "job.submitted":
		return JobSubmitted, true
	case "job.terminated":
		return JobTerminated, true
	case "job.cancelled":
		return JobCancelled, true
	}
	return TypeUnknown, false
}

// Field is a set of data fields; Data.Has says which were present (and not
// null).
type Field uint32

// The data fields, one bit each.
const (
	FieldName Field = 1 << iota
	FieldIndustry
	FieldSentiment
	FieldRevenue
	FieldEmployees
	FieldMonthlyFee
	FieldPlan
	FieldReason
	FieldUserID
	FieldSessionID
	FieldJobID
	FieldDataSize
	FieldStatus
	FieldDurationMs
	numFields = iota
)

// tenantFields are the fields of tenant.created and tenant.updated.
const tenantFields = FieldName | FieldIndustry | FieldSentiment | FieldRevenue |
	FieldEmployees | FieldMonthlyFee | FieldPlan

// String returns the JSON name of a single field ("userId"), or the names
// of a set joined by ", ".
func (f Field) String() string {
	s := ""
	for i := range numFields {
		if f&(1<<i) != 0 {
			if s != "" {
				s += ", "
			}
			s += fieldSpecs[i].name
		}
	}
	return s
}

// kind is how a data field's value is checked.
type kind uint8

const (
	kindString   kind = iota // any string
	kindNonEmpty             // a non-empty string
	kindEnum                 // one of fieldSpec.enum
	kindNumber               // a number from 0 to fieldSpec.max
	kindInt                  // an integer literal from 0 to fieldSpec.max
)

// The largest values of the numeric data fields. They are far above any
// real tenant's and chosen so that nothing computed from in-bounds events
// overflows: a total fee (a monthly fee for every month event time can
// span, under 7,100) stays below 1e16, and integer sums saturate (see
// internal/analytics). Changing one changes the documented contract
// (docs/events.md) and the model's feature bounds (internal/model).
const (
	MaxRevenue    = 1_000_000_000_000_000 // 1e15, revenue
	MaxMonthlyFee = 1_000_000_000_000     // 1e12, monthlyFee
	MaxEmployees  = 1_000_000_000         // 1e9, employees
	MaxDataSize   = 1_000_000_000_000_000 // 1e15 bytes (1 PB), dataSize
	MaxDurationMs = 1_000_000_000_000     // 1e12 ms (about 31.7 years), durationMs
)

// fieldSpec describes one data field. fieldSpecs is indexed by the field's
// bit number.
type fieldSpec struct {
	name string // JSON member name
	kind kind
	enum []string
	max  int64 // kindNumber and kindInt: the largest value (the smallest is 0)
	doc  string
}

var fieldSpecs = [numFields]fieldSpec{
	{name: "name", kind: kindNonEmpty, doc: "The tenant's (company's) display name."},
	{name: "industry", kind: kindString, doc: "The tenant's industry, free text."},
	{name: "sentiment", kind: kindEnum, enum: []string{"positive", "neutral", "negative"}, doc: "How the tenant feels about the product."},
	{name: "revenue", kind: kindNumber, max: MaxRevenue, doc: "The tenant's annual revenue."},
	{name: "employees", kind: kindInt, max: MaxEmployees, doc: "The tenant's number of employees."},
	{name: "monthlyFee", kind: kindNumber, max: MaxMonthlyFee, doc: "What the tenant pays per month."},
	{name: "plan", kind: kindString, doc: "The tenant's subscription plan."},
	{name: "reason", kind: kindString, doc: "Why the tenant offboarded."},
	{name: "userId", kind: kindNonEmpty, doc: "The user, unique within the tenant."},
	{name: "sessionId", kind: kindNonEmpty, doc: "The login session."},
	{name: "jobId", kind: kindNonEmpty, doc: "The job, unique within the tenant."},
	{name: "dataSize", kind: kindInt, max: MaxDataSize, doc: "The job's input size in bytes."},
	{name: "status", kind: kindEnum, enum: []string{"succeeded", "failed"}, doc: "How the job ended."},
	{name: "durationMs", kind: kindInt, max: MaxDurationMs, doc: "How long the job ran, in milliseconds."},
}

// fieldIndex returns the bit number of the field named name, or -1.
func fieldIndex(name []byte) int {
	switch string(name) {
	case "name":
		return 0
	case "industry":
		return 1
	case "sentiment":
		return 2
	case "revenue":
		return 3
	case "employees":
		return 4
	case "monthlyFee":
		return 5
	case "plan":
		return 6
	case "reason":
		return 7
	case "userId":
		return 8
	case "sessionId":
		return 9
	case "jobId":
		return 10
	case "dataSize":
		return 11
	case "status":
		return 12
	case "durationMs":
		return 13
	}
	return -1
}

// typeSpec describes one event type's routing and data.
type typeSpec struct {
	name     string
	stream   string
	fields   Field // the type's known data fields; others are kept unchecked
	required Field // fields that must be present and not null
	optData  bool  // data may be absent or null
	anyOf    bool  // data must hold at least one of fields
	doc      string
}

var typeSpecs = [numTypes]typeSpec{
	TenantCreated: {
		name: "tenant.created", stream: StreamCompanies,
		fields: tenantFields, required: FieldName,
		doc: "A tenant (a company) signed up.",
	},
	TenantUpdated: {
		name: "tenant.updated", stream: StreamCompanies,
		fields: tenantFields, anyOf: true,
		doc: "Some of a tenant's attributes changed; data holds the new values of those that changed.",
	},
	TenantDeleted: {
		name: "tenant.deleted", stream: StreamCompanies,
		fields: FieldReason, optData: true,
		doc: "The tenant offboarded (churned).",
	},
	UserAdded: {
		name: "user.added", stream: StreamCompanies,
		fields: FieldUserID, required: FieldUserID,
		doc: "A user was added to the tenant.",
	},
	UserDeleted: {
		name: "user.deleted", stream: StreamCompanies,
		fields: FieldUserID, required: FieldUserID,
		doc: "A user was removed from the tenant.",
	},
	UserLogin: {
		name: "user.login", stream: StreamCompanies,
		fields: FieldUserID | FieldSessionID, required: FieldUserID | FieldSessionID,
		doc: "A user logged in, starting a session.",
	},
	UserLogoff: {
		name: "user.logoff", stream: StreamCompanies,
		fields: FieldUserID | FieldSessionID, required: FieldUserID | FieldSessionID,
		doc: "A user logged off, ending a session.",
	},
	UserSessionTimeout: {
		name: "user.session_timeout", stream: StreamCompanies,
		fields: FieldUserID | FieldSessionID, required: FieldUserID | FieldSessionID,
		doc: "A user's session ended by timing out.",
	},
	JobSubmitted: {
		name: "job.submitted", stream: StreamJobs,
		fields: FieldJobID | FieldUserID | FieldDataSize, required: FieldJobID | FieldUserID | FieldDataSize,
		doc: "A user submitted a job.",
	},
	JobTerminated: {
		name: "job.terminated", stream: StreamJobs,
		fields: FieldJobID | FieldStatus | FieldDurationMs, required: FieldJobID | FieldStatus | FieldDurationMs,
		doc: "A job ended, successfully or not.",
	},
	JobCancelled: {
		name: "job.cancelled", stream: StreamJobs,
		fields: FieldJobID | FieldUserID, required: FieldJobID | FieldUserID,
		doc: "A user cancelled a job.",
	},
}

// typeNames is the list of known type names for error messages.
var typeNames = func() string {
	s := ""
	for i, t := range Types {
		if i > 0 {
			s += ", "
		}
		s += t.String()
	}
	return s
}()
