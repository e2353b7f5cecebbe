package awswire

import (
	"encoding/base64"
	"unicode/utf8"
	"unsafe"
)

// jsonSafe[c] is true for ASCII bytes that go into a JSON string unescaped.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// AppendString appends s as a quoted JSON string: '"' and '\' are
// backslash-escaped, control characters become \u00XX, valid UTF-8 is copied
// and each invalid UTF-8 byte becomes \ufffd. It does not allocate when dst
// has room.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendBytesString is AppendString for a []byte. It views s as a string
// without copying: AppendString only reads it and keeps no reference.
func AppendBytesString(dst []byte, s []byte) []byte {
	return AppendString(dst, unsafe.String(unsafe.SliceData(s), len(s)))
}

// AppendBase64 appends b as a quoted standard, padded base64 string ("aGk=").
func AppendBase64(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

// AppendTimestampSeconds appends ms epoch milliseconds as a JSON number of
// epoch seconds without an exponent: 1700000000123 -> 1700000000.123,
// 1700000000120 -> 1700000000.12, 1700000000000 -> 1700000000,
// -1500 -> -1.5. Go's encoding/json and the AWS SDKs all parse this form.
func AppendTimestampSeconds(dst []byte, ms int64) []byte {
	u := uint64(ms)
	if ms < 0 {
		dst = append(dst, '-')
		u = -u // two's complement magnitude; correct for math.MinInt64 too
	}
	sec, frac := u/1000, u%1000
	dst = appendUint(dst, sec)
	if frac == 0 {
		return dst
	}
	d := [4]byte{'.', byte('0' + frac/100), byte('0' + frac/10%10), byte('0' + frac%10)}
	n := 4
	for d[n-1] == '0' {
		n--
	}
	return append(dst, d[:n]...)
}

// appendUint appends the decimal form of u.
func appendUint(dst []byte, u uint64) []byte {
	var buf [20]byte
	i := len(buf)
	for u >= 10 {
		i--
		buf[i] = byte('0' + u%10)
		u /= 10
	}
	i--
	buf[i] = byte('0' + u)
	return append(dst, buf[i:]...)
}
