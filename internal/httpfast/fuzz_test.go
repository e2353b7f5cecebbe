package httpfast

import (
	"bufio"
	"bytes"
	"net/http"
	"slices"
	"testing"
)

// FuzzParseHead checks the fast path's head parser against net/http's:
// whatever it serves, net/http reads as the same request (method, path,
// host, body length, Connection: close and every header value); it never
// panics or claims more bytes than it was given.
func FuzzParseHead(f *testing.F) {
	f.Add([]byte(fastReq))
	f.Add([]byte("POST /endpoints/a-1/invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nAccept:  application/json \r\nConnection: close\r\nContent-Length: 003\r\n\r\n1,2"))
	f.Add([]byte("POST /endpoints/a/invocations HTTP/1.1\r\nHost: x\r\nX: a\tb\r\n\r\n"))
	f.Add([]byte("POST /endpoints/a/invocations HTTP/1.1\r\nHost: x\r\n Folded: x\r\n\r\n"))
	f.Add([]byte("GET /other HTTP/1.1\r\nHost: x\r\n\r\n"))
	f.Add([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))
	routes := []Route{{Method: "POST", Prefix: "/endpoints/", Suffix: "/invocations", Param: "name"}}
	f.Fuzz(func(t *testing.T, b []byte) {
		var h head
		v := parseHead(b, routes, 1<<20, &h)
		if v != fast {
			return
		}
		if h.size > len(b) || h.contentLength < 0 || h.contentLength > 1<<20 {
			t.Fatalf("size %d of %d bytes, length %d", h.size, len(b), h.contentLength)
		}
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(b[:h.size])))
		if err != nil {
			t.Fatalf("served a head net/http refuses: %v\n%q", err, b[:h.size])
		}
		if req.Method != string(h.method) || req.URL.Path != string(h.target) || req.URL.RawQuery != "" ||
			req.Host != string(h.host) || req.ContentLength != h.contentLength || req.Close != h.close ||
			req.PathValue("name") != "" && req.PathValue("name") != string(h.segment) {
			t.Fatalf("net/http reads %s %s host %q length %d close %v; the fast path %s %s host %q length %d close %v",
				req.Method, req.URL.Path, req.Host, req.ContentLength, req.Close, h.method, h.target, h.host, h.contentLength, h.close)
		}
		if string(h.target) != "/endpoints/"+string(h.segment)+"/invocations" || len(h.segment) == 0 {
			t.Fatalf("segment %q of %q", h.segment, h.target)
		}
		for _, fl := range h.fields {
			if !slices.Contains(req.Header.Values(string(fl.name)), string(fl.value)) {
				t.Fatalf("header %s: %q; net/http has %q", fl.name, fl.value, req.Header.Values(string(fl.name)))
			}
		}
	})
}
