package httpfast

import "bytes"

// maxHeaders bounds the header lines of a fast request; more go to net/http.
const maxHeaders = 64

// parse outcomes.
const (
	needMore = iota // the head is not complete in the buffer
	handOff         // not a fast request: net/http serves the connection
	fast            // a fast request: head holds it
)

// field is one header line, slices of the buffer.
type field struct{ name, value []byte }

// head is a fast request's head.
type head struct {
	route         int // index in the server's routes
	method        []byte
	target        []byte // the path, as sent
	segment       []byte // the path's segment between the route's prefix and suffix
	host          []byte
	contentLength int64
	close         bool    // Connection: close
	fields        []field // every header line, in order
	size          int     // bytes of the head, through the empty line
}

// parseHead parses the request head at the start of b for routes. It
// returns needMore when b ends before the head's empty line, handOff when
// the request is not one the fast path serves (or b is not a request it
// can judge), fast with h filled otherwise. h.fields is reused.
func parseHead(b []byte, routes []Route, maxBody int64, h *head) int {
	fields := h.fields[:0]
	*h = head{contentLength: 0}
	line, rest, ok := cutLine(b)
	if !ok {
		return lineVerdict(b)
	}
	// The request line: METHOD SP target SP HTTP/1.1.
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 {
		return handOff
	}
	h.method, line = line[:sp], line[sp+1:]
	sp = bytes.IndexByte(line, ' ')
	if sp <= 0 || string(line[sp+1:]) != "HTTP/1.1" {
		return handOff
	}
	h.target = line[:sp]
	h.route = -1
	for i := range routes {
		if seg, ok := routes[i].match(h.method, h.target); ok {
			h.route, h.segment = i, seg
			break
		}
	}
	if h.route < 0 {
		return handOff
	}
	var haveLength, haveHost bool
	for {
		line, rest, ok = cutLine(rest)
		if !ok {
			h.fields = fields
			return lineVerdict(rest)
		}
		if len(line) == 0 {
			break
		}
		if len(fields) == maxHeaders {
			return handOff
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !isToken(line[:colon]) {
			return handOff // obs-fold, a space before the colon, a bad name
		}
		name, value := line[:colon], trimOWS(line[colon+1:])
		if !validValue(value) {
			return handOff
		}
		switch {
		case equalFold(name, "content-length"):
			n, ok := parseLength(value)
			if haveLength || !ok || n > maxBody {
				return handOff
			}
			haveLength, h.contentLength = true, n
		case equalFold(name, "host"):
			if haveHost {
				return handOff
			}
			haveHost, h.host = true, value
			continue // net/http keeps it in Request.Host, not in Header
		case equalFold(name, "connection"):
			switch {
			case equalFold(value, "close"):
				h.close = true
			case equalFold(value, "keep-alive"):
			default:
				return handOff
			}
		case equalFold(name, "transfer-encoding"), equalFold(name, "expect"), equalFold(name, "upgrade"),
			equalFold(name, "te"), equalFold(name, "trailer"):
			return handOff
		}
		fields = append(fields, field{name, value})
	}
	h.fields = fields
	if !haveHost {
		return handOff
	}
	h.size = len(b) - len(rest)
	return fast
}

// cutLine returns the line at the start of b without its CRLF, and what
// follows. ok is false when b holds no complete line, or the line ends with
// a bare LF (then rest is nil and the verdict is handOff).
func cutLine(b []byte) (line, rest []byte, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return nil, b, false
	}
	if i == 0 || b[i-1] != '\r' {
		return nil, nil, false
	}
	return b[:i-1], b[i+1:], true
}

// lineVerdict is the outcome when cutLine found no line in b: more bytes
// are needed, unless b holds a bare LF.
func lineVerdict(b []byte) int {
	if b == nil || bytes.IndexByte(b, '\n') >= 0 {
		return handOff
	}
	return needMore
}

// match reports whether method and target are the route's, and returns
// the segment between the prefix and the suffix.
func (r *Route) match(method, target []byte) ([]byte, bool) {
	if string(method) != r.Method || len(target) <= len(r.Prefix)+len(r.Suffix) ||
		string(target[:len(r.Prefix)]) != r.Prefix || string(target[len(target)-len(r.Suffix):]) != r.Suffix {
		return nil, false
	}
	seg := target[len(r.Prefix) : len(target)-len(r.Suffix)]
	for _, c := range seg {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return nil, false
		}
	}
	return seg, true
}

func isToken(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 || tokenChars[c] == 0 {
			return false
		}
	}
	return true
}

// tokenChars marks RFC 9110's tchar.
var tokenChars = func() (t [128]byte) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = 1
		t[c-'a'+'A'] = 1
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = 1
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = 1
	}
	return t
}()

// validValue reports whether a header value holds no control character
// other than HT (as net/http requires).
func validValue(v []byte) bool {
	for _, c := range v {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// parseLength parses a Content-Length: 1 to 18 digits.
func parseLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// equalFold reports whether b equals the lowercase ASCII s, ignoring case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
