package objstore_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/tenantpulse/tenantpulse/internal/objstore"
	"github.com/tenantpulse/tenantpulse/internal/objstore/objstoretest"
)

// fakeS3 is an S3-compatible server (gofakes3 over memory) on 127.0.0.1,
// recording the requests it serves.
type fakeS3 struct {
	*httptest.Server
	mu       sync.Mutex
	requests []string // "METHOD path?query"
	creates  []string // bodies of CreateBucket requests
}

func startFakeS3(t *testing.T) *fakeS3 {
	t.Helper()
	f := &fakeS3{}
	h := gofakes3.New(s3mem.New()).Server()
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
		if r.Method == http.MethodPut && strings.Count(strings.Trim(r.URL.Path, "/"), "/") == 0 {
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(b))
			f.creates = append(f.creates, string(b))
		}
		f.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeS3) count(sub string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if strings.Contains(r, sub) {
			n++
		}
	}
	return n
}

func newS3(t *testing.T, f *fakeS3, region string) objstore.Store {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	s, err := objstore.NewS3(t.Context(), objstore.S3Options{Region: region, Endpoint: f.URL, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestS3Conformance(t *testing.T) {
	objstoretest.Run(t, func(t *testing.T) objstore.Store {
		return newS3(t, startFakeS3(t), "us-east-1")
	})
}

func TestS3Paginates(t *testing.T) {
	f := startFakeS3(t)
	s := newS3(t, f, "us-east-1")
	if err := s.CreateBucket(t.Context(), "tp-pages"); err != nil {
		t.Fatal(err)
	}
	for i := range 2500 {
		if err := s.Put(t.Context(), "tp-pages", fmt.Sprintf("k%05d", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	before := f.count("list-type=2")
	objs, err := s.List(t.Context(), "tp-pages", "k")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2500 || objs[2499].Key != "k02499" {
		t.Fatalf("List = %d objects, want 2500", len(objs))
	}
	if pages := f.count("list-type=2") - before; pages != 3 {
		t.Fatalf("List made %d ListObjectsV2 requests, want 3 pages of at most 1000", pages)
	}
}

func TestS3LocationConstraint(t *testing.T) {
	f := startFakeS3(t)
	if err := newS3(t, f, "us-east-1").CreateBucket(t.Context(), "tp-east"); err != nil {
		t.Fatal(err)
	}
	if err := newS3(t, f, "eu-west-1").CreateBucket(t.Context(), "tp-west"); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.creates) != 2 {
		t.Fatalf("%d CreateBucket requests, want 2", len(f.creates))
	}
	if strings.Contains(f.creates[0], "LocationConstraint") {
		t.Fatalf("us-east-1 CreateBucket sent a LocationConstraint: %s", f.creates[0])
	}
	if !strings.Contains(f.creates[1], "<LocationConstraint>eu-west-1</LocationConstraint>") {
		t.Fatalf("eu-west-1 CreateBucket body = %q, want LocationConstraint eu-west-1", f.creates[1])
	}
}

func TestS3NeedsRegion(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	_, err := objstore.NewS3(t.Context(), objstore.S3Options{Endpoint: "http://127.0.0.1:1"})
	if err == nil || !strings.Contains(err.Error(), "region") {
		t.Fatalf("NewS3 without a region = %v, want an error naming the region", err)
	}
}
