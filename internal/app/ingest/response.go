package ingest

import (
	"strconv"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/analytics"
	"github.com/tenantpulse/tenantpulse/internal/awswire"
	"github.com/tenantpulse/tenantpulse/internal/event"
)

// appendResponse appends the reply: failedEventCount and one result per
// event, in request order.
//
//	{"failedEventCount":1,"results":[
//	  {"status":"accepted","id":"e1","stream":"jobs","shardId":"shardId-000000000001","sequenceNumber":"4959..."},
//	  {"status":"accepted","id":"e0",...,"sequenceNumber":"4959...","windowed":false,"reason":"... counts in the tenant's lifetime totals only"},
//	  {"status":"duplicate","id":"e1"},
//	  {"status":"rejected","id":"e2","error":"InvalidEvent","field":"data.userId","reason":"...","retryable":false}]}
func (s *Service) appendResponse(b []byte, q *request) []byte {
	failed := 0
	for i := range q.results {
		if q.results[i].status == statusRejected {
			failed++
		}
	}
	b = append(b, `{"failedEventCount":`...)
	b = strconv.AppendInt(b, int64(failed), 10)
	b = append(b, `,"results":[`...)
	for i := range q.results {
		r := &q.results[i]
		if i > 0 {
			b = append(b, ',')
		}
		switch r.status {
		case statusAccepted:
			b = append(b, `{"status":"accepted","id":`...)
			b = awswire.AppendBytesString(b, q.arena[r.idOff:r.idOff+r.idLen])
			b = append(b, `,"stream":"`...)
			b = append(b, streamNames[r.stream]...)
			b = append(b, `","shardId":"`...)
			b = append(b, r.shard.ID()...)
			b = append(b, `","sequenceNumber":"`...)
			b = r.seq.AppendTo(b)
			b = append(b, '"')
			if r.old {
				b = appendNotWindowed(b, r.evTime, q.windowStart)
			}
			b = append(b, '}')
		case statusDuplicate:
			b = append(b, `{"status":"duplicate","id":`...)
			b = awswire.AppendBytesString(b, q.arena[r.idOff:r.idOff+r.idLen])
			b = append(b, '}')
		default:
			b = append(b, `{"status":"rejected"`...)
			if r.idLen > 0 {
				b = append(b, `,"id":`...)
				b = awswire.AppendBytesString(b, q.arena[r.idOff:r.idOff+r.idLen])
			}
			b = append(b, `,"error":`...)
			b = awswire.AppendString(b, r.code)
			if r.field != "" {
				b = append(b, `,"field":`...)
				b = awswire.AppendString(b, r.field)
			}
			b = append(b, `,"reason":`...)
			b = awswire.AppendString(b, r.reason)
			b = append(b, `,"retryable":`...)
			b = strconv.AppendBool(b, r.retryable)
			b = append(b, '}')
		}
	}
	return append(b, "]}\n"...)
}

// appendNotWindowed appends the result's fields for an accepted event
// dated at t, before windowStart: "windowed":false and why, without
// allocating (a backfill may send many).
func appendNotWindowed(b []byte, t int64, windowStart time.Time) []byte {
	b = append(b, `,"windowed":false,"reason":"`...)
	b = event.AppendTime(b, t)
	b = append(b, ` is before `...)
	b = windowStart.AppendFormat(b, time.DateOnly)
	b = append(b, `, the first of the `...)
	b = strconv.AppendInt(b, analytics.RingDays, 10)
	return append(b, ` days the windowed metrics keep (jobs30d, jobs90d, activeUsers30d, the daily series): stored and archived, it counts in the tenant's lifetime totals only"`...)
}
