package streamlog

import (
	"fmt"
	"strconv"
)

// SeqLen is the length of a sequence number: 56 decimal digits, like AWS's.
const SeqLen = 56

// Seq identifies one record: the generation of the writer that appended it
// (the writer's start time in Unix milliseconds, strictly increasing across
// restarts of a shard), the shard's index and the record's offset in the
// shard. Its decimal form is "49" + generation (20 digits) + shard index
// (14 digits) + offset (20 digits); since every form has the same length,
// comparing the strings compares the numbers, and within a shard sequence
// numbers increase strictly with the offset and never repeat, even across
// restarts, because the generation grows on every restart.
type Seq struct {
	Gen    uint64
	Shard  uint32
	Offset uint64
}

// AppendTo appends the 56-digit decimal form of q to dst.
func (q Seq) AppendTo(dst []byte) []byte {
	dst = append(dst, '4', '9')
	dst = appendPadded(dst, q.Gen, 20)
	dst = appendPadded(dst, uint64(q.Shard), 14)
	return appendPadded(dst, q.Offset, 20)
}

// AppendOffset appends the last 20 digits of a sequence number: the offset.
func AppendOffset(dst []byte, off uint64) []byte { return appendPadded(dst, off, 20) }

// String returns the 56-digit decimal form of q.
func (q Seq) String() string {
	var b [SeqLen]byte
	return string(q.AppendTo(b[:0]))
}

const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// appendPadded appends v in decimal, zero-padded to width digits (v must
// fit in width digits).
func appendPadded(dst []byte, v uint64, width int) []byte {
	n := len(dst)
	dst = append(dst, "00000000000000000000"[:width]...)
	i := n + width
	for v >= 100 {
		q := v / 100
		r := v - q*100
		i -= 2
		dst[i], dst[i+1] = digitPairs[2*r], digitPairs[2*r+1]
		v = q
	}
	if v >= 10 {
		i -= 2
		dst[i], dst[i+1] = digitPairs[2*v], digitPairs[2*v+1]
	} else if v > 0 {
		i--
		dst[i] = byte('0' + v)
	}
	return dst
}

// ParseSeq parses the decimal form of a sequence number this store issued.
func ParseSeq(s string) (Seq, error) {
	if len(s) != SeqLen || s[0] != '4' || s[1] != '9' {
		return Seq{}, fmt.Errorf("sequence number %q is not one this store issued (want 56 digits starting 49)", s)
	}
	gen, err1 := strconv.ParseUint(s[2:22], 10, 64)
	shard, err2 := strconv.ParseUint(s[22:36], 10, 32)
	off, err3 := strconv.ParseUint(s[36:56], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return Seq{}, fmt.Errorf("sequence number %q is not a valid 56-digit number", s)
	}
	return Seq{Gen: gen, Shard: uint32(shard), Offset: off}, nil
}
