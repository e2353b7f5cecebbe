package ingest

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenantpulse/tenantpulse/internal/dedupe"
	"github.com/tenantpulse/tenantpulse/internal/event"
	"github.com/tenantpulse/tenantpulse/internal/restapi"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// Limits of one request, as documented in docs/events-api.md.
const (
	MaxBodyBytes     = 5 << 20
	MaxRequestEvents = 10_000
)

// Options configure the service.
type Options struct {
	Store          *streamlog.Store
	DedupeWindow   time.Duration // default dedupe.DefaultWindow (10 minutes)
	DedupeMaxBytes int64         // default dedupe.DefaultMaxBytes (64 MiB)
	Logger         *slog.Logger
	Registerer     prometheus.Registerer // nil: no metrics
	Now            func() time.Time      // default time.Now
	// MaxFuture: an event whose time is further ahead of the server's
	// clock is rejected (field time). Default event.DefaultMaxFuture.
	MaxFuture time.Duration
}

// Service serves POST /v1/events.
type Service struct {
	opts   Options
	store  *streamlog.Store
	log    *slog.Logger
	hashes *streamlog.HashCache

	// mu guards the dedupe window and the events in flight.
	mu      sync.Mutex
	win     *dedupe.Window
	pending map[dedupe.Key]pendingRef

	m metrics
}

// pendingRef names the request writing an event that is in the window but
// not yet stored, so a repeat of it can wait for the outcome.
type pendingRef struct {
	f   *flight
	req *request
	idx int32
}

// flight is one request's write to one shard.
type flight struct {
	done chan struct{}
	err  error
}

// New returns the service. Call Rebuild before serving to restore the
// dedupe window after a restart.
func New(opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.DedupeWindow <= 0 {
		opts.DedupeWindow = dedupe.DefaultWindow
	}
	if opts.MaxFuture <= 0 {
		opts.MaxFuture = event.DefaultMaxFuture
	}
	if opts.DedupeMaxBytes <= 0 {
		opts.DedupeMaxBytes = dedupe.DefaultMaxBytes
	}
	s := &Service{
		opts:    opts,
		store:   opts.Store,
		log:     opts.Logger,
		hashes:  streamlog.NewHashCache(),
		win:     dedupe.New(dedupe.Options{Window: opts.DedupeWindow, MaxBytes: opts.DedupeMaxBytes}),
		pending: make(map[dedupe.Key]pendingRef),
	}
	s.m = newMetrics(s, opts.Registerer)
	return s
}

// Register adds the service's routes to mux.
func (s *Service) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/events", s.postEvents)
	mux.HandleFunc("/v1/events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "POST")
		restapi.WriteError(w, http.StatusMethodNotAllowed, restapi.CodeMethodNotAllowed,
			fmt.Sprintf("%s /v1/events is not supported; send events with POST", r.Method))
	})
}

// DedupeStats returns what the dedupe window holds.
func (s *Service) DedupeStats() dedupe.Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.win.Stats()
}

// Rebuild restores the dedupe window after a restart from the events the
// API stored (those with a receivedtime) in the last window of arrival
// time, newest last, at most as many as the window holds.
func (s *Service) Rebuild() error {
	started := time.Now()
	nowMs := s.opts.Now().UnixMilli()
	var shards []*streamlog.Shard
	for _, name := range []string{event.StreamCompanies, event.StreamJobs} {
		st, err := s.store.Stream(name)
		if err != nil {
			continue // not declared: nothing to restore
		}
		shards = append(shards, st.Shards()...)
	}
	if len(shards) == 0 {
		return nil
	}
	perShard := uint64(s.win.Stats().Capacity / len(shards))
	buf := make([]byte, streamlog.MinReadBuffer+4<<20)
	recs := make([]streamlog.Record, 0, 4096)
	var dec event.Decoder
	var ev event.Event
	restored := 0
	for _, sh := range shards {
		from, err := sh.OffsetAtTime(nowMs - s.opts.DedupeWindow.Milliseconds())
		if err != nil {
			return fmt.Errorf("cannot find where to restore the dedupe window in %s/%s: %w", sh.Stream().Name(), sh.ID(), err)
		}
		if end := sh.End(); end > perShard && from < end-perShard {
			from = end - perShard
		}
		for {
			res, err := sh.Read(from, 4096, len(buf), buf, recs)
			if err != nil {
				return fmt.Errorf("cannot read %s/%s to restore the dedupe window: %w", sh.Stream().Name(), sh.ID(), err)
			}
			s.mu.Lock()
			for i := range res.Records {
				r := &res.Records[i]
				if _, err := dec.Decode(r.Data, &ev); err != nil || ev.ReceivedTime == 0 {
					continue
				}
				s.win.Add(dedupe.KeyOf(ev.ID, ev.Source), r.Arrival)
				restored++
			}
			s.mu.Unlock()
			from = res.Next
			if res.AtEnd || len(res.Records) == 0 {
				break
			}
		}
	}
	s.log.Info("dedupe window restored", "events", restored, "took", time.Since(started).Round(time.Millisecond))
	return nil
}
