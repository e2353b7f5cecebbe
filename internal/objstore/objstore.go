package objstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrNotFound reports that Get found no object at the key, or no bucket;
// Put into a missing bucket reports it too. Errors wrap it: test with
// errors.Is.
var ErrNotFound = errors.New("object not found")

// ErrInvalidName reports a bucket name or key that the store refuses (see
// ValidateBucketName and ValidateKey); both backends refuse the same names,
// so an archive can move between them. Errors wrap it.
var ErrInvalidName = errors.New("invalid name")

// Object is one stored object as List reports it.
type Object struct {
	Key  string
	Size int64
}

// Store is the archive's object storage: buckets of whole objects named by
// keys. Implementations: NewLocal (a directory) and NewS3; both pass the
// conformance suite in package objstoretest. Safe for concurrent use.
type Store interface {
	// CreateBucket creates bucket if it does not exist (idempotent; an
	// existing bucket is fine).
	CreateBucket(ctx context.Context, bucket string) error
	// Put stores body at key whole or not at all: a reader never sees a
	// partial object (local: temp file in the same directory, fsync,
	// rename, fsync dir; S3: one PutObject). The bucket must exist: a
	// missing one gives an error wrapping ErrNotFound.
	Put(ctx context.Context, bucket, key string, body []byte) error
	// Get returns the object at key; a missing key or bucket gives an error
	// wrapping ErrNotFound.
	Get(ctx context.Context, bucket, key string) ([]byte, error)
	// List returns the objects whose keys start with prefix, sorted by key
	// (bytewise, as S3 does). A missing bucket gives an empty list, no
	// error.
	List(ctx context.Context, bucket, prefix string) ([]Object, error)
	// Delete removes key; a missing key (or bucket) is not an error.
	Delete(ctx context.Context, bucket, key string) error
	// Buckets lists the buckets whose names start with prefix, sorted.
	Buckets(ctx context.Context, prefix string) ([]string, error)
}

// MaxKeyLen is the longest key, in bytes, that a store accepts (S3's limit).
const MaxKeyLen = 1024

// MaxSegmentLen is the longest segment of a key (the text between two '/'),
// in bytes: with the temporary file's affixes it stays within the 255-byte
// file names of local file systems. S3 has no such limit; both stores keep
// it so an archive can move between them.
const MaxSegmentLen = 200

// TempPrefix starts the names of the temporary files the local store writes
// before renaming them into place. List never returns them, RemoveTemps
// deletes leftovers, and no key may have a segment starting with it.
const TempPrefix = ".tmp-"

// ValidateBucketName checks name against S3's rules for general purpose
// buckets: 3 to 63 characters of a-z, 0-9, '.' and '-'; starting and ending
// with a letter or digit; no ".."; not an IPv4 address; not starting with
// "xn--", "sthree-" or "amzn-s3-demo-"; not ending with "-s3alias",
// "--ol-s3", ".mrap", "--x-s3" or "--table-s3". The error wraps
// ErrInvalidName and says what is wrong.
func ValidateBucketName(name string) error {
	if msg := bucketNameProblem(name); msg != "" {
		return fmt.Errorf("%w: bucket name %q %s", ErrInvalidName, name, msg)
	}
	return nil
}

var (
	reservedBucketStarts = []string{"xn--", "sthree-", "amzn-s3-demo-"}
	reservedBucketEnds   = []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"}
)

func bucketNameProblem(name string) string {
	if len(name) < 3 || len(name) > 63 {
		return fmt.Sprintf("has %d characters; S3 wants 3 to 63", len(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isLowerAlnum(c) && c != '.' && c != '-' {
			return fmt.Sprintf("contains %q; use only lowercase letters, digits, '.' and '-'", c)
		}
	}
	if !isLowerAlnum(name[0]) || !isLowerAlnum(name[len(name)-1]) {
		return "must start and end with a lowercase letter or a digit"
	}
	if strings.Contains(name, "..") {
		return `contains ".."`
	}
	if looksLikeIPv4(name) {
		return "looks like an IP address"
	}
	for _, s := range reservedBucketStarts {
		if strings.HasPrefix(name, s) {
			return fmt.Sprintf("starts with %q, which S3 reserves", s)
		}
	}
	for _, s := range reservedBucketEnds {
		if strings.HasSuffix(name, s) {
			return fmt.Sprintf("ends with %q, which S3 reserves", s)
		}
	}
	return ""
}

// looksLikeIPv4 reports four dot-separated runs of digits (leading zeros
// included, which S3 refuses too).
func looksLikeIPv4(name string) bool {
	parts := strings.Split(name, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// ValidateKey checks that key is one both stores can hold and that maps to a
// path inside the local store's bucket directory: 1 to MaxKeyLen bytes of
// valid UTF-8 without NUL, segments separated by single '/', no leading or
// trailing '/', no "." or ".." segment, no segment longer than
// MaxSegmentLen, and no segment starting with TempPrefix. The error wraps ErrInvalidName and says what is wrong.
func ValidateKey(key string) error {
	if msg := keyProblem(key); msg != "" {
		return fmt.Errorf("%w: key %q %s", ErrInvalidName, key, msg)
	}
	return nil
}

func keyProblem(key string) string {
	switch {
	case key == "":
		return "is empty"
	case len(key) > MaxKeyLen:
		return fmt.Sprintf("has %d bytes; the limit is %d", len(key), MaxKeyLen)
	case !utf8.ValidString(key):
		return "is not valid UTF-8"
	case strings.IndexByte(key, 0) >= 0:
		return "contains a NUL byte"
	case key[0] == '/':
		return "starts with '/'; keys are relative"
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch {
		case seg == "":
			return "has an empty segment (\"//\" or a trailing '/')"
		case seg == "." || seg == "..":
			return fmt.Sprintf("has a %q segment", seg)
		case len(seg) > MaxSegmentLen:
			return fmt.Sprintf("has a segment of %d bytes; the limit is %d (local file names)", len(seg), MaxSegmentLen)
		case strings.HasPrefix(seg, TempPrefix):
			return fmt.Sprintf("has a segment starting with %q, reserved for temporary files", TempPrefix)
		}
	}
	return ""
}
