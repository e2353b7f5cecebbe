package fsutil

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteAtomicAndFrame(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.meta")
	magic := [4]byte{'T', 'E', 'S', 'T'}
	for _, payload := range []string{"first", "second, longer"} {
		if err := WriteAtomic(p, Frame(magic, 3, []byte(payload))); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		v, got, err := Unframe(magic, b)
		if err != nil || v != 3 || string(got) != payload {
			t.Fatalf("Unframe = %d, %q, %v; want 3, %q", v, got, err, payload)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".tmp-*")); len(m) != 0 {
		t.Fatalf("temporary files left behind: %v", m)
	}
	good := Frame(magic, 1, []byte("payload"))
	f := func(name string, b []byte) {
		t.Helper()
		if _, _, err := Unframe(magic, b); !errors.Is(err, ErrBadFrame) {
			t.Fatalf("%s: err %v, want ErrBadFrame", name, err)
		}
	}
	f("torn", good[:len(good)-1])
	f("short", good[:5])
	flipped := bytes.Clone(good)
	flipped[len(flipped)-1] ^= 1
	f("bit flip", flipped)
	f("other magic", Frame([4]byte{'O', 'T', 'H', 'R'}, 1, []byte("payload")))
}

func FuzzUnframe(f *testing.F) {
	magic := [4]byte{'T', 'E', 'S', 'T'}
	f.Add(Frame(magic, 1, []byte("payload")))
	f.Add([]byte("TEST"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, payload, err := Unframe(magic, b)
		if err != nil {
			return
		}
		if !bytes.Equal(Frame(magic, v, payload), b) {
			t.Fatal("frame does not re-encode to the same bytes")
		}
	})
}
