package streamlog

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func openTest(t *testing.T, dir string, mod func(*Options)) *Store {
	t.Helper()
	o := Options{Dir: dir, MinFreeBytes: 1}
	if mod != nil {
		mod(&o)
	}
	s, err := Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func readAll(t *testing.T, sh *Shard, from uint64) []Record {
	t.Helper()
	var out []Record
	buf := make([]byte, MinReadBuffer+1<<20)
	for {
		res, err := sh.Read(from, 1000, 10<<20, buf, nil)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		for _, r := range res.Records {
			r.Data = bytes.Clone(r.Data)
			r.PartitionKey = bytes.Clone(r.PartitionKey)
			out = append(out, r)
		}
		from = res.Next
		if res.AtEnd {
			return out
		}
	}
}

func TestAppendReadRestart(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, func(o *Options) { o.SegmentBytes = 8 << 10 })
	st, err := s.CreateStream(StreamConfig{Name: "jobs", ShardCount: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateStream(StreamConfig{Name: "jobs", ShardCount: 2}); err == nil {
		t.Fatal("creating a stream twice succeeded")
	}
	sh := st.Shards()[0]
	var want [][]byte
	var seqs []Seq
	for i := 0; i < 500; i++ {
		d := []byte(fmt.Sprintf("record-%d-%s", i, bytes.Repeat([]byte{'x'}, i%50)))
		var q [1]Seq
		if _, err := sh.Append([]Entry{{PartitionKey: []byte("k"), Data: d}}, q[:]); err != nil {
			t.Fatal(err)
		}
		if len(seqs) > 0 && q[0].String() <= seqs[len(seqs)-1].String() {
			t.Fatalf("sequence number %s does not increase after %s", q[0], seqs[len(seqs)-1])
		}
		want = append(want, d)
		seqs = append(seqs, q[0])
	}
	check := func(sh *Shard) {
		t.Helper()
		got := readAll(t, sh, 0)
		if len(got) != len(want) {
			t.Fatalf("read %d records, want %d", len(got), len(want))
		}
		for i, r := range got {
			if !bytes.Equal(r.Data, want[i]) || r.Offset != uint64(i) {
				t.Fatalf("record %d: offset %d data %q, want %q", i, r.Offset, r.Data, want[i])
			}
		}
	}
	check(sh)
	segs, _ := filepath.Glob(filepath.Join(dir, "streams", "s-jobs", "shardId-000000000000", "*.seg"))
	if len(segs) < 3 {
		t.Fatalf("want several segments with 8 KiB segments, got %d", len(segs))
	}
	s.Close()

	s = openTest(t, dir, nil)
	defer s.Close()
	st, err = s.Stream("jobs")
	if err != nil {
		t.Fatal(err)
	}
	sh = st.Shards()[0]
	check(sh)
	var q [1]Seq
	if _, err := sh.Append([]Entry{{PartitionKey: []byte("k"), Data: []byte("after")}}, q[:]); err != nil {
		t.Fatal(err)
	}
	if q[0].Offset != 500 || q[0].String() <= seqs[len(seqs)-1].String() {
		t.Fatalf("after restart got seq %s (offset %d), want offset 500 and greater than %s", q[0], q[0].Offset, seqs[len(seqs)-1])
	}
}

func TestTornTailTruncated(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, nil)
	st, _ := s.CreateStream(StreamConfig{Name: "a", ShardCount: 1})
	sh := st.Shards()[0]
	seqs := make([]Seq, 10)
	entries := make([]Entry, 10)
	for i := range entries {
		entries[i] = Entry{PartitionKey: []byte("pk"), Data: []byte(fmt.Sprintf("d%d", i))}
	}
	if _, err := sh.Append(entries, seqs); err != nil {
		t.Fatal(err)
	}
	path := sh.active.path
	s.Close()
	// Simulate a crash mid-write: half a record at the end, no index.
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	rec := appendRecord(nil, 10, time.Now().UnixMilli(), []byte("pk"), []byte("torn"))
	f.Write(rec[:len(rec)-3])
	f.Close()
	os.Remove(idxPath(path))

	s = openTest(t, dir, nil)
	defer s.Close()
	st, _ = s.Stream("a")
	got := readAll(t, st.Shards()[0], 0)
	if len(got) != 10 || string(got[9].Data) != "d9" {
		t.Fatalf("after torn tail: %d records, want 10 ending d9", len(got))
	}
	fi, _ := os.Stat(path)
	if fi.Size() != int64(segHeaderSize+10*len(appendRecord(nil, 0, 0, []byte("pk"), []byte("d0")))) {
		t.Fatalf("segment is %d bytes after recovery; torn tail not truncated", fi.Size())
	}
}

func TestHashRangesAndRouting(t *testing.T) {
	r := splitRanges(2)
	if r[0][0].String() != "0" || r[0][1].String() != "170141183460469231731687303715884105727" ||
		r[1][0].String() != "170141183460469231731687303715884105728" || r[1][1] != MaxHashKey {
		t.Fatalf("ranges for 2 shards: %v", r)
	}
	f := func(s string, ok bool) {
		t.Helper()
		k, err := ParseHashKey([]byte(s))
		if (err == nil) != ok {
			t.Fatalf("ParseHashKey(%q) error %v, want ok=%v", s, err, ok)
		}
		if ok && k.String() != s {
			t.Fatalf("ParseHashKey(%q) = %s", s, k)
		}
	}
	f("0", true)
	f("340282366920938463463374607431768211455", true)
	f("340282366920938463463374607431768211456", false)
	f("170141183460469231731687303715884105728", true)
	f("01", false)
	f("-1", false)
	f("", false)
	// MD5("a") = 0cc175b9c0f1b6a831c399e269772661 -> shard 0 of 2.
	if k := HashPartitionKey([]byte("a")); k[0] != 0x0c {
		t.Fatalf("md5 of a: %x", k)
	}
}

func TestSeqRoundTrip(t *testing.T) {
	q := Seq{Gen: 1764108546123, Shard: 3, Offset: 42}
	s := q.String()
	if len(s) != SeqLen {
		t.Fatalf("len %d", len(s))
	}
	p, err := ParseSeq(s)
	if err != nil || p != q {
		t.Fatalf("ParseSeq(%s) = %v, %v", s, p, err)
	}
	if _, err := ParseSeq("123"); err == nil {
		t.Fatal("short sequence number parsed")
	}
}

func TestOffsetAtTimeAndRetention(t *testing.T) {
	var mu sync.Mutex
	now := time.Now().Add(-48 * time.Hour)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	set := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	s := openTest(t, t.TempDir(), func(o *Options) { o.Now = clock; o.SegmentBytes = 4 << 10; o.RetentionCheck = time.Hour })
	defer s.Close()
	st, _ := s.CreateStream(StreamConfig{Name: "r", ShardCount: 1})
	sh := st.Shards()[0]
	seq := make([]Seq, 1)
	start := clock()
	for i := 0; i < 100; i++ {
		set(start.Add(time.Duration(i) * time.Minute))
		sh.Append([]Entry{{PartitionKey: []byte("k"), Data: bytes.Repeat([]byte("y"), 200)}}, seq)
	}
	off, err := sh.OffsetAtTime(start.Add(30 * time.Minute).UnixMilli())
	if err != nil || off != 30 {
		t.Fatalf("OffsetAtTime(+30m) = %d, %v; want 30", off, err)
	}
	// 24h after record 50 arrived, records 0..50 are past retention.
	set(start.Add(24*time.Hour + 50*time.Minute + time.Second))
	first, end, _ := sh.Bounds()
	if first != 51 || end != 100 {
		t.Fatalf("Bounds = %d, %d; want 51, 100", first, end)
	}
	got := readAll(t, sh, 0)
	if len(got) != 49 || got[0].Offset != 51 {
		t.Fatalf("read %d records from 0 (first %d); want 49 from 51", len(got), got[0].Offset)
	}
	before := len(sh.segs)
	s.expire()
	if len(sh.segs) >= before {
		t.Fatalf("expire deleted no segment (%d before, %d after)", before, len(sh.segs))
	}
	got = readAll(t, sh, 0)
	if len(got) != 49 || got[0].Offset != 51 {
		t.Fatalf("after expiry read %d records (first %d); want 49 from 51", len(got), got[0].Offset)
	}
}

func TestIntervalModeVisibility(t *testing.T) {
	s := openTest(t, t.TempDir(), func(o *Options) { o.Fsync = FsyncInterval; o.FsyncInterval = 50 * time.Millisecond })
	defer s.Close()
	st, _ := s.CreateStream(StreamConfig{Name: "i", ShardCount: 1})
	sh := st.Shards()[0]
	seq := make([]Seq, 1)
	if _, err := sh.Append([]Entry{{PartitionKey: []byte("k"), Data: []byte("x")}}, seq); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(readAll(t, sh, 0)) == 1 })
}

func TestConcurrentAppends(t *testing.T) {
	s := openTest(t, t.TempDir(), func(o *Options) { o.SegmentBytes = 64 << 10 })
	defer s.Close()
	st, _ := s.CreateStream(StreamConfig{Name: "c", ShardCount: 1})
	sh := st.Shards()[0]
	var wg sync.WaitGroup
	for p := 0; p < 8; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seqs := make([]Seq, 10)
			entries := make([]Entry, 10)
			for i := 0; i < 50; i++ {
				for j := range entries {
					entries[j] = Entry{PartitionKey: []byte(fmt.Sprint(p)), Data: []byte(fmt.Sprintf("%d-%d-%d", p, i, j))}
				}
				if _, err := sh.Append(entries, seqs); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got := readAll(t, sh, 0)
	if len(got) != 4000 {
		t.Fatalf("read %d, want 4000", len(got))
	}
	last := map[string]string{}
	for i, r := range got {
		if r.Offset != uint64(i) {
			t.Fatalf("offset %d at position %d", r.Offset, i)
		}
		var p, a, b int
		fmt.Sscanf(string(r.Data), "%d-%d-%d", &p, &a, &b)
		k := fmt.Sprintf("%04d-%04d", a, b)
		if prev, ok := last[string(r.PartitionKey)]; ok && prev >= k {
			t.Fatalf("per-key order broken for key %s: %s after %s", r.PartitionKey, k, prev)
		}
		last[string(r.PartitionKey)] = k
	}
}

func TestAppendPadded(t *testing.T) {
	f := func(v uint64, width int, want string) {
		t.Helper()
		if got := string(appendPadded([]byte("x"), v, width)); got != "x"+want {
			t.Fatalf("appendPadded(%d, %d) = %q, want x%s", v, width, got, want)
		}
	}
	f(0, 3, "000")
	f(7, 3, "007")
	f(10, 3, "010")
	f(99, 2, "99")
	f(100, 5, "00100")
	f(1764108546123, 20, "00000001764108546123")
	f(18446744073709551615, 20, "18446744073709551615")
	for _, q := range []Seq{{}, {Gen: 1, Shard: 99, Offset: 1000}, {Gen: 1<<64 - 1, Shard: 1<<32 - 1, Offset: 1<<64 - 1}} {
		if p, err := ParseSeq(q.String()); err != nil || p != q {
			t.Fatalf("ParseSeq(%s) = %v, %v", q, p, err)
		}
	}
}

// With FsyncInterval, a write is acknowledged before it is synced, and
// readers see it only once it is: no consumer acts on a record that a
// machine crash could still lose.
func TestIntervalModeReadersSeeOnlySynced(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, func(o *Options) { o.Fsync = FsyncInterval; o.FsyncInterval = time.Hour })
	st, _ := s.CreateStream(StreamConfig{Name: "i", ShardCount: 1})
	sh := st.Shards()[0]
	seq := make([]Seq, 1)
	if _, err := sh.Append([]Entry{{PartitionKey: []byte("k"), Data: []byte("unsynced")}}, seq); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, sh, 0); len(got) != 0 {
		t.Fatalf("a reader saw %d unsynced records", len(got))
	}
	if _, end, _ := sh.Bounds(); end != 0 {
		t.Fatalf("LATEST is %d before the sync, want 0", end)
	}
	sh.syncNow()
	if got := readAll(t, sh, 0); len(got) != 1 || string(got[0].Data) != "unsynced" {
		t.Fatalf("after the sync a reader saw %d records, want 1", len(got))
	}
	s.Close()
	s = openTest(t, dir, nil)
	defer s.Close()
	st, _ = s.Stream("i")
	if got := readAll(t, st.Shards()[0], 0); len(got) != 1 {
		t.Fatalf("after restart %d records, want 1", len(got))
	}
}

// The active segment keeps zeroed space ahead of its end; a crash leaves it
// there, and recovery keeps every record and drops the zeros.
func TestPreallocatedSpaceAfterCrash(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, func(o *Options) { o.SegmentBytes = 1 << 20 })
	st, _ := s.CreateStream(StreamConfig{Name: "p", ShardCount: 1})
	sh := st.Shards()[0]
	seq := make([]Seq, 1)
	for i := 0; i < 100; i++ {
		if _, err := sh.Append([]Entry{{PartitionKey: []byte("k"), Data: []byte(fmt.Sprintf("r%d", i))}}, seq); err != nil {
			t.Fatal(err)
		}
	}
	active := sh.active.path
	fi, _ := os.Stat(active)
	if fi.Size() <= sh.active.size {
		t.Fatalf("active segment is %d bytes for %d bytes of records: nothing preallocated", fi.Size(), sh.active.size)
	}
	// A crash: copy the files as they are, without closing.
	crashed := t.TempDir()
	if err := os.CopyFS(crashed, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if fi, _ := os.Stat(active); fi.Size() != sh.active.size {
		t.Fatalf("after a clean close the segment is %d bytes, want %d (trimmed)", fi.Size(), sh.active.size)
	}
	s2 := openTest(t, crashed, nil)
	defer s2.Close()
	st2, _ := s2.Stream("p")
	got := readAll(t, st2.Shards()[0], 0)
	if len(got) != 100 || string(got[99].Data) != "r99" {
		t.Fatalf("after the crash %d records, want 100", len(got))
	}
	if _, err := st2.Shards()[0].Append([]Entry{{PartitionKey: []byte("k"), Data: []byte("next")}}, seq); err != nil || seq[0].Offset != 100 {
		t.Fatalf("append after recovery: offset %d, %v; want 100", seq[0].Offset, err)
	}
}

// Reads into a buffer that fills up part-way stop there and go on from
// where they stopped, whatever the buffer size and record sizes.
func TestReadWithSmallBuffers(t *testing.T) {
	s := openTest(t, t.TempDir(), nil)
	defer s.Close()
	st, _ := s.CreateStream(StreamConfig{Name: "b", ShardCount: 1})
	sh := st.Shards()[0]
	var want []string
	seqs := make([]Seq, 500)
	var batch []Entry
	for i := 0; i < 15000; i++ {
		// 100-byte frames: the buffer sizes below end at every position
		// inside a frame, the header's first 8 bytes included.
		d := fmt.Sprintf("%06d-%s", i, bytes.Repeat([]byte("z"), 66))
		want = append(want, d)
		batch = append(batch, Entry{PartitionKey: []byte("k"), Data: []byte(d)})
		if len(batch) == 500 {
			if _, err := sh.Append(batch, seqs); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	for d := 0; d < 100; d++ {
		buf := make([]byte, MinReadBuffer+d)
		var got []string
		from := uint64(0)
		for calls := 0; ; calls++ {
			if calls > 100 {
				t.Fatalf("buffer %d: no progress after %d reads at offset %d", len(buf), calls, from)
			}
			res, err := sh.Read(from, 100000, 10<<20, buf[:0], nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res.Records {
				got = append(got, string(r.Data))
			}
			from = res.Next
			if res.AtEnd {
				break
			}
		}
		if len(got) != len(want) || got[len(got)-1] != want[len(want)-1] {
			t.Fatalf("buffer %d: read %d records, want %d", len(buf), len(got), len(want))
		}
	}
}
