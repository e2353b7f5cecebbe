package parquetfile

// SchemaKey is the footer key-value metadata key naming a file's schema and
// its version; the values are SchemaEvents, SchemaErrors and SchemaMetrics.
// A reader rejects a file whose value is not the one it expects.
const SchemaKey = "tenantpulse.schema"

// The schema versions written in the footer under SchemaKey.
const (
	SchemaEvents  = "events/v1"
	SchemaErrors  = "errors/v1"
	SchemaMetrics = "metrics/v1"
)

// EventRow is one stream record holding a valid event: the envelope, the
// type's known data fields as typed columns, the whole data object as JSON
// and where the record was in its stream. A nil pointer is a null: the
// attribute or data field was absent or null.
//
// Timestamps are Unix microseconds (TIMESTAMP(MICROS, UTC) in the file).
type EventRow struct {
	ID           string  `parquet:"id"`
	Source       string  `parquet:"source,dict"`
	Type         string  `parquet:"type,dict"`
	SpecVersion  string  `parquet:"specversion,dict"`
	Time         int64   `parquet:"time,timestamp(microsecond:utc)"` // event time
	TenantID     string  `parquet:"tenantid,dict"`
	Subject      *string `parquet:"subject,optional"`
	ReceivedTime *int64  `parquet:"receivedtime,optional,timestamp(microsecond:utc)"` // set by the event API

	Name       *string  `parquet:"name,optional,dict"`
	Industry   *string  `parquet:"industry,optional,dict"`
	Sentiment  *string  `parquet:"sentiment,optional,dict"`
	Plan       *string  `parquet:"plan,optional,dict"`
	Revenue    *float64 `parquet:"revenue,optional"`
	Employees  *int64   `parquet:"employees,optional"`
	MonthlyFee *float64 `parquet:"monthly_fee,optional"`
	Reason     *string  `parquet:"reason,optional"`
	UserID     *string  `parquet:"user_id,optional"`
	SessionID  *string  `parquet:"session_id,optional"`
	JobID      *string  `parquet:"job_id,optional"`
	DataSize   *int64   `parquet:"data_size,optional"`
	Status     *string  `parquet:"status,optional,dict"`
	DurationMs *int64   `parquet:"duration_ms,optional"`
	Data       *string  `parquet:"data,optional"` // the data object's JSON text as stored; nil when absent or null

	Stream         string `parquet:"stream_name,dict"`
	Shard          string `parquet:"shard,dict"`
	SequenceNumber string `parquet:"sequence_number,delta"`
	Arrival        int64  `parquet:"arrival,timestamp(microsecond:utc)"` // the record's arrival in the stream
}

// ErrorRow is one stream record that is not a valid event, with the fields
// Kinesis Data Firehose writes for a failed record.
type ErrorRow struct {
	AttemptsMade     int32  `parquet:"attempts_made"`
	ArrivalTimestamp int64  `parquet:"arrival_timestamp,timestamp(microsecond:utc)"` // Unix microseconds
	ErrorCode        string `parquet:"error_code,dict"`
	ErrorMessage     string `parquet:"error_message"`
	RawData          string `parquet:"raw_data"` // the record's bytes, standard base64 with padding (as Firehose writes them)
	SequenceNumber   string `parquet:"sequence_number"`
	Stream           string `parquet:"stream_name,dict"`
	Shard            string `parquet:"shard,dict"`
}

// MetricsRow is one tenant's headline metrics on one day (a snapshot taken
// at AsOf). The columns are the JSON API's names in snake_case.
type MetricsRow struct {
	Date           int32    `parquet:"date,date"` // days since 1970-01-01 (UTC)
	ID             string   `parquet:"id"`
	Name           *string  `parquet:"name,optional"`
	Industry       *string  `parquet:"industry,optional,dict"`
	Sentiment      *string  `parquet:"sentiment,optional,dict"`
	Users          int64    `parquet:"users"`
	ActiveUsers30d int64    `parquet:"active_users_30d"`
	JobsSubmitted  int64    `parquet:"jobs_submitted"`
	JobsTerminated int64    `parquet:"jobs_terminated"`
	JobsCancelled  int64    `parquet:"jobs_cancelled"`
	Jobs30d        int64    `parquet:"jobs_30d"`
	Jobs90d        int64    `parquet:"jobs_90d"`
	LastActivity   *int64   `parquet:"last_activity,optional,timestamp(microsecond:utc)"` // Unix microseconds
	Risk           *float64 `parquet:"risk,optional"`
	AsOf           int64    `parquet:"as_of,timestamp(microsecond:utc)"` // Unix microseconds
}

// Date returns the DATE value (days since 1970-01-01) of the UTC day
// holding the instant unixMs (Unix milliseconds).
func Date(unixMs int64) int32 {
	d := unixMs / 86_400_000
	if unixMs%86_400_000 < 0 {
		d--
	}
	return int32(d)
}
