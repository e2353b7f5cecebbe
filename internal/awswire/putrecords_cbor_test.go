package awswire

import (
	"bytes"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// FuzzPutRecordsDecodeCBOR is a differential fuzz test: whenever the fast
// CBOR decoder accepts an input, the general decoder must accept it too and
// find exactly the same request.
func FuzzPutRecordsDecodeCBOR(f *testing.F) {
	definite, _ := cbor.Marshal(map[string]any{
		"StreamName": "jobs",
		"Records": []any{
			map[string]any{"PartitionKey": "tenant-1", "Data": []byte("hello")},
			map[string]any{"PartitionKey": "tenant-2", "Data": []byte{}, "ExplicitHashKey": "42"},
		},
	})
	f.Add(definite)
	// Indefinite-length maps and arrays, as Jackson's generator writes them.
	indef := []byte{0xbf, 0x6a}
	indef = append(indef, "StreamName"...)
	indef = append(indef, 0x61, 's', 0x67)
	indef = append(indef, "Records"...)
	indef = append(indef, 0x9f, 0xbf, 0x64)
	indef = append(indef, "Data"...)
	indef = append(indef, 0x42, 'h', 'i', 0x6c)
	indef = append(indef, "PartitionKey"...)
	indef = append(indef, 0x61, 'k', 0xff, 0xff, 0xff)
	f.Add(indef)
	f.Add([]byte{0xa0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast PutRecordsRequest
		if !fast.decodeCBORFast(b) {
			return
		}
		var slow PutRecordsRequest
		if err := slow.decodeCBORGeneral(b); err != nil {
			t.Fatalf("fast decoder accepted %x, general decoder refused it: %v", b, err)
		}
		if fast.StreamName != slow.StreamName || fast.StreamARN != slow.StreamARN || len(fast.Records) != len(slow.Records) {
			t.Fatalf("%x: fast %+v, general %+v", b, fast, slow)
		}
		for i := range fast.Records {
			a, s := fast.Records[i], slow.Records[i]
			if !bytes.Equal(a.Data, s.Data) || a.HasData != s.HasData || !bytes.Equal(a.PartitionKey, s.PartitionKey) ||
				(a.PartitionKey == nil) != (s.PartitionKey == nil) || !bytes.Equal(a.ExplicitHashKey, s.ExplicitHashKey) ||
				(a.ExplicitHashKey == nil) != (s.ExplicitHashKey == nil) {
				t.Fatalf("%x: record %d: fast %+v, general %+v", b, i, a, s)
			}
		}
	})
}

func TestPutRecordsDecodeCBORFastPath(t *testing.T) {
	body, _ := cbor.Marshal(map[string]any{"StreamName": "s", "Records": []any{map[string]any{"PartitionKey": "k", "Data": []byte("d")}}})
	var r PutRecordsRequest
	if !r.decodeCBORFast(body) || r.StreamName != "s" || len(r.Records) != 1 || string(r.Records[0].Data) != "d" {
		t.Fatalf("the fast path did not take a plain request: %+v", r)
	}
	tagged, _ := cbor.Marshal(map[string]any{"StreamName": "s", "Other": cbor.Tag{Number: 1, Content: 5}})
	if r.decodeCBORFast(tagged) {
		t.Fatal("the fast path took an unknown member")
	}
	if err := r.DecodeCBOR(tagged); err != nil || r.StreamName != "s" {
		t.Fatalf("the general path: %v %+v", err, r)
	}
}
