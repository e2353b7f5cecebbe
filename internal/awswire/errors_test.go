package awswire

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

func TestErrorTable(t *testing.T) {
	f := func(typ string, status int, retryable bool) {
		t.Helper()
		e := Errorf(typ, "x %d", 1)
		if e.Type != typ || e.Status != status || e.Retryable != retryable || e.Message != "x 1" {
			t.Fatalf("Errorf(%s) = %+v; want status %d retryable %v", typ, e, status, retryable)
		}
		if e.Error() != typ+": x 1" {
			t.Fatalf("Error() = %q", e.Error())
		}
	}
	f(ResourceNotFound, 400, false)
	f(ResourceInUse, 400, false)
	f(InvalidArgument, 400, false)
	f(Validation, 400, false)
	f(LimitExceeded, 400, false)
	f(ExpiredIterator, 400, false)
	f(ExpiredNextToken, 400, false)
	f(ProvisionedThroughputExceeded, 400, true)
	f(Serialization, 400, false)
	f(UnknownOperation, 400, false)
	f(AccessDenied, 400, false)
	f(MissingAuthenticationToken, 403, false)
	f(InternalFailure, 500, true)
	f(ServiceUnavailable, 503, true)
	f(KMSThrottling, 400, true)
	if len(errorTable) != 15 {
		t.Fatalf("the error table has %d rows; this test covers 15", len(errorTable))
	}

	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "BUG: unknown AWS error type") {
			t.Fatalf("Errorf with an unknown type: recover() = %v", r)
		}
	}()
	Errorf("NoSuchException", "x")
}

func TestWriteError(t *testing.T) {
	f := func(c Codec, err error, status int, typ, msg string, retryAfter bool) {
		t.Helper()
		w := httptest.NewRecorder()
		WriteError(w, c, "req-1", err)
		if w.Code != status {
			t.Fatalf("%s %v: status %d; want %d", c, err, w.Code, status)
		}
		h := w.Header()
		wantCT := c.ContentType()
		if h.Get("Content-Type") != wantCT || h.Get("X-Amzn-ErrorType") != typ || h.Get("x-amzn-RequestId") != "req-1" {
			t.Fatalf("%s %v: headers %v", c, err, h)
		}
		if got := h.Get("Retry-After"); (got == "1") != retryAfter || (got != "" && got != "1") {
			t.Fatalf("%s %v: Retry-After %q; want set: %v", c, err, got, retryAfter)
		}
		if h.Get("Content-Length") != fmt.Sprint(w.Body.Len()) {
			t.Fatalf("Content-Length %q for a %d-byte body", h.Get("Content-Length"), w.Body.Len())
		}
		var body map[string]string
		switch c {
		case CBOR:
			if w.Body.Bytes()[0] != 0xa2 {
				t.Fatalf("CBOR error body is not a 2-pair map: %x", w.Body.Bytes())
			}
			if err := cbor.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("CBOR error body %x: %v", w.Body.Bytes(), err)
			}
		default:
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("JSON error body %q: %v", w.Body.String(), err)
			}
		}
		if len(body) != 2 || body["__type"] != typ || body["message"] != msg {
			t.Fatalf("%s %v: body %q", c, err, body)
		}
	}
	for _, c := range []Codec{JSON, CBOR, 0} {
		f(c, Errorf(ResourceNotFound, "Stream %q under account 000000000000 not found.", "s"),
			400, ResourceNotFound, `Stream "s" under account 000000000000 not found.`, false)
		f(c, fmt.Errorf("putting: %w", Errorf(ProvisionedThroughputExceeded, "Rate exceeded for shard")),
			400, ProvisionedThroughputExceeded, "Rate exceeded for shard", false)
		f(c, Errorf(ServiceUnavailable, "slow down"), 503, ServiceUnavailable, "slow down", true)
		f(c, errors.New("open /var/lib/secret: permission denied"), 500, InternalFailure, internalFailureMessage, false)
		f(c, &Error{Type: "Bogus", Status: 418, Message: "x"}, 500, InternalFailure, internalFailureMessage, false)
		f(c, nil, 500, InternalFailure, internalFailureMessage, false)
		f(c, Errorf(Validation, "bad \xff byte \"q\"\n"), 400, Validation, "bad \ufffd byte \"q\"\n", false)
	}
}

func TestWriteResponse(t *testing.T) {
	type out struct {
		N int    `json:"N"`
		B []byte `json:"B"`
	}
	f := func(c Codec, v any, status int, wantBody string) {
		t.Helper()
		w := httptest.NewRecorder()
		WriteResponse(w, c, "req-2", v)
		if w.Code != status || w.Header().Get("Content-Type") != c.ContentType() || w.Header().Get("X-Amzn-Requestid") != "req-2" {
			t.Fatalf("%s: status %d headers %v", c, w.Code, w.Header())
		}
		if wantBody != "" && w.Body.String() != wantBody {
			t.Fatalf("%s: body %q; want %q", c, w.Body.String(), wantBody)
		}
	}
	f(JSON, out{N: 1, B: []byte("hi")}, 200, `{"N":1,"B":"aGk="}`)
	f(CBOR, out{N: 1, B: []byte("hi")}, 200, "\xa2\x61N\x01\x61B\x42hi")
	f(JSON, map[string]any{"f": func() {}}, 500, "")
	f(CBOR, map[string]any{"f": make(chan int)}, 500, "")

	w := httptest.NewRecorder()
	WriteRaw(w, JSON, "req-3", []byte(`{}`))
	if w.Code != http.StatusOK || w.Body.String() != "{}" || w.Header().Get("Content-Length") != "2" ||
		w.Header().Get("Content-Type") != ContentTypeJSON || w.Header().Get("X-Amzn-Requestid") != "req-3" {
		t.Fatalf("WriteRaw: %d %v %q", w.Code, w.Header(), w.Body.String())
	}
}
