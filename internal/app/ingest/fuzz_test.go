package ingest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// FuzzPostEvents sends arbitrary bodies as JSON and as NDJSON: the handler
// never panics or answers 5xx; a 200 has one result per event, and stores
// exactly the accepted ones, each as valid JSON.
func FuzzPostEvents(f *testing.F) {
	for _, s := range []string{
		ev("1", "user.added", "t", `{"userId":"u"}`),
		"[" + ev("1", "user.added", "t", `{"userId":"u"}`) + "," + ev("2", "job.cancelled", "t", `{"jobId":"j","userId":"u"}`) + "]",
		ev("1", "user.added", "t", `{"userId":"u"}`) + "\n" + `{"x":` + "\n" + ev("1", "user.added", "t", `{"userId":"u"}`),
		`[1,"a",null,{}]`, `{`, `[`, ``, "\n\n", `{"receivedtime":"2026-11-25T10:00:00Z","specversion":"1.0","id":"r","source":"s","type":"tenant.deleted","time":"2026-11-25T10:00:00Z","tenantid":"t"}`,
		"[" + evAt("f", "2100-01-01T00:00:00Z") + "," + evAt("o", "1999-01-01T00:00:00+01:00") + "]", // future, too old for any window
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	store, err := streamlog.Open(streamlog.Options{Dir: f.TempDir()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	for _, name := range []string{"companies", "jobs"} {
		if _, err := store.CreateStream(streamlog.StreamConfig{Name: name, ShardCount: 2}); err != nil {
			f.Fatal(err)
		}
	}
	svc := New(Options{Store: store})
	mux := http.NewServeMux()
	svc.Register(mux)
	total := func() uint64 {
		n := uint64(0)
		for _, st := range store.Streams() {
			for _, sh := range st.Shards() {
				n += sh.End()
			}
		}
		return n
	}
	f.Fuzz(func(t *testing.T, body []byte, ndjson bool) {
		before := total()
		req := httptest.NewRequest("POST", "/v1/events", bytes.NewReader(body))
		if ndjson {
			req.Header.Set("Content-Type", "application/x-ndjson")
		} else {
			req.Header.Set("Content-Type", "application/json")
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%d %s", w.Code, w.Body.Bytes())
		}
		if w.Code != 200 {
			if total() != before {
				t.Fatalf("a %d reply stored events", w.Code)
			}
			return
		}
		var r reply
		if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
			t.Fatalf("reply %s: %v", w.Body.Bytes(), err)
		}
		accepted, failed := 0, 0
		for _, res := range r.Results {
			switch res.Status {
			case "accepted":
				accepted++
				if res.Windowed != nil && (*res.Windowed || res.Reason == "") {
					t.Fatalf("windowed must be false with a reason, or absent: %+v", res)
				}
			case "rejected":
				failed++
				if res.Reason == "" {
					t.Fatalf("rejection without a reason: %+v", res)
				}
			case "duplicate":
			default:
				t.Fatalf("result %+v", res)
			}
		}
		if failed != r.FailedEventCount || len(r.Results) == 0 {
			t.Fatalf("failedEventCount %d, %d rejected of %d", r.FailedEventCount, failed, len(r.Results))
		}
		if got := total() - before; got != uint64(accepted) {
			t.Fatalf("%d accepted, %d stored", accepted, got)
		}
	})
}
