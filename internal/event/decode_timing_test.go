package event

import (
	"encoding/json"
	"testing"
)

// simEvent is an event as the simulator makes it.
const simEvent = `{"specversion":"1.0","id":"42-1234","source":"urn:tenantpulse:simulator","type":"job.submitted","time":"2026-11-25T10:00:00.123Z","tenantid":"northwind-7f3a","data":{"jobId":"j-000123","userId":"u-0007","dataSize":123456789}}`

func BenchmarkDecode(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"job.submitted", simEvent},
		{"tenant.created", `{"specversion":"1.0","id":"42-1","source":"urn:tenantpulse:simulator","type":"tenant.created","time":"2026-11-25T10:00:00.123Z","tenantid":"northwind-7f3a","data":{"name":"Northwind Traders","industry":"Retail","sentiment":"positive","revenue":12500000.5,"employees":420,"monthlyFee":1999.99,"plan":"enterprise"}}`},
		{"escaped+extension", `{"specversion":"1.0","id":"42-1234","source":"urn:tenantpulse:simulator","type":"user.login","time":"2026-11-25T11:00:00.123456+01:00","tenantid":"north\u0077ind-7f3a","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","data":{"userId":"u-0007","sessionId":"s-\u00e9-1","client":{"ua":"Mozilla/5.0","tags":[1,2,3]}}}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			in := []byte(bc.in)
			var d Decoder
			var e Event
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.Decode(in, &e); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

func BenchmarkAppendStored(b *testing.B) {
	in := []byte(simEvent)
	var d Decoder
	var e Event
	if _, err := d.Decode(in, &e); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 512)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendStored(buf[:0], &e, 1795600800123)
	}
}

func BenchmarkParseTime(b *testing.B) {
	in := []byte("2026-11-25T10:00:00.123Z")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := ParseTime(in); !ok {
			b.Fatal("bad time")
		}
	}
}

// BenchmarkJSONValid is the reference: encoding/json only checking the
// syntax of the same event.
func BenchmarkJSONValid(b *testing.B) {
	in := []byte(simEvent)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if !json.Valid(in) {
			b.Fatal("invalid")
		}
	}
}
