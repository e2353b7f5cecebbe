package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// checkAgainstJSON checks Decode against encoding/json on in: a
// SyntaxError exactly when the value Decode reads is not json.Valid. The
// value is the first one in the input: encoding/json's Decoder finds where
// it ends. encoding/json does not check UTF-8 inside strings, so for
// input that is not valid UTF-8 only one direction holds.
func checkAgainstJSON(t *testing.T, in []byte) {
	t.Helper()
	var d Decoder
	var e Event
	n, err := d.Decode(in, &e)
	var se *SyntaxError
	isSyntax := errors.As(err, &se)
	if err != nil && !isSyntax {
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Fatalf("Decode(%q): error of type %T", in, err)
		}
	}
	// The value encoding/json reads first, and whether it is valid.
	dec := json.NewDecoder(bytes.NewReader(in))
	var raw json.RawMessage
	jerr := dec.Decode(&raw)
	jsonOK := jerr == nil && json.Valid(raw)
	if jsonOK && utf8.Valid(raw) {
		if isSyntax {
			t.Fatalf("Decode(%q): %v, but encoding/json reads the valid value %s", in, err, raw)
		}
		start := len(in) - len(bytes.TrimLeft(in, " \t\r\n"))
		if got := in[start:n]; !bytes.Equal(got, raw) {
			t.Fatalf("Decode(%q) read %q, encoding/json %q", in, got, raw)
		}
		return
	}
	if !isSyntax {
		if jerr != nil && !utf8.Valid(in) {
			return // encoding/json may stop at bad UTF-8 before its error
		}
		t.Fatalf("Decode(%q) = %d, %v; encoding/json: %v", in, n, err, jerr)
	}
}

func TestDecodeAgainstEncodingJSON(t *testing.T) {
	hand := []string{
		``, ` `, `{`, `}`, `{}`, `[]`, `[`, `]`, `"`, `""`, `"\"`, `"\\"`, `"\u"`, `"\u123"`, `"\u1234"`, `"\uD800"`,
		`"\x"`, "\"\x7f\"", "\"\x1f\"", "\"\u2028\"", `0`, `-0`, `01`, `-01`, `1.`, `.1`, `1.e1`, `1e`, `1e+`, `1E-2`, `-`,
		`+1`, `1.5e308`, `1e999`, `true`, `tru`, `truex`, `false`, `nul`, `null`, `NaN`, `Infinity`,
		`{"a"}`, `{"a":}`, `{"a":1,}`, `{,}`, `{"a":1 "b":2}`, `{"a":1}}`, `{1:2}`, `{'a':1}`, `[1,]`, `[,1]`,
		`[1 2]`, `[[[]]]`, `[[[]]`, `{"a":[{"b":[{"c":null}]}]}`, " \t\r\n{}", "\v{}", "\u00a0{}", `{"a":"b"}x`,
		`{"a":"b"}{"c":1}`, "{\"a\":\"\xc3\xa9\"}", "{\"a\":\"\xc3\"}", "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xf4\x90\x80\x80\"}",
		"{\"a\":\"\xef\xbf\xbd\"}", "\xef\xbb\xbf{}", `{"a":1}` + "\x00",
		strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth),
		strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1),
		`{"x":` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + `}`,
		`{"x":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`,
		`{"specversion":"1.0","data":{"x":` + strings.Repeat("{\"a\":", maxDepth-2) + "1" + strings.Repeat("}", maxDepth-2) + `}}`,
		`{"specversion":"1.0","data":{"x":` + strings.Repeat("{\"a\":", maxDepth-1) + "1" + strings.Repeat("}", maxDepth-1) + `}}`,
	}
	for _, typ := range Types {
		hand = append(hand, object(example(typ)))
	}
	for _, s := range hand {
		checkAgainstJSON(t, []byte(s))
	}
	// random mutations of valid events
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("{}[]\":,\\ u0123456789.eE+-truefalsnl\t\n\x00\xff\xc3\xa9abc")
	for i := range 100000 {
		base := []byte(object(example(Types[i%len(Types)])))
		for range 1 + rng.IntN(3) {
			p := rng.IntN(len(base))
			switch rng.IntN(3) {
			case 0: // replace
				base[p] = alphabet[rng.IntN(len(alphabet))]
			case 1: // delete
				base = append(base[:p], base[p+1:]...)
			default: // insert
				base = append(base[:p], append([]byte{alphabet[rng.IntN(len(alphabet))]}, base[p:]...)...)
			}
		}
		checkAgainstJSON(t, base)
	}
}
