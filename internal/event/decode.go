package event

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unsafe"
)

// Data is the decoded data of an event: the type's known fields. Byte
// slices are unescaped and alias the input or the Decoder's scratch; they
// are valid until the next Decode on the same Decoder. A field not in Has
// is zero.
type Data struct {
	Has Field // the fields that were present and not null

	Name, Industry, Sentiment, Plan, Reason, UserID, SessionID, JobID, Status []byte

	Revenue, MonthlyFee float64

	Employees, DataSize, DurationMs int64
}

// Event is one decoded event. Byte slices alias the input (or the
// Decoder's scratch when unescaping was needed) and are valid until the
// next Decode with the same Decoder.
type Event struct {
	ID, Source, TenantID, Subject []byte
	Type                          Type
	Time                          int64 // Unix nanoseconds, from time
	ReceivedTime                  int64 // Unix nanoseconds from receivedtime, 0 when absent
	Data                          Data
	Raw                           []byte // the event object's bytes in the input, without surrounding whitespace
	RawData                       []byte // the data object's bytes in Raw (nil when data is absent or null)

	// The bytes of Raw to cut to remove a receivedtime member, with its
	// comma; rmEnd is 0 when there is none.
	rmStart, rmEnd int32
}

// Decoder decodes events. The zero value is ready to use; reuse one per
// goroutine: in steady state Decode does not allocate. A Decoder is not
// safe for concurrent use.
type Decoder struct {
	scratch []byte   // unescaped strings of the current event
	names   [][]byte // extension names of the current event, for duplicates
	stack   []byte   // open containers while skipping a value
}

// top-level attributes, for duplicate detection
const (
	aSpecVersion = 1 << iota
	aID
	aSource
	aType
	aTime
	aTenantID
	aData
	aSubject
	aDataContentType
	aDataSchema
	aReceivedTime
)

// Decode parses exactly one JSON value at the start of b (leading
// whitespace skipped) and returns the offset just past it. err is nil, a
// *SyntaxError (b is not valid JSON there; n is meaningless), or a
// *FieldError (valid JSON, not a valid event: e.g. a number, or a missing
// or wrong field; n is valid so the caller can go on to the next value).
// The whole value is checked to be strict JSON (RFC 8259: strings with
// valid escapes and valid UTF-8, numbers, literals, nesting) even inside
// unknown fields, so what is stored is valid JSON. After a *FieldError,
// e.Raw is the value and the rest of e is unspecified.
func (d *Decoder) Decode(b []byte, e *Event) (n int, err error) {
	*e = Event{}
	d.scratch = d.scratch[:0]
	clear(d.names)
	d.names = d.names[:0]
	p := parser{b: b, d: d}
	p.ws()
	if p.i >= len(b) {
		return 0, p.syntax("unexpected end of input, expected a JSON value")
	}
	start := p.i
	if b[start] != '{' {
		if err := p.skip(0); err != nil {
			return 0, err
		}
		e.Raw = b[start:p.i]
		if len(e.Raw) > MaxSize {
			return p.i, sizeError(len(e.Raw))
		}
		return p.i, &FieldError{Reason: "an event must be a JSON object, got " + kindName(b[start])}
	}
	if err := p.event(e); err != nil {
		return 0, err
	}
	e.Raw = b[start:p.i]
	if len(e.Raw) > MaxSize {
		return p.i, sizeError(len(e.Raw))
	}
	if p.ferr != nil {
		return p.i, p.ferr
	}
	return p.i, nil
}

func sizeError(n int) *FieldError {
	return &FieldError{Reason: "the event is " + strconv.Itoa(n) + " bytes, more than the limit of " +
		strconv.Itoa(MaxSize) + " bytes (1 MiB, a Kinesis record's); make it smaller"}
}

// event parses an object at p.i as an event. It returns only syntax
// errors; field errors go to p.ferr.
func (p *parser) event(e *Event) error {
	b := p.b
	obj := p.i
	p.i++
	p.ws()
	if p.i < len(b) && b[p.i] == '}' {
		p.i++
		p.fail("", "an event must have the attributes specversion, id, source, type, time, tenantid and data; got an empty object")
		return nil
	}
	var seen uint32
	dataObj := false // data is an object (not absent or null)
	dataAt := -1     // where data starts when it came before type
	prevEnd := -1    // where the previous member's value ended
	for {
		keyAt := p.i
		key, err := p.key()
		if err != nil {
			return err
		}
		var a uint32
		var name string
		switch string(key) {
		case "specversion":
			a, name = aSpecVersion, "specversion"
		case "id":
			a, name = aID, "id"
		case "source":
			a, name = aSource, "source"
		case "type":
			a, name = aType, "type"
		case "time":
			a, name = aTime, "time"
		case "tenantid":
			a, name = aTenantID, "tenantid"
		case "data":
			a, name = aData, "data"
		case "subject":
			a, name = aSubject, "subject"
		case "datacontenttype":
			a, name = aDataContentType, "datacontenttype"
		case "dataschema":
			a, name = aDataSchema, "dataschema"
		case "receivedtime":
			a, name = aReceivedTime, "receivedtime"
		default:
			p.d.names = append(p.d.names, key)
			if err := p.skip(1); err != nil {
				return err
			}
		}
		if a != 0 {
			if seen&a != 0 {
				p.fail(name, "duplicate attribute; send it once")
				if err := p.skip(1); err != nil {
					return err
				}
			} else {
				seen |= a
				dataObj = dataObj || a == aData && b[p.i] == '{'
				valStart := p.i
				if err := p.attr(e, a, name, &dataAt); err != nil {
					return err
				}
				if a == aData && b[valStart] == '{' {
					e.RawData = b[valStart:p.i]
				}
			}
		}
		valEnd := p.i
		done, err := p.sep('}')
		if err != nil {
			return err
		}
		if a == aReceivedTime && e.rmEnd == 0 {
			// Cut the member with the comma after it, or else the one
			// before it.
			switch {
			case !done:
				e.rmStart, e.rmEnd = int32(keyAt-obj), int32(p.i-obj)
			case prevEnd >= 0:
				c := prevEnd // the previous member's end: find its comma
				for b[c] != ',' {
					c++
				}
				e.rmStart, e.rmEnd = int32(c-obj), int32(valEnd-obj)
			default:
				e.rmStart, e.rmEnd = int32(keyAt-obj), int32(valEnd-obj)
			}
		}
		if done {
			break
		}
		prevEnd = valEnd
	}
	end := p.i
	if p.ferr == nil && len(p.d.names) > 1 {
		if dup := duplicateName(p.d.names); dup != nil {
			p.fail(string(dup), "duplicate attribute; send it once")
		}
	}
	switch {
	case seen&aSpecVersion == 0:
		p.fail("specversion", `required: the CloudEvents version, "1.0"`)
	case seen&aID == 0:
		p.fail("id", "required: a non-empty string; id and source identify the event")
	case seen&aSource == 0:
		p.fail("source", "required: a non-empty string such as a URI of the sending system; id and source identify the event")
	case seen&aType == 0:
		p.fail("type", "required: one of "+typeNames)
	case seen&aTime == 0:
		p.fail("time", "required: when the event happened, an RFC 3339 timestamp such as 2026-11-25T10:00:00Z")
	case seen&aTenantID == 0:
		p.fail("tenantid", "required: the tenant's id, 1 to 256 bytes (the partition key)")
	}
	if e.Type != TypeUnknown {
		if dataAt >= 0 {
			p.i = dataAt
			if err := p.data(e); err != nil {
				panic("BUG: data failed a second scan: " + err.Error())
			}
			p.i = end
		}
		spec := &typeSpecs[e.Type]
		if !dataObj && !spec.optData {
			p.fail("data", "required for "+spec.name+": an object with "+dataWants(spec))
		}
	}
	return nil
}

// dataWants describes what a type's data must hold.
func dataWants(spec *typeSpec) string {
	if spec.anyOf {
		return "at least one of " + spec.fields.String()
	}
	return spec.required.String()
}

// duplicateName returns a name that occurs twice in names, or nil.
func duplicateName(names [][]byte) []byte {
	if len(names) <= 16 {
		for i := 1; i < len(names); i++ {
			for j := range i {
				if string(names[i]) == string(names[j]) {
					return names[i]
				}
			}
		}
		return nil
	}
	sortNames(names)
	for i := 1; i < len(names); i++ {
		if string(names[i]) == string(names[i-1]) {
			return names[i]
		}
	}
	return nil
}

// attr parses the value of a known top-level attribute.
func (p *parser) attr(e *Event, a uint32, name string, dataAt *int) error {
	b := p.b
	c := b[p.i]
	if c == 'n' {
		if err := p.literal(); err != nil {
			return err
		}
		switch a {
		case aSubject, aDataContentType, aDataSchema, aReceivedTime, aData:
			return nil // null is absent
		}
		p.fail(name, "must not be null; "+attrWants(a))
		return nil
	}
	if a == aData {
		if c != '{' {
			if err := p.skip(1); err != nil {
				return err
			}
			p.fail("data", "must be a JSON object, got "+kindName(c))
			return nil
		}
		if e.Type == TypeUnknown {
			// type comes later (or is wrong): check syntax now,
			// validate once the type is known.
			*dataAt = p.i
			return p.skip(1)
		}
		return p.data(e)
	}
	if c != '"' {
		if err := p.skip(1); err != nil {
			return err
		}
		p.fail(name, "must be a string, got "+kindName(c)+"; "+attrWants(a))
		return nil
	}
	v, err := p.strValue()
	if err != nil {
		return err
	}
	switch a {
	case aSpecVersion:
		if string(v) != "1.0" {
			p.fail(name, `must be "1.0" (CloudEvents 1.0), got `+quote(v))
		}
	case aID, aSource:
		if len(v) == 0 {
			p.fail(name, "must not be empty; "+attrWants(a))
		}
		if a == aID {
			e.ID = v
		} else {
			e.Source = v
		}
	case aType:
		t, ok := ParseType(v)
		if !ok {
			p.fail(name, "must be one of "+typeNames+", got "+quote(v))
		}
		e.Type = t
	case aTime, aReceivedTime:
		ns, ok := ParseTime(v)
		if !ok {
			p.fail(name, "must be an RFC 3339 timestamp such as 2026-11-25T10:00:00Z, got "+quote(v))
		}
		if a == aTime {
			e.Time = ns
		} else {
			e.ReceivedTime = ns
		}
	case aTenantID:
		switch {
		case len(v) == 0 || len(v) > MaxTenantIDLen:
			p.fail(name, "must be 1 to 256 bytes (it is the partition key), got "+strconv.Itoa(len(v))+" bytes")
		case p.lone:
			p.fail(name, `must not hold an unpaired surrogate escape (\ud800 to \udfff without its pair): it would decode to U+FFFD and merge with other ids; send the characters as UTF-8 or as a valid \u pair`)
		default:
			if at, r := controlChar(v); at >= 0 {
				p.fail(name, "must not contain control characters (U+0000 to U+001F, U+007F to U+009F); found "+
					fmt.Sprintf("U+%04X", r)+" at byte "+strconv.Itoa(at))
			}
		}
		e.TenantID = v
	case aSubject:
		e.Subject = v
	case aDataContentType:
		if !jsonContentType(v) {
			p.fail(name, `must be "application/json" (parameters after ';' allowed) or "text/json", or be left out; got `+quote(v))
		}
	}
	return nil
}

// controlChar returns the offset and value of the first control character
// (Unicode category Cc: U+0000 to U+001F and U+007F to U+009F) in the
// UTF-8 text v, or -1.
func controlChar(v []byte) (int, rune) {
	for i, c := range v {
		switch {
		case c < 0x20 || c == 0x7f:
			return i, rune(c)
		case c == 0xc2 && i+1 < len(v) && v[i+1] >= 0x80 && v[i+1] <= 0x9f:
			return i, rune(v[i+1])
		}
	}
	return -1, 0
}

func jsonContentType(v []byte) bool {
	const aj = "application/json"
	s := string(v)
	return s == aj || s == "text/json" || len(s) > len(aj) && s[:len(aj)] == aj && s[len(aj)] == ';'
}

// attrWants says what a required attribute must hold.
func attrWants(a uint32) string {
	switch a {
	case aSpecVersion:
		return `send "1.0"`
	case aID:
		return "a non-empty string; id and source identify the event"
	case aSource:
		return "a non-empty string such as a URI of the sending system; id and source identify the event"
	case aType:
		return "one of " + typeNames
	case aTime, aReceivedTime:
		return "an RFC 3339 timestamp such as 2026-11-25T10:00:00Z"
	case aTenantID:
		return "the tenant's id, 1 to 256 bytes"
	case aDataContentType:
		return `"application/json" or "text/json"`
	}
	return "a string"
}

// data parses the data object at p.i for the known type e.Type.
func (p *parser) data(e *Event) error {
	spec := &typeSpecs[e.Type]
	b := p.b
	p.i++
	p.ws()
	var seen Field
	if p.i < len(b) && b[p.i] == '}' {
		p.i++
	} else {
		for {
			key, err := p.key()
			if err != nil {
				return err
			}
			idx := fieldIndex(key)
			if idx < 0 || spec.fields&(1<<idx) == 0 {
				if err := p.skip(2); err != nil {
					return err
				}
			} else if f := Field(1) << idx; seen&f != 0 {
				p.fail("data."+fieldSpecs[idx].name, "duplicate field; send it once")
				if err := p.skip(2); err != nil {
					return err
				}
			} else {
				seen |= f
				if err := p.field(e, idx, spec); err != nil {
					return err
				}
			}
			done, err := p.sep('}')
			if err != nil {
				return err
			}
			if done {
				break
			}
		}
	}
	has := e.Data.Has
	if missing := spec.required &^ has; missing != 0 {
		for i := range numFields {
			if f := Field(1) << i; missing&f != 0 && seen&f == 0 {
				p.fail("data."+fieldSpecs[i].name, "required for "+spec.name)
				break
			}
		}
	}
	if spec.anyOf && has&spec.fields == 0 {
		p.fail("data", "must hold at least one of "+spec.fields.String()+" for "+spec.name)
	}
	return nil
}

// field parses the value of data field number idx.
func (p *parser) field(e *Event, idx int, spec *typeSpec) error {
	fs := &fieldSpecs[idx]
	f := Field(1) << idx
	c := p.b[p.i]
	if c == 'n' {
		if err := p.literal(); err != nil {
			return err
		}
		if spec.required&f != 0 {
			p.fail("data."+fs.name, "must not be null; required for "+spec.name)
		}
		return nil
	}
	dt := &e.Data
	switch fs.kind {
	case kindString, kindNonEmpty, kindEnum:
		if c != '"' {
			if err := p.skip(2); err != nil {
				return err
			}
			p.fail("data."+fs.name, "must be a string, got "+kindName(c))
			return nil
		}
		v, err := p.strValue()
		if err != nil {
			return err
		}
		switch fs.kind {
		case kindNonEmpty:
			if len(v) == 0 {
				p.fail("data."+fs.name, "must not be empty")
				return nil
			}
		case kindEnum:
			ok := false
			for _, s := range fs.enum {
				if string(v) == s {
					ok = true
					break
				}
			}
			if !ok {
				p.fail("data."+fs.name, "must be one of "+joinQuoted(fs.enum)+", got "+quote(v))
				return nil
			}
		}
		*dt.str(f) = v
	default:
		if c != '-' && (c < '0' || c > '9') {
			if err := p.skip(2); err != nil {
				return err
			}
			p.fail("data."+fs.name, "must be a number, got "+kindName(c))
			return nil
		}
		lit, isInt, err := p.number()
		if err != nil {
			return err
		}
		if fs.kind == kindInt {
			v, reason := parseInt(lit, isInt, fs.max)
			if reason != "" {
				p.fail("data."+fs.name, reason)
				return nil
			}
			switch f {
			case FieldEmployees:
				dt.Employees = v
			case FieldDataSize:
				dt.DataSize = v
			default:
				dt.DurationMs = v
			}
		} else {
			v, reason := parseFloat(lit, fs.max)
			if reason != "" {
				p.fail("data."+fs.name, reason)
				return nil
			}
			if f == FieldRevenue {
				dt.Revenue = v
			} else {
				dt.MonthlyFee = v
			}
		}
	}
	dt.Has |= f
	return nil
}

// str returns the string field f of d.
func (d *Data) str(f Field) *[]byte {
	switch f {
	case FieldName:
		return &d.Name
	case FieldIndustry:
		return &d.Industry
	case FieldSentiment:
		return &d.Sentiment
	case FieldPlan:
		return &d.Plan
	case FieldReason:
		return &d.Reason
	case FieldUserID:
		return &d.UserID
	case FieldSessionID:
		return &d.SessionID
	case FieldJobID:
		return &d.JobID
	case FieldStatus:
		return &d.Status
	}
	panic("BUG: not a string field: " + f.String())
}

func joinQuoted(ss []string) string {
	s := ""
	for i, v := range ss {
		if i > 0 {
			s += ", "
		}
		s += strconv.Quote(v)
	}
	return s
}

// parseInt converts a checked number literal to an int64 from 0 to max.
func parseInt(lit []byte, isInt bool, max int64) (int64, string) {
	if !isInt {
		return 0, "must be an integer literal without fraction or exponent, got " + string(lit)
	}
	neg := lit[0] == '-'
	digits := lit
	if neg {
		digits = lit[1:]
	}
	var v uint64
	for _, c := range digits {
		if v > (math.MaxInt64-9)/10 {
			nv := v*10 + uint64(c-'0')
			if v > math.MaxInt64/10 || nv > math.MaxInt64 {
				return 0, "must fit in a signed 64-bit integer, got " + quoteNum(lit)
			}
			v = nv
			continue
		}
		v = v*10 + uint64(c-'0')
	}
	if neg && v != 0 {
		return 0, "must be >= 0, got " + quoteNum(lit)
	}
	if v > uint64(max) {
		return 0, tooBig(lit, max)
	}
	return int64(v), ""
}

// tooBig says that a number is over a field's bound.
func tooBig(lit []byte, max int64) string {
	return "must be at most " + boundString(max) + ", got " + quoteNum(lit)
}

// boundString writes a bound as digits, and as a power of ten when it is
// one: "1000000000000000 (1e15)".
func boundString(max int64) string {
	s := strconv.FormatInt(max, 10)
	if len(s) > 4 && s[0] == '1' && strings.Count(s, "0") == len(s)-1 {
		s += " (1e" + strconv.Itoa(len(s)-1) + ")"
	}
	return s
}

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloat converts a checked number literal to a float64 from 0 to
// max.
func parseFloat(lit []byte, max int64) (float64, string) {
	var v float64
	if m, exp, ok := simpleDecimal(lit); ok {
		// Exact: m < 2^53 and 10^exp is exact, so one rounding.
		v = float64(m) / pow10[exp]
		if lit[0] == '-' {
			v = -v
		}
	} else {
		// A literal beyond float64's range is ±Inf with an error: the
		// bounds below refuse it by its sign.
		v, _ = strconv.ParseFloat(unsafe.String(unsafe.SliceData(lit), len(lit)), 64)
	}
	if v < 0 {
		return 0, "must be >= 0, got " + quoteNum(lit)
	}
	if !(v <= float64(max)) {
		return 0, tooBig(lit, max)
	}
	return v, ""
}

// simpleDecimal returns the digits of a literal without exponent as an
// integer m and the number of fraction digits, when m < 2^53 and there
// are at most 22 fraction digits.
func simpleDecimal(lit []byte) (m uint64, frac int, ok bool) {
	s := lit
	if s[0] == '-' {
		s = s[1:]
	}
	if len(s) > 16 {
		return 0, 0, false
	}
	dot := -1
	for i, c := range s {
		switch {
		case c >= '0' && c <= '9':
			m = m*10 + uint64(c-'0')
		case c == '.':
			dot = i
		default:
			return 0, 0, false
		}
	}
	if m >= 1<<53 {
		return 0, 0, false
	}
	if dot >= 0 {
		frac = len(s) - dot - 1
	}
	return m, frac, true
}

// quoteNum shortens a number literal for a message.
func quoteNum(lit []byte) string {
	if len(lit) > maxQuoted {
		return string(lit[:maxQuoted]) + "..."
	}
	return string(lit)
}
