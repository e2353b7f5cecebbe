package consumer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/fsutil"
	"github.com/tenantpulse/tenantpulse/internal/stream"
)

func TestFollow(t *testing.T) {
	now := time.UnixMilli(1_764_000_000_000)
	f := func(name string, m Mark, d *stream.Description, wantReset bool, want Mark) {
		t.Helper()
		reset, reason := m.Follow(d, now)
		if reset != wantReset || m != want || (reset && reason != m.Reason) {
			t.Errorf("%s: Follow = %v %q, mark %+v; want %v, mark %+v", name, reset, reason, m, wantReset, want)
		}
	}
	d1 := &stream.Description{Created: 100}
	d2 := &stream.Description{Created: 200}
	f("same stream", Mark{Stream: "jobs", Created: 100}, d1, false, Mark{Stream: "jobs", Created: 100})
	f("first read", Mark{Stream: "jobs"}, d1, false, Mark{Stream: "jobs", Created: 100})
	f("still missing", Mark{Stream: "jobs", Resets: 1}, nil, false, Mark{Stream: "jobs", Resets: 1})
	f("deleted", Mark{Stream: "jobs", Created: 100}, nil, true,
		Mark{Stream: "jobs", Resets: 1, ResetAt: now.UnixMilli(), Reason: ReasonDeleted})
	f("created again", Mark{Stream: "jobs", Created: 100, Resets: 1}, d2, true,
		Mark{Stream: "jobs", Created: 200, Resets: 2, ResetAt: now.UnixMilli(), Reason: ReasonRecreated})
	f("created again after a deletion seen", Mark{Stream: "jobs", Resets: 1, ResetAt: 5, Reason: ReasonDeleted}, d2, false,
		Mark{Stream: "jobs", Created: 200, Resets: 1, ResetAt: 5, Reason: ReasonDeleted})
}

func TestMarkFileAndDropPositions(t *testing.T) {
	dir := t.TempDir()
	if m, err := ReadMark(dir); m != nil || err != nil {
		t.Fatalf("ReadMark of an empty directory: %+v, %v", m, err)
	}
	m := &Mark{Stream: "jobs", Created: 100, Resets: 2, ResetAt: 7, Reason: ReasonRecreated}
	if err := m.Write(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"shardId-000000000000.ckpt", "shardId-000000000001.ckpt", "other.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := DropPositions(dir); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(left) != 2 {
		t.Errorf("after DropPositions the directory holds %v, want the mark and other.txt", left)
	}
	got, err := ReadMark(dir)
	if err != nil || got == nil || *got != *m {
		t.Fatalf("ReadMark = %+v, %v; want %+v", got, err, m)
	}
	if err := DropPositions(filepath.Join(dir, "missing")); err != nil {
		t.Errorf("DropPositions of a missing directory: %v", err)
	}
	// A damaged mark is an error that says what to do.
	if err := os.WriteFile(filepath.Join(dir, MarkFile), []byte("TPCM garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadMark(dir); err == nil {
		t.Error("ReadMark of a damaged mark succeeded")
	}
}

// FuzzReadMark: any bytes in the mark file give a mark or an error, and a
// mark read re-encodes to one that reads the same.
func FuzzReadMark(f *testing.F) {
	f.Add(fsutil.Frame(markMagic, markVersion, []byte(`{"stream":"jobs","created_ms":100,"resets":1,"reset_at_ms":7,"reason":"the stream was deleted"}`)))
	f.Add(fsutil.Frame(markMagic, markVersion, []byte(`{}`)))
	f.Add(fsutil.Frame(markMagic, 2, []byte(`{}`)))
	f.Add([]byte("TPCM"))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, MarkFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := ReadMark(dir)
		if err != nil {
			return
		}
		if err := m.Write(dir); err != nil {
			t.Fatal(err)
		}
		again, err := ReadMark(dir)
		if err != nil || *again != *m {
			t.Fatalf("re-read %+v, %v; want %+v", again, err, m)
		}
	})
}

func TestStatusJSON(t *testing.T) {
	f := func(m Mark, want string) {
		t.Helper()
		b, err := json.Marshal(m.Status())
		if err != nil || string(b) != want {
			t.Errorf("%+v: %s, %v; want %s", m, b, err, want)
		}
	}
	f(Mark{Stream: "companies"}, `{"stream":"companies","state":"waiting","resets":0}`)
	f(Mark{Stream: "jobs", Created: 1764061200000, Resets: 2, ResetAt: 1764061200500, Reason: ReasonRecreated},
		`{"stream":"jobs","state":"reading","created":"2025-11-25T09:00:00.000Z","resets":2,"resetAt":"2025-11-25T09:00:00.500Z","resetReason":"the stream was deleted and created again"}`)
}
