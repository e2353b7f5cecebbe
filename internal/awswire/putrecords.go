package awswire

// Behavior: the PutRecords request decoder. JSON is parsed by hand, without
// reflection, into reused slices; CBOR goes through fxamacker/cbor (it is not
// the hot path). Member names are matched case-sensitively, as AWS does
// (encoding/json would also match "data"). null for any member means the
// member is absent; a null record is an empty record. Unknown members are
// skipped whatever their type. Strings must be valid UTF-8, as AWS's own
// parser requires; \u escapes follow encoding/json (an unpaired surrogate
// becomes U+FFFD). Data is standard base64, padded or not.

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// PutRecordsEntry is one record of a PutRecords request. Its slices alias
// the request body or the PutRecordsRequest's arena and are valid until the
// next Decode call on that request; each is capacity-limited, so appending to
// one copies.
type PutRecordsEntry struct {
	Data            []byte // base64-decoded, aliases r's arena
	PartitionKey    []byte // unescaped, aliases the body or r's arena; nil if absent
	ExplicitHashKey []byte // nil if absent
	HasData         bool   // the Data member was present (even if empty)
}

// PutRecordsRequest is a decoded PutRecords request. Reuse one per worker
// (or through a sync.Pool): after warm-up decoding does not allocate per
// record. The body passed to Decode must not be modified while the result is
// in use. A request keeps an arena as large as the largest body it decoded,
// and Records can hold one entry per 3 body bytes ("{},"), so the caller must
// cap the body size before decoding.
type PutRecordsRequest struct {
	StreamName string
	StreamARN  string
	Records    []PutRecordsEntry

	arena   []byte // decoded Data and unescaped values, reused across calls
	scratch []byte // unescaped member names and escaped base64 text

	// The last distinct names seen, so a repeated stream name is not
	// allocated again.
	lastName, lastARN string
}

// maxSkipDepth bounds the nesting of unknown members that DecodeJSON skips.
const maxSkipDepth = 1000

// Reset empties r, keeping its buffers.
func (r *PutRecordsRequest) Reset() {
	r.StreamName, r.StreamARN = "", ""
	clear(r.Records)
	r.Records = r.Records[:0]
	r.arena = r.arena[:0]
}

// Decode parses a PutRecords request body encoded with c.
func (r *PutRecordsRequest) Decode(c Codec, body []byte) error {
	switch c {
	case JSON:
		return r.DecodeJSON(body)
	case CBOR:
		return r.DecodeCBOR(body)
	}
	return fmt.Errorf("cannot decode PutRecords request with %s: unknown codec", c)
}

// DecodeJSON parses a PutRecords JSON request body into r, replacing what r
// held. An empty body is an empty request. Any malformed input or member of
// the wrong type gives a SerializationException *Error and leaves r empty.
func (r *PutRecordsRequest) DecodeJSON(body []byte) error {
	oldLen := len(r.Records)
	r.StreamName, r.StreamARN = "", ""
	r.Records = r.Records[:0]
	if cap(r.arena) < len(body) {
		// Decoded data and unescaped strings are never longer than their
		// source text, so one body's worth of arena never grows mid-parse.
		r.arena = make([]byte, 0, len(body))
	}
	r.arena = r.arena[:0]
	var err error
	if len(body) > 0 {
		p := prParser{b: body, r: r}
		err = p.parse()
	}
	hi := max(oldLen, len(r.Records))
	if err != nil {
		r.StreamName, r.StreamARN = "", ""
		r.Records = r.Records[:0]
	}
	clear(r.Records[len(r.Records):hi]) // drop references to old bodies
	return err
}

// prParser is the state of one DecodeJSON call.
type prParser struct {
	b []byte
	i int
	r *PutRecordsRequest
}

func (p *prParser) parse() error {
	p.space()
	if p.i >= len(p.b) || p.b[p.i] != '{' {
		return p.errorf("expected a JSON object at the top level, found %s", jsonKindAt(p.b, p.i))
	}
	p.i++
	p.space()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
	} else {
		if err := p.members(); err != nil {
			return err
		}
	}
	p.space()
	if p.i != len(p.b) {
		return p.errorf("unexpected %s after the request object", jsonKindAt(p.b, p.i))
	}
	return nil
}

// members parses the members of the top-level object up to and including '}'.
func (p *prParser) members() error {
	r := p.r
	for {
		key, err := p.key()
		if err != nil {
			return err
		}
		switch string(key) {
		case "StreamName":
			err = p.nameMember(&r.StreamName, &r.lastName, "StreamName")
		case "StreamARN":
			err = p.nameMember(&r.StreamARN, &r.lastARN, "StreamARN")
		case "Records":
			err = p.records()
		default:
			err = p.skip(0)
		}
		if err != nil {
			return err
		}
		if done, err := p.next('}', "the request object"); err != nil || done {
			return err
		}
	}
}

// next consumes the ',' or the closing byte after a member or element. It
// reports whether the container ended.
func (p *prParser) next(closing byte, what string) (done bool, err error) {
	p.space()
	if p.i < len(p.b) {
		switch p.b[p.i] {
		case ',':
			p.i++
			p.space()
			return false, nil
		case closing:
			p.i++
			return true, nil
		}
	}
	return false, p.errorf("expected ',' or '%c' in %s, found %s", closing, what, jsonKindAt(p.b, p.i))
}

// key parses a member name and the ':' after it, leaving p at the value. An
// escaped name is unescaped into r.scratch.
func (p *prParser) key() ([]byte, error) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return nil, p.errorf("expected a member name, found %s", jsonKindAt(p.b, p.i))
	}
	p.i++
	start, end, escaped, err := p.scanString()
	if err != nil {
		return nil, err
	}
	key := p.b[start:end]
	if escaped {
		p.r.scratch = appendUnescaped(p.r.scratch[:0], key)
		key = p.r.scratch
	}
	p.space()
	if p.i >= len(p.b) || p.b[p.i] != ':' {
		return nil, p.errorf("expected ':' after member name %q, found %s", key, jsonKindAt(p.b, p.i))
	}
	p.i++
	p.space()
	return key, nil
}

// nameMember parses a string member into *dst, reusing *last when the value
// repeats.
func (p *prParser) nameMember(dst, last *string, name string) error {
	if p.i < len(p.b) && p.b[p.i] == 'n' {
		return p.null()
	}
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return p.typeError(-1, name, "a string")
	}
	p.i++
	start, end, escaped, err := p.scanString()
	if err != nil {
		return err
	}
	v := p.b[start:end]
	if escaped {
		p.r.scratch = appendUnescaped(p.r.scratch[:0], v)
		v = p.r.scratch
	}
	if string(v) != *last {
		*last = string(v)
	}
	*dst = *last
	return nil
}

// records parses the Records array.
func (p *prParser) records() error {
	if p.i < len(p.b) && p.b[p.i] == 'n' {
		return p.null()
	}
	if p.i >= len(p.b) || p.b[p.i] != '[' {
		return p.typeError(-1, "Records", "an array")
	}
	p.i++
	r := p.r
	clear(r.Records) // a repeated Records member replaces the first
	r.Records = r.Records[:0]
	p.space()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return nil
	}
	for idx := 0; ; idx++ {
		r.Records = append(r.Records, PutRecordsEntry{})
		e := &r.Records[len(r.Records)-1]
		switch {
		case p.i < len(p.b) && p.b[p.i] == '{':
			p.i++
			if err := p.entry(e, idx); err != nil {
				return err
			}
		case p.i < len(p.b) && p.b[p.i] == 'n':
			if err := p.null(); err != nil {
				return err
			}
		default:
			return p.typeError(idx, "", "an object")
		}
		if done, err := p.next(']', "Records"); err != nil || done {
			return err
		}
	}
}

// entry parses the members of one record after its '{'.
func (p *prParser) entry(e *PutRecordsEntry, idx int) error {
	p.space()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return nil
	}
	for {
		key, err := p.key()
		if err != nil {
			return err
		}
		switch string(key) {
		case "Data":
			err = p.data(e, idx)
		case "PartitionKey":
			e.PartitionKey, err = p.bytesMember(e.PartitionKey, idx, "PartitionKey")
		case "ExplicitHashKey":
			e.ExplicitHashKey, err = p.bytesMember(e.ExplicitHashKey, idx, "ExplicitHashKey")
		default:
			err = p.skip(0)
		}
		if err != nil {
			return err
		}
		if done, err := p.next('}', "a record"); err != nil || done {
			return err
		}
	}
}

// bytesMember parses a string member of a record. Without escapes the result
// aliases the body; with escapes it is unescaped into the arena. null keeps
// prev.
func (p *prParser) bytesMember(prev []byte, idx int, name string) ([]byte, error) {
	if p.i < len(p.b) && p.b[p.i] == 'n' {
		return prev, p.null()
	}
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return prev, p.typeError(idx, name, "a string")
	}
	p.i++
	start, end, escaped, err := p.scanString()
	if err != nil {
		return prev, err
	}
	if !escaped {
		return p.b[start:end:end], nil
	}
	a := p.r.arena
	n := len(a)
	a = appendUnescaped(a, p.b[start:end])
	p.r.arena = a
	return a[n:len(a):len(a)], nil
}

// data parses a record's base64 Data member into the arena.
func (p *prParser) data(e *PutRecordsEntry, idx int) error {
	if p.i < len(p.b) && p.b[p.i] == 'n' {
		return p.null()
	}
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return p.typeError(idx, "Data", "a base64 string")
	}
	p.i++
	start, end, escaped, err := p.scanString()
	if err != nil {
		return err
	}
	src := p.b[start:end]
	if escaped {
		p.r.scratch = appendUnescaped(p.r.scratch[:0], src)
		src = p.r.scratch
	}
	// RawStdEncoding.DecodedLen is at least StdEncoding's for any length.
	need := base64.RawStdEncoding.DecodedLen(len(src))
	a := p.r.arena
	if cap(a)-len(a) < need {
		// Only when the arena was not sized for this body; earlier
		// entries keep the old array alive.
		a = make([]byte, 0, max(2*cap(a), need, 512))
	}
	off := len(a)
	dst := a[off : off+need]
	n, err := base64.StdEncoding.Decode(dst, src)
	if err != nil && bytes.IndexByte(src, '=') < 0 {
		n, err = base64.RawStdEncoding.Decode(dst, src)
	}
	if err != nil {
		return Errorf(Serialization, "Records[%d].Data is not valid base64: %v", idx, err)
	}
	p.r.arena = a[:off+n]
	e.Data = a[off : off+n : off+n]
	e.HasData = true
	return nil
}

// null consumes the literal null.
func (p *prParser) null() error {
	if !bytes.HasPrefix(p.b[p.i:], []byte("null")) {
		return p.errorf("invalid literal, expected null")
	}
	p.i += 4
	return nil
}

// skip consumes one JSON value of any type, checking its syntax.
func (p *prParser) skip(depth int) error {
	if p.i >= len(p.b) {
		return p.errorf("unexpected end of input, expected a value")
	}
	switch c := p.b[p.i]; c {
	case '"':
		p.i++
		_, _, _, err := p.scanString()
		return err
	case '{':
		if depth >= maxSkipDepth {
			return p.errorf("values nested deeper than %d levels", maxSkipDepth)
		}
		p.i++
		p.space()
		if p.i < len(p.b) && p.b[p.i] == '}' {
			p.i++
			return nil
		}
		for {
			if _, err := p.key(); err != nil {
				return err
			}
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			if done, err := p.next('}', "an object"); err != nil || done {
				return err
			}
		}
	case '[':
		if depth >= maxSkipDepth {
			return p.errorf("values nested deeper than %d levels", maxSkipDepth)
		}
		p.i++
		p.space()
		if p.i < len(p.b) && p.b[p.i] == ']' {
			p.i++
			return nil
		}
		for {
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			if done, err := p.next(']', "an array"); err != nil || done {
				return err
			}
		}
	case 't':
		return p.literal("true")
	case 'f':
		return p.literal("false")
	case 'n':
		return p.literal("null")
	default:
		end, ok := scanJSONNumber(p.b, p.i)
		if !ok {
			return p.errorf("invalid character %q in a number or value", byteAt(p.b, end))
		}
		p.i = end
		return nil
	}
}

func (p *prParser) literal(lit string) error {
	if len(p.b)-p.i < len(lit) || string(p.b[p.i:p.i+len(lit)]) != lit {
		return p.errorf("invalid literal, expected %s", lit)
	}
	p.i += len(lit)
	return nil
}

// byteAt returns b[i], or 0 past the end.
func byteAt(b []byte, i int) byte {
	if i < len(b) {
		return b[i]
	}
	return 0
}

// space skips JSON whitespace.
func (p *prParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// SWAR constants for scanning eight string bytes at a time.
const (
	swarOnes  = 0x0101010101010101
	swarHigh  = 0x8080808080808080
	swarQuote = swarOnes * '"'
	swarBack  = swarOnes * '\\'
	swarSpace = swarOnes * 0x20
)

// scanString scans a JSON string whose opening quote is just before p.i. It
// checks control characters, escapes and UTF-8, leaves p after the closing
// quote and returns the bounds of the raw content and whether it holds
// escapes.
func (p *prParser) scanString() (start, end int, escaped bool, err error) {
	b := p.b
	i := p.i
	start = i
	for {
		// Eight bytes at a time while none is '"', '\\', a control
		// character or non-ASCII. The lowest flagged byte is exact:
		// borrows only run upwards from a flagged byte.
		for len(b)-i >= 8 {
			x := binary.LittleEndian.Uint64(b[i:])
			m := ((x ^ swarQuote) - swarOnes) | ((x ^ swarBack) - swarOnes) | (x - swarSpace) | x
			if m &= swarHigh; m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(b) {
			return 0, 0, false, p.errorAt(start-1, "unterminated string")
		}
		switch c := b[i]; {
		case c == '"':
			p.i = i + 1
			return start, i, escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				return 0, 0, false, p.errorAt(start-1, "unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(b)-i < 6 || !isHex4(b[i+2:i+6]) {
					return 0, 0, false, p.errorAt(i, `invalid \u escape, expected four hex digits`)
				}
				i += 6
			default:
				return 0, 0, false, p.errorAt(i, fmt.Sprintf("invalid escape %q in string", b[i:i+2]))
			}
		case c < 0x20:
			return 0, 0, false, p.errorAt(i, fmt.Sprintf("control character %#02x in string; escape it", c))
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return 0, 0, false, p.errorAt(i, "invalid UTF-8 in string")
			}
			i += size
		}
	}
}

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if hexValue(c) < 0 {
			return false
		}
	}
	return true
}

func hexValue(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// hex4 decodes the \u escape at the start of b, or returns -1.
func hex4(b []byte) rune {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range b[2:6] {
		v := hexValue(c)
		if v < 0 {
			return -1
		}
		r = r<<4 | v
	}
	return r
}

// appendUnescaped appends the unescaped form of src, the raw content of a
// string that scanString accepted. It is never longer than src.
func appendUnescaped(dst, src []byte) []byte {
	for {
		j := bytes.IndexByte(src, '\\')
		if j < 0 || j+1 >= len(src) {
			return append(dst, src...)
		}
		dst = append(dst, src[:j]...)
		src = src[j:]
		switch c := src[1]; c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(src)
			if r < 0 { // cannot happen after scanString; keep the text
				dst = append(dst, src[:2]...)
				src = src[2:]
				continue
			}
			src = src[6:]
			if utf16.IsSurrogate(r) {
				// As encoding/json: a valid pair combines, anything
				// else is U+FFFD and the next escape stands alone.
				if dec := utf16.DecodeRune(r, hex4(src)); dec != utf8.RuneError {
					r = dec
					src = src[6:]
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
		src = src[2:]
	}
}

// typeError reports a member or element of the wrong type. idx < 0 means a
// top-level member; name "" means the record itself.
func (p *prParser) typeError(idx int, name, want string) *Error {
	var path string
	switch {
	case idx < 0:
		path = name
	case name == "":
		path = fmt.Sprintf("Records[%d]", idx)
	default:
		path = fmt.Sprintf("Records[%d].%s", idx, name)
	}
	return Errorf(Serialization, "%s must be %s, found %s (offset %d)", path, want, jsonKindAt(p.b, p.i), p.i)
}

func (p *prParser) errorf(format string, args ...any) *Error {
	return p.errorAt(p.i, fmt.Sprintf(format, args...))
}

func (p *prParser) errorAt(off int, msg string) *Error {
	return Errorf(Serialization, "malformed PutRecords request at offset %d: %s", off, msg)
}

// putRecordsCBOR is the CBOR shape of a PutRecords request.
type putRecordsCBOR struct {
	StreamName *string             `json:"StreamName"`
	StreamARN  *string             `json:"StreamARN"`
	Records    []putRecordsCBORRec `json:"Records"`
}

type putRecordsCBORRec struct {
	Data            *[]byte `json:"Data"`
	PartitionKey    *string `json:"PartitionKey"`
	ExplicitHashKey *string `json:"ExplicitHashKey"`
}

// DecodeCBOR parses a PutRecords CBOR request body (Data as byte strings)
// into r, replacing what r held. Errors are as for DecodeJSON.
func (r *PutRecordsRequest) DecodeCBOR(body []byte) error {
	if r.decodeCBORFast(body) {
		return nil
	}
	return r.decodeCBORGeneral(body)
}

// decodeCBORGeneral decodes any valid CBOR form of the request through the
// reflection-based codec, and reports what is wrong with invalid ones.
func (r *PutRecordsRequest) decodeCBORGeneral(body []byte) error {
	r.Reset()
	var in putRecordsCBOR
	if err := CBOR.Unmarshal(body, &in); err != nil {
		return err
	}
	if in.StreamName != nil {
		r.StreamName = *in.StreamName
	}
	if in.StreamARN != nil {
		r.StreamARN = *in.StreamARN
	}
	for _, rec := range in.Records {
		var e PutRecordsEntry
		if rec.Data != nil {
			e.Data = *rec.Data
			if e.Data == nil {
				e.Data = []byte{}
			}
			e.HasData = true
		}
		if rec.PartitionKey != nil {
			e.PartitionKey = []byte(*rec.PartitionKey)
		}
		if rec.ExplicitHashKey != nil {
			e.ExplicitHashKey = []byte(*rec.ExplicitHashKey)
		}
		r.Records = append(r.Records, e)
	}
	return nil
}
