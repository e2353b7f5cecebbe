package streamlog

import (
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncWriter serializes writes from the store's goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// A stream deleted and created again under the same name, within the same
// millisecond by the store's clock, is a new stream: a later Created time,
// sequence numbers above every one of the old stream's, and the old
// handles fail with ErrStreamDeleted instead of reading as an idle shard.
func TestDeleteAndRecreateIsANewStream(t *testing.T) {
	dir := t.TempDir()
	frozen := time.UnixMilli(1_764_000_000_000)
	s := openTest(t, dir, func(o *Options) { o.Now = func() time.Time { return frozen } })
	defer s.Close()
	old, err := s.CreateStream(StreamConfig{Name: "jobs", ShardCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	sh := old.Shards()[0]
	seqs := make([]Seq, 1)
	if _, err := sh.Append([]Entry{{PartitionKey: []byte("t"), Data: []byte("old")}}, seqs); err != nil {
		t.Fatal(err)
	}
	oldSeq := seqs[0]
	if err := s.DeleteStream("jobs"); err != nil {
		t.Fatal(err)
	}
	if !old.Deleted() {
		t.Error("Deleted() is false after DeleteStream")
	}
	if _, err := sh.Read(0, 10, 1<<20, make([]byte, MinReadBuffer), nil); !errors.Is(err, ErrStreamDeleted) {
		t.Errorf("Read on a deleted shard: %v, want ErrStreamDeleted", err)
	}
	if _, err := sh.Append([]Entry{{PartitionKey: []byte("t"), Data: []byte("x")}}, seqs); !errors.Is(err, ErrStreamDeleted) {
		t.Errorf("Append on a deleted shard: %v, want ErrStreamDeleted", err)
	}
	if _, err := s.Stream("jobs"); !errors.Is(err, ErrStreamNotFound) {
		t.Errorf("Stream after DeleteStream: %v, want ErrStreamNotFound", err)
	}

	renewed, err := s.CreateStream(StreamConfig{Name: "jobs", ShardCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !renewed.Info().Created.After(old.Info().Created) {
		t.Errorf("the recreated stream's Created %v is not after the deleted one's %v (same clock)", renewed.Info().Created, old.Info().Created)
	}
	nsh := renewed.Shards()[0]
	if _, err := nsh.Append([]Entry{{PartitionKey: []byte("t"), Data: []byte("new")}}, seqs); err != nil {
		t.Fatal(err)
	}
	if seqs[0].Gen <= oldSeq.Gen || strings.Compare(seqs[0].String(), oldSeq.String()) <= 0 {
		t.Errorf("the new stream's first sequence number %s is not above the deleted stream's %s", seqs[0], oldSeq)
	}
	if nsh.StartingSeq().Gen <= oldSeq.Gen {
		t.Errorf("the new stream starts at generation %d, not above the old records' %d", nsh.StartingSeq().Gen, oldSeq.Gen)
	}
	recs := readAll(t, nsh, 0)
	if len(recs) != 1 || string(recs[0].Data) != "new" {
		t.Errorf("the recreated stream holds %d records, want only the new one", len(recs))
	}
}

// Deleting a stream with records writes nothing into the trash on close
// (it used to try to write the segment index there, and logged a warning).
func TestDeleteStreamLogsNothing(t *testing.T) {
	var logged strings.Builder
	s := openTest(t, t.TempDir(), func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(&syncWriter{w: &logged}, nil)) })
	defer s.Close()
	st, err := s.CreateStream(StreamConfig{Name: "jobs", ShardCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Shards()[0].Append([]Entry{{PartitionKey: []byte("t"), Data: []byte("x")}}, make([]Seq, 1)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteStream("jobs"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if strings.Contains(logged.String(), "level=WARN") || strings.Contains(logged.String(), "level=ERROR") {
		t.Errorf("DeleteStream logged:\n%s", logged.String())
	}
}
