package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

func FuzzDecode(f *testing.F) {
	for _, typ := range Types {
		f.Add([]byte(object(example(typ))))
		f.Add([]byte(" " + object(append(example(typ), member{"receivedtime", `"2026-11-25T10:00:01Z"`})) + ","))
	}
	f.Add([]byte(simEvent))
	f.Add([]byte(`{"specversion":"1.0","receivedtime":"2026-11-25T10:00:00Z","data":{"jobId":"j","userId":"u","dataSize":1},"id":"1","source":"s","type":"job.cancelled","time":"2026-11-25T10:00:00+01:00","tenantid":"t"}`))
	f.Add([]byte(`{"id":"\u00e9\ud83d\ude00","x":[1,{"y":null}],"x":2}`))
	f.Add([]byte(`{"id":"x" "y"}`))
	f.Add([]byte(`[1,2,`))
	f.Add([]byte("\"\xff\""))
	f.Add([]byte(`{"data":{"dataSize":1e3}}`))
	f.Add([]byte(`{"specversion":"1.0","id":"1","source":"s","type":"user.added","time":"2026-11-25T10:00:00Z","tenantid":"\ud800","data":{"userId":"u"}}`))
	f.Add([]byte(`{"specversion":"1.0","id":"1","source":"s","type":"user.added","time":"2026-11-25T10:00:00Z","tenantid":"a\u0085","data":{"userId":"u"}}`))
	f.Add([]byte(`{"specversion":"1.0","id":"1","source":"s","type":"tenant.updated","time":"2026-11-25T10:00:00Z","tenantid":"t","data":{"revenue":1.7e308,"employees":1000000001}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var d Decoder
		var e Event
		n, err := d.Decode(b, &e)
		var se *SyntaxError
		if errors.As(err, &se) {
			return
		}
		if n < 0 || n > len(b) {
			t.Fatalf("n = %d out of range", n)
		}
		value := bytes.TrimLeft(b[:n], " \t\r\n")
		if !json.Valid(value) {
			t.Fatalf("Decode accepted invalid JSON %q", value)
		}
		if !bytes.Equal(e.Raw, value) {
			t.Fatalf("Raw %q, value %q", e.Raw, value)
		}
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		var members map[string]json.RawMessage
		if err := json.Unmarshal(e.Raw, &members); err != nil {
			t.Fatalf("a valid event is not an object: %v", err)
		}
		if want := members["data"]; string(want) == "null" || want == nil {
			if e.RawData != nil {
				t.Fatalf("RawData %q for data %q", e.RawData, want)
			}
		} else if !bytes.Equal(e.RawData, want) {
			t.Fatalf("RawData %q, data %q", e.RawData, want)
		}
		// An accepted tenant id has no control character, no unpaired
		// surrogate escape (so it is the string encoding/json decodes,
		// and no other id decodes to it), and numbers are in bounds.
		if at, r := controlChar(e.TenantID); at >= 0 {
			t.Fatalf("tenantid %q accepted with control character %U", e.TenantID, r)
		}
		var tenant string
		if err := json.Unmarshal(members["tenantid"], &tenant); err != nil || tenant != string(e.TenantID) {
			t.Fatalf("tenantid %s: decoded %q, encoding/json %q (%v)", members["tenantid"], e.TenantID, tenant, err)
		}
		if raw := members["tenantid"]; bytes.Contains(e.TenantID, []byte("\ufffd")) &&
			!bytes.Contains(raw, []byte("\ufffd")) && !bytes.Contains(bytes.ToLower(raw), []byte(`\ufffd`)) {
			t.Fatalf("tenantid %s accepted although an escape became U+FFFD", raw)
		}
		if e.Data.Revenue > MaxRevenue || e.Data.MonthlyFee > MaxMonthlyFee || e.Data.Employees > MaxEmployees ||
			e.Data.DataSize > MaxDataSize || e.Data.DurationMs > MaxDurationMs {
			t.Fatalf("data %+v accepted beyond the bounds", e.Data)
		}
		const received = 1795600800123
		stored := AppendStored(nil, &e, received)
		if !json.Valid(stored) {
			t.Fatalf("AppendStored(%q) = %q is not valid JSON", value, stored)
		}
		want := e
		want.Data = cloneData(e.Data)
		wantID, wantSource, wantTenant := string(e.ID), string(e.Source), string(e.TenantID)
		var e2 Event
		if _, err := d.Decode(stored, &e2); err != nil {
			t.Fatalf("stored %q does not decode: %v", stored, err)
		}
		if string(e2.ID) != wantID || string(e2.Source) != wantSource || string(e2.TenantID) != wantTenant ||
			e2.Type != want.Type || e2.Time != want.Time || e2.ReceivedTime != received*int64(time.Millisecond) {
			t.Fatalf("stored %q decodes to %+v, want %+v", stored, e2, want)
		}
		if got := cloneData(e2.Data); !reflect.DeepEqual(got, want.Data) {
			t.Fatalf("stored data %+v, want %+v", got, want.Data)
		}
	})
}

// cloneData copies d's byte slices, which the next Decode may overwrite.
func cloneData(d Data) Data {
	c := d
	for _, p := range []*[]byte{&c.Name, &c.Industry, &c.Sentiment, &c.Plan, &c.Reason, &c.UserID, &c.SessionID, &c.JobID, &c.Status} {
		if *p != nil {
			*p = bytes.Clone(*p)
		}
	}
	return c
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-11-25T10:00:00Z", "2026-11-25T10:00:00.123Z", "2026-11-25T11:00:00.123456789+01:00",
		"2024-02-29T23:59:59-23:59", "1677-09-21T00:12:43.145224192Z", "2262-04-11T23:47:16.854775807Z",
		"2026-02-30T10:00:00Z", "2026-11-25T24:00:00Z", "yesterday", "2026-11-25T10:00:00.Z", "0000-01-01T00:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ns, ok := ParseTime([]byte(s))
		tm, err := time.Parse(time.RFC3339Nano, s)
		if !ok || err != nil {
			return
		}
		if tm.UnixNano() != ns {
			t.Fatalf("ParseTime(%q) = %d, time.Parse %d", s, ns, tm.UnixNano())
		}
		if got := AppendTime(nil, ns); !bytes.Equal(got, AppendTime(nil, tm.UnixNano())) {
			t.Fatalf("AppendTime differs")
		}
	})
}
