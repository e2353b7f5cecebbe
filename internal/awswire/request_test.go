package awswire

import (
	"regexp"
	"testing"
)

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestNewRequestID(t *testing.T) {
	seen := make(map[string]bool)
	for range 1000 {
		id := NewRequestID()
		if !uuidV4.MatchString(id) {
			t.Fatalf("NewRequestID() = %q; not a v4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("NewRequestID() repeated %q", id)
		}
		seen[id] = true
	}
	if n := testing.AllocsPerRun(100, func() { _ = NewRequestID() }); n > 1 {
		t.Fatalf("NewRequestID allocates %v times; want 1", n)
	}
}

func TestRegionFromAuthorization(t *testing.T) {
	f := func(h, want string) {
		t.Helper()
		if got := RegionFromAuthorization(h); got != want {
			t.Fatalf("RegionFromAuthorization(%q) = %q; want %q", h, got, want)
		}
	}
	f("AWS4-HMAC-SHA256 Credential=AKID/20250101/us-west-2/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc", "us-west-2")
	f("AWS4-HMAC-SHA256 Credential=AKID/20250101/eu-central-1/kinesis/aws4_request,SignedHeaders=host,Signature=abc", "eu-central-1")
	f("AWS4-HMAC-SHA256 SignedHeaders=host, Credential=AKID/20250101/ap-south-1/kinesis/aws4_request, Signature=abc", "ap-south-1")
	f("AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/kinesis/aws4_request", "us-east-1")
	f("", "")
	f("Bearer token", "")
	f("AWS4-HMAC-SHA256 Credential=AKID/20250101/us-west-2/kinesis", "")                       // truncated scope
	f("AWS4-HMAC-SHA256 Credential=AKID/20250101//kinesis/aws4_request", "")                   // empty region
	f("AWS4-HMAC-SHA256 Credential=/20250101/us-west-2/kinesis/aws4_request", "")              // empty key id
	f("AWS4-HMAC-SHA256 Credential=AKID/20250101/us-west-2/kinesis/aws4_request/x", "")        // extra part
	f("AWS4-ECDSA-P256-SHA256 Credential=AKID/20250101/kinesis/aws4_request, Signature=x", "") // SigV4a
	f("AWS4-HMAC-SHA256 XCredential=AKID/20250101/us-west-2/kinesis/aws4_request", "")
	f("Credential=", "")

	h := "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-west-2/kinesis/aws4_request, SignedHeaders=host, Signature=abc"
	if n := testing.AllocsPerRun(100, func() { _ = RegionFromAuthorization(h) }); n != 0 {
		t.Fatalf("RegionFromAuthorization allocates %v times", n)
	}
}
