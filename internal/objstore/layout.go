package objstore

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"
)

// DefaultPrefix starts every bucket name when Layout.Prefix is empty.
const DefaultPrefix = "tenantpulse-"

// MaxPrefixLen is the longest Layout.Prefix: it leaves room in S3's 63
// characters for the hashed form of a tenant id (HashSep and HashLen
// characters of hash after at least one readable character).
const MaxPrefixLen = 40

// The layout modes.
const (
	// ModeBucket keeps each tenant in its own bucket, Prefix + tenant name.
	ModeBucket = "bucket"
	// ModePrefix keeps everything in one bucket, Prefix + "archive", each
	// tenant under "tenants/<name>/".
	ModePrefix = "prefix"
)

// HashSep separates the readable part of a hashed tenant name from its
// hash. A tenant id is used as is only if it does not contain HashSep, so a
// plain name can never equal a hashed one.
const HashSep = "--"

// HashLen is the length of the hash in a hashed tenant name: lowercase
// base32 (a-z, 2-7) of the first 100 bits of the SHA-256 of the exact id.
const HashLen = 20

// reservedNames are the bucket suffixes (after the prefix) the layout uses
// itself; tenant ids equal to them are hashed.
var reservedNames = []string{"errors", "archive"}

// Layout maps tenants to buckets and key prefixes. The zero value is the
// default: one bucket per tenant named "tenantpulse-" + tenant name. Check
// a configured Layout with Validate before use.
type Layout struct {
	// Prefix starts every bucket name; empty means DefaultPrefix.
	Prefix string
	// Mode is ModeBucket (also when empty) or ModePrefix.
	Mode string
}

func (l Layout) prefix() string {
	if l.Prefix == "" {
		return DefaultPrefix
	}
	return l.Prefix
}

// Validate checks that every name the layout makes is a valid S3 bucket
// name: Prefix (when set) must be 1 to MaxPrefixLen characters of a-z, 0-9
// and '-', start with a letter or digit, and neither start with nor be the
// beginning of a prefix S3 reserves ("xn--", "sthree-", "amzn-s3-demo-");
// Mode must be "", "bucket" or "prefix".
func (l Layout) Validate() error {
	switch l.Mode {
	case "", ModeBucket, ModePrefix:
	default:
		return fmt.Errorf("archive layout mode %q is unknown; use %q (a bucket per tenant) or %q (one bucket, a key prefix per tenant)", l.Mode, ModeBucket, ModePrefix)
	}
	p := l.prefix()
	if len(p) > MaxPrefixLen {
		return fmt.Errorf("archive bucket prefix %q has %d characters; use at most %d, so that tenant names fit S3's 63", p, len(p), MaxPrefixLen)
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; !isLowerAlnum(c) && c != '-' {
			return fmt.Errorf("archive bucket prefix %q contains %q; use only lowercase letters, digits and '-'", p, c)
		}
	}
	if !isLowerAlnum(p[0]) {
		return fmt.Errorf("archive bucket prefix %q must start with a lowercase letter or a digit", p)
	}
	for _, r := range reservedBucketStarts {
		if strings.HasPrefix(p, r) || strings.HasPrefix(r, p) {
			return fmt.Errorf("archive bucket prefix %q could make names starting with %q, which S3 reserves; choose another prefix", p, r)
		}
	}
	return nil
}

// Tenant returns where tenantID's archive lives: in ModeBucket its own
// bucket and keyPrefix ""; in ModePrefix the shared bucket Prefix+"archive"
// and keyPrefix "tenants/<name>/". The name is TenantName(tenantID).
func (l Layout) Tenant(tenantID string) (bucket, keyPrefix string) {
	name := l.TenantName(tenantID)
	if l.Mode == ModePrefix {
		return l.prefix() + "archive", "tenants/" + name + "/"
	}
	return l.prefix() + name, ""
}

// Errors returns where the errors archive lives: the bucket Prefix+"errors"
// in ModeBucket, or "errors/" in the shared bucket in ModePrefix.
func (l Layout) Errors() (bucket, keyPrefix string) {
	if l.Mode == ModePrefix {
		return l.prefix() + "archive", "errors/"
	}
	return l.prefix() + "errors", ""
}

// TenantName returns the name of tenantID's bucket after the prefix (and
// its key segment in ModePrefix). It is deterministic, and different ids
// always get different names:
//
//   - an id of lowercase letters, digits and single '-' between them (no
//     HashSep), that is not "errors" or "archive" and makes a valid bucket
//     name that fits, is its own name: "acme-42" -> "acme-42";
//   - any other id gets a readable part (lowercased, each run of other
//     characters turned into one '-', trimmed to fit), then HashSep, then
//     HashLen characters of hash of the exact id:
//     "Acme Corp" -> "acme-corp--" + hash.
//
// Plain names never contain HashSep and hashed ones always do; two hashed
// names are equal only if 100 bits of SHA-256 are. "Fits" means Prefix +
// name is at most 63 characters; in ModePrefix the name is computed as if
// Prefix were DefaultPrefix, so the key segment does not depend on the
// bucket prefix.
func (l Layout) TenantName(tenantID string) string {
	p := l.prefix()
	if l.Mode == ModePrefix {
		// A key segment has no bucket prefix to make room for: name it as
		// the default layout names buckets, whatever Prefix is.
		p = DefaultPrefix
	}
	if plainOK(p, tenantID) {
		return tenantID
	}
	return hashedName(tenantID, 63-len(p)-len(HashSep)-HashLen)
}

func plainOK(prefix, id string) bool {
	if id == "" || strings.Contains(id, HashSep) {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !isLowerAlnum(c) && c != '-' {
			return false
		}
	}
	for _, r := range reservedNames {
		if id == r {
			return false
		}
	}
	return bucketNameProblem(prefix+id) == ""
}

var hashEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// hashedName returns the readable part of id (at most room characters),
// HashSep and the hash.
func hashedName(id string, room int) string {
	var b strings.Builder
	dash := false
	for i := 0; i < len(id) && b.Len() < room; i++ {
		c := id[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if isLowerAlnum(c) {
			if dash && b.Len() > 0 && b.Len() < room-1 {
				b.WriteByte('-')
			}
			dash = false
			if b.Len() < room {
				b.WriteByte(c)
			}
			continue
		}
		dash = true
	}
	sum := sha256.Sum256([]byte(id))
	return b.String() + HashSep + hashEncoding.EncodeToString(sum[:])[:HashLen]
}
