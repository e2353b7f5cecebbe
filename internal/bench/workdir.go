package bench

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/tenantpulse/tenantpulse/internal/datadir"
)

// workDir returns the directory a benchmark fills, with its data
// directory lock held: the one given (refused while a server or another
// benchmark uses it), or a new temporary one that cleanup removes.
// cleanup releases the lock.
func workDir(given, name string) (dir string, lock *datadir.Lock, cleanup func(), err error) {
	dir = given
	if dir == "" {
		if dir, err = os.MkdirTemp("", "tenantpulse-bench-"+name+"-"); err != nil {
			return "", nil, nil, err
		}
	}
	lock, err = datadir.Acquire(dir, "bench "+name)
	if err != nil {
		if given == "" {
			os.RemoveAll(dir)
		}
		return "", nil, nil, fmt.Errorf("cannot lock the data directory: %w", err)
	}
	return dir, lock, func() {
		lock.Release()
		if given == "" {
			os.RemoveAll(dir)
		}
	}, nil
}

// startCPUProfile profiles the process into path until stop; with no path
// it does nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
