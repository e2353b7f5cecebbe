package event

import (
	"strconv"
	"unicode/utf8"
)

// SyntaxError reports input that is not strict JSON (RFC 8259).
type SyntaxError struct {
	Offset int    // byte offset in the slice given to Decode
	Msg    string // what was expected or found there
}

func (e *SyntaxError) Error() string {
	return "invalid JSON at byte " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// FieldError reports valid JSON that is not a valid event.
type FieldError struct {
	Field  string // "time", "tenantid", "data.userId"; "" for the whole event
	Reason string // what is wrong and what to send instead
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

// maxQuoted is how much of a bad value an error message quotes.
const maxQuoted = 64

// quote returns v as a Go-quoted string for an error message, shortened
// to maxQuoted bytes (on a rune boundary) with "..." when longer.
func quote(v []byte) string {
	if len(v) <= maxQuoted {
		return strconv.Quote(string(v))
	}
	n := maxQuoted
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	return strconv.Quote(string(v[:n])) + "..."
}

// kindName names the JSON kind of a value starting with c, for messages.
func kindName(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
