package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// member is one JSON object member, in order.
type member struct{ name, value string }

func object(ms []member) string {
	var sb strings.Builder
	sb.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`"` + m.name + `":` + m.value)
	}
	sb.WriteByte('}')
	return sb.String()
}

// with returns ms with name's value replaced (or appended when absent).
func with(ms []member, name, value string) []member {
	out := append([]member(nil), ms...)
	for i := range out {
		if out[i].name == name {
			out[i].value = value
			return out
		}
	}
	return append(out, member{name, value})
}

// without returns ms without name.
func without(ms []member, name string) []member {
	var out []member
	for _, m := range ms {
		if m.name != name {
			out = append(out, m)
		}
	}
	return out
}

// exampleData is a valid data object for every type, every known field set.
var exampleData = map[Type][]member{
	TenantCreated:      {{"name", `"Northwind Traders"`}, {"industry", `"Retail"`}, {"sentiment", `"positive"`}, {"revenue", `12500000.5`}, {"employees", `420`}, {"monthlyFee", `1999.99`}, {"plan", `"enterprise"`}},
	TenantUpdated:      {{"sentiment", `"negative"`}, {"monthlyFee", `999`}},
	TenantDeleted:      {{"reason", `"moved to a competitor"`}},
	UserAdded:          {{"userId", `"u-0007"`}},
	UserDeleted:        {{"userId", `"u-0007"`}},
	UserLogin:          {{"userId", `"u-0007"`}, {"sessionId", `"s-42"`}},
	UserLogoff:         {{"userId", `"u-0007"`}, {"sessionId", `"s-42"`}},
	UserSessionTimeout: {{"userId", `"u-0007"`}, {"sessionId", `"s-42"`}},
	JobSubmitted:       {{"jobId", `"j-000123"`}, {"userId", `"u-0007"`}, {"dataSize", `123456789`}},
	JobTerminated:      {{"jobId", `"j-000123"`}, {"status", `"succeeded"`}, {"durationMs", `5400`}},
	JobCancelled:       {{"jobId", `"j-000123"`}, {"userId", `"u-0007"`}},
}

func envelope(t Type, data string) []member {
	return []member{
		{"specversion", `"1.0"`},
		{"id", `"42-1234"`},
		{"source", `"urn:tenantpulse:simulator"`},
		{"type", `"` + t.String() + `"`},
		{"time", `"2026-11-25T10:00:00.123Z"`},
		{"tenantid", `"northwind-7f3a"`},
		{"data", data},
	}
}

func example(t Type) []member { return envelope(t, object(exampleData[t])) }

// decode decodes s, failing the test on a SyntaxError.
func decode(t *testing.T, s string) (*Event, error) {
	t.Helper()
	var d Decoder
	e := new(Event)
	n, err := d.Decode([]byte(s), e)
	var se *SyntaxError
	if errors.As(err, &se) {
		t.Fatalf("Decode(%s): unexpected syntax error %v", s, err)
	}
	if n != len(s) {
		t.Fatalf("Decode(%s): n = %d, want %d", s, n, len(s))
	}
	if !bytes.Equal(e.Raw, []byte(s)) {
		t.Fatalf("Decode(%s): Raw = %s", s, e.Raw)
	}
	return e, err
}

// wantFieldError decodes s and checks it fails on field with a reason
// containing reason.
func wantFieldError(t *testing.T, s, field, reason string) {
	t.Helper()
	_, err := decode(t, s)
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("Decode(%s) = %v, want a FieldError on %q", s, err, field)
	}
	if fe.Field != field || !strings.Contains(fe.Reason, reason) {
		t.Fatalf("Decode(%s): error %q, want field %q with reason containing %q", s, err, field, reason)
	}
}

func wantValid(t *testing.T, s string) *Event {
	t.Helper()
	e, err := decode(t, s)
	if err != nil {
		t.Fatalf("Decode(%s): %v", s, err)
	}
	return e
}

func TestDecodeValidExamples(t *testing.T) {
	wantTime := time.Date(2026, 11, 25, 10, 0, 0, 123e6, time.UTC).UnixNano()
	for _, typ := range Types {
		e := wantValid(t, object(example(typ)))
		if e.Type != typ || string(e.ID) != "42-1234" || string(e.Source) != "urn:tenantpulse:simulator" ||
			string(e.TenantID) != "northwind-7f3a" || e.Time != wantTime || e.ReceivedTime != 0 {
			t.Errorf("%s: decoded %+v", typ, e)
		}
		var want Field
		for _, m := range exampleData[typ] {
			want |= Field(1) << fieldIndex([]byte(m.name))
		}
		if e.Data.Has != want {
			t.Errorf("%s: Has = %s, want %s", typ, e.Data.Has, want)
		}
	}
}

func TestDecodeDataValues(t *testing.T) {
	e := wantValid(t, object(example(TenantCreated)))
	d := e.Data
	if string(d.Name) != "Northwind Traders" || string(d.Industry) != "Retail" || string(d.Sentiment) != "positive" ||
		d.Revenue != 12500000.5 || d.Employees != 420 || d.MonthlyFee != 1999.99 || string(d.Plan) != "enterprise" {
		t.Errorf("tenant.created data: %+v", d)
	}
	e = wantValid(t, object(example(JobSubmitted)))
	if string(e.Data.JobID) != "j-000123" || string(e.Data.UserID) != "u-0007" || e.Data.DataSize != 123456789 {
		t.Errorf("job.submitted data: %+v", e.Data)
	}
	e = wantValid(t, object(example(JobTerminated)))
	if string(e.Data.Status) != "succeeded" || e.Data.DurationMs != 5400 {
		t.Errorf("job.terminated data: %+v", e.Data)
	}
	e = wantValid(t, object(example(UserLogin)))
	if string(e.Data.SessionID) != "s-42" {
		t.Errorf("user.login data: %+v", e.Data)
	}
	e = wantValid(t, object(example(TenantDeleted)))
	if string(e.Data.Reason) != "moved to a competitor" {
		t.Errorf("tenant.deleted data: %+v", e.Data)
	}
}

// documentedData is the data contract of docs/events.md, written out here
// (not taken from the validator's table, which that page is generated
// from): per type, its required data fields, and whether data itself may
// be left out (the envelope table: "optional for tenant.deleted").
// tenant.updated requires at least one of its fields instead.
var documentedData = map[string]struct {
	required []string
	optional []string
	optData  bool
}{
	"tenant.created":       {required: []string{"name"}, optional: []string{"industry", "sentiment", "revenue", "employees", "monthlyFee", "plan"}},
	"tenant.updated":       {optional: []string{"name", "industry", "sentiment", "revenue", "employees", "monthlyFee", "plan"}},
	"tenant.deleted":       {optional: []string{"reason"}, optData: true},
	"user.added":           {required: []string{"userId"}},
	"user.deleted":         {required: []string{"userId"}},
	"user.login":           {required: []string{"userId", "sessionId"}},
	"user.logoff":          {required: []string{"userId", "sessionId"}},
	"user.session_timeout": {required: []string{"userId", "sessionId"}},
	"job.submitted":        {required: []string{"userId", "jobId", "dataSize"}},
	"job.terminated":       {required: []string{"jobId", "status", "durationMs"}},
	"job.cancelled":        {required: []string{"userId", "jobId"}},
}

// TestDecodeRequiredDataFields checks the validator against the documented
// contract: each required field left out or null is rejected, each
// optional one left out is not.
func TestDecodeRequiredDataFields(t *testing.T) {
	if len(documentedData) != len(Types) {
		t.Fatalf("the documented contract lists %d types, the decoder knows %d", len(documentedData), len(Types))
	}
	for _, typ := range Types {
		doc, ok := documentedData[typ.String()]
		if !ok {
			t.Fatalf("type %s is not in the documented contract", typ)
		}
		full := exampleData[typ]
		for _, name := range doc.required {
			if len(with(full, name, "1")) != len(full) {
				t.Fatalf("%s: the example lacks required field %s", typ, name)
			}
			data := without(full, name)
			wantFieldError(t, object(envelope(typ, object(data))), "data."+name, "required for "+typ.String())
			wantFieldError(t, object(envelope(typ, object(with(data, name, "null")))), "data."+name, "must not be null")
		}
		if typ != TenantUpdated {
			for _, name := range doc.optional {
				wantValid(t, object(envelope(typ, object(without(full, name)))))
			}
		}
		if doc.optData {
			wantValid(t, object(without(example(typ), "data")))
			wantValid(t, object(envelope(typ, "null")))
			wantValid(t, object(envelope(typ, "{}")))
		} else {
			wantFieldError(t, object(without(example(typ), "data")), "data", "required for "+typ.String())
			wantFieldError(t, object(envelope(typ, "null")), "data", "required for "+typ.String())
		}
	}
	// tenant.updated needs at least one field; null ones do not count.
	wantFieldError(t, object(envelope(TenantUpdated, `{}`)), "data", "at least one of name")
	wantFieldError(t, object(envelope(TenantUpdated, `{"name":null,"other":1}`)), "data", "at least one of")
	for _, m := range exampleData[TenantCreated] {
		wantValid(t, object(envelope(TenantUpdated, object([]member{m}))))
	}
}

func TestDecodeWrongDataTypes(t *testing.T) {
	for _, typ := range Types {
		for i := range numFields {
			f := Field(1) << i
			if typeSpecs[typ].fields&f == 0 {
				continue
			}
			fs := fieldSpecs[i]
			var wrongs []string
			switch fs.kind {
			case kindNumber, kindInt:
				wrongs = []string{`"12"`, `true`, `{}`, `[1]`}
			default:
				wrongs = []string{`12`, `false`, `{"a":"b"}`, `["x"]`}
			}
			for _, w := range wrongs {
				s := object(envelope(typ, object(with(exampleData[typ], fs.name, w))))
				wantFieldError(t, s, "data."+fs.name, "must be a")
			}
		}
	}
}

// wantData decodes typ's example with data field set to value: valid
// when reason is "", else a FieldError on data.field with reason.
func wantData(t *testing.T, typ Type, field, value, reason string) {
	t.Helper()
	s := object(envelope(typ, object(with(exampleData[typ], field, value))))
	if reason == "" {
		wantValid(t, s)
		return
	}
	wantFieldError(t, s, "data."+field, reason)
}

func TestDecodeDataValueRules(t *testing.T) {
	f := func(typ Type, field, value, reason string) {
		t.Helper()
		wantData(t, typ, field, value, reason)
	}
	// enums
	for _, v := range []string{"positive", "neutral", "negative"} {
		f(TenantCreated, "sentiment", `"`+v+`"`, "")
	}
	f(TenantCreated, "sentiment", `"Positive"`, `must be one of "positive", "neutral", "negative", got "Positive"`)
	f(TenantCreated, "sentiment", `""`, "must be one of")
	f(JobTerminated, "status", `"succeeded"`, "")
	f(JobTerminated, "status", `"failed"`, "")
	f(JobTerminated, "status", `"cancelled"`, `must be one of "succeeded", "failed"`)
	// non-empty strings; free text may be empty
	f(UserLogin, "userId", `""`, "must not be empty")
	f(UserLogin, "sessionId", `""`, "must not be empty")
	f(JobSubmitted, "jobId", `""`, "must not be empty")
	f(TenantCreated, "name", `""`, "must not be empty")
	f(TenantCreated, "industry", `""`, "")
	f(TenantCreated, "plan", `"\u00e9"`, "")
	// integers
	f(JobSubmitted, "dataSize", `0`, "")
	f(JobSubmitted, "dataSize", `-0`, "")
	f(JobSubmitted, "dataSize", `9223372036854775807`, "must be at most 1000000000000000 (1e15), got 9223372036854775807")
	f(JobSubmitted, "dataSize", `9223372036854775808`, "must fit in a signed 64-bit integer")
	f(JobSubmitted, "dataSize", `99999999999999999999`, "must fit in a signed 64-bit integer")
	f(JobSubmitted, "dataSize", `-1`, "must be >= 0, got -1")
	f(JobSubmitted, "dataSize", `12.0`, "must be an integer literal without fraction or exponent, got 12.0")
	f(JobSubmitted, "dataSize", `1e3`, "must be an integer literal")
	f(JobTerminated, "durationMs", `1.5`, "must be an integer literal")
	f(JobTerminated, "durationMs", `-5`, "must be >= 0")
	f(TenantCreated, "employees", `-1`, "must be >= 0")
	f(TenantCreated, "employees", `3E2`, "must be an integer literal")
	// numbers
	f(TenantCreated, "revenue", `0`, "")
	f(TenantCreated, "revenue", `1e3`, "")
	f(TenantCreated, "revenue", `-0.01`, "must be >= 0")
	f(TenantCreated, "monthlyFee", `-1E2`, "must be >= 0")
	f(TenantCreated, "monthlyFee", `123456789012.5`, "")
	// null for an optional field is absent
	f(TenantCreated, "industry", `null`, "")
	f(TenantCreated, "revenue", `null`, "")
	f(TenantDeleted, "reason", `null`, "")
	f(TenantDeleted, "reason", `7`, "must be a string")
}

// TestDecodeNumberBounds checks every numeric data field against the
// bounds docs/events.md documents (written here, not taken from the
// field table): the bound itself is accepted, the next value (or any
// finite number beyond, up to float64's largest, or a literal beyond
// float64's range) is rejected naming the field and the bound.
func TestDecodeNumberBounds(t *testing.T) {
	f := func(typ Type, field, value, reason string) {
		t.Helper()
		wantData(t, typ, field, value, reason)
	}
	for _, c := range []struct {
		typ           Type
		field         string
		max, over     string
		isInt         bool
		reasonOfBound string
	}{
		{TenantCreated, "revenue", "1000000000000000", "1000000000000000.2", false, "must be at most 1000000000000000 (1e15), got "},
		{TenantUpdated, "revenue", "1e15", "1.0000000001e15", false, "must be at most 1000000000000000 (1e15), got "},
		{TenantCreated, "monthlyFee", "1000000000000", "1000000000000.001", false, "must be at most 1000000000000 (1e12), got "},
		{TenantUpdated, "monthlyFee", "1e12", "1.7e308", false, "must be at most 1000000000000 (1e12), got "},
		{TenantCreated, "employees", "1000000000", "1000000001", true, "must be at most 1000000000 (1e9), got "},
		{JobSubmitted, "dataSize", "1000000000000000", "1000000000000001", true, "must be at most 1000000000000000 (1e15), got "},
		{JobTerminated, "durationMs", "1000000000000", "1000000000001", true, "must be at most 1000000000000 (1e12), got "},
	} {
		f(c.typ, c.field, c.max, "")
		f(c.typ, c.field, c.over, c.reasonOfBound+c.over)
		f(c.typ, c.field, "-1", "must be >= 0, got -1")
		if c.isInt {
			f(c.typ, c.field, "9223372036854775807", c.reasonOfBound+"9223372036854775807")
			continue
		}
		f(c.typ, c.field, "1.7976931348623157e308", c.reasonOfBound+"1.7976931348623157e308")
		f(c.typ, c.field, "1e309", c.reasonOfBound+"1e309")
		f(c.typ, c.field, "-1e309", "must be >= 0, got -1e309")
	}
}

func TestDecodeNumbers(t *testing.T) {
	f := func(lit string, want float64) {
		t.Helper()
		s := object(envelope(TenantCreated, `{"name":"n","revenue":`+lit+`}`))
		e := wantValid(t, s)
		if e.Data.Revenue != want || e.Data.Has&FieldRevenue == 0 {
			t.Fatalf("revenue %s = %v, want %v", lit, e.Data.Revenue, want)
		}
	}
	for _, lit := range []string{"0", "1", "0.1", "0.3", "123.456", "999999999999999.9", "123456789012345.678",
		"0.000000000000000000001", "1.5e10", "2.5E-3", "1e15", "1E+15", "4.9e-324", "0.1234567890123456789"} {
		var want float64
		if err := json.Unmarshal([]byte(lit), &want); err != nil {
			t.Fatal(err)
		}
		f(lit, want)
	}
}

func TestDecodeUnknownFieldsKept(t *testing.T) {
	// unknown data fields, including another type's, are kept unchecked
	s := object(envelope(UserLogin, `{"userId":"u","sessionId":"s","name":7,"dataSize":"x","extra":{"deep":[1,{"a":null}]},"extra":2}`))
	e := wantValid(t, s)
	if e.Data.Has != FieldUserID|FieldSessionID {
		t.Errorf("Has = %s", e.Data.Has)
	}
	// unknown top-level extensions are kept
	s = object(with(example(UserAdded), "traceparent", `"00-abc-01"`))
	s = object(with(with(example(UserAdded), "comexampleext", `{"a":[true,false,null]}`), "num", "-1.5e3"))
	wantValid(t, s)
	// optional attributes
	e = wantValid(t, object(with(with(with(example(UserAdded), "subject", `"u-0007"`), "datacontenttype", `"application/json; charset=utf-8"`), "dataschema", `"https://example.com/s.json"`)))
	if string(e.Subject) != "u-0007" {
		t.Errorf("Subject = %q", e.Subject)
	}
	for _, ct := range []string{`"application/json"`, `"text/json"`, `"application/json;charset=utf-8"`, `null`} {
		wantValid(t, object(with(example(UserAdded), "datacontenttype", ct)))
	}
	for _, ct := range []string{`"text/plain"`, `"application/jsonx"`, `"application/xml"`, `""`} {
		wantFieldError(t, object(with(example(UserAdded), "datacontenttype", ct)), "datacontenttype", "must be")
	}
	wantFieldError(t, object(with(example(UserAdded), "subject", `1`)), "subject", "must be a string")
}

func TestDecodeEnvelope(t *testing.T) {
	base := example(UserLogin)
	f := func(ms []member, field, reason string) {
		t.Helper()
		if field == "-" {
			wantValid(t, object(ms))
			return
		}
		wantFieldError(t, object(ms), field, reason)
	}
	for _, name := range []string{"specversion", "id", "source", "type", "time", "tenantid"} {
		f(without(base, name), name, "required")
		f(with(base, name, `null`), name, "must not be null")
		f(with(base, name, `1`), name, "must be a string, got a number")
		f(with(base, name, `{}`), name, "must be a string, got an object")
	}
	f(with(base, "data", `"x"`), "data", "must be a JSON object, got a string")
	f(with(base, "data", `[]`), "data", "must be a JSON object, got an array")
	f(with(base, "specversion", `"0.3"`), "specversion", `must be "1.0"`)
	f(with(base, "specversion", `"1.0 "`), "specversion", `must be "1.0"`)
	f(with(base, "id", `""`), "id", "must not be empty")
	f(with(base, "source", `""`), "source", "must not be empty")
	f(with(base, "type", `"tenant.Created"`), "type", "must be one of tenant.created, tenant.updated")
	f(with(base, "type", `"job"`), "type", `got "job"`)
	f(with(base, "tenantid", `""`), "tenantid", "must be 1 to 256 bytes")
	f(with(base, "tenantid", `"`+strings.Repeat("t", 256)+`"`), "-", "")
	f(with(base, "tenantid", `"`+strings.Repeat("t", 257)+`"`), "tenantid", "got 257 bytes")
	f(with(base, "tenantid", `"`+strings.Repeat("é", 129)+`"`), "tenantid", "got 258 bytes")
	f(with(base, "time", `"yesterday"`), "time", `must be an RFC 3339 timestamp such as 2026-11-25T10:00:00Z, got "yesterday"`)
	f(with(base, "receivedtime", `"2026-11-25"`), "receivedtime", "must be an RFC 3339 timestamp")
	f(with(base, "receivedtime", `null`), "-", "")
	// escaped names match after unescaping
	f(append(without(base, "time"), member{`\u0074ime`, `"2026-11-25T10:00:00Z"`}), "-", "")
	// names are case-sensitive: "Time" is an extension, so time is missing
	f(append(without(base, "time"), member{`Time`, `"2026-11-25T10:00:00Z"`}), "time", "required")
	// the first error is reported
	f(with(with(base, "id", `""`), "time", `"x"`), "id", "must not be empty")
	wantFieldError(t, `{}`, "", "an event must have the attributes")
}

func TestDecodeDuplicates(t *testing.T) {
	base := example(UserLogin)
	for _, m := range base {
		wantFieldError(t, object(append(base, m)), m.name, "duplicate attribute")
	}
	wantFieldError(t, object(append(base, member{`\u0069d`, `"x"`})), "id", "duplicate attribute")
	wantFieldError(t, object(append(base, member{"receivedtime", `"2026-11-25T10:00:00Z"`}, member{"receivedtime", `null`})), "receivedtime", "duplicate attribute")
	wantFieldError(t, object(append(base, member{"ext", `1`}, member{"ext", `2`})), "ext", "duplicate attribute")
	// many extensions: the sorted path
	var many []member
	for i := range 40 {
		many = append(many, member{"ext" + string(rune('a'+i%26)) + string(rune('a'+i/26)), `1`})
	}
	wantValid(t, object(append(append([]member(nil), base...), many...)))
	wantFieldError(t, object(append(append(append([]member(nil), base...), many...), member{"extbb", `2`})), "extbb", "duplicate attribute")
	// data fields: known ones once, unknown ones unchecked
	wantFieldError(t, object(envelope(UserLogin, `{"userId":"u","sessionId":"s","userId":"v"}`)), "data.userId", "duplicate field")
	wantValid(t, object(envelope(UserLogin, `{"userId":"u","sessionId":"s","x":1,"x":2}`)))
}

func TestDecodeDataBeforeType(t *testing.T) {
	ms := example(JobSubmitted)
	// move data first
	reordered := append([]member{ms[len(ms)-1]}, ms[:len(ms)-1]...)
	e := wantValid(t, object(reordered))
	if e.Data.DataSize != 123456789 || string(e.Data.JobID) != "j-000123" {
		t.Errorf("data before type: %+v", e.Data)
	}
	reordered[0].value = `{"jobId":"j","userId":"u","dataSize":-1}`
	wantFieldError(t, object(reordered), "data.dataSize", "must be >= 0")
	// an unknown type does not validate data
	reordered = with(reordered, "type", `"nope"`)
	wantFieldError(t, object(reordered), "type", "must be one of")
}

func TestDecodeNonObjects(t *testing.T) {
	for _, s := range []string{`1`, `-2.5e3`, `"event"`, `true`, `false`, `null`, `[]`, `[{"specversion":"1.0"}]`} {
		wantFieldError(t, s, "", "an event must be a JSON object, got ")
	}
}

func TestDecodeSizeLimit(t *testing.T) {
	pad := func(n int) string {
		base := object(with(example(UserLogin), "pad", `""`))
		return object(with(example(UserLogin), "pad", `"`+strings.Repeat("x", n-len(base))+`"`))
	}
	wantValid(t, pad(MaxSize))
	s := pad(MaxSize + 1)
	wantFieldError(t, s, "", "more than the limit of 1048576 bytes")
	// n is right so the caller can go on
	var d Decoder
	var e Event
	in := []byte(s + " " + object(example(UserAdded)))
	n, err := d.Decode(in, &e)
	if n != len(s) || err == nil {
		t.Fatalf("n = %d, err = %v; want %d and an error", n, err, len(s))
	}
	if _, err := d.Decode(in[n:], &e); err != nil || e.Type != UserAdded {
		t.Fatalf("next: %v %v", err, e.Type)
	}
	// a big non-object too
	big := `"` + strings.Repeat("y", MaxSize) + `"`
	wantFieldError(t, big, "", "more than the limit")
}

func TestDecodeOffsets(t *testing.T) {
	ev := object(example(UserAdded))
	f := func(in string, wantN int, wantErr bool) {
		t.Helper()
		var d Decoder
		var e Event
		n, err := d.Decode([]byte(in), &e)
		if (err != nil) != wantErr || n != wantN {
			t.Fatalf("Decode(%q) = %d, %v; want %d, error %v", in, n, err, wantN, wantErr)
		}
	}
	f(ev, len(ev), false)
	f(" \t\r\n"+ev, 4+len(ev), false)
	f(ev+",", len(ev), false)
	f(ev+ev, len(ev), false)
	f("  "+ev+"  ]", 2+len(ev), false)
	f("12,3", 2, true)
	f(" -0.5e1]", 7, true)
	f(`"ab"x`, 4, true)
	f(" true false", 5, true)
	f(`[1,[2,{}]] x`, 10, true)
	f("null\n", 4, true)
	// a concatenation of events, as a caller would read it
	in := []byte("\n" + ev + "\n 1 \n" + ev + "\n")
	var d Decoder
	var e Event
	var types []Type
	for off := 0; ; {
		if len(bytes.TrimSpace(in[off:])) == 0 {
			break
		}
		n, err := d.Decode(in[off:], &e)
		var fe *FieldError
		if err != nil && !errors.As(err, &fe) {
			t.Fatal(err)
		}
		types = append(types, e.Type)
		off += n
	}
	if len(types) != 3 || types[0] != UserAdded || types[1] != TypeUnknown || types[2] != UserAdded {
		t.Fatalf("types %v", types)
	}
}

func TestDecodeSyntaxErrors(t *testing.T) {
	f := func(in string, offset int, msg string) {
		t.Helper()
		var d Decoder
		var e Event
		_, err := d.Decode([]byte(in), &e)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Fatalf("Decode(%q) = %v, want a SyntaxError", in, err)
		}
		if se.Offset != offset || !strings.Contains(se.Msg, msg) {
			t.Fatalf("Decode(%q) = %q at %d, want %q at %d", in, se.Msg, se.Offset, msg, offset)
		}
		if !strings.HasPrefix(err.Error(), "invalid JSON at byte ") {
			t.Fatalf("Error() = %q", err)
		}
	}
	ev := object(example(UserAdded))
	for i := range len(ev) {
		// every truncation is an error at or before the end
		var d Decoder
		var e Event
		_, err := d.Decode([]byte(ev[:i]), &e)
		var se *SyntaxError
		if !errors.As(err, &se) || se.Offset > i {
			t.Fatalf("Decode(%q) = %v, want a SyntaxError at or before %d", ev[:i], err, i)
		}
	}
	f("", 0, "unexpected end of input, expected a JSON value")
	f("   ", 3, "unexpected end of input")
	f(`{"id" "x"}`, 6, "expected ':' after object key, found '\"'")
	f(`{"id":"x" "y"}`, 10, "expected ',' or '}' after object member")
	f(`{"id":"x",}`, 10, "expected a string member name, found '}'")
	f(`{"id":}`, 6, "expected a value, found '}'")
	f(`{"x":[1,]}`, 8, "expected a value, found ']'")
	f(`{"x":[1 2]}`, 8, "expected ',' or ']' after array element")
	f(`{"x":tru}`, 8, "invalid literal, expected true")
	f(`{"x":nul`, 8, "invalid literal, expected null, found end of input")
	f(`{"x":01}`, 6, "expected ',' or '}'")
	f(`{"x":-}`, 6, "expected a digit in a number")
	f(`{"x":1.}`, 7, "expected a digit after '.'")
	f(`{"x":1e}`, 7, "expected a digit in a number's exponent")
	f(`{"x":+1}`, 5, "expected a value, found '+'")
	f(`{"x":"a\qb"}`, 8, `invalid escape in a string: \'q'`)
	f(`{"x":"\u12G4"}`, 10, "expected 4 hex digits after \\u")
	f("{\"x\":\"a\tb\"}", 7, "control character byte 0x09 in a string")
	f("{\"x\":\"a\xffb\"}", 7, "invalid UTF-8 in a string")
	f("{\"x\":\"\xed\xa0\x80\"}", 6, "invalid UTF-8")
	f(`{"x":"abc`, 9, "unexpected end of input in a string")
	f(`{"id":"x"`, 9, "expected ',' or '}' after object member, found end of input")
	f(`{"data":{"userId":}}`, 18, "expected a value")
	f("\x00", 0, "expected a value, found byte 0x00")
	f(strings.Repeat("[", maxDepth+1), maxDepth, "nested deeper than 10000 levels")
	f(`{"x":`+strings.Repeat("[", maxDepth)+`}`, 5+maxDepth-1, "nested deeper")
}

func TestFieldErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&FieldError{Field: "data.userId", Reason: "required for user.login"}, "data.userId: required for user.login"},
		{&FieldError{Reason: "an event must be a JSON object, got a number"}, "an event must be a JSON object, got a number"},
		{&SyntaxError{Offset: 17, Msg: "expected ':' after object key"}, "invalid JSON at byte 17: expected ':' after object key"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
	_, err := decode(t, object(with(example(UserLogin), "time", `"`+strings.Repeat("y", 100)+`"`)))
	if !strings.HasSuffix(err.Error(), `..."...`) && !strings.Contains(err.Error(), `"...`) {
		t.Errorf("long values are not shortened: %v", err)
	}
	if len(err.Error()) > 200 {
		t.Errorf("message too long: %d bytes", len(err.Error()))
	}
}

func TestDecodeUnescaped(t *testing.T) {
	s := object(with(with(example(UserLogin), "id", `"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00\ud800x"`), "data", `{"userId":"\u0075-1","sessionId":"s"}`))
	e := wantValid(t, s)
	if want := "a\"b\\c/d\b\f\n\r\té😀\uFFFDx"; string(e.ID) != want {
		t.Errorf("ID = %q, want %q", e.ID, want)
	}
	if string(e.Data.UserID) != "u-1" {
		t.Errorf("UserID = %q", e.Data.UserID)
	}
	// agrees with encoding/json
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	if m["id"] != string(e.ID) {
		t.Errorf("ID %q, encoding/json %q", e.ID, m["id"])
	}
}

func TestDecoderReuse(t *testing.T) {
	var d Decoder
	var e Event
	a := object(with(example(UserLogin), "id", `"\u0041"`))
	if _, err := d.Decode([]byte(a), &e); err != nil || string(e.ID) != "A" {
		t.Fatalf("%v %q", err, e.ID)
	}
	// a failed decode, then a good one: no state leaks
	if _, err := d.Decode([]byte(`{"id":1,"x":1,"x":2}`), &e); err == nil {
		t.Fatal("no error")
	}
	b := object(with(example(JobCancelled), "ext", `1`))
	if _, err := d.Decode([]byte(b), &e); err != nil || e.Type != JobCancelled || e.Data.Has != FieldJobID|FieldUserID || e.Data.Name != nil {
		t.Fatalf("%v %+v", err, e)
	}
}

func TestDecodeAllocs(t *testing.T) {
	in := []byte(object(with(with(example(TenantCreated), "id", `"a\u00e9"`), "ext", `{"a":[1,2,{"b":null}]}`)))
	var d Decoder
	var e Event
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := d.Decode(in, &e); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Decode allocates %v times per event", allocs)
	}
}

// TestDecodeTenantIDs checks which tenant ids are accepted, as
// docs/events.md ("Tenant ids") documents them: 1 to 256 bytes of UTF-8,
// any characters but control characters, escapes decoding to the
// characters they stand for; an unpaired surrogate escape, which would
// decode to U+FFFD and so merge distinct ids, is rejected.
func TestDecodeTenantIDs(t *testing.T) {
	f := func(lit, want, reason string) {
		t.Helper()
		s := object(with(example(UserAdded), "tenantid", lit))
		if reason != "" {
			wantFieldError(t, s, "tenantid", reason)
			return
		}
		if e := wantValid(t, s); string(e.TenantID) != want {
			t.Fatalf("tenantid %s decoded to %q, want %q", lit, e.TenantID, want)
		}
	}
	// accepted
	f(`"northwind-7f3a"`, "northwind-7f3a", "")
	f(`"a"`, "a", "")
	f(`"\u0061"`, "a", "") // the same id as "a": JSON says they are the same string
	f(`"t \/ é 漢字 😀"`, "t / é 漢字 😀", "")
	f(`"\ud83d\ude00"`, "😀", "") // a valid pair
	f(`"\uD83D\uDE00"`, "😀", "")
	f(`"�"`, "\ufffd", "") // U+FFFD itself, sent as a character: an id like any other
	f(`"\ufffd"`, "\ufffd", "")
	f(`"`+strings.Repeat("x", 256)+`"`, strings.Repeat("x", 256), "")
	f(`"`+strings.Repeat("é", 128)+`"`, strings.Repeat("é", 128), "") // 256 bytes
	f(`"a\u00a0b"`, "a\u00a0b", "")                                   // no-break space: not a control character
	// too long or empty
	f(`""`, "", "must be 1 to 256 bytes")
	f(`"`+strings.Repeat("x", 257)+`"`, "", "must be 1 to 256 bytes")
	f(`"`+strings.Repeat("é", 129)+`"`, "", "got 258 bytes")
	// unpaired surrogates: each would become U+FFFD and merge
	for _, lit := range []string{`"\ud800"`, `"\udfff"`, `"\udbff"`, `"t\ud800"`, `"\ud800t"`, `"\ude00\ud83d"`,
		`"\ud83d\ud83d"`, `"\ud83d\u0061"`, `"\ud83d\\ude00"`} {
		f(lit, "", "unpaired surrogate escape")
	}
	// control characters, escaped (raw ones are not JSON at all)
	for _, c := range []struct{ lit, found string }{
		{`"\u0000"`, "U+0000 at byte 0"}, {`"a\nb"`, "U+000A at byte 1"}, {`"a\tb"`, "U+0009"},
		{`"ab\u001f"`, "U+001F at byte 2"}, {`"\u007f"`, "U+007F"}, {`"x\u0080"`, "U+0080 at byte 1"},
		{`"\u009f"`, "U+009F"}, {`"\r"`, "U+000D"}, {`"\b"`, "U+0008"},
	} {
		f(c.lit, "", "must not contain control characters (U+0000 to U+001F, U+007F to U+009F); found "+c.found)
	}
}
