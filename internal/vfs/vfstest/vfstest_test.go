package vfstest

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"testing"
)

func TestCrashKeepsOnlyWhatWasSynced(t *testing.T) {
	f := New()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.MkdirAll("/d", 0o755))
	must(f.SyncDir("/"))
	write := func(name, data string, sync bool) {
		t.Helper()
		h, err := f.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
		must(err)
		_, err = h.Write([]byte(data))
		must(err)
		if sync {
			must(h.Sync())
		}
		must(h.Close())
	}
	write("/d/synced", "kept", true)
	write("/d/unsynced", "lost", false)
	must(f.SyncDir("/d"))
	write("/d/synced", "overwritten, not synced", false)
	write("/d/new", "file synced, directory not", true)
	must(f.Rename("/d/synced", "/d/renamed")) // not followed by SyncDir

	if f.Crashed() {
		t.Fatal("Crashed before Crash")
	}
	g := f.Crash()
	if _, err := f.ReadFile("/d/synced"); !errors.Is(err, ErrPowerLost) {
		t.Fatalf("the crashed file system still answers: %v", err)
	}
	check := func(name, want string) {
		t.Helper()
		b, err := g.ReadFile(name)
		if want == "-" {
			if !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("%s: %q, %v; want it gone", name, b, err)
			}
			return
		}
		if err != nil || string(b) != want {
			t.Fatalf("%s: %q, %v; want %q", name, b, err, want)
		}
	}
	check("/d/synced", "kept") // the rewrite and the rename were never synced
	check("/d/unsynced", "")   // its entry was synced, its data never
	check("/d/new", "-")       // created after the directory's last sync
	check("/d/renamed", "-")   // the rename was never synced
}

func TestPowerLossAfter(t *testing.T) {
	f := New()
	f.PowerLossAfter(2)
	if err := f.MkdirAll("/a", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := f.SyncDir("/"); !errors.Is(err, ErrPowerLost) {
		t.Fatalf("second mutating operation: %v, want ErrPowerLost", err)
	}
	if !f.Crashed() {
		t.Fatal("not crashed after the power loss")
	}
	if _, err := f.Crash().Stat("/a"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("/a survived a power loss before its parent was synced: %v", err)
	}
}

// With KeepUnsyncedEntries a rename no directory sync covered may survive
// a power loss, with the renamed file's synced content only: the state a
// journal that committed the rename before the data leaves.
func TestKeepUnsyncedEntries(t *testing.T) {
	kept := 0
	for seed := range uint64(20) {
		f := New()
		f.KeepUnsyncedEntries(rand.New(rand.NewPCG(seed, 0)))
		h, err := f.OpenFile("/tmp-file", os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		h.Write([]byte("never synced"))
		h.Close()
		if err := f.Rename("/tmp-file", "/file"); err != nil {
			t.Fatal(err)
		}
		b, err := f.Crash().ReadFile("/file")
		switch {
		case err == nil && len(b) == 0:
			kept++
		case errors.Is(err, fs.ErrNotExist):
		default:
			t.Fatalf("seed %d: %q, %v; want the file empty or absent", seed, b, err)
		}
	}
	if kept == 0 || kept == 20 {
		t.Fatalf("the rename survived %d of 20 power losses; want some, not all", kept)
	}
}
