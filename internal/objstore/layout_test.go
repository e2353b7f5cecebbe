package objstore_test

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/tenantpulse/tenantpulse/internal/objstore"
)

var (
	bucketChars = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	ipLike      = regexp.MustCompile(`^\d+\.\d+\.\d+\.\d+$`)
)

// validBucket checks S3's general purpose bucket naming rules, written
// apart from the package's own checker so that one can catch the other.
func validBucket(name string) bool {
	if !bucketChars.MatchString(name) {
		return false
	}
	if strings.Contains(name, "..") || ipLike.MatchString(name) {
		return false
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return false
		}
	}
	return true
}

// validSegment checks that s is one key segment the stores accept.
func validSegment(s string) bool {
	return objstore.ValidateKey(s) == nil && !strings.Contains(s, "/")
}

var hostileIDs = []string{
	"acme", "Acme", "ACME", "aCme", "acme-42", "42", "a", "ab", "abc",
	"acme.corp", "a.b.c", "Acme Corp", "acme_corp", "acme--corp", "-acme", "acme-",
	strings.Repeat("a", 200), strings.Repeat("A", 200), strings.Repeat("a", 51), strings.Repeat("a", 52),
	"ünïcödé", "日本語", "😀", "../", "..", ".", "/", "a/b", "", " ", "\x00", "\xff",
	"xn--a", "xn-a", "sthree-x", "amzn-s3-demo-x", "x-s3alias", "x--ol-s3", "x--x-s3", "x.mrap",
	"192.168.0.1", "1.2.3.4", "errors", "archive", "Errors", "tenants",
	"tenantpulse-acme", ".tmp-x",
}

func TestTenantNames(t *testing.T) {
	layouts := []objstore.Layout{
		{},
		{Mode: objstore.ModePrefix},
		{Prefix: "acme-archive-"},
		{Prefix: "p"},
		{Prefix: strings.Repeat("p", objstore.MaxPrefixLen-1) + "-", Mode: objstore.ModeBucket},
		{Prefix: strings.Repeat("p", objstore.MaxPrefixLen), Mode: objstore.ModePrefix},
	}
	for _, l := range layouts {
		if err := l.Validate(); err != nil {
			t.Fatalf("%+v: %v", l, err)
		}
		errBucket, errPrefix := l.Errors()
		if !validBucket(errBucket) {
			t.Fatalf("%+v: errors bucket %q is not a valid bucket name", l, errBucket)
		}
		where := map[string]string{errBucket + " " + errPrefix: "the errors archive"}
		ids := append(cloneIDs(hostileIDs), hashedNamesOf(l, hostileIDs)...)
		for _, id := range ids {
			bucket, prefix := l.Tenant(id)
			if b2, p2 := l.Tenant(id); b2 != bucket || p2 != prefix {
				t.Fatalf("%+v: Tenant(%q) is not deterministic: %q %q, then %q %q", l, id, bucket, prefix, b2, p2)
			}
			if !validBucket(bucket) {
				t.Fatalf("%+v: Tenant(%q) bucket %q is not a valid bucket name", l, id, bucket)
			}
			if err := objstore.ValidateBucketName(bucket); err != nil {
				t.Fatalf("%+v: Tenant(%q): %v", l, id, err)
			}
			if l.Mode == objstore.ModePrefix {
				seg, ok := strings.CutPrefix(prefix, "tenants/")
				seg, ok2 := strings.CutSuffix(seg, "/")
				if !ok || !ok2 || !validSegment(seg) {
					t.Fatalf("%+v: Tenant(%q) key prefix %q is not tenants/<segment>/", l, id, prefix)
				}
			} else if prefix != "" {
				t.Fatalf("%+v: Tenant(%q) key prefix = %q, want none in bucket mode", l, id, prefix)
			}
			if other, dup := where[bucket+" "+prefix]; dup && other != id {
				t.Fatalf("%+v: Tenant(%q) = %q %q, the same as %q", l, id, bucket, prefix, other)
			}
			where[bucket+" "+prefix] = id
		}
	}
}

func cloneIDs(s []string) []string { return append([]string(nil), s...) }

// hashedNamesOf returns, for each id, its name and its whole bucket name:
// ids that a careless mapping would give the same bucket as the original.
func hashedNamesOf(l objstore.Layout, ids []string) []string {
	var out []string
	for _, id := range ids {
		b, _ := l.Tenant(id)
		out = append(out, l.TenantName(id), b, strings.ToUpper(b))
	}
	return out
}

func TestTenantNameExamples(t *testing.T) {
	f := func(l objstore.Layout, id, wantBucket, wantPrefix string) {
		t.Helper()
		b, p := l.Tenant(id)
		if b != wantBucket || p != wantPrefix {
			t.Fatalf("%+v.Tenant(%q) = %q, %q; want %q, %q", l, id, b, p, wantBucket, wantPrefix)
		}
	}
	def := objstore.Layout{}
	f(def, "acme", "tenantpulse-acme", "")
	f(def, "acme-42", "tenantpulse-acme-42", "")
	f(def, "Acme", "tenantpulse-acme--g4bwzwhzorwtguby5sus", "")
	f(def, "Acme Corp!!", "tenantpulse-acme-corp--qkspjtyzwvpcywdezi7k", "")
	f(def, "errors", "tenantpulse-errors--xzf5kz3so4chdnrzk5gz", "")
	f(def, "", "tenantpulse---4oymiquy7qobjgx36tej", "")
	f(def, strings.Repeat("a", 51), "tenantpulse-"+strings.Repeat("a", 51), "")
	f(def, strings.Repeat("a", 52), "tenantpulse-"+strings.Repeat("a", 29)+"--nqnt3r5ha245zajvfjtr", "")
	f(objstore.Layout{Prefix: "acme-"}, "x", "acme-x", "")
	f(objstore.Layout{Prefix: "ab"}, "c", "abc", "")
	f(objstore.Layout{Prefix: "b"}, "c", "bc--fz6sya5jkb5oezpm6w2t", "") // "bc" is too short
	pre := objstore.Layout{Mode: objstore.ModePrefix, Prefix: "acme-"}
	f(pre, "acme", "acme-archive", "tenants/acme/")
	f(pre, "Acme", "acme-archive", "tenants/acme--g4bwzwhzorwtguby5sus/")
	f(pre, "../x", "acme-archive", "tenants/x--224wvf6ri7nkvze6xb5f/")

	if b, p := def.Errors(); b != "tenantpulse-errors" || p != "" {
		t.Fatalf("Errors() = %q, %q", b, p)
	}
	if b, p := pre.Errors(); b != "acme-archive" || p != "errors/" {
		t.Fatalf("Errors() in prefix mode = %q, %q", b, p)
	}
}

func TestLayoutValidate(t *testing.T) {
	f := func(l objstore.Layout, wantErr string) {
		t.Helper()
		err := l.Validate()
		if wantErr == "" && err != nil || wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)) {
			t.Fatalf("%+v.Validate() = %v, want %q", l, err, wantErr)
		}
	}
	f(objstore.Layout{}, "")
	f(objstore.Layout{Prefix: "tenantpulse-", Mode: "bucket"}, "")
	f(objstore.Layout{Prefix: "b", Mode: "prefix"}, "")
	f(objstore.Layout{Prefix: "a"}, `"amzn-s3-demo-"`)
	f(objstore.Layout{Prefix: "9-"}, "")
	f(objstore.Layout{Prefix: strings.Repeat("a", objstore.MaxPrefixLen)}, "")
	f(objstore.Layout{Prefix: strings.Repeat("a", objstore.MaxPrefixLen+1)}, "at most 40")
	f(objstore.Layout{Prefix: "Tenant-"}, "lowercase")
	f(objstore.Layout{Prefix: "tenant_"}, "lowercase")
	f(objstore.Layout{Prefix: "acme.corp-"}, "lowercase")
	f(objstore.Layout{Prefix: "-acme"}, "must start with")
	f(objstore.Layout{Prefix: "xn--acme"}, "reserves")
	f(objstore.Layout{Prefix: "xn"}, "reserves")
	f(objstore.Layout{Prefix: "s"}, "reserves")
	f(objstore.Layout{Prefix: "amzn-s3"}, "reserves")
	f(objstore.Layout{Mode: "buckets"}, `use "bucket"`)
}

var (
	fuzzMu    sync.Mutex
	fuzzNames = map[string]string{} // layout number, name -> the id that got it
)

func FuzzBucketName(f *testing.F) {
	for _, id := range hostileIDs {
		f.Add(id)
	}
	layouts := []objstore.Layout{
		{},
		{Prefix: strings.Repeat("p", objstore.MaxPrefixLen)},
		{Prefix: "q"},
	}
	f.Fuzz(func(t *testing.T, id string) {
		fuzzMu.Lock()
		defer fuzzMu.Unlock()
		for i, l := range layouts {
			b, _ := l.Tenant(id)
			if !validBucket(b) {
				t.Fatalf("%+v: Tenant(%q) = %q, not a valid bucket name", l, id, b)
			}
			if b2, _ := l.Tenant(id); b2 != b {
				t.Fatalf("%+v: Tenant(%q) = %q, then %q", l, id, b, b2)
			}
			k := fmt.Sprint(i, " ", b)
			if other, ok := fuzzNames[k]; ok && other != id {
				t.Fatalf("%+v: Tenant(%q) = Tenant(%q) = %q", l, id, other, b)
			}
			fuzzNames[k] = id
		}
		if len(fuzzNames) > 1<<20 {
			clear(fuzzNames) // bound the memory of a long fuzzing run
		}
	})
}
