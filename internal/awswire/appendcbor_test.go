package awswire

import (
	"bytes"
	"math"
	"reflect"
	"testing"
)

func TestAppendCBORMatchesMarshal(t *testing.T) {
	type record struct {
		SequenceNumber              string    `json:"SequenceNumber"`
		ApproximateArrivalTimestamp Timestamp `json:"ApproximateArrivalTimestamp"`
		Data                        []byte    `json:"Data"`
		PartitionKey                string    `json:"PartitionKey"`
	}
	type output struct {
		Records            []record `json:"Records"`
		NextShardIterator  *string  `json:"NextShardIterator"`
		MillisBehindLatest int64    `json:"MillisBehindLatest"`
		HasMore            bool     `json:"HasMore"`
	}
	recs := []record{
		{"49590338271490256608559692538361571095921575989136588898", NewTimestampMillis(1700000000123), []byte("hello"), "pk"},
		{"2", NewTimestampMillis(-5), bytes.Repeat([]byte{7}, 300), "é"},
		{"3", NewTimestampMillis(0), []byte{}, ""},
	}
	want, err := CBOR.Marshal(output{Records: recs, MillisBehindLatest: -70000, HasMore: true})
	if err != nil {
		t.Fatal(err)
	}

	buf := make([]byte, 0, 4096)
	build := func() []byte {
		b := AppendCBORMapHeader(buf[:0], 4)
		b = AppendCBORText(b, "Records")
		b = AppendCBORArrayHeader(b, len(recs))
		for _, r := range recs {
			b = AppendCBORMapHeader(b, 4)
			b = AppendCBORText(b, "SequenceNumber")
			b = AppendCBORText(b, r.SequenceNumber)
			b = AppendCBORText(b, "ApproximateArrivalTimestamp")
			b = AppendTimestampCBOR(b, r.ApproximateArrivalTimestamp.UnixMilli())
			b = AppendCBORText(b, "Data")
			b = AppendCBORBytes(b, r.Data)
			b = AppendCBORText(b, "PartitionKey")
			b = AppendCBORTextBytes(b, []byte(r.PartitionKey))
		}
		b = AppendCBORText(b, "NextShardIterator")
		b = AppendCBORNull(b)
		b = AppendCBORText(b, "MillisBehindLatest")
		b = AppendCBORInt(b, -70000)
		b = AppendCBORText(b, "HasMore")
		return AppendCBORBool(b, true)
	}
	if got := build(); !bytes.Equal(got, want) {
		t.Fatalf("hand-built CBOR differs from Marshal\n got %x\nwant %x", got, want)
	}
	if n := testing.AllocsPerRun(50, func() { buf = build() }); n != 0 {
		t.Fatalf("building allocates %v times", n)
	}
}

func TestAppendCBORScalars(t *testing.T) {
	f := func(got []byte, want any) {
		t.Helper()
		var v any
		if err := cborDec.Unmarshal(got, &v); err != nil {
			t.Fatalf("%x does not decode: %v", got, err)
		}
		if !reflect.DeepEqual(v, want) {
			t.Fatalf("%x decodes as %#v; want %#v", got, v, want)
		}
	}
	for _, n := range []int64{0, 23, 24, 255, 256, 65535, 65536, math.MaxUint32, math.MaxUint32 + 1, math.MaxInt64} {
		f(AppendCBORInt(nil, n), uint64(n))
	}
	for _, n := range []int64{-1, -24, -25, -256, -257, -65537, math.MinInt64} {
		f(AppendCBORInt(nil, n), n)
	}
	f(AppendCBORText(nil, "a\xffb"), "a\ufffdb")
	f(AppendCBORTextBytes(nil, []byte("\xc3x")), "\ufffdx")
	f(AppendCBORBool(nil, false), false)
	f(AppendCBORNull(nil), nil)
}
