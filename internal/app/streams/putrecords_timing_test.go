package streams

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"testing"
	"time"

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

// BenchmarkGetRecords measures one 10,000-record GetRecords of 100-byte
// records through the handler, in each encoding.
func BenchmarkGetRecords(b *testing.B) {
	for _, codec := range []string{"application/x-amz-json-1.1", "application/x-amz-cbor-1.1"} {
		b.Run(codec[len("application/x-amz-"):], func(b *testing.B) {
			svc := benchService(b, streamlog.FsyncAlways)
			st, _ := svc.store.Stream("bench")
			sh := st.Shards()[0]
			entries := make([]streamlog.Entry, 500)
			seqs := make([]streamlog.Seq, 500)
			for i := range entries {
				entries[i] = streamlog.Entry{PartitionKey: []byte(fmt.Sprintf("tenant-%d", i)), Data: bytes.Repeat([]byte("x"), 100)}
			}
			for i := 0; i < 20; i++ {
				if _, err := sh.Append(entries, seqs); err != nil {
					b.Fatal(err)
				}
			}
			it := svc.iters.encode(iterator{stream: "bench", created: st.Info().Created.UnixMilli(), shard: 0, issuedAt: time.Now().UnixMilli()})
			var body []byte
			if codec == "application/x-amz-json-1.1" {
				body = []byte(`{"ShardIterator":"` + it + `"}`)
			} else {
				body = append([]byte{0xa1, 0x6d}, "ShardIterator"...)
				body = append(body, 0x78, byte(len(it)))
				body = append(body, it...)
			}
			w := &discardWriter{h: http.Header{}}
			req, _ := http.NewRequest("POST", "/", nil)
			req.Header.Set("Content-Type", codec)
			req.Header.Set("X-Amz-Target", "Kinesis_20131202.GetRecords")
			b.ReportAllocs()
			for b.Loop() {
				req.Body = readCloser{bytes.NewReader(body)}
				w.code, w.n = 0, 0
				svc.ServeHTTP(w, req)
				if w.code != 0 && w.code != 200 {
					b.Fatalf("status %d", w.code)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10000), "ns/record")
		})
	}
}
