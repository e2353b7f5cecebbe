// Package datadir owns who may write a data directory: one process at a
// time, enforced by an exclusive flock(2) on <dir>/LOCK that the process
// holds for as long as it runs. The lock file names its holder (pid,
// command line, start time) so that a second process refused the lock can
// say who holds it. The kernel drops the lock when the holder exits,
// however it exits (kill -9 included), so a crash never leaves it stuck;
// the file itself stays, and the next holder rewrites it.
//
// Readers of a data directory (archive ls, archive verify, train) take no
// lock: they never write, so they run beside the holder. The format of the
// lock file is docs/format/lock.md. This package knows nothing of what the
// directory holds.
package datadir

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// LockFile is the name of the lock file inside a data directory.
const LockFile = "LOCK"

// lockHeader is the first line of a lock file.
const lockHeader = "tenantpulse data directory lock"

// ErrLocked reports that another process (or another open of the lock in
// this process) holds the data directory's lock. Errors that wrap it are
// *LockedError, which names the holder when the lock file says.
var ErrLocked = errors.New("the data directory is in use by another process")

// Owner is what a lock file says about its holder.
type Owner struct {
	PID     int
	Command string
	Started time.Time
}

// LockedError is the error of a refused Acquire.
type LockedError struct {
	Dir   string
	Owner Owner
	// Known is false when the lock file did not name its holder (it was
	// being written, or something else wrote it).
	Known bool
}

func (e *LockedError) Error() string {
	if !e.Known {
		return fmt.Sprintf("%s is locked by another process (%s names no holder); stop the other tenantpulse using it, or give this one another --data",
			e.Dir, filepath.Join(e.Dir, LockFile))
	}
	return fmt.Sprintf("%s is in use by pid %d (%s), running since %s; stop that process, or give this one another --data",
		e.Dir, e.Owner.PID, e.Owner.Command, e.Owner.Started.Format(time.RFC3339))
}

// Unwrap makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Unwrap() error { return ErrLocked }

// Lock is a held data directory lock.
type Lock struct {
	f   *os.File
	dir string
}

// Acquire takes the exclusive lock of dir, creating dir if it does not
// exist, and records the calling process (os.Getpid, command, now) in the
// lock file. It does not wait: if another process holds the lock it
// returns a *LockedError naming the holder, having changed nothing in dir
// (a refused Acquire opens the existing lock file and only reads it).
// Call it before opening or writing anything else in dir, and Release (or
// exit) when done.
func Acquire(dir, command string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create the data directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, LockFile)
	// O_CREATE leaves an existing file as it is (no truncation, no new
	// modification time); only the holder writes it, below.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot open the lock file %s: %w", path, err)
	}
	if err := flock(f, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, holderError(dir, f)
		}
		return nil, fmt.Errorf("cannot lock %s: %w", path, err)
	}
	b := encodeOwner(Owner{PID: os.Getpid(), Command: command, Started: time.Now().UTC()})
	// Written over the old content, then cut to length: a reader never
	// sees an empty file, only the old holder's or this one's.
	if _, err := f.WriteAt(b, 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot write the lock file %s: %w", path, err)
	}
	if err := f.Truncate(int64(len(b))); err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot write the lock file %s: %w", path, err)
	}
	return &Lock{f: f, dir: dir}, nil
}

// Dir returns the locked directory.
func (l *Lock) Dir() string { return l.dir }

// Release gives the lock up. The lock file stays (removing it would let a
// process that opened it just before hold a lock on a file nobody else
// sees); the next Acquire rewrites it.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the only descriptor drops the flock
	l.f = nil
	return err
}

// ReadOwner returns what dir's lock file says about its last holder, who
// may have exited since (the file outlives the lock).
func ReadOwner(dir string) (Owner, error) {
	b, err := os.ReadFile(filepath.Join(dir, LockFile))
	if err != nil {
		return Owner{}, err
	}
	return decodeOwner(b)
}

// holderError reads the holder from the lock file f. The holder writes it
// just after taking the lock, so a file that does not parse yet is read
// again for a moment before the holder is called unknown.
func holderError(dir string, f *os.File) error {
	e := &LockedError{Dir: dir}
	for i := 0; i < 20; i++ {
		b, err := io.ReadAll(io.NewSectionReader(f, 0, 4096))
		if err == nil {
			if o, err := decodeOwner(b); err == nil {
				e.Owner, e.Known = o, true
				return e
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return e
}

// flock retries flock(2) when a signal interrupts it.
func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

func encodeOwner(o Owner) []byte {
	// The command goes on one line: newlines in arguments become spaces.
	cmd := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, o.Command)
	return fmt.Appendf(nil, "%s\npid: %d\ncommand: %s\nstarted: %s\n",
		lockHeader, o.PID, cmd, o.Started.Format(time.RFC3339Nano))
}

func decodeOwner(b []byte) (Owner, error) {
	var o Owner
	sc := bufio.NewScanner(bytes.NewReader(b))
	if !sc.Scan() || sc.Text() != lockHeader {
		return o, fmt.Errorf("not a tenantpulse lock file: the first line is not %q", lockHeader)
	}
	seen := 0
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			return o, fmt.Errorf("lock file line %q is not key: value", sc.Text())
		}
		switch k {
		case "pid":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return o, fmt.Errorf("lock file pid %q is not a process id", v)
			}
			o.PID = n
			seen |= 1
		case "command":
			o.Command = v
			seen |= 2
		case "started":
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return o, fmt.Errorf("lock file start time %q: %w", v, err)
			}
			o.Started = t
			seen |= 4
		}
	}
	if seen != 7 {
		return o, errors.New("the lock file is incomplete: it needs pid, command and started")
	}
	return o, nil
}
