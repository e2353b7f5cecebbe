package awswire

import (
	"math/rand/v2"
	"strings"
)

// NewRequestID returns a random RFC 4122 version 4 UUID string. The bits come
// from math/rand/v2's top-level source: the runtime's per-thread ChaCha8
// generator, seeded from the operating system, so there is no lock and the
// only allocation is the returned string.
func NewRequestID() string {
	hi, lo := rand.Uint64(), rand.Uint64()
	hi = hi&^(0xf<<12) | 0x4<<12 // version 4
	lo = lo&^(0x3<<62) | 0x2<<62 // variant 10xx
	var b [36]byte
	putHex(b[0:8], hi>>32, 8)
	b[8] = '-'
	putHex(b[9:13], hi>>16, 4)
	b[13] = '-'
	putHex(b[14:18], hi, 4)
	b[18] = '-'
	putHex(b[19:23], lo>>48, 4)
	b[23] = '-'
	putHex(b[24:36], lo, 12)
	return string(b[:])
}

// putHex writes the low n hex digits of v into dst[:n].
func putHex(dst []byte, v uint64, n int) {
	for i := n - 1; i >= 0; i-- {
		dst[i] = hexDigits[v&0xf]
		v >>= 4
	}
}

// RegionFromAuthorization returns the region of the credential scope in a
// SigV4 Authorization header value:
//
//	AWS4-HMAC-SHA256 Credential=AKID/20250101/us-west-2/kinesis/aws4_request, SignedHeaders=..., Signature=...
//
// gives "us-west-2". It returns "" when there is no well-formed
// Credential=AKID/date/region/service/aws4_request parameter (SigV4a scopes
// carry no region). The result is a substring of h: nothing is allocated.
func RegionFromAuthorization(h string) string {
	const key = "Credential="
	i := 0
	for {
		j := strings.Index(h[i:], key)
		if j < 0 {
			return ""
		}
		j += i
		if j == 0 || h[j-1] == ' ' || h[j-1] == ',' || h[j-1] == '\t' {
			i = j + len(key)
			break
		}
		i = j + len(key)
	}
	cred := h[i:]
	if end := strings.IndexAny(cred, ", \t"); end >= 0 {
		cred = cred[:end]
	}
	// AKID / date / region / service / aws4_request
	akid, rest, ok := strings.Cut(cred, "/")
	if !ok || akid == "" {
		return ""
	}
	date, rest, ok := strings.Cut(rest, "/")
	if !ok || date == "" {
		return ""
	}
	region, rest, ok := strings.Cut(rest, "/")
	if !ok || region == "" {
		return ""
	}
	service, term, ok := strings.Cut(rest, "/")
	if !ok || service == "" || term != "aws4_request" {
		return ""
	}
	return region
}
