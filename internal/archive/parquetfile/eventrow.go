package parquetfile

import (
	"encoding/base64"
	"strings"

	"github.com/tenantpulse/tenantpulse/internal/event"
)

// nullables holds the values an EventRow's pointers point to, so the
// pointed-to values of a row are one block.
type nullables struct {
	revenue, monthlyFee                         float64
	employees, dataSize, durationMs, received   int64
	subject, name, industry, sentiment, plan    string
	reason, userID, sessionID, jobID, status, d string
}

// EventRowFrom fills a row from a decoded event (e must come from a
// successful Decode; e.Raw is the stored record) and where its record is:
// the stream, the shard id, the sequence number and the arrival time in
// Unix milliseconds. The row does not alias e.
func EventRowFrom(e *event.Event, stream, shard, seq string, arrivalMs int64) EventRow {
	b := NewEventBatch(stream, shard)
	defer b.Reset("", "")
	var r EventRow
	v := new(nullables)
	b.Add(e, seq, arrivalMs)
	b.fill(&r, v, b.row(0))
	// Copy the strings out of the batch's chunk, which goes back to its
	// pool.
	for _, s := range []*string{&r.ID, &r.Source, &r.TenantID, &r.SequenceNumber, &v.subject, &v.name, &v.industry,
		&v.sentiment, &v.plan, &v.reason, &v.userID, &v.sessionID, &v.jobID, &v.status, &v.d} {
		*s = strings.Clone(*s)
	}
	return r
}

// ErrorRowFrom fills a row for a record that is not a valid event: its
// bytes (base64-encoded into RawData), where it is in its stream, its
// arrival in Unix milliseconds, and why it failed.
func ErrorRowFrom(record []byte, stream, shard, seq string, arrivalMs int64, attempts int32, code, message string) ErrorRow {
	return ErrorRow{
		AttemptsMade:     attempts,
		ArrivalTimestamp: arrivalMs * 1000,
		ErrorCode:        code,
		ErrorMessage:     message,
		RawData:          base64.StdEncoding.EncodeToString(record),
		SequenceNumber:   seq,
		Stream:           stream,
		Shard:            shard,
	}
}

// floorDiv divides rounding towards minus infinity, so instants before
// 1970 truncate to the past like later ones.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}
