package fsutil

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/tenantpulse/tenantpulse/internal/vfs"
	"github.com/tenantpulse/tenantpulse/internal/vfs/vfstest"
)

// TestWriteAtomicPowerLoss replaces a framed file again and again over a
// file system that keeps only what was synced, loses power at a random
// operation, and checks the file as the next boot finds it: present,
// a whole frame, and at least as new as the last acknowledged write.
func TestWriteAtomicPowerLoss(t *testing.T) {
	magic := [4]byte{'T', 'E', 'S', 'T'}
	for round := range 300 {
		rnd := rand.New(rand.NewPCG(14, uint64(round)))
		fsys := vfstest.New()
		if err := fsys.MkdirAll("/d", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := fsys.SyncDir("/"); err != nil {
			t.Fatal(err)
		}
		p := "/d/checkpoint"
		payload := func(v int) []byte {
			return fmt.Appendf(nil, "%d %0*d", v, rnd.IntN(200), 0)
		}
		if err := WriteAtomicFS(fsys, p, Frame(magic, 1, payload(0))); err != nil {
			t.Fatal(err)
		}
		acked := 0
		fsys.PowerLossAfter(1 + rnd.IntN(40))
		if round%2 == 1 {
			// Unsynced renames may survive too (in these rounds).
			fsys.KeepUnsyncedEntries(rand.New(rand.NewPCG(uint64(round), 1)))
		}
		for v := 1; v < 20; v++ {
			if err := WriteAtomicFS(fsys, p, Frame(magic, 1, payload(v))); err != nil {
				break
			}
			acked = v
		}
		after := fsys.Crash()
		b, err := after.ReadFile(p)
		if err != nil {
			t.Fatalf("round %d: the file is gone after the power loss (last acknowledged version %d): %v", round, acked, err)
		}
		_, got, err := Unframe(magic, b)
		if err != nil {
			t.Fatalf("round %d: the file is torn after the power loss (last acknowledged version %d): %v", round, acked, err)
		}
		var v int
		if _, err := fmt.Sscan(string(got), &v); err != nil {
			t.Fatalf("round %d: payload %q: %v", round, got, err)
		}
		if v < acked {
			t.Fatalf("round %d: the file holds version %d after the power loss; version %d was acknowledged", round, v, acked)
		}
		RemoveTempsFS(after, "/d")
		if names, _ := vfs.Glob(after, "/d/*"); len(names) != 1 {
			t.Fatalf("round %d: after RemoveTemps the directory holds %v, want only %s", round, names, strconv.Quote(p))
		}
	}
}

// A directory MkdirAll creates, and a file synced in it, survive a power
// loss; with os.MkdirAll's semantics (no parent fsync) they would not.
func TestMkdirAllPowerLoss(t *testing.T) {
	fsys := vfstest.New()
	if err := MkdirAllFS(fsys, "/data/archive/companies"); err != nil {
		t.Fatal(err)
	}
	if err := MkdirAllFS(fsys, "/data/archive/companies"); err != nil {
		t.Fatalf("MkdirAll of an existing directory: %v", err)
	}
	if err := WriteAtomicFS(fsys, "/data/archive/companies/x.ckpt", []byte("kept")); err != nil {
		t.Fatal(err)
	}
	if b, err := fsys.Crash().ReadFile("/data/archive/companies/x.ckpt"); err != nil || string(b) != "kept" {
		t.Fatalf("after the power loss: %q, %v; want the file", b, err)
	}
	f := vfstest.New()
	if err := WriteAtomicFS(f, "/x", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := MkdirAllFS(f, "/x/y"); err == nil {
		t.Fatal("MkdirAll through a file succeeded")
	}
}
