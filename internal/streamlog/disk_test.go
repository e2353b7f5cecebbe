package streamlog

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

// TestVolumeSmallerThanMinFree opens a store whose min_free_bytes is more
// than its volume holds: it says so at start (naming the volume's size,
// min_free_bytes and what to do), refuses every write retriably, and
// counts the refused records.
func TestVolumeSmallerThanMinFree(t *testing.T) {
	var logs bytes.Buffer
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir, MinFreeBytes: 1 << 60, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d := s.Disk()
	if d.SizeBytes == 0 || d.SizeBytes >= 1<<60 || !d.Low {
		t.Fatalf("Disk() = %+v, want a volume smaller than min_free_bytes, low", d)
	}
	for _, want := range []string{"smaller than min_free_bytes", HumanBytes(d.SizeBytes), HumanBytes(1 << 60), "--min-free-bytes", dir} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the start-up log does not say %q:\n%s", want, logs.String())
		}
	}
	st, err := s.CreateStream(StreamConfig{Name: "jobs", ShardCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	entries := []Entry{{PartitionKey: []byte("k"), Data: []byte("a")}, {PartitionKey: []byte("k"), Data: []byte("b")}}
	if _, err := st.Shards()[0].Append(entries, make([]Seq, 2)); !errors.Is(err, ErrThrottled) {
		t.Fatalf("Append on a volume under min_free_bytes: %v, want ErrThrottled", err)
	}
	d = s.Disk()
	if d.RefusedLowSpace != 2 || d.RefusedWriteErrors != 0 {
		t.Fatalf("refused %d for low space, %d for write errors; want 2 and 0", d.RefusedLowSpace, d.RefusedWriteErrors)
	}
	if r := d.Refusing(); !strings.Contains(r, "below min_free_bytes") || !strings.Contains(r, HumanBytes(d.FreeBytes)) {
		t.Fatalf("Refusing() = %q, want the free space below min_free_bytes", r)
	}
}

// TestDiskStatusHealthy: with room, nothing is refused and nothing warned.
func TestDiskStatusHealthy(t *testing.T) {
	var logs bytes.Buffer
	s, err := Open(Options{Dir: t.TempDir(), MinFreeBytes: 1, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.CreateStream(StreamConfig{Name: "jobs", ShardCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Shards()[0].Append([]Entry{{PartitionKey: []byte("k"), Data: []byte("a")}}, make([]Seq, 1)); err != nil {
		t.Fatal(err)
	}
	d := s.Disk()
	for b, want := range map[uint64]string{1: "1 byte", 0: "0 bytes", 1023: "1023 bytes", 12800: "12.5 KiB", 64 << 20: "64.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := HumanBytes(b); got != want {
			t.Errorf("HumanBytes(%d) = %q, want %q", b, got, want)
		}
	}
	if d.Low || d.Refusing() != "" || d.RefusedLowSpace+d.RefusedWriteErrors != 0 || d.FreeBytes == 0 || d.FreeBytes > d.SizeBytes {
		t.Fatalf("Disk() = %+v, Refusing %q; want free space counted and nothing refused", d, d.Refusing())
	}
	if strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("a warning on a volume with room:\n%s", logs.String())
	}
}
