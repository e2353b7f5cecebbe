package awswire

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
	"time"
)

func TestAppendTimestampSeconds(t *testing.T) {
	f := func(ms int64, want string) {
		t.Helper()
		got := string(AppendTimestampSeconds(nil, ms))
		if got != want {
			t.Fatalf("AppendTimestampSeconds(%d) = %q; want %q", ms, got, want)
		}
		// Go's JSON number parsing reads it back to the same millisecond.
		var n json.Number
		if err := json.Unmarshal([]byte(got), &n); err != nil {
			t.Fatalf("%q is not a JSON number: %v", got, err)
		}
	}
	f(1700000000123, "1700000000.123")
	f(1700000000120, "1700000000.12")
	f(1700000000100, "1700000000.1")
	f(1700000000001, "1700000000.001")
	f(1700000000000, "1700000000")
	f(0, "0")
	f(5, "0.005")
	f(-1500, "-1.5")
	f(-1, "-0.001")
	f(-1000, "-1")
	f(-9223372036854775808, "-9223372036854775.808")
	f(9223372036854775807, "9223372036854775.807")
}

func TestTimestampJSON(t *testing.T) {
	f := func(in string, wantNanos int64) {
		t.Helper()
		var ts Timestamp
		if err := ts.UnmarshalJSON([]byte(in)); err != nil {
			t.Fatalf("UnmarshalJSON(%s): %v", in, err)
		}
		if got := ts.UnixNano(); got != wantNanos {
			t.Fatalf("UnmarshalJSON(%s) = %d ns; want %d ns", in, got, wantNanos)
		}
		if ts.Location() != time.UTC {
			t.Fatalf("UnmarshalJSON(%s) is in %v; want UTC", in, ts.Location())
		}
	}
	f(`1700000000`, 1700000000e9)
	f(`1700000000.123`, 1700000000123e6)
	f(`1700000000.123456789`, 1700000000123456789)
	f(`1700000000.1234567899`, 1700000000123456789)
	f(`1.700000000123E9`, 1700000000123e6)
	f(`-1.5`, -15e8)
	f(`-0.001`, -1e6)
	f(`0`, 0)
	f(`"1700000000.5"`, 17000000005e8)
	f(`"2023-11-14T22:13:20.123Z"`, 1700000000123e6)
	f(`"2023-11-15T00:13:20+02:00"`, 1700000000e9)

	var ts Timestamp
	ts.Time = time.Unix(5, 0)
	if err := ts.UnmarshalJSON([]byte("null")); err != nil || ts.Unix() != 5 {
		t.Fatalf("null changed the timestamp: %v, %v", ts, err)
	}

	bad := func(in string) {
		t.Helper()
		var ts Timestamp
		err := ts.UnmarshalJSON([]byte(in))
		if !IsType(err, Serialization) {
			t.Fatalf("UnmarshalJSON(%s) = %v; want SerializationException", in, err)
		}
	}
	bad(`true`)
	bad(`{}`)
	bad(`"tomorrow"`)
	bad(`"0000-01-01T00:00:00Z"`)
	bad(`1e300`)
	bad(`-1e300`)
	bad(`99999999999999999999`)
	bad(`253402300800`)
	bad(`-62135596801`)
	bad(`""`)
}

func TestTimestampMarshalJSON(t *testing.T) {
	f := func(tm time.Time, want string) {
		t.Helper()
		b, err := json.Marshal(Timestamp{tm})
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want {
			t.Fatalf("Marshal(%v) = %s; want %s", tm, b, want)
		}
	}
	f(time.UnixMilli(1700000000123), "1700000000.123")
	f(time.Unix(1700000000, 999999999), "1700000000.999") // truncated, not rounded
	f(time.Unix(-1, 500e6), "-0.5")
	f(time.Time{}, "-62135596800")
}

func TestTimestampCBOR(t *testing.T) {
	enc := func(ms int64, want []byte) {
		t.Helper()
		b, err := NewTimestampMillis(ms).MarshalCBOR()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, want) {
			t.Fatalf("MarshalCBOR(%d) = %x; want %x", ms, b, want)
		}
	}
	enc(0, []byte{0xc1, 0x00})
	enc(23, []byte{0xc1, 0x17})
	enc(1700000000123, []byte{0xc1, 0x1b, 0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b})
	enc(-1, []byte{0xc1, 0x20})
	enc(-1500, []byte{0xc1, 0x39, 0x05, 0xdb})

	dec := func(in []byte, wantMillis int64) {
		t.Helper()
		var ts Timestamp
		if err := ts.UnmarshalCBOR(in); err != nil {
			t.Fatalf("UnmarshalCBOR(%x): %v", in, err)
		}
		if got := ts.UnixMilli(); got != wantMillis {
			t.Fatalf("UnmarshalCBOR(%x) = %d ms; want %d ms", in, got, wantMillis)
		}
	}
	dec([]byte{0xc1, 0x1b, 0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b}, 1700000000123) // tag 1, integer ms
	dec([]byte{0x1b, 0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b}, 1700000000123)       // bare integer ms
	dec([]byte{0xc1, 0x39, 0x05, 0xdb}, -1500)
	dec(append([]byte{0xc1, 0xfb}, float64Bytes(1700000000.123)...), 1700000000123)   // tag 1, float seconds
	dec(append([]byte{0xfb}, float64Bytes(-1.5)...), -1500)                           // bare float seconds
	dec([]byte{0xc1, 0xfa, 0x3f, 0xc0, 0x00, 0x00}, 1500)                             // float32 1.5
	dec([]byte{0xc1, 0xf9, 0x3e, 0x00}, 1500)                                         // float16 1.5
	dec(append([]byte{0xc0, 0x78, 24}, "2023-11-14T22:13:20.123Z"...), 1700000000123) // tag 0

	var ts Timestamp
	ts.Time = time.Unix(5, 0)
	if err := ts.UnmarshalCBOR([]byte{0xf6}); err != nil || ts.Unix() != 5 {
		t.Fatalf("null changed the timestamp: %v, %v", ts, err)
	}

	bad := func(in []byte) {
		t.Helper()
		var ts Timestamp
		if err := ts.UnmarshalCBOR(in); !IsType(err, Serialization) {
			t.Fatalf("UnmarshalCBOR(%x) = %v; want SerializationException", in, err)
		}
	}
	bad(nil)
	bad([]byte{0xc1})
	bad([]byte{0xc1, 0x61, 'x'})
	bad([]byte{0xc1, 0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	bad([]byte{0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	bad([]byte{0xc1, 0x1b, 0, 0})
	bad([]byte{0xc1, 0x01, 0x02})
	bad([]byte{0xf5})
	bad([]byte{0xc1, 0xf9, 0x7e, 0x00}) // NaN
	bad(append([]byte{0xc0, 0x63}, "bad"...))
}

func float64Bytes(f float64) []byte {
	b, err := CBOR.Marshal(f)
	if err != nil || len(b) != 9 {
		panic("BUG: cannot encode float64 " + strconv.FormatFloat(f, 'g', -1, 64))
	}
	return b[1:]
}
