package event_test

import (
	"fmt"

	"github.com/tenantpulse/tenantpulse/internal/event"
)

func ExampleDecoder_Decode() {
	body := []byte(`[
	{"specversion":"1.0","id":"42-1234","source":"urn:tenantpulse:simulator","type":"job.submitted","time":"2026-11-25T10:00:00.123Z","tenantid":"northwind-7f3a","data":{"jobId":"j-000123","userId":"u-0007","dataSize":123456789}},
	{"specversion":"1.0","id":"42-1235","source":"urn:tenantpulse:simulator","type":"user.login","time":"2026-11-25T10:00:01Z","tenantid":"northwind-7f3a","data":{"userId":"u-0007"}}
	]`)
	var d event.Decoder
	var e event.Event
	off := 1 // past '['
	for {
		n, err := d.Decode(body[off:], &e)
		if _, ok := err.(*event.SyntaxError); ok {
			fmt.Println(err)
			return
		}
		if err != nil {
			fmt.Println("rejected:", err)
		} else {
			fmt.Printf("%s -> stream %s, partition key %s\n", e.Type, e.Type.Stream(), e.TenantID)
			fmt.Printf("stored: %s\n", event.AppendStored(nil, &e, 1795600800500))
		}
		off += n
		for off < len(body) && (body[off] == ',' || body[off] == ' ' || body[off] == '\n' || body[off] == '\t') {
			off++
		}
		if off >= len(body) || body[off] == ']' {
			return
		}
	}
	// Output:
	// job.submitted -> stream jobs, partition key northwind-7f3a
	// stored: {"receivedtime":"2026-11-25T10:00:00.500Z","specversion":"1.0","id":"42-1234","source":"urn:tenantpulse:simulator","type":"job.submitted","time":"2026-11-25T10:00:00.123Z","tenantid":"northwind-7f3a","data":{"jobId":"j-000123","userId":"u-0007","dataSize":123456789}}
	// rejected: data.sessionId: required for user.login
}
