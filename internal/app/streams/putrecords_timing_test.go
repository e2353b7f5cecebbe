package streams

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"testing"

	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// discardWriter is a minimal http.ResponseWriter, so the benchmark measures
// the service and not a recorder.
type discardWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
func (w *discardWriter) Write(b []byte) (int, error) { w.n += len(b); return len(b), nil }

func benchService(b *testing.B, fsync streamlog.FsyncMode) *Service {
	store, err := streamlog.Open(streamlog.Options{Dir: b.TempDir(), MinFreeBytes: 1, Fsync: fsync, FsyncInterval: 1e9})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	if _, err := store.CreateStream(streamlog.StreamConfig{Name: "bench", ShardCount: 2}); err != nil {
		b.Fatal(err)
	}
	return New(Options{Store: store})
}

func putRecordsBody(n, size int) []byte {
	var body bytes.Buffer
	body.WriteString(`{"StreamName":"bench","Records":[`)
	data := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("x"), size))
	for i := 0; i < n; i++ {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"Data":"%s","PartitionKey":"tenant-%d"}`, data, i)
	}
	body.WriteString("]}")
	return body.Bytes()
}

// BenchmarkPutRecords measures one 500 x 100-byte PutRecords through the
// handler, without HTTP and (with interval syncing) without fsync waits.
func BenchmarkPutRecords(b *testing.B) {
	svc := benchService(b, streamlog.FsyncInterval)
	body := putRecordsBody(500, 100)
	w := &discardWriter{h: http.Header{}}
	req, _ := http.NewRequest("POST", "/", nil)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Kinesis_20131202.PutRecords")
	b.SetBytes(500 * 100)
	b.ReportAllocs()
	for b.Loop() {
		req.Body = http.NoBody
		req.Body = readCloser{bytes.NewReader(body)}
		w.code = 0
		svc.ServeHTTP(w, req)
		if w.code != 0 && w.code != 200 {
			b.Fatalf("status %d", w.code)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*500), "ns/record")
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }
