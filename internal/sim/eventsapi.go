package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// eventsSender posts batches to the event API, POST <endpoint>/v1/events
// with one event per line (application/x-ndjson). The response holds one
// result per event, in order: accepted and duplicate are delivered,
// retryable rejections are sent again with backoff, other rejections are
// counted and reported. HTTP 429, 5xx and connection errors retry the whole
// remaining batch (the server reports the repeats as duplicates); any other
// status fails with the response's message.
type eventsSender struct {
	url string
	hc  *http.Client
}

func newEventsSender(endpoint string, concurrency int) *eventsSender {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = concurrency + 2
	return &eventsSender{
		url: strings.TrimRight(endpoint, "/") + "/v1/events",
		hc:  &http.Client{Transport: tr, Timeout: 60 * time.Second},
	}
}

type eventsResponse struct {
	FailedEventCount int `json:"failedEventCount"`
	Results          []struct {
		Status    string `json:"status"`
		ID        string `json:"id"`
		Error     string `json:"error"`
		Field     string `json:"field"`
		Reason    string `json:"reason"`
		Retryable bool   `json:"retryable"`
	} `json:"results"`
	Message string `json:"message"`
}

func (s *eventsSender) send(ctx context.Context, b *batch, st *Stats) error {
	pending := make([]int, len(b.evs))
	for i := range pending {
		pending[i] = i
	}
	var body bytes.Buffer
	body.Grow(len(b.data) + len(b.evs))
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			st.Retried.Add(int64(len(pending)))
			if err := backoff(ctx, attempt-1); err != nil {
				return fmt.Errorf("cannot deliver %d events: %w", len(pending), err)
			}
		}
		body.Reset()
		for _, i := range pending {
			e := b.evs[i]
			body.Write(b.data[e.off:e.end])
			body.WriteByte('\n')
		}
		resp, err := s.post(ctx, body.Bytes())
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("cannot deliver %d events: %w", len(pending), ctx.Err())
			}
			continue // connection error: retry
		}
		if resp.retry {
			continue
		}
		if resp.err != nil {
			return resp.err
		}
		if len(resp.body.Results) != len(pending) {
			return fmt.Errorf("POST /v1/events answered %d results for %d events", len(resp.body.Results), len(pending))
		}
		next := pending[:0]
		for k, r := range resp.body.Results {
			switch r.Status {
			case "accepted":
				st.Delivered.Add(1)
			case "duplicate":
				st.Delivered.Add(1)
				st.Duplicates.Add(1)
			default:
				if r.Retryable {
					next = append(next, pending[k])
					continue
				}
				st.reject(fmt.Sprintf("%s: %s %s: %s", r.ID, r.Error, r.Field, r.Reason))
			}
		}
		pending = next
		if len(pending) == 0 {
			return nil
		}
	}
}

type postResult struct {
	body  eventsResponse
	retry bool
	err   error
}

func (s *eventsSender) post(ctx context.Context, body []byte) (postResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return postResult{}, err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := s.hc.Do(req)
	if err != nil {
		return postResult{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return postResult{}, err
	}
	var r postResult
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		r.retry = true
	case resp.StatusCode != http.StatusOK:
		var e eventsResponse
		msg := strings.TrimSpace(string(raw))
		if json.Unmarshal(raw, &e) == nil && e.Message != "" {
			msg = e.Message
		}
		r.err = fmt.Errorf("POST %s: %s: %s", s.url, resp.Status, msg)
	default:
		if err := json.Unmarshal(raw, &r.body); err != nil {
			r.err = fmt.Errorf("POST %s: cannot decode the response: %w", s.url, err)
		}
	}
	return r, nil
}
