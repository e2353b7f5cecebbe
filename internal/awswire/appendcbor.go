package awswire

import (
	"unicode/utf8"
)

// CBOR building blocks for hot paths that write responses by hand (the AWS
// Java SDK v2 speaks CBOR to Kinesis by default). Each appends one data item
// or head, with definite lengths, and does not allocate when dst has room.
// AppendTimestampCBOR writes a timestamp.

// AppendCBORMapHeader appends the head of a map of n key/value pairs.
func AppendCBORMapHeader(dst []byte, n int) []byte {
	return appendCBORHead(dst, 5, uint64(n))
}

// AppendCBORArrayHeader appends the head of an array of n items.
func AppendCBORArrayHeader(dst []byte, n int) []byte {
	return appendCBORHead(dst, 4, uint64(n))
}

// AppendCBORText appends s as a text string; invalid UTF-8 bytes become
// U+FFFD, since CBOR text must be valid UTF-8.
func AppendCBORText(dst []byte, s string) []byte {
	if utf8.ValidString(s) {
		dst = appendCBORHead(dst, 3, uint64(len(s)))
		return append(dst, s...)
	}
	return appendCBORTextSlow(dst, []byte(s))
}

// AppendCBORTextBytes is AppendCBORText for a []byte.
func AppendCBORTextBytes(dst []byte, s []byte) []byte {
	if utf8.Valid(s) {
		dst = appendCBORHead(dst, 3, uint64(len(s)))
		return append(dst, s...)
	}
	return appendCBORTextSlow(dst, s)
}

// appendCBORTextSlow appends s with each invalid UTF-8 byte replaced.
func appendCBORTextSlow(dst []byte, s []byte) []byte {
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			n += utf8.RuneLen(utf8.RuneError)
		} else {
			n += size
		}
		i += size
	}
	dst = appendCBORHead(dst, 3, uint64(n))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return dst
}

// AppendCBORBytes appends b as a byte string (a blob).
func AppendCBORBytes(dst []byte, b []byte) []byte {
	dst = appendCBORHead(dst, 2, uint64(len(b)))
	return append(dst, b...)
}

// AppendCBORInt appends v as an integer.
func AppendCBORInt(dst []byte, v int64) []byte {
	if v >= 0 {
		return appendCBORHead(dst, 0, uint64(v))
	}
	return appendCBORHead(dst, 1, uint64(-(v + 1)))
}

// AppendCBORBool appends true or false.
func AppendCBORBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, 0xf5)
	}
	return append(dst, 0xf4)
}

// AppendCBORNull appends null.
func AppendCBORNull(dst []byte) []byte {
	return append(dst, 0xf6)
}

// appendCBORHead appends the head of a CBOR data item of major type major
// with argument n.
func appendCBORHead(dst []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(dst, m|byte(n))
	case n <= 0xff:
		return append(dst, m|24, byte(n))
	case n <= 0xffff:
		return append(dst, m|25, byte(n>>8), byte(n))
	case n <= 0xffffffff:
		return append(dst, m|26, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, m|27, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32),
		byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}
