package restapi

import (
	"encoding/json"
	"math"
	"net/http/httptest"
	"strconv"
	"testing"
)

func TestWriteError(t *testing.T) {
	w := httptest.NewRecorder()
	WriteError(w, 413, CodePayloadTooLarge, `too "big"`+"\n")
	var got struct{ Error, Message string }
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatalf("%s: %v", w.Body.Bytes(), err)
	}
	if w.Code != 413 || got.Error != "PayloadTooLarge" || got.Message != "too \"big\"\n" {
		t.Fatalf("%d %+v", w.Code, got)
	}
	if w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Content-Length") != strconv.Itoa(w.Body.Len()) {
		t.Fatalf("headers %v", w.Header())
	}
}

func TestWriteJSON(t *testing.T) {
	w := httptest.NewRecorder()
	WriteJSON(w, 200, map[string]int{"a": 1})
	if w.Code != 200 || w.Body.String() != "{\"a\":1}\n" {
		t.Fatalf("%d %q", w.Code, w.Body.String())
	}
	w = httptest.NewRecorder()
	WriteJSON(w, 200, math.Inf(1))
	if w.Code != 500 {
		t.Fatalf("an unencodable value answered %d", w.Code)
	}
}
