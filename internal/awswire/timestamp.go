package awswire

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/x448/float16"
)

// Timestamp is an AWS timestamp.
//
// JSON: a number of epoch seconds, written with millisecond precision and no
// exponent (1700000000.123); read from an integer or fractional number
// (exponents allowed), a numeric string or an RFC 3339 string.
//
// CBOR: written as tag 1 holding an integer number of epoch milliseconds,
// which is what the AWS Java SDK v2 sends and expects (RFC 8949 says
// seconds); read from tag 1 or a bare number, where an integer is
// milliseconds and a float is seconds. Tag 0 (an RFC 3339 string) is also read.
//
// Decoded times are in UTC and lie between years 1 and 9999; anything else
// is a SerializationException. JSON null and CBOR null/undefined leave the
// value unchanged.
//
// encoding/json never omits a struct, so an optional timestamp member must be
// a *Timestamp with omitempty (that works in both codecs).
type Timestamp struct{ time.Time }

// The range a Timestamp can take on the wire: 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59.999Z.
const (
	minTimestampSeconds = -62135596800
	maxTimestampSeconds = 253402300799
	minTimestampMillis  = minTimestampSeconds * 1000
	maxTimestampMillis  = maxTimestampSeconds*1000 + 999
)

// NewTimestampMillis returns the Timestamp at ms epoch milliseconds, in UTC.
func NewTimestampMillis(ms int64) Timestamp {
	return Timestamp{time.UnixMilli(ms).UTC()}
}

// MarshalJSON writes fractional epoch seconds with millisecond precision.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return AppendTimestampSeconds(make([]byte, 0, 24), t.UnixMilli()), nil
}

// UnmarshalJSON reads a number of epoch seconds, a numeric string or an RFC
// 3339 string.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	i := skipJSONSpace(b, 0)
	switch {
	case i == len(b):
		return Errorf(Serialization, "expected a timestamp, found nothing")
	case b[i] == 'n':
		return nil // null: leave unchanged, like encoding/json
	case b[i] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return Errorf(Serialization, "invalid timestamp string: %s", err)
		}
		tm, err := parseTimestampString(s)
		if err != nil {
			return err
		}
		t.Time = tm
		return nil
	case b[i] == '-' || (b[i] >= '0' && b[i] <= '9'):
		end := len(b)
		for end > i && (b[end-1] == ' ' || b[end-1] == '\t' || b[end-1] == '\n' || b[end-1] == '\r') {
			end--
		}
		tm, err := parseEpochSeconds(string(b[i:end]))
		if err != nil {
			return err
		}
		t.Time = tm
		return nil
	}
	return Errorf(Serialization, "expected a timestamp (epoch seconds or an RFC 3339 string), found %s", jsonKindAt(b, i))
}

// parseTimestampString reads an RFC 3339 time or a number of epoch seconds.
func parseTimestampString(s string) (time.Time, error) {
	if validJSONNumber(s) {
		return parseEpochSeconds(s)
	}
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, Errorf(Serialization, "invalid timestamp %q: expected epoch seconds or an RFC 3339 date-time", s)
	}
	if y := tm.UTC().Year(); y < 1 || y > 9999 {
		return time.Time{}, Errorf(Serialization, "timestamp %q is out of range (years 1 to 9999)", s)
	}
	return tm.UTC(), nil
}

// parseEpochSeconds reads a JSON number of epoch seconds. Plain decimals are
// read exactly (to the nanosecond); numbers with an exponent go through
// float64 and are rounded to the millisecond.
func parseEpochSeconds(s string) (time.Time, error) {
	if sec, nsec, ok := parseDecimalSeconds(s); ok {
		if sec < minTimestampSeconds || sec > maxTimestampSeconds {
			return time.Time{}, Errorf(Serialization, "timestamp %s is out of range (years 1 to 9999)", s)
		}
		return time.Unix(sec, nsec).UTC(), nil
	}
	if !validJSONNumber(s) {
		return time.Time{}, Errorf(Serialization, "invalid timestamp %q: expected a number of epoch seconds", s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !isRangeError(err) {
		return time.Time{}, Errorf(Serialization, "invalid timestamp %q: expected a number of epoch seconds", s)
	}
	return floatSecondsToTime(f, s)
}

func isRangeError(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// floatSecondsToTime converts fractional epoch seconds, rounded to the millisecond.
func floatSecondsToTime(f float64, src string) (time.Time, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, Errorf(Serialization, "timestamp %s is not a finite number", src)
	}
	ms := math.Round(f * 1000)
	if ms < minTimestampMillis || ms > maxTimestampMillis {
		return time.Time{}, Errorf(Serialization, "timestamp %s is out of range (years 1 to 9999)", src)
	}
	return time.UnixMilli(int64(ms)).UTC(), nil
}

// parseDecimalSeconds parses -?digits(.digits)? exactly; digits past the
// ninth fractional one are truncated. ok is false for anything else,
// including values too large for int64 seconds.
func parseDecimalSeconds(s string) (sec, nsec int64, ok bool) {
	i := 0
	neg := false
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	start := i
	if i < len(s) && s[i] == '0' {
		i++
	} else {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if sec > (math.MaxInt64-9)/10 {
				return 0, 0, false
			}
			sec = sec*10 + int64(s[i]-'0')
			i++
		}
	}
	if i == start {
		return 0, 0, false
	}
	if i < len(s) && s[i] == '.' {
		i++
		fstart := i
		scale := int64(100000000)
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			nsec += int64(s[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == fstart {
			return 0, 0, false
		}
	}
	if i != len(s) {
		return 0, 0, false
	}
	if neg {
		sec = -sec
		if nsec > 0 {
			sec--
			nsec = 1e9 - nsec
		}
	}
	return sec, nsec, true
}

// validJSONNumber reports whether s is a JSON number.
func validJSONNumber(s string) bool {
	b := []byte(s)
	end, ok := scanJSONNumber(b, 0)
	return ok && end == len(b)
}

// scanJSONNumber returns the end of the JSON number starting at b[i].
func scanJSONNumber(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return i, false
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return i, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return i, false
		}
	}
	return i, true
}

// MarshalCBOR writes tag 1 holding an integer number of epoch milliseconds.
func (t Timestamp) MarshalCBOR() ([]byte, error) {
	return AppendTimestampCBOR(make([]byte, 0, 10), t.UnixMilli()), nil
}

// AppendTimestampCBOR appends tag 1 holding the integer ms, the CBOR form of
// a Timestamp, for hot paths that build CBOR by hand.
func AppendTimestampCBOR(dst []byte, ms int64) []byte {
	return AppendCBORInt(append(dst, 0xc1), ms)
}

// UnmarshalCBOR reads tag 1 or a bare number (integer milliseconds, float
// seconds) or tag 0 (an RFC 3339 string).
func (t *Timestamp) UnmarshalCBOR(b []byte) error {
	if len(b) == 0 {
		return Errorf(Serialization, "expected a timestamp, found nothing")
	}
	if b[0] == 0xf6 || b[0] == 0xf7 { // null, undefined: leave unchanged
		if len(b) != 1 {
			return Errorf(Serialization, "malformed CBOR timestamp")
		}
		return nil
	}
	tag0 := false
	switch b[0] {
	case 0xc1:
		b = b[1:]
	case 0xc0:
		tag0 = true
		b = b[1:]
	}
	if tag0 {
		var s string
		if err := cborDec.Unmarshal(b, &s); err != nil {
			return Errorf(Serialization, "invalid CBOR timestamp: tag 0 must hold an RFC 3339 text string")
		}
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || tm.UTC().Year() < 1 || tm.UTC().Year() > 9999 {
			return Errorf(Serialization, "invalid timestamp %q: expected an RFC 3339 date-time between years 1 and 9999", s)
		}
		t.Time = tm.UTC()
		return nil
	}
	tm, err := cborNumberToTime(b)
	if err != nil {
		return err
	}
	t.Time = tm
	return nil
}

// cborNumberToTime decodes one CBOR integer (epoch milliseconds) or float
// (epoch seconds) that fills b exactly.
func cborNumberToTime(b []byte) (time.Time, error) {
	if len(b) == 0 {
		return time.Time{}, Errorf(Serialization, "malformed CBOR timestamp: missing tag content")
	}
	major, info := b[0]>>5, b[0]&0x1f
	switch major {
	case 0, 1:
		n, size, ok := cborArgument(b)
		if !ok || size != len(b) {
			return time.Time{}, Errorf(Serialization, "malformed CBOR timestamp integer")
		}
		var ms int64
		switch {
		case major == 0 && n <= maxTimestampMillis:
			ms = int64(n)
		case major == 1 && n <= uint64(-(minTimestampMillis+1)):
			ms = -1 - int64(n)
		default:
			return time.Time{}, Errorf(Serialization, "CBOR timestamp is out of range (years 1 to 9999)")
		}
		if ms < minTimestampMillis || ms > maxTimestampMillis {
			return time.Time{}, Errorf(Serialization, "CBOR timestamp %d ms is out of range (years 1 to 9999)", ms)
		}
		return time.UnixMilli(ms).UTC(), nil
	case 7:
		var f float64
		switch {
		case info == 25 && len(b) == 3:
			f = float64(float16.Frombits(binary.BigEndian.Uint16(b[1:])).Float32())
		case info == 26 && len(b) == 5:
			f = float64(math.Float32frombits(binary.BigEndian.Uint32(b[1:])))
		case info == 27 && len(b) == 9:
			f = math.Float64frombits(binary.BigEndian.Uint64(b[1:]))
		default:
			return time.Time{}, Errorf(Serialization, "expected a CBOR number for a timestamp, found a simple value")
		}
		return floatSecondsToTime(f, strconv.FormatFloat(f, 'g', -1, 64))
	}
	return time.Time{}, Errorf(Serialization, "expected a CBOR number for a timestamp, found %s", cborMajorNames[major])
}

// cborArgument decodes the argument of the CBOR head at b[0]: its value and
// the head's size. ok is false for a truncated head or an indefinite length.
func cborArgument(b []byte) (n uint64, size int, ok bool) {
	info := b[0] & 0x1f
	switch {
	case info < 24:
		return uint64(info), 1, true
	case info == 24 && len(b) >= 2:
		return uint64(b[1]), 2, true
	case info == 25 && len(b) >= 3:
		return uint64(binary.BigEndian.Uint16(b[1:])), 3, true
	case info == 26 && len(b) >= 5:
		return uint64(binary.BigEndian.Uint32(b[1:])), 5, true
	case info == 27 && len(b) >= 9:
		return binary.BigEndian.Uint64(b[1:]), 9, true
	}
	return 0, 0, false
}
