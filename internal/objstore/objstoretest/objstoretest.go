// Package objstoretest is the conformance suite every objstore.Store
// backend passes: Run it with a constructor that gives each case a fresh,
// empty store.
package objstoretest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tenantpulse/tenantpulse/internal/objstore"
)

// Run runs every case, each with a fresh store from newStore.
func Run(t *testing.T, newStore func(t *testing.T) objstore.Store) {
	cases := []struct {
		name string
		f    func(t *testing.T, s objstore.Store)
	}{
		{"CreateBucket", testCreateBucket},
		{"RoundTrip", testRoundTrip},
		{"Overwrite", testOverwrite},
		{"NotFound", testNotFound},
		{"List", testList},
		{"ListPagination", testListPagination},
		{"Delete", testDelete},
		{"Buckets", testBuckets},
		{"ConcurrentPuts", testConcurrentPuts},
		{"PutMany", testPutMany},
		{"ConcurrentPutDelete", testConcurrentPutDelete},
		{"OddKeys", testOddKeys},
		{"InvalidNames", testInvalidNames},
		{"Canceled", testCanceled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.f(t, newStore(t))
		})
	}
}

func createBucket(t *testing.T, s objstore.Store, bucket string) {
	t.Helper()
	if err := s.CreateBucket(t.Context(), bucket); err != nil {
		t.Fatalf("CreateBucket(%q): %v", bucket, err)
	}
}

func put(t *testing.T, s objstore.Store, bucket, key string, body []byte) {
	t.Helper()
	if err := s.Put(t.Context(), bucket, key, body); err != nil {
		t.Fatalf("Put(%q, %q): %v", bucket, key, err)
	}
}

func get(t *testing.T, s objstore.Store, bucket, key string, want []byte) {
	t.Helper()
	got, err := s.Get(t.Context(), bucket, key)
	if err != nil {
		t.Fatalf("Get(%q, %q): %v", bucket, key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q, %q) = %d bytes %.32q, want %d bytes %.32q", bucket, key, len(got), got, len(want), want)
	}
}

func list(t *testing.T, s objstore.Store, bucket, prefix string) []objstore.Object {
	t.Helper()
	objs, err := s.List(t.Context(), bucket, prefix)
	if err != nil {
		t.Fatalf("List(%q, %q): %v", bucket, prefix, err)
	}
	if objs == nil {
		// Not wrong for a caller, but both backends promise a slice.
		t.Fatalf("List(%q, %q) = nil, want a (possibly empty) slice", bucket, prefix)
	}
	return objs
}

func keys(objs []objstore.Object) []string {
	ks := make([]string, len(objs))
	for i, o := range objs {
		ks[i] = o.Key
	}
	return ks
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func testCreateBucket(t *testing.T, s objstore.Store) {
	createBucket(t, s, "tp-one")
	put(t, s, "tp-one", "k", []byte("v"))
	createBucket(t, s, "tp-one") // again: fine, and keeps the objects
	get(t, s, "tp-one", "k", []byte("v"))
	bs, err := s.Buckets(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(bs, []string{"tp-one"}) {
		t.Fatalf("Buckets = %q, want [tp-one]", bs)
	}
}

func testRoundTrip(t *testing.T, s objstore.Store) {
	createBucket(t, s, "tp-rt")
	for _, n := range []int{0, 1, 10 << 20} {
		key := fmt.Sprintf("size/%d.bin", n)
		body := randBytes(uint64(n), n)
		put(t, s, "tp-rt", key, body)
		get(t, s, "tp-rt", key, body)
	}
	objs := list(t, s, "tp-rt", "size/")
	want := []objstore.Object{{Key: "size/0.bin", Size: 0}, {Key: "size/1.bin", Size: 1}, {Key: "size/10485760.bin", Size: 10 << 20}}
	if !slices.Equal(objs, want) {
		t.Fatalf("List = %v, want %v", objs, want)
	}
}

func testOverwrite(t *testing.T, s objstore.Store) {
	createBucket(t, s, "tp-ow")
	long, short := randBytes(1, 100_000), []byte("short")
	put(t, s, "tp-ow", "a/b", long)
	put(t, s, "tp-ow", "a/b", short)
	get(t, s, "tp-ow", "a/b", short)
	if objs := list(t, s, "tp-ow", ""); !slices.Equal(objs, []objstore.Object{{Key: "a/b", Size: 5}}) {
		t.Fatalf("List after overwrite = %v, want [{a/b 5}]", objs)
	}
	put(t, s, "tp-ow", "a/b", long)
	get(t, s, "tp-ow", "a/b", long)
}

func testNotFound(t *testing.T, s objstore.Store) {
	createBucket(t, s, "tp-nf")
	put(t, s, "tp-nf", "dir/x", []byte("x"))
	f := func(bucket, key string) {
		t.Helper()
		b, err := s.Get(t.Context(), bucket, key)
		if !errors.Is(err, objstore.ErrNotFound) {
			t.Fatalf("Get(%q, %q) = %q, %v; want ErrNotFound", bucket, key, b, err)
		}
	}
	f("tp-nf", "missing")
	f("tp-nf", "dir")     // only a prefix of a key
	f("tp-nf", "dir/x/y") // below a key
	f("tp-nf", "di")
	f("tp-missing", "dir/x")

	if err := s.Put(t.Context(), "tp-missing", "k", []byte("v")); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("Put into a missing bucket = %v, want ErrNotFound", err)
	}
	if objs := list(t, s, "tp-missing", ""); len(objs) != 0 {
		t.Fatalf("List of a missing bucket = %v, want none", objs)
	}
	if bs, err := s.Buckets(t.Context(), "tp-missing"); err != nil || len(bs) != 0 {
		t.Fatalf("Buckets after Put into a missing bucket = %q, %v; want none", bs, err)
	}
}

func testList(t *testing.T, s objstore.Store) {
	createBucket(t, s, "tp-list")
	createBucket(t, s, "tp-other")
	put(t, s, "tp-other", "events/stream=jobs/x", []byte("other bucket"))
	all := []string{
		"a-c", "a.b", "a/b", "a/b/c", "ab",
		"events/stream=companies/dt=2026-11-24/p-0.parquet",
		"events/stream=jobs/dt=2026-11-24/p-0.parquet",
		"events/stream=jobs/dt=2026-11-25/p-0.parquet",
		"events/stream=jobs/dt=2026-11-25/p-1.parquet",
		"events/stream=jobsx/dt=2026-11-25/p-0.parquet",
		"z",
	}
	// Put in reverse so that order of writing cannot pass for sorting.
	for i, k := range slices.Backward(all) {
		if k == "a/b" {
			continue // both a key and a directory: not on the local store
		}
		put(t, s, "tp-list", k, bytes.Repeat([]byte{'x'}, i+1))
	}
	want := slices.DeleteFunc(slices.Clone(all), func(k string) bool { return k == "a/b" })
	slices.Sort(want)
	f := func(prefix string, wantKeys ...string) {
		t.Helper()
		objs := list(t, s, "tp-list", prefix)
		if got := keys(objs); !slices.Equal(got, wantKeys) && (len(got) != 0 || len(wantKeys) != 0) {
			t.Fatalf("List(%q) = %q, want %q", prefix, got, wantKeys)
		}
		for _, o := range objs {
			if w := int64(slices.Index(all, o.Key) + 1); o.Size != w {
				t.Fatalf("List(%q): %q has size %d, want %d", prefix, o.Key, o.Size, w)
			}
		}
	}
	f("", want...)
	f("a", "a-c", "a.b", "a/b/c", "ab")
	f("a/", "a/b/c")
	f("a/b", "a/b/c")
	f("a/b/c", "a/b/c")
	f("a/b/c/")
	f("events/stream=jobs/",
		"events/stream=jobs/dt=2026-11-24/p-0.parquet",
		"events/stream=jobs/dt=2026-11-25/p-0.parquet",
		"events/stream=jobs/dt=2026-11-25/p-1.parquet")
	f("events/stream=jo",
		"events/stream=jobs/dt=2026-11-24/p-0.parquet",
		"events/stream=jobs/dt=2026-11-25/p-0.parquet",
		"events/stream=jobs/dt=2026-11-25/p-1.parquet",
		"events/stream=jobsx/dt=2026-11-25/p-0.parquet")
	f("events/stream=jobs/dt=2026-11-25/p-",
		"events/stream=jobs/dt=2026-11-25/p-0.parquet",
		"events/stream=jobs/dt=2026-11-25/p-1.parquet")
	f("events/stream=jobs/dt=2026-11-26/")
	f("nothing")
	f("../")
	f("a//")
	f("/a")
}

func testListPagination(t *testing.T, s objstore.Store) {
	createBucket(t, s, "tp-many")
	const n = 1234 // more than S3's 1000 keys a page
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("p/%02d/k%05d", i%7, i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 32)
	for _, k := range want {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs <- s.Put(t.Context(), "tp-many", k, []byte(k))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	put(t, s, "tp-many", "q", nil)
	slices.Sort(want)
	objs := list(t, s, "tp-many", "p/")
	if got := keys(objs); !slices.Equal(got, want) {
		t.Fatalf("List(p/) = %d keys, want %d (first difference near %d)", len(got), len(want), firstDiff(got, want))
	}
	for _, o := range objs {
		if o.Size != int64(len(o.Key)) {
			t.Fatalf("%q has size %d, want %d", o.Key, o.Size, len(o.Key))
		}
	}
	if got := list(t, s, "tp-many", ""); len(got) != n+1 || got[n].Key != "q" {
		t.Fatalf("List() = %d keys, want %d ending with q", len(got), n+1)
	}
	var sub []string
	for _, k := range want {
		if strings.HasPrefix(k, "p/03/") {
			sub = append(sub, k)
		}
	}
	if got := keys(list(t, s, "tp-many", "p/03/")); !slices.Equal(got, sub) {
		t.Fatalf("List(p/03/) = %d keys, want %d", len(got), len(sub))
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func testDelete(t *testing.T, s objstore.Store) {
	createBucket(t, s, "tp-del")
	put(t, s, "tp-del", "d/e/f", []byte("f"))
	put(t, s, "tp-del", "d/g", []byte("g"))
	f := func(key string) {
		t.Helper()
		if err := s.Delete(t.Context(), "tp-del", key); err != nil {
			t.Fatalf("Delete(%q): %v", key, err)
		}
	}
	f("d/e/f")
	if _, err := s.Get(t.Context(), "tp-del", "d/e/f"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("Get after Delete = %v, want ErrNotFound", err)
	}
	if got := keys(list(t, s, "tp-del", "")); !slices.Equal(got, []string{"d/g"}) {
		t.Fatalf("List after Delete = %q, want [d/g]", got)
	}
	f("d/e/f")   // again
	f("missing") // never there
	f("d")       // a prefix of a key, not a key
	get(t, s, "tp-del", "d/g", []byte("g"))
	if err := s.Delete(t.Context(), "tp-missing", "k"); err != nil {
		t.Fatalf("Delete in a missing bucket = %v, want nil", err)
	}
	// After the delete, the key's path can hold a new object.
	put(t, s, "tp-del", "d/e", []byte("e"))
	get(t, s, "tp-del", "d/e", []byte("e"))
	f("d/e")
	f("d/g")
	if got := list(t, s, "tp-del", ""); len(got) != 0 {
		t.Fatalf("List after deleting everything = %v", got)
	}
}

func testBuckets(t *testing.T, s objstore.Store) {
	// gofakes3 refuses dot-separated labels shorter than 3 characters
	// (S3 does not): "tpz.dot", not "tp.c".
	for _, b := range []string{"tp-b", "tp-a", "other-x", "tpz.dot", "tpz"} {
		createBucket(t, s, b)
	}
	f := func(prefix string, want ...string) {
		t.Helper()
		got, err := s.Buckets(t.Context(), prefix)
		if err != nil {
			t.Fatalf("Buckets(%q): %v", prefix, err)
		}
		if !slices.Equal(got, want) && (len(got) != 0 || len(want) != 0) {
			t.Fatalf("Buckets(%q) = %q, want %q", prefix, got, want)
		}
	}
	f("", "other-x", "tp-a", "tp-b", "tpz", "tpz.dot")
	f("tp-", "tp-a", "tp-b")
	f("tp", "tp-a", "tp-b", "tpz", "tpz.dot")
	f("tpz.", "tpz.dot")
	f("tp-a", "tp-a")
	f("none")
}

func testConcurrentPuts(t *testing.T, s objstore.Store) {
	createBucket(t, s, "tp-conc")
	const writers, each = 16, 8
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				// Writers share directories, and create them concurrently.
				key := fmt.Sprintf("dt=%d/h=%d/w%02d.bin", i%2, i%4, w)
				errs <- s.Put(context.Background(), "tp-conc", fmt.Sprintf("%s-%d", key, i), randBytes(uint64(w*each+i), 1000+w))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	objs := list(t, s, "tp-conc", "")
	if len(objs) != writers*each {
		t.Fatalf("List = %d objects, want %d", len(objs), writers*each)
	}
	for w := range writers {
		for i := range each {
			key := fmt.Sprintf("dt=%d/h=%d/w%02d.bin-%d", i%2, i%4, w, i)
			get(t, s, "tp-conc", key, randBytes(uint64(w*each+i), 1000+w))
		}
	}
}

// testPutMany stores objects in two buckets and new and existing
// directories at once, one of them over an existing object, then checks
// each; a batch with an object for a missing bucket fails with ErrNotFound
// and stores nothing there.
func testPutMany(t *testing.T, s objstore.Store) {
	createBucket(t, s, "tp-many-a")
	createBucket(t, s, "tp-many-b")
	put(t, s, "tp-many-a", "dt=1/x.bin", []byte("old"))
	var objs []objstore.PutObject
	for i := range 40 {
		bucket := []string{"tp-many-a", "tp-many-b"}[i%2]
		key := fmt.Sprintf("dt=%d/f%02d.bin", i%5, i)
		if i == 0 {
			key = "dt=1/x.bin"
		}
		objs = append(objs, objstore.PutObject{Bucket: bucket, Key: key, Body: randBytes(uint64(500+i), 100+i*37)})
	}
	if err := objstore.PutMany(t.Context(), s, objs, 4); err != nil {
		t.Fatalf("PutMany: %v", err)
	}
	for _, o := range objs {
		get(t, s, o.Bucket, o.Key, o.Body)
	}
	if n := len(list(t, s, "tp-many-a", "")) + len(list(t, s, "tp-many-b", "")); n != 40 {
		t.Fatalf("List = %d objects, want 40 (no temporary files either)", n)
	}
	bad := []objstore.PutObject{
		{Bucket: "tp-many-a", Key: "y/1.bin", Body: []byte("1")},
		{Bucket: "tp-many-missing", Key: "y/2.bin", Body: []byte("2")},
	}
	err := objstore.PutMany(t.Context(), s, bad, 4)
	if !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("PutMany into a missing bucket: got %v, want ErrNotFound", err)
	}
	if _, err := s.Get(t.Context(), "tp-many-missing", "y/2.bin"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("Get after a failed PutMany: %v", err)
	}
	for _, o := range list(t, s, "tp-many-a", "y/") {
		if o.Key != "y/1.bin" {
			t.Fatalf("List after a failed PutMany: %q", o.Key)
		}
	}
}

// testConcurrentPutDelete races Puts with Deletes of other keys in the same
// directories (a local store prunes directories that Delete empties).
func testConcurrentPutDelete(t *testing.T, s objstore.Store) {
	createBucket(t, s, "tp-race")
	const workers, rounds = 8, 30
	var wg sync.WaitGroup
	errs := make(chan error, (2*rounds+1)*workers)
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				key := fmt.Sprintf("d/e%d/w%d", i%3, w)
				errs <- s.Put(context.Background(), "tp-race", key, []byte(key))
				errs <- s.Delete(context.Background(), "tp-race", key)
			}
			errs <- s.Put(context.Background(), "tp-race", fmt.Sprintf("d/e0/final%d", w), []byte("f"))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	want := make([]string, workers)
	for w := range workers {
		want[w] = fmt.Sprintf("d/e0/final%d", w)
	}
	if got := keys(list(t, s, "tp-race", "")); !slices.Equal(got, want) {
		t.Fatalf("List = %q, want %q", got, want)
	}
}

func testOddKeys(t *testing.T, s objstore.Store) {
	createBucket(t, s, "tp-odd")
	ks := []string{
		"with space/and more spaces.parquet",
		"events/stream=jobs/dt=2026-11-25/x.parquet",
		"tenant=Acme Corp/ünïcödé/日本語/😀.bin",
		"plus+sign/percent%20literal/question?mark/hash#/amp&/semi;colon",
		"tilde~/star*/quote'/paren()/comma,/colon:/at@/dollar$",
		"..dots/.hidden/a..b/trailing.",
		strings.Repeat("s", objstore.MaxSegmentLen) + "/" + strings.Repeat("x/", 200) + "end",
	}
	for i, k := range ks {
		put(t, s, "tp-odd", k, []byte(k+fmt.Sprint(i)))
	}
	for i, k := range ks {
		get(t, s, "tp-odd", k, []byte(k+fmt.Sprint(i)))
	}
	want := slices.Sorted(slices.Values(ks))
	if got := keys(list(t, s, "tp-odd", "")); !slices.Equal(got, want) {
		t.Fatalf("List = %q, want %q", got, want)
	}
	if got := keys(list(t, s, "tp-odd", "tenant=Acme Corp/ü")); !slices.Equal(got, []string{ks[2]}) {
		t.Fatalf("List(unicode prefix) = %q, want %q", got, ks[2:3])
	}
	for _, k := range ks {
		if err := s.Delete(t.Context(), "tp-odd", k); err != nil {
			t.Fatal(err)
		}
	}
	if got := list(t, s, "tp-odd", ""); len(got) != 0 {
		t.Fatalf("List after deleting = %v", got)
	}
}

func testInvalidNames(t *testing.T, s objstore.Store) {
	createBucket(t, s, "tp-inv")
	badKeys := []string{
		"", "/abs", "../x", "a/../../x", "a//b", "a/", "./a", "a/./b", "a/..",
		"nul\x00byte", "bad\xffutf8", ".tmp-x", "a/.tmp-1234",
		strings.Repeat("k", objstore.MaxSegmentLen+1),
		strings.Repeat("k/", objstore.MaxKeyLen/2) + "k",
	}
	for _, k := range badKeys {
		if err := s.Put(t.Context(), "tp-inv", k, []byte("x")); !errors.Is(err, objstore.ErrInvalidName) {
			t.Fatalf("Put(%.40q) = %v, want ErrInvalidName", k, err)
		}
		if _, err := s.Get(t.Context(), "tp-inv", k); !errors.Is(err, objstore.ErrInvalidName) {
			t.Fatalf("Get(%.40q) = %v, want ErrInvalidName", k, err)
		}
		if err := s.Delete(t.Context(), "tp-inv", k); !errors.Is(err, objstore.ErrInvalidName) {
			t.Fatalf("Delete(%.40q) = %v, want ErrInvalidName", k, err)
		}
	}
	badBuckets := []string{"", "..", ".", "ab", "UPPER", "under_score", "-lead", "trail-", "a..b",
		"192.168.0.1", "xn--abc", "abc-s3alias", "abc--ol-s3", strings.Repeat("b", 64), "tp/inv", "../tp-inv"}
	for _, b := range badBuckets {
		if err := s.CreateBucket(t.Context(), b); !errors.Is(err, objstore.ErrInvalidName) {
			t.Fatalf("CreateBucket(%q) = %v, want ErrInvalidName", b, err)
		}
		if err := s.Put(t.Context(), b, "k", []byte("x")); !errors.Is(err, objstore.ErrInvalidName) {
			t.Fatalf("Put into bucket %q = %v, want ErrInvalidName", b, err)
		}
		if _, err := s.Get(t.Context(), b, "k"); !errors.Is(err, objstore.ErrInvalidName) {
			t.Fatalf("Get from bucket %q = %v, want ErrInvalidName", b, err)
		}
		if _, err := s.List(t.Context(), b, ""); !errors.Is(err, objstore.ErrInvalidName) {
			t.Fatalf("List of bucket %q = %v, want ErrInvalidName", b, err)
		}
	}
	if got := list(t, s, "tp-inv", ""); len(got) != 0 {
		t.Fatalf("invalid names left objects: %v", got)
	}
	if bs, err := s.Buckets(t.Context(), ""); err != nil || !slices.Equal(bs, []string{"tp-inv"}) {
		t.Fatalf("invalid names left buckets: %q, %v", bs, err)
	}
}

func testCanceled(t *testing.T, s objstore.Store) {
	createBucket(t, s, "tp-cancel")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Put(ctx, "tp-cancel", "k", []byte("v")); err == nil {
		t.Fatal("Put with a canceled context succeeded")
	}
	if _, err := s.Get(t.Context(), "tp-cancel", "k"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("Get after a canceled Put = %v, want ErrNotFound", err)
	}
	if _, err := s.List(ctx, "tp-cancel", ""); err == nil {
		t.Fatal("List with a canceled context succeeded")
	}
}
