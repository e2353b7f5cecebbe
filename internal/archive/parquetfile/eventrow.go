package parquetfile

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"unsafe"

	"github.com/tenantpulse/tenantpulse/internal/event"
)

// nullables holds the values an EventRow's pointers point to, so a row
// costs one allocation for all of them.
type nullables struct {
	revenue, monthlyFee                         float64
	employees, dataSize, durationMs, received   int64
	subject, name, industry, sentiment, plan    string
	reason, userID, sessionID, jobID, status, d string
}

// EventRowFrom fills a row from a decoded event (e must come from a
// successful Decode; e.Raw is the stored record) and where its record is:
// the stream, the shard id, the sequence number and the arrival time in
// Unix milliseconds. The row does not alias e: it holds its own copy of the
// bytes, in one string, and its pointers point into one block.
func EventRowFrom(e *event.Event, stream, shard, seq string, arrivalMs int64) EventRow {
	d := &e.Data
	data := dataMember(e.Raw)
	n := len(e.ID) + len(e.Source) + len(e.TenantID) + len(e.Subject) + len(data) +
		len(d.Name) + len(d.Industry) + len(d.Sentiment) + len(d.Plan) + len(d.Reason) +
		len(d.UserID) + len(d.SessionID) + len(d.JobID) + len(d.Status)
	var all string
	if n > 0 {
		buf := make([]byte, 0, n)
		buf = append(buf, e.ID...)
		buf = append(buf, e.Source...)
		buf = append(buf, e.TenantID...)
		buf = append(buf, e.Subject...)
		buf = append(buf, data...)
		buf = append(buf, d.Name...)
		buf = append(buf, d.Industry...)
		buf = append(buf, d.Sentiment...)
		buf = append(buf, d.Plan...)
		buf = append(buf, d.Reason...)
		buf = append(buf, d.UserID...)
		buf = append(buf, d.SessionID...)
		buf = append(buf, d.JobID...)
		buf = append(buf, d.Status...)
		all = unsafe.String(unsafe.SliceData(buf), len(buf)) // buf is never written again
	}
	off := 0
	next := func(b []byte) string {
		s := all[off : off+len(b)]
		off += len(b)
		return s
	}
	r := EventRow{
		ID:             next(e.ID),
		Source:         next(e.Source),
		Type:           e.Type.String(),
		SpecVersion:    "1.0",
		Time:           floorDiv(e.Time, 1000),
		TenantID:       next(e.TenantID),
		Stream:         stream,
		Shard:          shard,
		SequenceNumber: seq,
		Arrival:        arrivalMs * 1000,
	}
	subject := next(e.Subject)
	dataStr := next(data)
	if e.Subject == nil && data == nil && d.Has == 0 && e.ReceivedTime == 0 {
		return r
	}
	v := new(nullables)
	if e.Subject != nil {
		v.subject = subject
		r.Subject = &v.subject
	}
	if e.ReceivedTime != 0 {
		v.received = floorDiv(e.ReceivedTime, 1000)
		r.ReceivedTime = &v.received
	}
	if data != nil {
		v.d = dataStr
		r.Data = &v.d
	}
	str := func(f event.Field, b []byte, dst *string, p **string) {
		s := next(b)
		if d.Has&f != 0 {
			*dst = s
			*p = dst
		}
	}
	str(event.FieldName, d.Name, &v.name, &r.Name)
	str(event.FieldIndustry, d.Industry, &v.industry, &r.Industry)
	str(event.FieldSentiment, d.Sentiment, &v.sentiment, &r.Sentiment)
	str(event.FieldPlan, d.Plan, &v.plan, &r.Plan)
	str(event.FieldReason, d.Reason, &v.reason, &r.Reason)
	str(event.FieldUserID, d.UserID, &v.userID, &r.UserID)
	str(event.FieldSessionID, d.SessionID, &v.sessionID, &r.SessionID)
	str(event.FieldJobID, d.JobID, &v.jobID, &r.JobID)
	str(event.FieldStatus, d.Status, &v.status, &r.Status)
	if d.Has&event.FieldRevenue != 0 {
		v.revenue = d.Revenue
		r.Revenue = &v.revenue
	}
	if d.Has&event.FieldMonthlyFee != 0 {
		v.monthlyFee = d.MonthlyFee
		r.MonthlyFee = &v.monthlyFee
	}
	if d.Has&event.FieldEmployees != 0 {
		v.employees = d.Employees
		r.Employees = &v.employees
	}
	if d.Has&event.FieldDataSize != 0 {
		v.dataSize = d.DataSize
		r.DataSize = &v.dataSize
	}
	if d.Has&event.FieldDurationMs != 0 {
		v.durationMs = d.DurationMs
		r.DurationMs = &v.durationMs
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

// dataMember returns the raw JSON value of the top-level member "data" of
// the JSON object obj, or nil when there is none or it is null. obj must
// be valid JSON (as Decode guarantees); on anything else the result is nil
// or some value of obj, never a panic.
func dataMember(obj []byte) []byte {
	i := skipWS(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil
	}
	i++
	for {
		i = skipWS(obj, i)
		if i >= len(obj) || obj[i] != '"' {
			return nil // '}' or malformed
		}
		keyStart := i
		var escaped bool
		i, escaped = skipString(obj, i)
		if i < 0 {
			return nil
		}
		key := obj[keyStart:i]
		i = skipWS(obj, i)
		if i >= len(obj) || obj[i] != ':' {
			return nil
		}
		i = skipWS(obj, i+1)
		valStart := i
		i = skipValue(obj, i)
		if i < 0 {
			return nil
		}
		if isData(key, escaped) {
			v := obj[valStart:i]
			if string(v) == "null" {
				return nil
			}
			return v
		}
		i = skipWS(obj, i)
		if i >= len(obj) || obj[i] != ',' {
			return nil
		}
		i++
	}
}

// isData reports whether the quoted key is "data".
func isData(key []byte, escaped bool) bool {
	if !escaped {
		return string(key) == `"data"`
	}
	var s string
	return json.Unmarshal(key, &s) == nil && s == "data"
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the offset just past the string starting at b[i]
// ('"') and whether it holds escapes, or -1.
func skipString(b []byte, i int) (int, bool) {
	escaped := false
	i++
	for {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return -1, false
		}
		q += i
		if bytes.IndexByte(b[i:q], '\\') < 0 {
			return q + 1, escaped
		}
		escaped = true
		// The quote ends the string unless an odd number of backslashes
		// precede it.
		n := 0
		for j := q - 1; j >= i && b[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			return q + 1, true
		}
		i = q + 1
	}
}

// skipValue returns the offset just past the value starting at b[i], or -1.
func skipValue(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch c := b[i]; c {
		case '"':
			i, _ = skipString(b, i)
			if i < 0 {
				return -1
			}
			if depth == 0 {
				return i
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i // end of a number or literal
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i // end of a number or literal
			}
		}
		i++
	}
	if depth == 0 {
		return i
	}
	return -1
}
