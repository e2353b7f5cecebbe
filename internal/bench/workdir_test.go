package bench

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tenantpulse/tenantpulse/internal/datadir"
)

// TestWorkDirLocks: a benchmark given a data directory in use (by a
// server, here a lock held in this process) is refused before it writes
// anything there; a free one is locked while the benchmark runs, and a
// temporary one is removed with its lock released.
func TestWorkDirLocks(t *testing.T) {
	busy := t.TempDir()
	held, err := datadir.Acquire(busy, "serve")
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadDir(busy)
	if _, _, _, err := workDir(busy, "analytics"); !errors.Is(err, datadir.ErrLocked) {
		t.Fatalf("workDir on a locked directory: %v, want ErrLocked", err)
	}
	if after, _ := os.ReadDir(busy); len(after) != len(before) {
		t.Fatalf("a refused benchmark changed the directory: %d entries, was %d", len(after), len(before))
	}
	held.Release()

	dir, _, cleanup, err := workDir(busy, "analytics")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := datadir.Acquire(dir, "serve"); !errors.Is(err, datadir.ErrLocked) {
		t.Fatalf("a server could take a directory a benchmark fills: %v", err)
	}
	cleanup()
	if _, err := os.Stat(filepath.Join(busy, datadir.LockFile)); err != nil {
		t.Fatalf("a given directory is kept: %v", err)
	}

	tmp, _, cleanup, err := workDir("", "archive")
	if err != nil {
		t.Fatal(err)
	}
	cleanup()
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Fatalf("the temporary directory is left: %v", err)
	}
}
