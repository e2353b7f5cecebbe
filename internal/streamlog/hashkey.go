package streamlog

import (
	"crypto/md5"
	"encoding/binary"
	"errors"
	"math/big"
	"math/bits"
)

// HashKey is a 128-bit Kinesis hash key, big endian, so that comparing the
// byte arrays compares the numbers.
type HashKey [16]byte

// MaxHashKey is 2^128 - 1, the end of the last shard's range.
var MaxHashKey = HashKey{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// HashPartitionKey maps a partition key to its hash key exactly as Kinesis
// does: the MD5 digest of the key's UTF-8 bytes read as a 128-bit unsigned
// big-endian integer.
func HashPartitionKey(pk []byte) HashKey { return HashKey(md5.Sum(pk)) }

// ErrBadHashKey reports an explicit hash key that is not a decimal integer
// in [0, 2^128-1].
var ErrBadHashKey = errors.New("explicit hash key must be a decimal integer between 0 and 340282366920938463463374607431768211455")

// ParseHashKey parses a decimal hash key such as an ExplicitHashKey.
func ParseHashKey(s []byte) (HashKey, error) {
	if len(s) == 0 || len(s) > 39 || (len(s) > 1 && s[0] == '0') {
		return HashKey{}, ErrBadHashKey
	}
	var hi, lo uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			return HashKey{}, ErrBadHashKey
		}
		// (hi,lo) = (hi,lo)*10 + d
		h1, l1 := bits.Mul64(lo, 10)
		h2, _ := bits.Mul64(hi, 10)
		if h2 != 0 {
			return HashKey{}, ErrBadHashKey
		}
		nh, carry := bits.Add64(hi*10, h1, 0)
		if carry != 0 {
			return HashKey{}, ErrBadHashKey
		}
		nl, carry := bits.Add64(l1, uint64(c-'0'), 0)
		nh, carry = bits.Add64(nh, 0, carry)
		if carry != 0 {
			return HashKey{}, ErrBadHashKey
		}
		hi, lo = nh, nl
	}
	var k HashKey
	binary.BigEndian.PutUint64(k[:8], hi)
	binary.BigEndian.PutUint64(k[8:], lo)
	return k, nil
}

// String returns k in decimal.
func (k HashKey) String() string { return new(big.Int).SetBytes(k[:]).String() }

// splitRanges divides the hash key space evenly into n ranges as Kinesis
// does for a new stream: each range but the last holds floor(2^128/n) keys
// and the last ends at 2^128-1.
func splitRanges(n int) [][2]HashKey {
	space := new(big.Int).Lsh(big.NewInt(1), 128)
	width := new(big.Int).Div(space, big.NewInt(int64(n)))
	out := make([][2]HashKey, n)
	for i := 0; i < n; i++ {
		start := new(big.Int).Mul(width, big.NewInt(int64(i)))
		end := new(big.Int).Add(start, width)
		end.Sub(end, big.NewInt(1))
		if i == n-1 {
			end.Sub(space, big.NewInt(1))
		}
		out[i] = [2]HashKey{bigToKey(start), bigToKey(end)}
	}
	return out
}

func bigToKey(b *big.Int) HashKey {
	var k HashKey
	b.FillBytes(k[:])
	return k
}
