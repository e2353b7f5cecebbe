package awswire

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sample exercises every field kind the Kinesis API shapes use.
type sample struct {
	Name    string            `json:"Name"`
	Count   int               `json:"Count"`
	Limit   *int              `json:"Limit,omitempty"`
	Enabled bool              `json:"Enabled"`
	Blob    []byte            `json:"Blob"`
	Tags    []string          `json:"Tags"`
	Attrs   map[string]string `json:"Attrs"`
	Shards  []sampleShard     `json:"Shards"`
	Created *Timestamp        `json:"Created,omitempty"`
}

type sampleShard struct {
	ShardID string     `json:"ShardId"`
	Seq     string     `json:"StartingSequenceNumber,omitempty"`
	Opened  *Timestamp `json:"Opened,omitempty"`
}

// normalizeSample truncates timestamps to what the wire carries (milliseconds).
func normalizeSample(s *sample) {
	norm := func(ts *Timestamp) {
		if ts != nil {
			ts.Time = time.UnixMilli(ts.UnixMilli()).UTC()
		}
	}
	norm(s.Created)
	for i := range s.Shards {
		norm(s.Shards[i].Opened)
	}
}

func TestCodecFor(t *testing.T) {
	f := func(ct string, want Codec, wantOK bool) {
		t.Helper()
		got, ok := CodecFor(ct)
		if got != want || ok != wantOK {
			t.Fatalf("CodecFor(%q) = %v, %v; want %v, %v", ct, got, ok, want, wantOK)
		}
	}
	f("", JSON, true)
	f("application/x-amz-json-1.1", JSON, true)
	f("application/x-amz-json-1.0", JSON, true)
	f("application/json", JSON, true)
	f("Application/X-Amz-JSON-1.1; charset=utf-8", JSON, true)
	f(" application/json ;", JSON, true)
	f("application/x-amz-cbor-1.1", CBOR, true)
	f("APPLICATION/X-AMZ-CBOR-1.1;foo=bar", CBOR, true)
	f("text/plain", 0, false)
	f("application/cbor", 0, false)
	f("application/x-amz-json-1.2", 0, false)

	if JSON.ContentType() != "application/x-amz-json-1.1" || CBOR.ContentType() != "application/x-amz-cbor-1.1" {
		t.Fatalf("unexpected content types %q, %q", JSON.ContentType(), CBOR.ContentType())
	}
}

func TestCodecRoundTrip(t *testing.T) {
	limit := 7
	created := NewTimestampMillis(1700000000123)
	opened := NewTimestampMillis(-1500)
	in := sample{
		Name:    "orders \"eu\" <&> \u00e9\u2028",
		Count:   -42,
		Limit:   &limit,
		Enabled: true,
		Blob:    []byte{0, 1, 2, 0xff},
		Tags:    []string{"a", "", "c"},
		Attrs:   map[string]string{"k": "v", "empty": ""},
		Shards: []sampleShard{
			{ShardID: "shardId-000000000000", Seq: "4959", Opened: &opened},
			{ShardID: "shardId-000000000001"},
		},
		Created: &created,
	}
	f := func(c Codec) {
		t.Helper()
		b, err := c.Marshal(in)
		if err != nil {
			t.Fatalf("%s: Marshal: %v", c, err)
		}
		var out sample
		if err := c.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s: Unmarshal(%x): %v", c, b, err)
		}
		if !reflect.DeepEqual(in, out) {
			t.Fatalf("%s: round trip mismatch\n in: %+v\nout: %+v", c, in, out)
		}
		// Empty optional members are left out.
		b, err = c.Marshal(sample{})
		if err != nil {
			t.Fatalf("%s: Marshal(zero): %v", c, err)
		}
		if bytes.Contains(b, []byte("Created")) || bytes.Contains(b, []byte("Limit")) {
			t.Fatalf("%s: omitempty not respected: %q", c, b)
		}
	}
	f(JSON)
	f(CBOR)
}

func TestCodecMarshalJSONShape(t *testing.T) {
	ts := NewTimestampMillis(1700000000123)
	b, err := JSON.Marshal(struct {
		S  string     `json:"S"`
		B  []byte     `json:"B"`
		T  *Timestamp `json:"T"`
		T0 *Timestamp `json:"T0,omitempty"`
	}{"<&>", []byte("hi"), &ts, nil})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"S":"<&>","B":"aGk=","T":1700000000.123}`; string(b) != want {
		t.Fatalf("got %s; want %s", b, want)
	}
}

func TestCodecMarshalCBORShape(t *testing.T) {
	ts := NewTimestampMillis(1700000000123)
	b, err := CBOR.Marshal(struct {
		B []byte     `json:"B"`
		T *Timestamp `json:"T"`
	}{[]byte("hi"), &ts})
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{
		0xa2,
		0x61, 'B', 0x42, 'h', 'i', // "B": h'6869'
		0x61, 'T', 0xc1, 0x1b, 0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b, // "T": 1(1700000000123)
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("got  %x\nwant %x", b, want)
	}
}

func TestCodecUnmarshalErrors(t *testing.T) {
	f := func(c Codec, body string, wantInMessage string) {
		t.Helper()
		var v sample
		err := c.Unmarshal([]byte(body), &v)
		e, ok := err.(*Error)
		if !ok {
			t.Fatalf("%s: Unmarshal(%q) = %v; want *Error", c, body, err)
		}
		if e.Type != Serialization || e.Status != 400 || e.Retryable {
			t.Fatalf("%s: Unmarshal(%q) = %+v; want a SerializationException", c, body, e)
		}
		if !strings.Contains(e.Message, wantInMessage) {
			t.Fatalf("%s: Unmarshal(%q) message %q does not mention %q", c, body, e.Message, wantInMessage)
		}
	}
	f(JSON, `[]`, "expected a JSON object")
	f(JSON, `null`, "expected a JSON object")
	f(JSON, `"x"`, "expected a JSON object")
	f(JSON, ` `, "only whitespace")
	f(JSON, `{"Name":1}`, "member Name: expected a string, found JSON number")
	f(JSON, `{"Count":"1"}`, "member Count: expected an integer")
	f(JSON, `{"Count":1.5}`, "member Count")
	f(JSON, `{"Blob":"***"}`, "illegal base64")
	f(JSON, `{"Tags":{}}`, "expected a list")
	f(JSON, `{"Shards":[{"ShardId":true}]}`, "member Shards.ShardId: expected a string")
	f(JSON, `{"Name":"x"`, "malformed JSON")
	f(JSON, `{"Name":"x"} x`, "malformed JSON")
	f(JSON, `{"Name":"x"}{}`, "malformed JSON")
	f(JSON, `{"Created":"yesterday"}`, "invalid timestamp")
	f(JSON, `{"Created":true}`, "expected a timestamp")
	f(JSON, `{"Created":1e300}`, "out of range")

	f(CBOR, "\x80", "expected a CBOR map")
	f(CBOR, "\xf6", "expected a CBOR map")
	f(CBOR, "\xa1\x64Name\x01", "cannot decode CBOR positive integer into a string (in member Name)")
	f(CBOR, "\xa1\x64Name", "malformed CBOR")
	f(CBOR, "\xa0\x00", "malformed CBOR")
	f(CBOR, "\xa1\x64Name\x62\xff\xfe", "malformed CBOR")                             // invalid UTF-8
	f(CBOR, "\xa1\x67Created\xc1\x63abc", "tag number 1 must be followed by integer") // tag 1 over text
	f(CBOR, "\xa1\x67Created\xc1\xfb\x7f\xf0\x00\x00\x00\x00\x00\x00", "finite")      // +Inf
}

func TestCodecUnmarshalCallerBug(t *testing.T) {
	f := func(c Codec, body string) {
		t.Helper()
		var v sample
		if err := c.Unmarshal([]byte(body), v); err == nil || IsType(err, Serialization) {
			t.Fatalf("%s: Unmarshal into a non-pointer = %v; want a plain error (the caller's bug)", c, err)
		}
	}
	f(JSON, "{}")
	f(CBOR, "\xa0")
}

func TestCodecUnmarshalLenient(t *testing.T) {
	f := func(c Codec, body string, want sample) {
		t.Helper()
		var got sample
		if err := c.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("%s: Unmarshal(%q): %v", c, body, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: Unmarshal(%q)\n got %+v\nwant %+v", c, body, got, want)
		}
	}
	f(JSON, ``, sample{})
	f(JSON, ` {"Name":"a","Unknown":{"x":[1,2,{"y":null}]}} `, sample{Name: "a"})
	f(CBOR, ``, sample{})
	// Indefinite-length map, text string and byte string, as Jackson may write them.
	f(CBOR, "\xbf\x64Name\x7f\x61a\x61b\xff\x64Blob\x5f\x41\x01\x41\x02\xff\x67Unknown\x9f\x01\xff\xff",
		sample{Name: "ab", Blob: []byte{1, 2}})
	// Self-described CBOR.
	f(CBOR, "\xd9\xd9\xf7\xa1\x64Name\x61x", sample{Name: "x"})
}
