package streams

// GET /v1/streams: the streams as JSON, for the dashboard's System page;
// not a Kinesis operation.
//
// Behavior: every stream, sorted by name, with its shards and their writes
// since the server started, whichever API made them (the Kinesis API or
// POST /v1/events): the store counts each acknowledged group commit, so the
// write path pays nothing per record. Rates are averaged over the last
// streamlog.RateWindow. GET only (HEAD too); any other method is 405 with
// Allow: GET, and any query parameter is 400, as across /v1. ARNs carry
// the server's region (Options.Region), the one unsigned Kinesis requests
// see. docs/kinesis-api.md is the reference.

import (
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/restapi"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// timeLayout writes instants: RFC 3339, UTC, always milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

type streamsView struct {
	RateWindowSeconds int `json:"rateWindowSeconds"`
	// RecentEnd is the start of the current second, the last of every
	// stream's RecentRecords.
	RecentEnd string       `json:"recentEnd"`
	Streams   []streamView `json:"streams"`
}

type streamView struct {
	Name             string      `json:"name"`
	Status           string      `json:"status"`
	ARN              string      `json:"arn"`
	Mode             string      `json:"mode"`
	ShardCount       int         `json:"shardCount"`
	RetentionHours   int         `json:"retentionHours"`
	Created          string      `json:"created"`
	Records          uint64      `json:"recordsWritten"`
	Bytes            uint64      `json:"bytesWritten"`
	RecordsPerSecond float64     `json:"recordsPerSecond"`
	BytesPerSecond   float64     `json:"bytesPerSecond"`
	RecentRecords    []uint64    `json:"recentRecords"` // per second of the rate window, oldest first, ending with RecentEnd's
	Shards           []shardView `json:"shards"`
}

type shardView struct {
	ShardID            string  `json:"shardId"`
	StartingHashKey    string  `json:"startingHashKey"`
	EndingHashKey      string  `json:"endingHashKey"`
	LastSequenceNumber string  `json:"lastSequenceNumber,omitempty"`
	Records            uint64  `json:"recordsWritten"`
	Bytes              uint64  `json:"bytesWritten"`
	RecordsPerSecond   float64 `json:"recordsPerSecond"`
	BytesPerSecond     float64 `json:"bytesPerSecond"`
}

// RegisterAPI adds GET /v1/streams to mux.
func (s *Service) RegisterAPI(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/streams", s.v1Streams)
	mux.HandleFunc("/v1/streams", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "GET")
		restapi.WriteError(w, http.StatusMethodNotAllowed, restapi.CodeMethodNotAllowed,
			fmt.Sprintf("%s %s is not supported; use GET", r.Method, r.URL.Path))
	})
}

func (s *Service) v1Streams(w http.ResponseWriter, r *http.Request) {
	if r.URL.RawQuery != "" {
		msg := fmt.Sprintf("the query string %q is not valid; %s takes no parameters", r.URL.RawQuery, r.URL.Path)
		if q, err := url.ParseQuery(r.URL.RawQuery); err == nil {
			for _, k := range slices.Sorted(maps.Keys(q)) {
				msg = fmt.Sprintf("unknown parameter %q; %s takes none", k, r.URL.Path)
				break
			}
		}
		restapi.WriteError(w, http.StatusBadRequest, restapi.CodeInvalidRequest, msg)
		return
	}
	now := s.opts.Now()
	out := streamsView{RateWindowSeconds: int(streamlog.RateWindow.Seconds()),
		RecentEnd: now.UTC().Truncate(time.Second).Format(timeLayout), Streams: []streamView{}}
	for _, st := range s.store.Streams() {
		out.Streams = append(out.Streams, s.streamView(st, now))
	}
	restapi.WriteJSON(w, http.StatusOK, &out)
}

func (s *Service) streamView(st *streamlog.Stream, now time.Time) streamView {
	info := st.Info()
	v := streamView{
		Name: info.Name, Status: "ACTIVE", ARN: streamARN(s.opts.Region, info.Name), Mode: info.Mode,
		ShardCount: info.ShardCount, RetentionHours: info.RetentionHours,
		Created: info.Created.UTC().Format(timeLayout), Shards: make([]shardView, 0, len(st.Shards())),
		RecentRecords: make([]uint64, streamlog.RateSeconds),
	}
	var recPerSec, bytesPerSec float64
	for _, sh := range st.Shards() {
		stats := sh.StatsAt(now)
		start, end := sh.HashKeyRange()
		sv := shardView{
			ShardID: sh.ID(), StartingHashKey: start.String(), EndingHashKey: end.String(),
			Records: stats.Records, Bytes: stats.Bytes,
			RecordsPerSecond: round3(stats.RecordsPerSecond), BytesPerSecond: round3(stats.BytesPerSecond),
		}
		if stats.HasLastSeq {
			sv.LastSequenceNumber = stats.LastSeq.String()
		}
		v.Shards = append(v.Shards, sv)
		v.Records += stats.Records
		v.Bytes += stats.Bytes
		recPerSec += stats.RecordsPerSecond
		bytesPerSec += stats.BytesPerSecond
		for i, n := range stats.RecentRecords {
			v.RecentRecords[i] += n
		}
	}
	v.RecordsPerSecond, v.BytesPerSecond = round3(recPerSec), round3(bytesPerSec)
	return v
}

// round3 keeps three decimals, so rates read as 0.017, not 0.016666666666666666.
func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
