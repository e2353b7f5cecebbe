package ingest

import (
	"errors"
	"fmt"

	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// write stores the request's valid events: it resolves their shards (the
// streams are looked up for every request, so a stream deleted and created
// again takes events at once),
// settles duplicates against the dedupe window under s.mu, enqueues each
// shard's events for its next group commit and waits for all of them.
func (s *Service) write(q *request, nowMs int64) {
	var streams [len(streamNames)]*streamlog.Stream
	for i, name := range streamNames {
		if st, err := s.store.Stream(name); err == nil {
			streams[i] = st
		}
	}
	for i := range q.results {
		r := &q.results[i]
		if r.status != statusAccepted {
			continue
		}
		st := streams[r.stream]
		if st == nil {
			r.status, r.code = statusRejected, errStreamNotFound
			r.reason = fmt.Sprintf("stream %s does not exist (it was deleted); create it again with the Kinesis API's CreateStream, or restart the server, which creates the streams its configuration declares", streamNames[r.stream])
			continue
		}
		r.shard = st.ShardFor(s.hashes.Hash(q.arena[r.tenantOff : r.tenantOff+r.tenantLen]))
	}

	s.mu.Lock()
	for i := range q.results {
		r := &q.results[i]
		if r.status != statusAccepted {
			continue
		}
		if !s.win.Add(r.key, nowMs) {
			g := q.group(r.shard)
			g.idx = append(g.idx, int32(i))
			s.pending[r.key] = pendingRef{f: g.f, req: q, idx: int32(i)}
			continue
		}
		r.status = statusDuplicate
		if p, ok := s.pending[r.key]; ok {
			if p.req == q {
				r.dupOf = p.idx
			} else {
				r.wait = p.f
			}
		}
	}
	s.mu.Unlock()

	for _, g := range q.glist {
		g.entries = g.entries[:0]
		for _, i := range g.idx {
			r := &q.results[i]
			g.entries = append(g.entries, streamlog.Entry{
				PartitionKey: q.arena[r.tenantOff : r.tenantOff+r.tenantLen],
				Data:         q.stored[r.dataOff : r.dataOff+r.dataLen],
			})
		}
		g.seqs = resize(g.seqs, len(g.entries))
		c, _, err := g.shard.Enqueue(g.entries, g.seqs)
		g.commit, g.f.err = c, err
	}
	for _, g := range q.glist {
		if g.commit != nil {
			g.f.err = g.commit.Wait()
		}
		for k, i := range g.idx {
			r := &q.results[i]
			if g.f.err != nil {
				s.fail(r, g.f.err)
			} else {
				r.seq = g.seqs[k]
			}
		}
	}

	s.mu.Lock()
	for _, g := range q.glist {
		for _, i := range g.idx {
			r := &q.results[i]
			delete(s.pending, r.key)
			if g.f.err != nil {
				s.win.Remove(r.key)
			}
		}
		close(g.f.done)
	}
	s.mu.Unlock()

	// Repeats of events written by this request or in flight in another
	// share the fate of the first copy.
	for i := range q.results {
		r := &q.results[i]
		var err error
		switch {
		case r.dupOf >= 0:
			if first := &q.results[r.dupOf]; first.status == statusRejected {
				err = errors.New(first.reason)
			}
		case r.wait != nil:
			<-r.wait.done
			err = r.wait.err
		default:
			continue
		}
		if err != nil {
			r.status, r.code, r.retryable = statusRejected, errThrottled, true
			r.reason = "an earlier copy of this event was being stored and failed, so this one was not stored either; send it again: " + err.Error()
		}
	}
	for i := range q.results {
		s.m.result(&q.results[i])
	}
}

// group returns the request's batch for shard sh.
func (q *request) group(sh *streamlog.Shard) *group {
	if g, ok := q.groups[sh]; ok {
		return g
	}
	g := &group{shard: sh, f: &flight{done: make(chan struct{})}}
	q.groups[sh] = g
	q.glist = append(q.glist, g)
	return g
}

// fail rejects an event whose write failed.
func (s *Service) fail(r *result, err error) {
	r.status = statusRejected
	switch {
	case errors.Is(err, streamlog.ErrThrottled):
		r.code, r.retryable = errThrottled, true
		r.reason = "the shard cannot take more right now; send the event again after a short wait: " + err.Error()
	case errors.Is(err, streamlog.ErrStreamDeleted):
		r.code = errStreamNotFound
		r.reason = "the event's stream was deleted while the event was being stored, so it was not stored; send it again once the stream is created again: " + err.Error()
	case errors.Is(err, streamlog.ErrClosed):
		r.code, r.retryable = errThrottled, true
		r.reason = "the server is shutting down; send the event again"
	default:
		r.code, r.retryable = errInternal, true
		r.reason = "cannot store the event: " + err.Error()
	}
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
