package consumer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/event"
	"github.com/tenantpulse/tenantpulse/internal/fsutil"
	"github.com/tenantpulse/tenantpulse/internal/stream"
)

// MarkFile is the mark's name in a consumer's directory of positions for
// one stream (<data>/analytics/<stream>/, <data>/archive/<stream>/).
const MarkFile = "stream.mark"

// PositionSuffix ends the name of every file DropPositions removes: the
// consumers' per-shard checkpoints.
const PositionSuffix = ".ckpt"

var markMagic = [4]byte{'T', 'P', 'C', 'M'}

const markVersion = 1

// Reasons a consumer starts over, as Mark.Reason and the logs say them.
const (
	ReasonDeleted   = "the stream was deleted"
	ReasonRecreated = "the stream was deleted and created again"
	ReasonForeign   = "the checkpointed positions are not in the stream"
)

// Mark is what a consumer keeps about one stream beside its positions.
type Mark struct {
	Stream string `json:"stream"`
	// Created is the creation time (Unix ms) of the stream incarnation
	// the positions belong to; 0 when the consumer holds none (the stream
	// was deleted, or never read).
	Created int64 `json:"created_ms"`
	// Resets counts the times the consumer dropped its positions and
	// state of the stream; ResetAt (Unix ms) and Reason say when and why
	// the last time.
	Resets  int    `json:"resets"`
	ResetAt int64  `json:"reset_at_ms,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// ReadMark reads the mark in dir, or returns nil if there is none (a
// directory written before marks existed, or a new one).
func ReadMark(dir string) (*Mark, error) {
	path := filepath.Join(dir, MarkFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read stream mark %s: %w", path, err)
	}
	v, payload, err := fsutil.Unframe(markMagic, b)
	if err != nil {
		return nil, fmt.Errorf("stream mark %s: %w; remove it and the checkpoints beside it to read the stream again from its start", path, err)
	}
	if v != markVersion {
		return nil, fmt.Errorf("stream mark %s has version %d; this build reads %d", path, v, markVersion)
	}
	var m Mark
	if err := json.Unmarshal(payload, &m); err != nil {
		return nil, fmt.Errorf("stream mark %s: %w; remove it and the checkpoints beside it to read the stream again from its start", path, err)
	}
	return &m, nil
}

// Write saves the mark in dir atomically (temp, fsync, rename).
func (m *Mark) Write(dir string) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("BUG: cannot encode stream mark: %w", err)
	}
	if err := fsutil.WriteAtomic(filepath.Join(dir, MarkFile), fsutil.Frame(markMagic, markVersion, b)); err != nil {
		return fmt.Errorf("cannot write the stream mark in %s: %w", dir, err)
	}
	return nil
}

// Follow compares the incarnation m names with the stream as it is now (d
// nil: it does not exist) and moves m to it. It reports whether the
// consumer must drop its positions and state of the stream (and then read
// the stream from its start), with the reason; m then counts the reset.
// A consumer that holds no positions (Created 0) just starts reading.
func (m *Mark) Follow(d *stream.Description, now time.Time) (reset bool, reason string) {
	switch {
	case d == nil && m.Created == 0, d != nil && d.Created == m.Created:
		return false, ""
	case d != nil && m.Created == 0:
		m.Created = d.Created
		return false, ""
	case d == nil:
		m.Created = 0
		reason = ReasonDeleted
	default:
		m.Created = d.Created
		reason = ReasonRecreated
	}
	m.Reset(reason, now)
	return true, reason
}

// Reset counts a reset for reason at now.
func (m *Mark) Reset(reason string, now time.Time) {
	m.Resets++
	m.ResetAt = now.UnixMilli()
	m.Reason = reason
}

// DropPositions removes the consumer's positions in dir (every
// *.ckpt file) and makes the removal durable. Write the new mark after it:
// a crash in between leaves the old mark without positions, which the next
// start counts as one more reset.
func DropPositions(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot list the checkpoints in %s: %w", dir, err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), PositionSuffix) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("cannot remove checkpoint: %w", err)
			}
		}
	}
	return fsutil.SyncDir(dir)
}

// Status is how the consumers' APIs show a stream they read
// (/v1/processor, /v1/archive).
type Status struct {
	Stream string `json:"stream"`
	// State is "reading", or "waiting" while the stream does not exist.
	State string `json:"state"`
	// Created is the creation time of the stream incarnation read (RFC
	// 3339, ms), absent while waiting.
	Created string `json:"created,omitempty"`
	// Resets counts the times the consumer dropped its positions and
	// state of the stream, over the data directory's life; ResetAt and
	// ResetReason say when and why the last time.
	Resets      int    `json:"resets"`
	ResetAt     string `json:"resetAt,omitempty"`
	ResetReason string `json:"resetReason,omitempty"`
}

// Status returns m as the APIs show it.
func (m *Mark) Status() Status {
	s := Status{Stream: m.Stream, State: "waiting", Resets: m.Resets, ResetReason: m.Reason}
	if m.Created != 0 {
		s.State = "reading"
		s.Created = fmtMillis(m.Created)
	}
	if m.ResetAt != 0 {
		s.ResetAt = fmtMillis(m.ResetAt)
	}
	return s
}

func fmtMillis(ms int64) string {
	return string(event.AppendTime(nil, ms*int64(time.Millisecond)))
}
