package awswire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/fxamacker/cbor/v2"
)

// Codec is an AWS wire encoding of request and response bodies.
type Codec uint8

// The codecs tenantpulse speaks.
const (
	JSON Codec = iota + 1 // application/x-amz-json-1.1
	CBOR                  // application/x-amz-cbor-1.1
)

// Content types, as sent on responses.
const (
	ContentTypeJSON = "application/x-amz-json-1.1"
	ContentTypeCBOR = "application/x-amz-cbor-1.1"
)

// codecTable lists every accepted request media type (lower case, no parameters).
var codecTable = [...]struct {
	mediaType string
	codec     Codec
}{
	{"application/x-amz-json-1.1", JSON},
	{"application/x-amz-json-1.0", JSON},
	{"application/json", JSON},
	{"application/x-amz-cbor-1.1", CBOR},
}

// CodecFor maps a request Content-Type to a codec. Parameters after ';' and
// case are ignored. An empty content type means JSON. It returns 0, false
// for anything else.
func CodecFor(contentType string) (Codec, bool) {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.TrimSpace(mt)
	if mt == "" {
		return JSON, true
	}
	for _, e := range codecTable {
		if strings.EqualFold(mt, e.mediaType) {
			return e.codec, true
		}
	}
	return 0, false
}

// ContentType returns the response Content-Type of c. Any codec other than
// CBOR, including the zero Codec, is JSON.
func (c Codec) ContentType() string {
	if c == CBOR {
		return ContentTypeCBOR
	}
	return ContentTypeJSON
}

// String returns "json", "cbor" or "codec(N)".
func (c Codec) String() string {
	switch c {
	case JSON:
		return "json"
	case CBOR:
		return "cbor"
	}
	return fmt.Sprintf("codec(%d)", uint8(c))
}

// Decoder limits for CBOR. MaxArrayElements must allow 10,000 GetRecords results.
const (
	cborMaxNestedLevels  = 64
	cborMaxArrayElements = 131072
	cborMaxMapPairs      = 131072
)

// cborDec and cborEnc are immutable modes built once; fxamacker modes are safe
// for concurrent use.
var (
	cborDec = mustDecMode(cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyQuiet,
		MaxNestedLevels:   cborMaxNestedLevels,
		MaxArrayElements:  cborMaxArrayElements,
		MaxMapPairs:       cborMaxMapPairs,
		IndefLength:       cbor.IndefLengthAllowed,
		TagsMd:            cbor.TagsAllowed,
		UTF8:              cbor.UTF8RejectInvalid,
		DefaultMapType:    reflect.TypeFor[map[string]any](),
		FieldNameMatching: cbor.FieldNameMatchingCaseSensitive,
	})
	cborEnc = mustEncMode(cbor.EncOptions{
		Sort:          cbor.SortNone,
		ShortestFloat: cbor.ShortestFloatNone,
		IndefLength:   cbor.IndefLengthForbidden,
		NilContainers: cbor.NilContainerAsNull,
		OmitEmpty:     cbor.OmitEmptyGoValue,
		String:        cbor.StringToTextString,
		FieldName:     cbor.FieldNameToTextString,
		ByteArray:     cbor.ByteArrayToByteSlice,
	})
)

func mustDecMode(o cbor.DecOptions) cbor.DecMode {
	m, err := o.DecMode()
	if err != nil {
		panic(fmt.Sprintf("BUG: invalid CBOR decode options: %v", err))
	}
	return m
}

func mustEncMode(o cbor.EncOptions) cbor.EncMode {
	m, err := o.EncMode()
	if err != nil {
		panic(fmt.Sprintf("BUG: invalid CBOR encode options: %v", err))
	}
	return m
}

// Unmarshal decodes body into v, a pointer to a struct whose fields carry json
// tags (CBOR uses the same tags). An empty body is treated as an empty
// object. Unknown members are ignored. Malformed input, a top-level value that
// is not an object or map, a member of the wrong type and trailing data all
// give an *Error of type SerializationException.
func (c Codec) Unmarshal(body []byte, v any) error {
	if len(body) == 0 {
		return nil
	}
	switch c {
	case JSON:
		return unmarshalJSON(body, v)
	case CBOR:
		return unmarshalCBOR(body, v)
	}
	return fmt.Errorf("cannot unmarshal with %s: unknown codec", c)
}

// Marshal encodes v. JSON follows encoding/json ([]byte as base64) without
// HTML escaping; CBOR writes []byte as byte strings, names fields by their json
// tags and respects omitempty as encoding/json does.
func (c Codec) Marshal(v any) ([]byte, error) {
	switch c {
	case JSON:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return nil, fmt.Errorf("cannot marshal %T as JSON: %w", v, err)
		}
		return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
	case CBOR:
		b, err := cborEnc.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("cannot marshal %T as CBOR: %w", v, err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("cannot marshal with %s: unknown codec", c)
}

func unmarshalJSON(body []byte, v any) error {
	i := skipJSONSpace(body, 0)
	if i == len(body) {
		return Errorf(Serialization, "malformed JSON: the body holds only whitespace; expected an object")
	}
	if body[i] != '{' {
		return Errorf(Serialization, "expected a JSON object at the top level, found %s", jsonKindAt(body, i))
	}
	if err := json.Unmarshal(ignoreCaseMismatches(body, v), v); err != nil {
		var ie *json.InvalidUnmarshalError
		if errors.As(err, &ie) { // the caller's bug, not the client's
			return fmt.Errorf("cannot unmarshal JSON: %w", err)
		}
		return jsonError(err)
	}
	return nil
}

func jsonError(err error) *Error {
	var we *Error
	if errors.As(err, &we) {
		return we
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return Errorf(Serialization, "malformed JSON at offset %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		member := te.Field
		if member == "" {
			member = "(top level)"
		}
		return Errorf(Serialization, "member %s: expected %s, found JSON %s", member, wireKind(te.Type), te.Value)
	}
	return Errorf(Serialization, "malformed JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

func unmarshalCBOR(body []byte, v any) error {
	i := 0
	// Skip self-described CBOR tags (55799, d9 d9 f7).
	for len(body)-i >= 3 && body[i] == 0xd9 && body[i+1] == 0xd9 && body[i+2] == 0xf7 {
		i += 3
	}
	if i == len(body) || body[i]>>5 != 5 {
		found := "nothing"
		if i < len(body) {
			found = cborMajorNames[body[i]>>5]
		}
		return Errorf(Serialization, "expected a CBOR map at the top level, found %s", found)
	}
	if err := cborDec.Unmarshal(body, v); err != nil {
		var ie *cbor.InvalidUnmarshalError
		if errors.As(err, &ie) { // the caller's bug, not the client's
			return fmt.Errorf("cannot unmarshal CBOR: %w", err)
		}
		return cborError(err)
	}
	return nil
}

var cborMajorNames = [8]string{"an unsigned integer", "a negative integer", "a byte string", "a text string", "an array", "a map", "a tag", "a simple value or float"}

func cborError(err error) *Error {
	var we *Error
	if errors.As(err, &we) {
		return we
	}
	var te *cbor.UnmarshalTypeError
	if errors.As(err, &te) {
		// fxamacker names the outermost field as "pkg.Type.Field": keep
		// the field, which contains the bad value somewhere.
		member := te.StructFieldName[strings.LastIndexByte(te.StructFieldName, '.')+1:]
		if member == "" {
			return Errorf(Serialization, "cannot decode CBOR %s into %s", te.CBORType, wireKindName(te.GoType))
		}
		return Errorf(Serialization, "cannot decode CBOR %s into %s (in member %s)", te.CBORType, wireKindName(te.GoType), member)
	}
	return Errorf(Serialization, "malformed CBOR: %s", strings.TrimPrefix(err.Error(), "cbor: "))
}

// wireKind names what a Go type expects on the wire, in AWS shape terms.
func wireKind(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[Timestamp]() {
		return "a timestamp"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a blob"
		}
		return "a list"
	case reflect.Map:
		return "a map"
	case reflect.Struct:
		return "a structure"
	}
	return "a value"
}

// wireKindName is wireKind for fxamacker's Go type names, which are strings.
func wireKindName(goType string) string {
	goType = strings.TrimLeft(goType, "*")
	switch {
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "a boolean"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "an integer"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "[]uint8":
		return "a blob"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["):
		return "a map"
	case strings.HasSuffix(goType, "awswire.Timestamp"):
		return "a timestamp"
	}
	return "a structure"
}

// skipJSONSpace returns the index of the first non-whitespace byte at or after i.
func skipJSONSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// jsonKindAt names the JSON value that starts at b[i], for error messages.
func jsonKindAt(b []byte, i int) string {
	if i >= len(b) {
		return "the end of the input"
	}
	switch c := b[i]; {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "a number"
	default:
		return fmt.Sprintf("invalid character %q", c)
	}
}
