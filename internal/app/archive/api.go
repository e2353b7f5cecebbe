package archive

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenantpulse/tenantpulse/internal/consumer"
	"github.com/tenantpulse/tenantpulse/internal/restapi"
)

// Behavior: GET /v1/archive reports the archiver's progress since the
// server started: records read, events and errors stored, files and
// bytes stored, and per shard the sequence number of the last record read.
// A record is in the archive once its file is stored; a clean stop stores
// every open file. The same counters are Prometheus counters
// (tenantpulse_archive_*_total) on /metrics.

// Status is GET /v1/archive's answer.
type Status struct {
	Records     int64         `json:"records"`     // records read from the streams
	Skipped     int64         `json:"skipped"`     // already stored before a crash, skipped on replay
	Events      int64         `json:"events"`      // events stored in tenant buckets
	Errors      int64         `json:"errors"`      // invalid records stored in the errors bucket
	Files       int64         `json:"files"`       // files stored
	FileBytes   int64         `json:"fileBytes"`   // bytes of those files
	RecordBytes int64         `json:"recordBytes"` // bytes of the records in them
	Shards      []ShardStatus `json:"shards"`
	// Streams says per stream which incarnation is archived and how often
	// (when, why) the archiver dropped its positions and started over.
	Streams []consumer.Status `json:"streams"`
}

// ShardStatus is one shard's progress.
type ShardStatus struct {
	Stream string `json:"stream"`
	Shard  string `json:"shard"`
	Read   string `json:"read,omitempty"` // sequence number of the last record read
}

// Status returns the archiver's progress.
func (s *Service) Status() Status {
	st := &s.stats
	out := Status{Records: st.Records.Load(), Skipped: st.Skipped.Load(), Events: st.Events.Load(), Errors: st.Errors.Load(),
		Files: st.Files.Load(), FileBytes: st.FileBytes.Load(), RecordBytes: st.RecordBytes.Load(), Shards: []ShardStatus{},
		Streams: []consumer.Status{}}
	if s.follow != nil {
		out.Streams = s.follow.Statuses()
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, a := range s.shards {
		sh := ShardStatus{Stream: a.stream, Shard: a.shard}
		if p := a.readPos.Load(); p != nil {
			sh.Read = *p
		}
		out.Shards = append(out.Shards, sh)
	}
	return out
}

// Register adds GET /v1/archive to mux.
func (s *Service) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/archive", func(w http.ResponseWriter, r *http.Request) {
		restapi.WriteJSON(w, http.StatusOK, s.Status())
	})
}

// Collectors returns the archiver's counters as Prometheus metrics.
func (s *Service) Collectors() []prometheus.Collector {
	counter := func(name, help string, v func() int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "tenantpulse", Subsystem: "archive", Name: name, Help: help},
			func() float64 { return float64(v()) })
	}
	st := &s.stats
	return []prometheus.Collector{
		counter("records_total", "Stream records the archiver read.", st.Records.Load),
		counter("skipped_total", "Records already stored before a crash, skipped on replay.", st.Skipped.Load),
		counter("events_total", "Events stored in tenant buckets.", st.Events.Load),
		counter("errors_total", "Invalid records stored in the errors bucket.", st.Errors.Load),
		counter("files_total", "Archive files stored.", st.Files.Load),
		counter("file_bytes_total", "Bytes of the archive files stored.", st.FileBytes.Load),
	}
}
