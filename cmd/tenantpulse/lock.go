package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/tenantpulse/tenantpulse/internal/datadir"
)

// commandLine is this process's command line, as the data directory's
// lock file names its holder.
func commandLine() string { return strings.Join(os.Args, " ") }

// lockData takes the exclusive lock of the data directory dir for a
// command that writes it, before anything in it is opened: a second
// writer is refused with the holder's pid and command (datadir.ErrLocked).
func lockData(dir string) (*datadir.Lock, error) {
	l, err := datadir.Acquire(dir, commandLine())
	if err != nil {
		return nil, fmt.Errorf("cannot lock the data directory: %w", err)
	}
	return l, nil
}
