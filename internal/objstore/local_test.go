package objstore_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tenantpulse/tenantpulse/internal/objstore"
	"github.com/tenantpulse/tenantpulse/internal/objstore/objstoretest"
)

func TestLocalConformance(t *testing.T) {
	objstoretest.Run(t, func(t *testing.T) objstore.Store {
		s, err := objstore.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func newLocal(t *testing.T) (objstore.Store, string) {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "archive")
	s, err := objstore.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBucket(t.Context(), "tp-local"); err != nil {
		t.Fatal(err)
	}
	return s, dir
}

// files lists every file and directory under root, relative, with '/'.
func files(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLocalPathEscape(t *testing.T) {
	s, dir := newLocal(t)
	root := filepath.Dir(dir)
	if err := os.WriteFile(filepath.Join(root, "x"), []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := files(t, root)
	f := func(bucket, key string) {
		t.Helper()
		if err := s.Put(t.Context(), bucket, key, []byte("escaped")); !errors.Is(err, objstore.ErrInvalidName) {
			t.Fatalf("Put(%q, %q) = %v, want ErrInvalidName", bucket, key, err)
		}
		if b, err := s.Get(t.Context(), bucket, key); !errors.Is(err, objstore.ErrInvalidName) {
			t.Fatalf("Get(%q, %q) = %q, %v; want ErrInvalidName", bucket, key, b, err)
		}
		if err := s.Delete(t.Context(), bucket, key); !errors.Is(err, objstore.ErrInvalidName) {
			t.Fatalf("Delete(%q, %q) = %v, want ErrInvalidName", bucket, key, err)
		}
	}
	f("tp-local", "../x")
	f("tp-local", "../../x")
	f("tp-local", "a/../../../x")
	f("tp-local", "/abs")
	f("tp-local", filepath.Join(root, "x"))
	f("tp-local", "a//b")
	f("tp-local", "a/")
	f("..", "x")
	f(".", "x")
	f("..", "archive/tp-local/x")
	f("../archive", "x")
	f("tp-local/..", "x")
	if err := s.CreateBucket(t.Context(), ".."); !errors.Is(err, objstore.ErrInvalidName) {
		t.Fatalf("CreateBucket(..) = %v, want ErrInvalidName", err)
	}
	if objs, err := s.List(t.Context(), "tp-local", "../"); err != nil || len(objs) != 0 {
		t.Fatalf("List(../) = %v, %v; want nothing", objs, err)
	}
	if objs, err := s.List(t.Context(), "..", ""); !errors.Is(err, objstore.ErrInvalidName) {
		t.Fatalf("List of bucket .. = %v, %v; want ErrInvalidName", objs, err)
	}
	if after := files(t, root); !slices.Equal(after, before) {
		t.Fatalf("files changed: %q, then %q", before, after)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "x")); string(b) != "outside" {
		t.Fatalf("file outside the store was overwritten: %q", b)
	}
}

func TestLocalLayout(t *testing.T) {
	s, dir := newLocal(t)
	const key = "events/stream=jobs/dt=2026-11-25/x.parquet"
	if err := s.Put(t.Context(), "tp-local", key, []byte("pq")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "tp-local", "events", "stream=jobs", "dt=2026-11-25", "x.parquet"))
	if err != nil || string(b) != "pq" {
		t.Fatalf("the object's file = %q, %v; want pq", b, err)
	}
	if err := s.Delete(t.Context(), "tp-local", key); err != nil {
		t.Fatal(err)
	}
	if got := files(t, dir); !slices.Equal(got, []string{".", "tp-local"}) {
		t.Fatalf("after Delete, the store holds %q; want the empty bucket only", got)
	}
}

func TestLocalKeyDirectoryConflict(t *testing.T) {
	s, _ := newLocal(t)
	if err := s.Put(t.Context(), "tp-local", "a/b", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(t.Context(), "tp-local", "a", []byte("y")); err == nil || !strings.Contains(err.Error(), "also a directory") {
		t.Fatalf("Put(a) with a/b stored = %v, want an error saying a is a directory of other keys", err)
	}
	if err := s.Put(t.Context(), "tp-local", "a/b/c", []byte("z")); err == nil || !strings.Contains(err.Error(), `"a/b" is an object`) {
		t.Fatalf("Put(a/b/c) with a/b stored = %v, want an error naming a/b", err)
	}
	if objs, err := s.List(t.Context(), "tp-local", ""); err != nil || len(objs) != 1 {
		t.Fatalf("List = %v, %v; want a/b only", objs, err)
	}
}

func TestLocalCrashLeftovers(t *testing.T) {
	s, dir := newLocal(t)
	if err := s.Put(t.Context(), "tp-local", "d/x", []byte("x")); err != nil {
		t.Fatal(err)
	}
	// What a crash between create and rename leaves: temporary files beside
	// objects, at the bucket's top and in a directory of their own.
	temps := []string{
		filepath.Join(dir, "tp-local", "d", ".tmp-123456"),
		filepath.Join(dir, "tp-local", ".tmp-99"),
		filepath.Join(dir, "tp-local", "e", ".tmp-7"),
	}
	for _, p := range temps {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	objs, err := s.List(t.Context(), "tp-local", "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(objs, []objstore.Object{{Key: "d/x", Size: 1}}) {
		t.Fatalf("List with temporary files = %v, want d/x only", objs)
	}
	n, err := objstore.RemoveTemps(dir)
	if err != nil || n != len(temps) {
		t.Fatalf("RemoveTemps = %d, %v; want %d", n, err, len(temps))
	}
	for _, p := range temps {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%s survived RemoveTemps: %v", p, err)
		}
	}
	if b, err := s.Get(t.Context(), "tp-local", "d/x"); err != nil || string(b) != "x" {
		t.Fatalf("Get(d/x) after RemoveTemps = %q, %v", b, err)
	}
	if n, err := objstore.RemoveTemps(filepath.Join(dir, "missing")); n != 0 || err != nil {
		t.Fatalf("RemoveTemps of a missing directory = %d, %v; want 0, nil", n, err)
	}
}

// TestLocalPutFailureLeavesNothing puts over a directory that something
// other than the store made, and checks that the Put fails and leaves
// neither an object nor a temporary file.
func TestLocalPutFailureLeavesNothing(t *testing.T) {
	s, dir := newLocal(t)
	if err := os.MkdirAll(filepath.Join(dir, "tp-local", "k", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(t.Context(), "tp-local", "k", []byte("body")); err == nil {
		t.Fatal("Put over a directory succeeded")
	}
	if got := files(t, filepath.Join(dir, "tp-local")); !slices.Equal(got, []string{".", "k", "k/sub"}) {
		t.Fatalf("after a failed Put the bucket holds %q", got)
	}
}
