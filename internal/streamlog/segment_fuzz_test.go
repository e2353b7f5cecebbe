package streamlog

import (
	"bytes"
	"testing"
)

// FuzzDecodeSegment feeds arbitrary bytes to the segment decoder: it must
// never panic, and the valid prefix it reports must re-encode to the same
// bytes.
func FuzzDecodeSegment(f *testing.F) {
	seg := segHeader{Gen: 1764108546123, Base: 7}.encode()
	seg = appendRecord(seg, 7, 1764108546123, []byte("tenant-1"), []byte(`{"type":"job.submitted"}`))
	seg = appendRecord(seg, 8, 1764108546124, []byte("tenant-2"), nil)
	f.Add(seg)
	f.Add(seg[:len(seg)-5])
	f.Add(segHeader{Gen: 1, Base: 0}.encode())
	f.Add([]byte("TPSG"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, recs, valid, err := DecodeSegment(b)
		if err != nil {
			if valid != 0 || recs != nil {
				t.Fatalf("error %v with %d records and %d valid bytes", err, len(recs), valid)
			}
			return
		}
		if valid > len(b) || valid < segHeaderSize {
			t.Fatalf("valid prefix %d of %d bytes", valid, len(b))
		}
		again := h.encode()
		for i, r := range recs {
			if r.Offset != h.Base+uint64(i) {
				t.Fatalf("record %d has offset %d, base %d", i, r.Offset, h.Base)
			}
			again = appendRecord(again, r.Offset, r.Arrival, r.PartitionKey, r.Data)
		}
		if !bytes.Equal(again, b[:valid]) {
			t.Fatalf("re-encoding the %d records gives different bytes", len(recs))
		}
	})
}

// FuzzDecodeIndex: the index decoder never panics and round-trips.
func FuzzDecodeIndex(f *testing.F) {
	x := &segIndex{gen: 5, base: 10, end: 20, size: 4096, firstTs: 1, lastTs: 2,
		entries: []idxEntry{{off: 10, pos: 32, ts: 1}, {off: 15, pos: 2048, ts: 2}}}
	f.Add(x.encode())
	f.Add([]byte("TPIX"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeIndex(b)
		if err != nil {
			return
		}
		if !bytes.Equal(got.encode(), b) {
			t.Fatal("index does not re-encode to the same bytes")
		}
	})
}
