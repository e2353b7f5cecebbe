package parquetfile

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/tenantpulse/tenantpulse/internal/event"
)

// testEvents are stored records covering every type, optional attributes
// present, absent and null, empty strings, zero numbers, escapes, unicode,
// unknown data members, data before type and an escaped "data" name.
var testEvents = []string{
	`{"receivedtime":"2026-11-25T10:00:01.250Z","specversion":"1.0","id":"e1","source":"urn:tenantpulse:simulator","type":"tenant.created","time":"2026-11-25T10:00:00.123456789Z","tenantid":"northwind-7f3a","subject":"signup","data":{"name":"Northwind \"Traders\"","industry":"Retail","sentiment":"positive","revenue":12500000.5,"employees":420,"monthlyFee":1999.99,"plan":"enterprise","extra":{"nested":[1,2,{"x":"}"}]}}}`,
	`{"specversion":"1.0","id":"e2","source":"s","type":"tenant.created","time":"2026-11-25T11:00:00+01:00","tenantid":"t-\u00e9\u6f22","data":{"name":"Ünïcödé 漢字 \ud83d\ude00","industry":"","revenue":0,"employees":0,"monthlyFee":0,"plan":null}}`,
	`{"specversion":"1.0","id":"e3","source":"s","type":"tenant.updated","time":"2026-11-25T10:00:00Z","tenantid":"t1","subject":"","data":{"sentiment":"negative","monthlyFee":999,"unknown":"kept\nline"}}`,
	`{"specversion":"1.0","id":"e4","source":"s","type":"tenant.deleted","time":"2026-11-25T10:00:00Z","tenantid":"t1"}`,
	`{"specversion":"1.0","id":"e5","source":"s","type":"tenant.deleted","time":"2026-11-25T10:00:00Z","tenantid":"t1","data":null,"subject":null}`,
	`{"specversion":"1.0","id":"e6","source":"s","type":"tenant.deleted","time":"2026-11-25T10:00:00Z","tenantid":"t1","data":{"reason":"too \\ expensive \u0000"}}`,
	`{"data":{"userId":"u-1","x":true},"specversion":"1.0","id":"e7","source":"s","type":"user.added","time":"2026-11-25T10:00:00Z","tenantid":"t1"}`,
	`{"specversion":"1.0","id":"e8","source":"s","type":"user.deleted","time":"1969-12-31T23:59:59.9999995Z","tenantid":"t1","\u0064ata":{"userId":"u-1"}}`,
	`{"specversion":"1.0","id":"e9","source":"s","type":"user.login","time":"2026-11-25T10:00:00Z","tenantid":"t1","traceparent":"00-abc","data":{"userId":"u-1","sessionId":"s-1"}}`,
	`{"specversion":"1.0","id":"e10","source":"s","type":"user.logoff","time":"2026-11-25T10:00:00Z","tenantid":"t1","data" : { "userId" : "u-1" , "sessionId" : "s-1" } }`,
	`{"specversion":"1.0","id":"e11","source":"s","type":"user.session_timeout","time":"2026-11-25T10:00:00Z","tenantid":"t1","data":{"userId":"u-2","sessionId":"s-2","reason":"not a typed field here"}}`,
	`{"specversion":"1.0","id":"e12","source":"s","type":"job.submitted","time":"2026-11-25T10:00:00Z","tenantid":"t1","data":{"jobId":"j-1","userId":"u-1","dataSize":1000000000000000}}`,
	`{"specversion":"1.0","id":"e13","source":"s","type":"job.terminated","time":"2026-11-25T10:00:00Z","tenantid":"t1","data":{"jobId":"j-1","status":"failed","durationMs":5400,"exitCode":-1.5e3}}`,
	`{"specversion":"1.0","id":"e14","source":"s","type":"job.cancelled","time":"2026-11-25T10:00:00Z","tenantid":"t1","data":{"jobId":"j-2","userId":"u-1"}}`,
}

// testEventRows decodes testEvents into rows, as the archive does.
func testEventRows(t testing.TB) []EventRow {
	t.Helper()
	var d event.Decoder
	var e event.Event
	rows := make([]EventRow, 0, len(testEvents))
	for i, s := range testEvents {
		if _, err := d.Decode([]byte(s), &e); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		stream := e.Type.Stream()
		rows = append(rows, EventRowFrom(&e, stream, "shardId-00000000000"+strconv.Itoa(i%2),
			"49"+strings.Repeat("0", 50)+strconv.Itoa(i), 1795600800000+int64(i)))
	}
	return rows
}

func ptr[T any](v T) *T { return &v }

func TestEventRowFrom(t *testing.T) {
	rows := testEventRows(t)
	f := func(i int, want EventRow) {
		t.Helper()
		if !reflect.DeepEqual(rows[i], want) {
			t.Errorf("event %d:\n got %s\nwant %s", i, show(rows[i]), show(want))
		}
	}
	seq := func(i int) string { return "49" + strings.Repeat("0", 50) + strconv.Itoa(i) }
	f(0, EventRow{
		ID: "e1", Source: "urn:tenantpulse:simulator", Type: "tenant.created", SpecVersion: "1.0",
		Time: 1795600800123456, TenantID: "northwind-7f3a", Subject: ptr("signup"),
		ReceivedTime: ptr(int64(1795600801250000)),
		Name:         ptr(`Northwind "Traders"`), Industry: ptr("Retail"), Sentiment: ptr("positive"),
		Plan: ptr("enterprise"), Revenue: ptr(12500000.5), Employees: ptr(int64(420)), MonthlyFee: ptr(1999.99),
		Data:   ptr(`{"name":"Northwind \"Traders\"","industry":"Retail","sentiment":"positive","revenue":12500000.5,"employees":420,"monthlyFee":1999.99,"plan":"enterprise","extra":{"nested":[1,2,{"x":"}"}]}}`),
		Stream: "companies", Shard: "shardId-000000000000", SequenceNumber: seq(0), Arrival: 1795600800000000,
	})
	f(1, EventRow{
		ID: "e2", Source: "s", Type: "tenant.created", SpecVersion: "1.0",
		Time: 1795600800000000, TenantID: "t-é漢",
		Name: ptr("Ünïcödé 漢字 😀"), Industry: ptr(""), Revenue: ptr(0.0), Employees: ptr(int64(0)), MonthlyFee: ptr(0.0),
		Data:   ptr(`{"name":"Ünïcödé 漢字 \ud83d\ude00","industry":"","revenue":0,"employees":0,"monthlyFee":0,"plan":null}`),
		Stream: "companies", Shard: "shardId-000000000001", SequenceNumber: seq(1), Arrival: 1795600800001000,
	})
	f(3, EventRow{
		ID: "e4", Source: "s", Type: "tenant.deleted", SpecVersion: "1.0", Time: 1795600800000000, TenantID: "t1",
		Stream: "companies", Shard: "shardId-000000000001", SequenceNumber: seq(3), Arrival: 1795600800003000,
	})
	if rows[4].Data != nil || rows[4].Subject != nil {
		t.Errorf("null data and subject: got %s", show(rows[4]))
	}
	if got, want := *rows[5].Reason, "too \\ expensive \x00"; got != want {
		t.Errorf("reason: got %q, want %q", got, want)
	}
	if got, want := *rows[6].Data, `{"userId":"u-1","x":true}`; got != want {
		t.Errorf("data before type: got %s, want %s", got, want)
	}
	// An instant before 1970 truncates towards the past.
	if rows[7].Time != -1 || *rows[7].Data != `{"userId":"u-1"}` {
		t.Errorf("escaped data name, time before 1970: got %s", show(rows[7]))
	}
	if rows[10].Reason != nil || !strings.Contains(*rows[10].Data, "not a typed field here") {
		t.Errorf("a field unknown to the type stays in data only: got %s", show(rows[10]))
	}
	if got := *rows[11].DataSize; got != 1e15 { // the largest dataSize an event may carry
		t.Errorf("dataSize: got %d", got)
	}
	f(12, EventRow{
		ID: "e13", Source: "s", Type: "job.terminated", SpecVersion: "1.0", Time: 1795600800000000, TenantID: "t1",
		JobID: ptr("j-1"), Status: ptr("failed"), DurationMs: ptr(int64(5400)),
		Data:   ptr(`{"jobId":"j-1","status":"failed","durationMs":5400,"exitCode":-1.5e3}`),
		Stream: "jobs", Shard: "shardId-000000000000", SequenceNumber: seq(12), Arrival: 1795600800012000,
	})
}

func show(r EventRow) string {
	v := reflect.ValueOf(r)
	var b strings.Builder
	for i := range v.NumField() {
		fv := v.Field(i)
		if fv.Kind() == reflect.Pointer {
			if fv.IsNil() {
				fmt.Fprintf(&b, "%s:nil ", v.Type().Field(i).Name)
				continue
			}
			fv = fv.Elem()
		}
		fmt.Fprintf(&b, "%s:%#v ", v.Type().Field(i).Name, fv.Interface())
	}
	return b.String()
}

func testErrorRows() []ErrorRow {
	return []ErrorRow{
		ErrorRowFrom([]byte("not json \xff\x00"), "companies", "shardId-000000000000", "4900000000000000000001", 1795600800000, 1,
			"InvalidEvent", "syntax error at byte 0: invalid character 'n'"),
		ErrorRowFrom([]byte(`{"specversion":"1.0"}`), "jobs", "shardId-000000000003", "4900000000000000000002", 1795600800123, 1,
			"InvalidEvent", "id: required: a non-empty string; «unicode» \"quoted\""),
		ErrorRowFrom(nil, "jobs", "shardId-000000000003", "4900000000000000000003", 0, 0, "", ""),
	}
}

func testMetricsRows() []MetricsRow {
	return []MetricsRow{
		{Date: Date(1795600800000), ID: "northwind-7f3a", Name: ptr("Northwind \"Traders\" 漢字"), Industry: ptr("Retail"),
			Sentiment: ptr("positive"), Users: 42, ActiveUsers30d: 17, JobsSubmitted: 1000, JobsTerminated: 990, JobsCancelled: 5,
			Jobs30d: 300, Jobs90d: 900, LastActivity: ptr(int64(1764064799123000)), Risk: ptr(0.73), AsOf: 1795651199999000},
		{Date: Date(1795600800000), ID: "t-empty", Industry: ptr(""), Risk: ptr(0.0), AsOf: 1795651199999000},
		{Date: Date(-1), ID: "t-old", AsOf: -1000},
	}
}

func TestRoundTripEvents(t *testing.T) {
	rows := testEventRows(t)
	w := NewEventWriter()
	for i := range rows { // one by one and all at once
		if err := w.Write(rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Write(rows...); err != nil {
		t.Fatal(err)
	}
	if w.Rows() != 2*len(rows) {
		t.Fatalf("Rows: got %d, want %d", w.Rows(), 2*len(rows))
	}
	if w.Size() <= 0 {
		t.Fatalf("Size: got %d", w.Size())
	}
	b, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if w.Size() != int64(len(b)) {
		t.Errorf("Size after Finish: got %d, want %d", w.Size(), len(b))
	}
	got, err := ReadEvents(b)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]EventRow(nil), rows...), rows...)
	compareRows(t, got, want, show)

	// Reset keeps the finished file intact and starts an empty one.
	keep := bytes.Clone(b)
	w.Reset()
	if w.Rows() != 0 {
		t.Fatalf("Rows after Reset: %d", w.Rows())
	}
	if err := w.Write(rows[:3]...); err != nil {
		t.Fatal(err)
	}
	b2, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, keep) {
		t.Fatal("Reset changed the bytes of the finished file")
	}
	got, err = ReadEvents(b2)
	if err != nil {
		t.Fatal(err)
	}
	compareRows(t, got, rows[:3], show)

	// An empty file is valid.
	w.Reset()
	b3, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ReadEvents(b3); err != nil || len(got) != 0 {
		t.Fatalf("empty file: %d rows, %v", len(got), err)
	}
}

func TestRoundTripErrors(t *testing.T) {
	rows := testErrorRows()
	b, err := WriteErrors(rows)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadErrors(b)
	if err != nil {
		t.Fatal(err)
	}
	compareRows(t, got, rows, func(r ErrorRow) string { return fmt.Sprintf("%+v", r) })
	if rows[0].RawData != "bm90IGpzb24g/wA=" {
		t.Errorf("raw_data: got %q", rows[0].RawData)
	}
}

func TestRoundTripMetrics(t *testing.T) {
	rows := testMetricsRows()
	b, err := WriteMetrics(rows)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadMetrics(b)
	if err != nil {
		t.Fatal(err)
	}
	compareRows(t, got, rows, func(r MetricsRow) string { return fmt.Sprintf("%+v", r) })
	if rows[0].Date != 20782 || rows[2].Date != -1 {
		t.Errorf("Date: got %d and %d, want 20782 (2026-11-25) and -1", rows[0].Date, rows[2].Date)
	}
}

func compareRows[T any](t *testing.T, got, want []T, show func(T) string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("row %d:\n got %s\nwant %s", i, show(got[i]), show(want[i]))
		}
	}
}

func TestReadWrongKind(t *testing.T) {
	eb, err := WriteErrors(testErrorRows())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadEvents(eb); !errors.Is(err, ErrNotOurs) {
		t.Errorf("an errors file read as events: got %v, want ErrNotOurs", err)
	}
	if _, err := ReadMetrics(eb); !errors.Is(err, ErrNotOurs) {
		t.Errorf("an errors file read as metrics: got %v, want ErrNotOurs", err)
	}
	// A foreign file with the right columns but no schema name.
	var buf bytes.Buffer
	if err := parquet.Write(&buf, testErrorRows()); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadErrors(buf.Bytes()); !errors.Is(err, ErrNotOurs) {
		t.Errorf("a file without %s: got %v, want ErrNotOurs", SchemaKey, err)
	}
	// The right name over other columns.
	buf.Reset()
	type other struct {
		ID string `parquet:"id"`
	}
	if err := parquet.Write(&buf, []other{{"x"}}, parquet.KeyValueMetadata(SchemaKey, SchemaEvents)); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadEvents(buf.Bytes()); !errors.Is(err, ErrNotOurs) {
		t.Errorf("other columns: got %v, want ErrNotOurs", err)
	}
	for _, b := range [][]byte{nil, []byte("PAR1"), []byte("PAR1PAR1"), eb[:len(eb)/2]} {
		if _, err := ReadEvents(b); err == nil {
			t.Errorf("ReadEvents(%d bytes of junk): no error", len(b))
		}
	}
}

func TestMergeEvents(t *testing.T) {
	rows := testEventRows(t)
	var files [][]byte
	var want []EventRow
	for n := range 4 {
		w := NewEventWriter()
		part := rows[n*3 : min(n*3+5, len(rows))]
		if n == 2 {
			part = nil // an empty file merges as nothing
		}
		if err := w.Write(part...); err != nil {
			t.Fatal(err)
		}
		b, err := w.Finish()
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
		want = append(want, part...)
	}
	// Many rows, more than one read batch and row group.
	w := NewEventWriter()
	for i := range RowGroupRows + 10 {
		r := rows[i%len(rows)]
		r.SequenceNumber = strconv.Itoa(i)
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
		want = append(want, r)
	}
	big, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, big)

	b, err := MergeEvents(files...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadEvents(b)
	if err != nil {
		t.Fatal(err)
	}
	compareRows(t, got, want, show)

	eb, err := WriteErrors(testErrorRows())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := MergeEvents(files[0], eb); !errors.Is(err, ErrNotOurs) {
		t.Errorf("merging an errors file: got %v, want ErrNotOurs", err)
	}
}
