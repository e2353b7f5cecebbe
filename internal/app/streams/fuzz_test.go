package streams

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// FuzzRequest sends arbitrary bodies to every operation in both encodings:
// the service must never panic or answer 500, and every error must carry an
// AWS error type.
func FuzzRequest(f *testing.F) {
	dir := f.TempDir()
	store, err := streamlog.Open(streamlog.Options{Dir: dir, MinFreeBytes: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	store.CreateStream(streamlog.StreamConfig{Name: "s", ShardCount: 2})
	svc := New(Options{Store: store})
	ops := make([]string, 0, len(svc.ops))
	for op := range svc.ops {
		if op != "DeleteStream" { // keep the stream for the other inputs
			ops = append(ops, op)
		}
	}
	it := svc.iters.encode(iterator{stream: "s", created: mustInfo(store).Created.UnixMilli(), offset: 0, issuedAt: time.Now().UnixMilli()})
	for i := range ops {
		f.Add(uint8(i), false, []byte(`{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON","PartitionKey":"k","Data":"aGk=","Records":[{"PartitionKey":"k","Data":"aGk="}],"ShardIterator":"`+it+`","Limit":5}`))
	}
	f.Add(uint8(0), true, []byte{0xa1, 0x6a, 'S', 't', 'r', 'e', 'a', 'm', 'N', 'a', 'm', 'e', 0x61, 's'})
	f.Add(uint8(1), false, []byte(`{"StreamName":`))
	f.Fuzz(func(t *testing.T, op uint8, cbor bool, body []byte) {
		name := ops[int(op)%len(ops)]
		if name == "CreateStream" && bytes.Contains(body, []byte("Stream")) && len(store.Streams()) > 20 {
			return // bound the store's growth
		}
		req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", "Kinesis_20131202."+name)
		if cbor {
			req.Header.Set("Content-Type", "application/x-amz-cbor-1.1")
		} else {
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		}
		w := httptest.NewRecorder()
		svc.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %q: status %d: %s", name, body, w.Code, w.Body)
		}
		if w.Header().Get("X-Amzn-Requestid") == "" {
			t.Fatalf("%s: no request id", name)
		}
		if w.Code != http.StatusOK && !strings.HasSuffix(w.Header().Get("X-Amzn-Errortype"), "Exception") {
			t.Fatalf("%s: status %d without an AWS error type (%q)", name, w.Code, w.Header().Get("X-Amzn-Errortype"))
		}
	})
}

// FuzzIterator: decoding arbitrary iterators never panics, and what decodes
// re-encodes to the same iterator.
func FuzzIterator(f *testing.F) {
	ic := newIteratorCodec()
	now := time.Now()
	f.Add(ic.encode(iterator{stream: "jobs", created: 1, shard: 1, offset: 42, issuedAt: now.UnixMilli()}))
	f.Add(`"` + ic.encode(iterator{stream: "a", issuedAt: now.UnixMilli()}) + `"`)
	f.Add("AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		it, err := ic.decode(s, now)
		if err != nil {
			return
		}
		back, err := ic.decode(ic.encode(it), now)
		if err != nil || back != it {
			t.Fatalf("iterator %+v does not round-trip: %+v, %v", it, back, err)
		}
	})
}

func mustInfo(s *streamlog.Store) streamlog.StreamInfo {
	st, err := s.Stream("s")
	if err != nil {
		panic(err)
	}
	return st.Info()
}
