package bench

import (
	"os"
	"runtime/pprof"
)

// workDir returns the directory a benchmark fills: the one given, or a new
// temporary one that cleanup removes.
func workDir(given, name string) (dir string, cleanup func(), err error) {
	if given != "" {
		return given, func() {}, nil
	}
	tmp, err := os.MkdirTemp("", "tenantpulse-bench-"+name+"-")
	if err != nil {
		return "", nil, err
	}
	return tmp, func() { os.RemoveAll(tmp) }, nil
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
