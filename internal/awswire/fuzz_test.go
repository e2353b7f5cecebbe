package awswire

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func FuzzPutRecordsDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"StreamName":"s","Records":[{"Data":"aGk=","PartitionKey":"pk"}]}`))
	f.Add([]byte(`{"Records":[{"PartitionKey":"a\"b\\c\/d\b\f\n\r\t\u0041\ud83d\ude00\ud800","Data":"aG\u006b","ExplicitHashKey":""},null,{}]}`))
	f.Add([]byte(`{"X":{"a":[1,2.5e-3,-0,{"b":null,"c":true}]},"Records":[{"Y":[[],[{}]],"Data":null}],"StreamARN":"arn"}`))
	f.Add([]byte(`{"\u0053treamName":"\u00e9","Records":[{"Data":"","PartitionKey":"\u0000"}]}`))
	f.Add([]byte(`{"Records":[{"Data":"aGk=\n"}],"Records":[]}`))
	f.Add([]byte(` [] `))
	f.Add([]byte(`{"Records":[{"Data":"!!"}]}`))
	f.Add(buildPutRecordsBody(3, 10))
	var r, again PutRecordsRequest
	f.Fuzz(func(t *testing.T, body []byte) {
		orig := bytes.Clone(body)
		if err := r.DecodeJSON(body); err != nil {
			if !IsType(err, Serialization) {
				t.Fatalf("DecodeJSON(%q) = %v; want a SerializationException", body, err)
			}
			return
		}
		if !bytes.Equal(body, orig) {
			t.Fatalf("DecodeJSON modified its input")
		}
		m := mirrorOf(&r)
		enc, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("cannot re-encode %+v: %v", m, err)
		}
		if err := again.DecodeJSON(enc); err != nil {
			t.Fatalf("DecodeJSON(%q) succeeded but its re-encoding %s fails: %v", body, enc, err)
		}
		if m2 := mirrorOf(&again); !reflect.DeepEqual(normalizeMirror(m), normalizeMirror(m2)) {
			t.Fatalf("re-encoding changed the request\nbody %q\n  1st %+v\n  2nd %+v", body, m, m2)
		}
		// encoding/json agrees on the re-encoded form.
		var viaStd prMirror
		if err := json.Unmarshal(enc, &viaStd); err != nil || !reflect.DeepEqual(normalizeMirror(viaStd), normalizeMirror(m)) {
			t.Fatalf("encoding/json reads %s differently: %+v, %v", enc, viaStd, err)
		}
	})
}

// unmarshalRoundTrip checks that a value that c decoded from in survives
// Marshal and Unmarshal again, up to the wire's millisecond timestamps.
func unmarshalRoundTrip(t *testing.T, c Codec, in []byte) {
	t.Helper()
	var v1 sample
	if err := c.Unmarshal(in, &v1); err != nil {
		if !IsType(err, Serialization) {
			t.Fatalf("%s: Unmarshal(%q) = %v; want a SerializationException", c, in, err)
		}
		return
	}
	enc, err := c.Marshal(v1)
	if err != nil {
		t.Fatalf("%s: Marshal(%+v): %v", c, v1, err)
	}
	var v2 sample
	if err := c.Unmarshal(enc, &v2); err != nil {
		t.Fatalf("%s: Unmarshal(%q) of Marshal(Unmarshal(%q)): %v", c, enc, in, err)
	}
	normalizeSample(&v1)
	if !reflect.DeepEqual(v1, v2) {
		t.Fatalf("%s: round trip of %q changed the value\n 1st %+v\n 2nd %+v", c, in, v1, v2)
	}
}

func FuzzCodecUnmarshalJSON(f *testing.F) {
	f.Add([]byte(`{"Name":"a","Count":-1,"Limit":3,"Enabled":true,"Blob":"AAE=","Tags":["x",""],"Attrs":{"k":"v"},"Shards":[{"ShardId":"s","Opened":1.5}],"Created":"2024-01-01T00:00:00.123456Z"}`))
	f.Add([]byte(`{"Blob":null,"Tags":[],"Attrs":{},"Shards":null,"Created":1700000000.123}`))
	f.Add([]byte(`{"name":"case","Created":"1.7e9","Unknown":[{"a":1}]}`))
	f.Add([]byte(`{"Created":-62135596800}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, in []byte) { unmarshalRoundTrip(t, JSON, in) })
}

func FuzzCodecUnmarshalCBOR(f *testing.F) {
	limit := 3
	ts := NewTimestampMillis(1700000000123)
	seed, err := CBOR.Marshal(sample{Name: "a", Count: -1, Limit: &limit, Enabled: true, Blob: []byte{0, 1},
		Tags: []string{"x", ""}, Attrs: map[string]string{"k": "v"},
		Shards: []sampleShard{{ShardID: "s", Opened: &ts}, {}}, Created: &ts})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("\xbf\x64Name\x7f\x61a\x61b\xff\x64Blob\x5f\x41\x01\x41\x02\xff\x67Unknown\x9f\x01\xff\xff"))
	f.Add([]byte("\xa1\x67Created\xc1\xfb\x41\xd9\x54\xfc\x40\x07\xdf\x3b"))
	f.Add([]byte("\xa2\x67Created\x3a\x00\x01\x86\x9f\x64Tags\x80"))
	f.Add([]byte("\xd9\xd9\xf7\xa1\x64Name\x61x"))
	f.Add([]byte("\xa1\x65Attrs\xa0"))
	f.Fuzz(func(t *testing.T, in []byte) { unmarshalRoundTrip(t, CBOR, in) })
}

func FuzzTimestamp(f *testing.F) {
	f.Add([]byte(`1700000000.123`), int64(1700000000123))
	f.Add([]byte(`"2024-02-29T23:59:59.999999999-01:30"`), int64(-1))
	f.Add([]byte(`-1.5e3`), int64(-9223372036854775808))
	f.Add([]byte("\xc1\x1b\x00\x00\x01\x8b\xcf\xe5\x68\x7b"), int64(0))
	f.Add([]byte("\xc1\xf9\x3e\x00"), int64(253402300799999))
	f.Add([]byte("\xfb\x41\xd9\x54\xfc\x40\x07\xdf\x3b"), int64(5))
	f.Fuzz(func(t *testing.T, in []byte, ms int64) {
		// AppendTimestampSeconds reads back as the same millisecond.
		s := AppendTimestampSeconds(nil, ms)
		if bytes.ContainsAny(s, "eE") || !validJSONNumber(string(s)) {
			t.Fatalf("AppendTimestampSeconds(%d) = %q; not a plain JSON number", ms, s)
		}
		if sec, nsec, ok := parseDecimalSeconds(string(s)); !ok || nsec%1e6 != 0 ||
			(ms >= minTimestampMillis && ms <= maxTimestampMillis && sec*1000+nsec/1e6 != ms) {
			t.Fatalf("AppendTimestampSeconds(%d) = %q reads back as %d s %d ns", ms, s, sec, nsec)
		}

		check := func(c Codec, ts Timestamp) {
			t.Helper()
			want := time.UnixMilli(ts.UnixMilli()).UTC()
			var b []byte
			var err error
			var back Timestamp
			if c == JSON {
				b, err = ts.MarshalJSON()
				if err == nil {
					err = back.UnmarshalJSON(b)
				}
			} else {
				b, err = ts.MarshalCBOR()
				if err == nil && (b[0] != 0xc1 || b[1]>>5 > 1) {
					t.Fatalf("MarshalCBOR(%v) = %x; want tag 1 and an integer", ts, b)
				}
				if err == nil {
					err = back.UnmarshalCBOR(b)
				}
			}
			if err != nil {
				t.Fatalf("%s: %v re-encoded as %q does not decode: %v", c, ts, b, err)
			}
			if !back.Equal(want) || back.Location() != time.UTC {
				t.Fatalf("%s: %v re-encoded as %q decodes as %v; want %v", c, ts, b, back, want)
			}
		}
		var tj Timestamp
		if err := tj.UnmarshalJSON(in); err == nil {
			check(JSON, tj)
			check(CBOR, tj)
		} else if !IsType(err, Serialization) {
			t.Fatalf("UnmarshalJSON(%q) = %v", in, err)
		}
		var tc Timestamp
		if err := tc.UnmarshalCBOR(in); err == nil {
			check(CBOR, tc)
			check(JSON, tc)
		} else if !IsType(err, Serialization) {
			t.Fatalf("UnmarshalCBOR(%q) = %v", in, err)
		}
	})
}
