package datadir

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// holderEnv, when set, makes the test binary a child that holds the lock
// of the directory it names until its stdin closes (see TestMain).
const holderEnv = "DATADIR_TEST_HOLD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(holderEnv); dir != "" {
		l, err := Acquire(dir, "lock-holder child")
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("locked")
		bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin
		l.Release()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestAcquireTwiceInOneProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	l, err := Acquire(dir, "tenantpulse serve --data "+dir)
	if err != nil {
		t.Fatal(err)
	}
	// A second open of the lock file is a second open file description:
	// flock refuses it just as it would another process.
	_, err = Acquire(dir, "second")
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
		t.Fatalf("second Acquire: %v, want a *LockedError wrapping ErrLocked", err)
	}
	if !le.Known || le.Owner.PID != os.Getpid() || le.Owner.Command != "tenantpulse serve --data "+dir {
		t.Fatalf("the refusal names %+v (known %v), want pid %d and the first command", le.Owner, le.Known, os.Getpid())
	}
	for _, want := range []string{fmt.Sprintf("pid %d", os.Getpid()), "tenantpulse serve --data", "another --data"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	l2, err := Acquire(dir, "third")
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	defer l2.Release()
	o, err := ReadOwner(dir)
	if err != nil || o.Command != "third" || o.PID != os.Getpid() {
		t.Fatalf("ReadOwner = %+v, %v; want the third holder", o, err)
	}
}

// TestRefusedAcquireWritesNothing checks a refused Acquire leaves the lock
// file's content and modification time as they were.
func TestRefusedAcquireWritesNothing(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(dir, "holder")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	path := filepath.Join(dir, LockFile)
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	if _, err := Acquire(dir, "intruder"); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Acquire: %v, want ErrLocked", err)
	}
	after, _ := os.ReadFile(path)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) || !st.ModTime().Equal(old) {
		t.Fatalf("the refused Acquire changed the lock file: %q (mtime %s) -> %q (mtime %s)", before, old, after, st.ModTime())
	}
}

// TestLockHeldByAnotherProcess starts a child that holds the lock: this
// process is refused with the child's pid, and after the child is killed
// with SIGKILL (no chance to release anything) the lock is free.
func TestLockHeldByAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), holderEnv+"="+dir)
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		child.Process.Kill()
		child.Wait()
		t.Fatalf("the child did not take the lock: %q, %v", line, err)
	}

	_, err = Acquire(dir, "parent")
	var le *LockedError
	if !errors.As(err, &le) || le.Owner.PID != child.Process.Pid || le.Owner.Command != "lock-holder child" {
		child.Process.Kill()
		child.Wait()
		t.Fatalf("Acquire beside the child: %v, want the child's pid %d named", err, child.Process.Pid)
	}

	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	l, err := Acquire(dir, "parent")
	if err != nil {
		t.Fatalf("Acquire after the holder was killed: %v", err)
	}
	l.Release()
}

func TestLockedErrorUnknownHolder(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(dir, "holder")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	// Something else overwrote the file: the refusal still says where the
	// lock is, without a holder.
	if err := os.WriteFile(filepath.Join(dir, LockFile), []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(dir, "second")
	var le *LockedError
	if !errors.As(err, &le) || le.Known || !strings.Contains(err.Error(), "names no holder") {
		t.Fatalf("Acquire: %v, want a refusal with an unknown holder", err)
	}
}

func TestOwnerRoundTrip(t *testing.T) {
	f := func(o Owner, want Owner) {
		t.Helper()
		got, err := decodeOwner(encodeOwner(o))
		if err != nil {
			t.Fatalf("decode(encode(%+v)): %v", o, err)
		}
		if got.PID != want.PID || got.Command != want.Command || !got.Started.Equal(want.Started) {
			t.Fatalf("decode(encode(%+v)) = %+v, want %+v", o, got, want)
		}
	}
	at := time.Date(2026, 12, 3, 9, 30, 0, 123456789, time.UTC)
	f(Owner{PID: 42, Command: "tenantpulse serve --data ./data", Started: at}, Owner{PID: 42, Command: "tenantpulse serve --data ./data", Started: at})
	f(Owner{PID: 7, Command: "a\nb: c", Started: at}, Owner{PID: 7, Command: "a b: c", Started: at})
	f(Owner{PID: 1, Command: "", Started: at}, Owner{PID: 1, Command: "", Started: at})
}

func TestDecodeOwnerRejects(t *testing.T) {
	for _, in := range []string{
		"",
		"pid: 1\n",
		lockHeader + "\n",
		lockHeader + "\npid: x\ncommand: c\nstarted: 2026-12-03T09:30:00Z\n",
		lockHeader + "\npid: -4\ncommand: c\nstarted: 2026-12-03T09:30:00Z\n",
		lockHeader + "\npid: 4\ncommand: c\n",
		lockHeader + "\npid: 4\ncommand: c\nstarted: yesterday\n",
		lockHeader + "\npid 4\n",
	} {
		if o, err := decodeOwner([]byte(in)); err == nil {
			t.Errorf("decodeOwner(%q) = %+v, want an error", in, o)
		}
	}
}

func FuzzDecodeOwner(f *testing.F) {
	f.Add(encodeOwner(Owner{PID: 42, Command: "tenantpulse serve", Started: time.Unix(1e9, 0).UTC()}))
	f.Add([]byte(lockHeader + "\npid: 1\ncommand: \nstarted: 2026-12-03T09:30:00Z\n"))
	f.Add([]byte("junk"))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := decodeOwner(b)
		if err != nil {
			return
		}
		// What decodes re-encodes to something that decodes the same.
		o2, err := decodeOwner(encodeOwner(o))
		if err != nil || o2.PID != o.PID || o2.Command != o.Command || !o2.Started.Equal(o.Started) {
			t.Fatalf("%+v re-decoded as %+v, %v", o, o2, err)
		}
	})
}
