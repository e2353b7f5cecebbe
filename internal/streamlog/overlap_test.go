package streamlog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// twoWriters reproduces two processes on one data directory: a store
// writes 5 records to shard 0; a second store opens the same directory
// (starting its own segment there) and appends extra records, then
// closes; the first writes 5 more and closes. It returns the directory.
func twoWriters(t *testing.T, extra int) string {
	t.Helper()
	dir := t.TempDir()
	first := openTest(t, dir, nil)
	st, err := first.CreateStream(StreamConfig{Name: "jobs", ShardCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	put := func(st *Stream, from, n int) {
		t.Helper()
		for i := from; i < from+n; i++ {
			e := []Entry{{PartitionKey: []byte("k"), Data: []byte(fmt.Sprintf("r%d", i))}}
			if _, err := st.Shards()[0].Append(e, make([]Seq, 1)); err != nil {
				t.Fatal(err)
			}
		}
	}
	put(st, 0, 5)
	second := openTest(t, dir, nil)
	st2, err := second.Stream("jobs")
	if err != nil {
		t.Fatal(err)
	}
	put(st2, 100, extra)
	second.Close()
	put(st, 5, 5)
	first.Close()
	return dir
}

// TestEmptySegmentOfASecondProcess: the second process only started a
// segment (it failed on the port, say): the store opens, drops that empty
// segment, and holds the first one's ten records.
func TestEmptySegmentOfASecondProcess(t *testing.T) {
	dir := twoWriters(t, 0)
	s, err := Open(Options{Dir: dir, MinFreeBytes: 1})
	if err != nil {
		t.Fatalf("Open after a second process started an empty segment: %v", err)
	}
	defer s.Close()
	st, _ := s.Stream("jobs")
	recs := readAll(t, st.Shards()[0], 0)
	if len(recs) != 10 || string(recs[9].Data) != "r9" {
		t.Fatalf("read %d records, want the first process's 10", len(recs))
	}
}

// TestOverlappingSegmentsNamed: the second process wrote records too: the
// store does not open, and says which files, which offsets, and what to do.
func TestOverlappingSegmentsNamed(t *testing.T) {
	dir := twoWriters(t, 2)
	_, err := Open(Options{Dir: dir, MinFreeBytes: 1})
	if !errors.Is(err, ErrOverlap) {
		t.Fatalf("Open: %v, want ErrOverlap", err)
	}
	shardDir := filepath.Join(dir, streamsDir, "s-jobs", ShardID(0))
	segs, _ := filepath.Glob(filepath.Join(shardDir, "*"+segSuffix))
	if len(segs) < 2 {
		t.Fatalf("the shard holds %d segments, want the two writers'", len(segs))
	}
	for _, want := range append(segs[len(segs)-2:], "offsets 5 to 7", "two processes wrote this shard", "move one of the two .seg files", shardDir, "docs/operations.md") {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
}

// TestOpenErrorsSayWhatToDo: a segment or a stream's metadata that cannot
// be read stops the start with an error naming the file and the way out.
func TestOpenErrorsSayWhatToDo(t *testing.T) {
	f := func(corrupt func(t *testing.T, dir string) string, wants ...string) {
		t.Helper()
		dir := t.TempDir()
		s := openTest(t, dir, nil)
		st, err := s.CreateStream(StreamConfig{Name: "jobs", ShardCount: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Shards()[0].Append([]Entry{{PartitionKey: []byte("k"), Data: []byte("a")}}, make([]Seq, 1)); err != nil {
			t.Fatal(err)
		}
		s.Close()
		path := corrupt(t, dir)
		_, err = Open(Options{Dir: dir, MinFreeBytes: 1})
		if err == nil {
			t.Fatalf("Open with %s corrupted succeeded", path)
		}
		for _, w := range append(wants, path) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("the error does not say %q:\n%v", w, err)
			}
		}
	}
	overwrite := func(t *testing.T, path string) {
		t.Helper()
		fh, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		if _, err := fh.WriteAt([]byte("XXXX"), 0); err != nil {
			t.Fatal(err)
		}
	}
	f(func(t *testing.T, dir string) string {
		segs, _ := filepath.Glob(filepath.Join(dir, streamsDir, "s-jobs", ShardID(0), "*"+segSuffix))
		overwrite(t, segs[0])
		return segs[0]
	}, "segment magic", "move it (with its .idx) out of", "restore the file from a backup")
	f(func(t *testing.T, dir string) string {
		p := filepath.Join(dir, streamsDir, "s-jobs")
		overwrite(t, filepath.Join(p, metaFile))
		return p
	}, "move the whole directory out of", "restore it from a backup")
}
