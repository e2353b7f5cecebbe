package awswire

import "testing"

func BenchmarkPutRecordsDecodeJSON(b *testing.B) {
	body := buildPutRecordsBody(500, 100)
	var r PutRecordsRequest
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := r.DecodeJSON(body); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*500), "ns/record")
}

func BenchmarkPutRecordsDecodeCBOR(b *testing.B) {
	var src PutRecordsRequest
	if err := src.DecodeJSON(buildPutRecordsBody(500, 100)); err != nil {
		b.Fatal(err)
	}
	recs := make([]map[string]any, len(src.Records))
	for i, e := range src.Records {
		recs[i] = map[string]any{"Data": e.Data, "PartitionKey": string(e.PartitionKey)}
	}
	body, err := CBOR.Marshal(map[string]any{"StreamName": src.StreamName, "Records": recs})
	if err != nil {
		b.Fatal(err)
	}
	var r PutRecordsRequest
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := r.DecodeCBOR(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendBase64(b *testing.B) {
	data := make([]byte, 100)
	buf := make([]byte, 0, 256)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendBase64(buf[:0], data)
	}
}

func BenchmarkAppendString(b *testing.B) {
	s := "partition-key-000123 with some \"quoted\" text"
	buf := make([]byte, 0, 256)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendString(buf[:0], s)
	}
}

func BenchmarkNewRequestID(b *testing.B) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = NewRequestID()
		}
	})
}
