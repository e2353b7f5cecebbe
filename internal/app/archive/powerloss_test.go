package archive

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/objstore"
	"github.com/tenantpulse/tenantpulse/internal/sim"
	"github.com/tenantpulse/tenantpulse/internal/vfs/vfstest"
)

// TestArchivePowerLoss archives into a local store and keeps its
// checkpoints on a file system that keeps only what was synced, and loses
// power at a random operation in each of many runs while records keep
// arriving; each run starts from what the last one left durable. A file
// stored and counted in a checkpoint must survive, whole: in the end every
// record is archived exactly once. (The records' stream store is on the
// real disk; its own power-loss test is in internal/streamlog.)
func TestArchivePowerLoss(t *testing.T) {
	f := newFixture(t)
	g := sim.New(sim.Config{Seed: 6, Tenants: 8, Start: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)})
	rnd := rand.New(rand.NewPCG(14, 8))
	fsys := vfstest.New()
	for _, d := range []string{"/archive", "/checkpoints"} {
		if err := fsys.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := fsys.SyncFS("/"); err != nil {
		t.Fatal(err)
	}
	const runs = 25
	losses := 0
	for run := 0; run <= runs; run++ {
		last := run == runs // the last run stops cleanly
		if !last {
			f.feed(t, g, 300)
		}
		if _, err := objstore.RemoveTempsFS(fsys, "/archive"); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		objects, err := objstore.NewLocalFS(fsys, "/archive")
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		opts := f.options()
		opts.Store, opts.Dir, opts.FS = objects, "/checkpoints", fsys
		s, err := New(context.Background(), opts)
		if err != nil {
			t.Fatalf("run %d: the archiver does not start after the power loss: %v", run, err)
		}
		if !last {
			fsys.PowerLossAfter(1 + rnd.IntN(80))
			if run%2 == 1 {
				fsys.KeepUnsyncedEntries(rand.New(rand.NewPCG(uint64(run), 1)))
			}
		}
		s.Start()
		waitFor(t, "the archiver to read every record or lose power", func() bool { return fsys.Crashed() || f.allRead(s) })
		err = s.Stop() // stores what is buffered, unless the power is gone
		if fsys.Crashed() {
			losses++
		} else if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		fsys = fsys.Crash() // a clean stop, too, must leave everything durable
		f.objects, err = objstore.NewLocalFS(fsys, "/archive")
		if err != nil {
			t.Fatal(err)
		}
		// Some records may be still to archive, none may be twice.
		for k, n := range f.archived(t) {
			if n > 1 {
				t.Fatalf("run %d (unsynced entries kept: %v): %s is stored %d times, in %q", run, run%2 == 1, k, n, f.where[k])
			}
		}
	}
	if losses < runs/2 {
		t.Fatalf("power was lost in only %d of %d runs", losses, runs)
	}
	f.check(t, f.archived(t))
}
