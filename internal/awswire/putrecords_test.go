package awswire

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// prMirror is the PutRecords request as encoding/json sees it.
type prMirror struct {
	StreamName string           `json:"StreamName,omitempty"`
	StreamARN  string           `json:"StreamARN,omitempty"`
	Records    []prMirrorRecord `json:"Records,omitempty"`
}

type prMirrorRecord struct {
	Data            *[]byte `json:"Data,omitempty"`
	PartitionKey    *string `json:"PartitionKey,omitempty"`
	ExplicitHashKey *string `json:"ExplicitHashKey,omitempty"`
}

// mirrorOf copies a decoded request into its encoding/json form.
func mirrorOf(r *PutRecordsRequest) prMirror {
	m := prMirror{StreamName: r.StreamName, StreamARN: r.StreamARN}
	for _, e := range r.Records {
		var rec prMirrorRecord
		if e.HasData {
			d := append([]byte{}, e.Data...)
			rec.Data = &d
		} else if e.Data != nil {
			panic("BUG: Data set without HasData")
		}
		if e.PartitionKey != nil {
			s := string(e.PartitionKey)
			rec.PartitionKey = &s
		}
		if e.ExplicitHashKey != nil {
			s := string(e.ExplicitHashKey)
			rec.ExplicitHashKey = &s
		}
		m.Records = append(m.Records, rec)
	}
	return m
}

// normalizeMirror makes an empty Records list nil.
func normalizeMirror(m prMirror) prMirror {
	if len(m.Records) == 0 {
		m.Records = nil
	}
	return m
}

func TestPutRecordsDecodeJSONMatchesEncodingJSON(t *testing.T) {
	var r PutRecordsRequest
	f := func(body string) {
		t.Helper()
		var want prMirror
		if err := json.Unmarshal([]byte(body), &want); err != nil {
			t.Fatalf("encoding/json rejects %s: %v", body, err)
		}
		if err := r.DecodeJSON([]byte(body)); err != nil {
			t.Fatalf("DecodeJSON(%s): %v", body, err)
		}
		got := mirrorOf(&r)
		if !reflect.DeepEqual(normalizeMirror(got), normalizeMirror(want)) {
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(want)
			t.Fatalf("DecodeJSON(%s)\n got %s\nwant %s", body, gb, wb)
		}
	}
	f(`{}`)
	f(`{"Records":[]}`)
	f(`{"StreamName":"s","Records":[{"Data":"aGk=","PartitionKey":"pk"}]}`)
	f(" \t\r\n{ \"StreamName\" :\n\"s\" , \"Records\" : [ { \"Data\" : \"aGk=\" , \"PartitionKey\" : \"pk\" } , {\"PartitionKey\":\"2\",\"Data\":\"\"} ] } \n")
	f(`{"Records":[{"PartitionKey":"pk","ExplicitHashKey":"340282366920938463463374607431768211455","Data":"AAEC/w=="}],"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s"}`)
	f(`{"Records":[{"PartitionKey":"a\"b\\c\/d\b\f\n\r\t\u0041\u00e9\u20AC\ud83d\ude00z","Data":"aGk="}]}`)
	f(`{"Records":[{"PartitionKey":"\ud800x"},{"PartitionKey":"\udc00"},{"PartitionKey":"\ud800\u0041"},{"PartitionKey":"\ud800\ud800\udc00"},{"PartitionKey":"\ud83d"}]}`)
	f(`{"Records":[{"PartitionKey":"\u0000"},{"PartitionKey":""},{"ExplicitHashKey":""}]}`)
	f(`{"Records":[{"PartitionKey":"é€😀 raw","Data":"8J+YgA=="}]}`)
	f(`{"\u0053treamName":"s\u00e9","Re\u0063ords":[{"\u0044ata":"aG\u006b=","Partition\u004bey":"k"}]}`)
	f(`{"Records":[{"Data":"aGk=\n","PartitionKey":"k"},{"Data":"aG\r\nk=","PartitionKey":"k"}]}`)
	f(`{"X":{"a":[1,2.5e-3,-0,1E+2,{"b":null,"c":true,"d":false}],"e":"\u0000\"]}"},"Records":[{"Y":[[],[{}],"x"],"Data":"aGk=","Z":{"Records":[{"Data":1}]},"PartitionKey":"p","W":-12.5e-7}],"V":null}`)
	f(`{"StreamName":null,"Records":null}`)
	f(`{"Records":[{"Data":null,"PartitionKey":null,"ExplicitHashKey":null},null,{}]}`)
	f(`{"StreamName":"a","StreamName":"b","Records":[{"Data":"YQ=="}],"Records":[{"Data":"Yg=="},{"Data":"Yw=="}]}`)
	f(`{"Records":[{"Data":"YQ==","Data":"Yg==","PartitionKey":"1","PartitionKey":"2"}]}`)

	var many strings.Builder
	many.WriteString(`{"StreamName":"s","Records":[`)
	for i := range 600 {
		if i > 0 {
			many.WriteByte(',')
		}
		fmt.Fprintf(&many, `{"Data":%q,"PartitionKey":"pk-%d"}`, base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{byte(i)}, i%50)), i)
	}
	many.WriteString(`]}`)
	f(many.String())
}

func TestPutRecordsDecodeJSONLenient(t *testing.T) {
	var r PutRecordsRequest
	// Unpadded base64, which encoding/json rejects.
	if err := r.DecodeJSON([]byte(`{"Records":[{"Data":"aGk","PartitionKey":"p"},{"Data":"aA","PartitionKey":"p"}]}`)); err != nil {
		t.Fatal(err)
	}
	if string(r.Records[0].Data) != "hi" || string(r.Records[1].Data) != "h" {
		t.Fatalf("unpadded base64 decoded to %q, %q", r.Records[0].Data, r.Records[1].Data)
	}
	// An empty body is an empty request.
	if err := r.DecodeJSON(nil); err != nil || len(r.Records) != 0 || r.StreamName != "" {
		t.Fatalf("DecodeJSON(nil) = %v, %+v", err, r)
	}
	// Member names are case-sensitive, as in AWS.
	if err := r.DecodeJSON([]byte(`{"streamname":"s","records":[{}]}`)); err != nil || len(r.Records) != 0 || r.StreamName != "" {
		t.Fatalf("lower-case members were matched: %v, %+v", err, r)
	}
}

func TestPutRecordsDecodeJSONErrors(t *testing.T) {
	var r PutRecordsRequest
	f := func(body, wantInMessage string) {
		t.Helper()
		// A successful decode first, to check that an error leaves r empty.
		if err := r.DecodeJSON([]byte(`{"StreamName":"s","Records":[{"Data":"aGk="}]}`)); err != nil {
			t.Fatal(err)
		}
		err := r.DecodeJSON([]byte(body))
		e, ok := err.(*Error)
		if !ok || e.Type != Serialization || e.Status != 400 {
			t.Fatalf("DecodeJSON(%q) = %v; want a SerializationException", body, err)
		}
		if !strings.Contains(e.Message, wantInMessage) {
			t.Fatalf("DecodeJSON(%q) message %q does not mention %q", body, e.Message, wantInMessage)
		}
		if r.StreamName != "" || len(r.Records) != 0 {
			t.Fatalf("DecodeJSON(%q) failed but left %+v", body, r)
		}
	}
	f(`[]`, "expected a JSON object at the top level, found an array")
	f(`null`, "found null")
	f(`"x"`, "found a string")
	f(` `, "found the end of the input")
	f(`{"Records":{}}`, "Records must be an array, found an object")
	f(`{"Records":"x"}`, "Records must be an array, found a string")
	f(`{"Records":[1]}`, "Records[0] must be an object, found a number")
	f(`{"Records":[{},[]]}`, "Records[1] must be an object, found an array")
	f(`{"Records":[{"Data":1}]}`, "Records[0].Data must be a base64 string, found a number")
	f(`{"Records":[{"Data":"!!!!"}]}`, "Records[0].Data is not valid base64")
	f(`{"Records":[{},{"Data":"a"}]}`, "Records[1].Data is not valid base64")
	f(`{"Records":[{"Data":"aGk=aGk="}]}`, "Records[0].Data is not valid base64")
	f(`{"Records":[{"Data":"aG=k"}]}`, "Records[0].Data is not valid base64")
	f(`{"Records":[{"Data":"a\u00e9=="}]}`, "Records[0].Data is not valid base64")
	f(`{"StreamName":1}`, "StreamName must be a string, found a number")
	f(`{"StreamARN":{}}`, "StreamARN must be a string")
	f(`{"Records":[{"PartitionKey":true}]}`, "Records[0].PartitionKey must be a string, found a boolean")
	f(`{"Records":[{"ExplicitHashKey":12}]}`, "Records[0].ExplicitHashKey must be a string")
	f(`{`, "expected a member name")
	f(`{"a"}`, "expected ':'")
	f(`{"a":}`, "invalid character")
	f(`{"a":1,}`, "expected a member name")
	f(`{"a":01}`, "expected ',' or '}'")
	f(`{"a":1.}`, "invalid character")
	f(`{"a":-}`, "invalid character")
	f(`{"a":1e}`, "invalid character")
	f(`{"a":tru}`, "expected true")
	f(`{"a":nul}`, "expected null")
	f(`{"StreamName":nul}`, "expected null")
	f(`{"a":"`+"\x01"+`"}`, "control character 0x01")
	f(`{"a":"\q"}`, `invalid escape "\\q"`)
	f(`{"a":"\u12"}`, `invalid \u escape`)
	f(`{"a":"\u12g4"}`, `invalid \u escape`)
	f(`{"a":"abc`, "unterminated string")
	f(`{"a":"abc\`, "unterminated string")
	f(`{} {}`, "unexpected an object after the request object")
	f(`{}x`, "after the request object")
	f(`{"a":[1,]}`, "invalid character ']'")
	f(`{"a":[1 2]}`, "expected ',' or ']'")
	f(`{"a":{"b" 1}}`, "expected ':'")
	f(`{"a":{"b":1]}`, "expected ',' or '}'")
	f(`{"StreamName":"`+"\xff"+`"}`, "invalid UTF-8")
	f(`{"Records":[{"PartitionKey":"`+"\xed\xa0\x80"+`"}]}`, "invalid UTF-8") // encoded surrogate
	f(`{"Records":[{"Data":"aGk=","PartitionKey":"p"}]]`, "expected ',' or '}'")
	f(`{"Records":[{"Data":"aGk=","PartitionKey":"p"}`, "expected ',' or ']'")
	f(`{"x":`+strings.Repeat("[", 1001)+strings.Repeat("]", 1001)+`}`, "nested deeper than 1000")
	f(`{"x":`+strings.Repeat(`{"a":`, 1001)+"1"+strings.Repeat("}", 1001)+`}`, "nested deeper than 1000")
}

func TestPutRecordsDecodeJSONReuse(t *testing.T) {
	var r PutRecordsRequest
	big := []byte(`{"StreamName":"s","Records":[{"Data":"YQ==","PartitionKey":"1"},{"Data":"Yg==","PartitionKey":"2"},{"Data":"Yw==","PartitionKey":"3"}]}`)
	small := []byte(`{"StreamName":"s","Records":[{"Data":"ZA==","PartitionKey":"\u0034"}]}`)
	if err := r.DecodeJSON(big); err != nil {
		t.Fatal(err)
	}
	name := r.StreamName
	if err := r.DecodeJSON(small); err != nil {
		t.Fatal(err)
	}
	if len(r.Records) != 1 || string(r.Records[0].Data) != "d" || string(r.Records[0].PartitionKey) != "4" {
		t.Fatalf("second decode: %+v", r.Records)
	}
	if unsafeStringData(name) != unsafeStringData(r.StreamName) {
		t.Fatalf("a repeated stream name was allocated again")
	}
	for i, e := range r.Records[1:cap(r.Records)] {
		if !reflect.DeepEqual(e, PutRecordsEntry{}) {
			t.Fatalf("Records[%d] beyond the length still holds %+v", i+1, e)
		}
	}
	// Results are capacity-limited: appending copies instead of clobbering.
	pk := r.Records[0].PartitionKey
	_ = append(pk, 'x')
	if err := r.DecodeJSON(big); err != nil {
		t.Fatal(err)
	}
	_ = append(r.Records[0].PartitionKey, 'x')
	_ = append(r.Records[0].Data, 'x')
	if string(r.Records[1].Data) != "b" || string(big[bytes.Index(big, []byte(`"1"`)):][:3]) != `"1"` {
		t.Fatalf("append through a result clobbered its neighbour")
	}
}

// buildPutRecordsBody returns a PutRecords JSON body of n records of size bytes.
func buildPutRecordsBody(n, size int) []byte {
	b := []byte(`{"StreamName":"orders","Records":[`)
	data := make([]byte, size)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		for j := range data {
			data[j] = byte(i*31 + j)
		}
		b = append(b, `{"Data":`...)
		b = AppendBase64(b, data)
		b = append(b, `,"PartitionKey":`...)
		b = AppendString(b, fmt.Sprintf("partition-key-%06d", i))
		b = append(b, '}')
	}
	return append(b, `]}`...)
}

func TestPutRecordsDecodeJSONAllocs(t *testing.T) {
	body := buildPutRecordsBody(500, 100)
	var r PutRecordsRequest
	if err := r.DecodeJSON(body); err != nil {
		t.Fatal(err)
	}
	if len(r.Records) != 500 || len(r.Records[499].Data) != 100 || string(r.Records[499].PartitionKey) != "partition-key-000499" {
		t.Fatalf("unexpected decode: %d records", len(r.Records))
	}
	n := testing.AllocsPerRun(20, func() {
		if err := r.DecodeJSON(body); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Fatalf("DecodeJSON of 500 records allocates %v times per call after warm-up; want 0", n)
	}
}

// cborHead, cborText and cborBytes build CBOR by hand, as Jackson's
// CBORGenerator (used by the AWS Java SDK v2) writes it.
func cborHead(major byte, n int) []byte { return appendCBORHead(nil, major, uint64(n)) }
func cborText(s string) []byte          { return append(cborHead(3, len(s)), s...) }
func cborBytes(b []byte) []byte         { return append(cborHead(2, len(b)), b...) }

func TestPutRecordsDecodeCBORLikeJavaSDK(t *testing.T) {
	records := []struct {
		data []byte
		pk   string
		ehk  string
	}{
		{[]byte("hello"), "pk-1", ""},
		{[]byte{}, "pk-2", ""},
		{bytes.Repeat([]byte{0, 0xff}, 300), "é€😀", "12345"},
	}
	// The Java SDK v2 writes indefinite-length maps and arrays (0xbf/0x9f ... 0xff).
	body := []byte{0xbf}
	body = append(body, cborText("StreamName")...)
	body = append(body, cborText("orders")...)
	body = append(body, cborText("Records")...)
	body = append(body, 0x9f)
	js := `{"StreamName":"orders","Records":[`
	for i, rec := range records {
		body = append(body, 0xbf)
		body = append(body, cborText("Data")...)
		body = append(body, cborBytes(rec.data)...)
		body = append(body, cborText("PartitionKey")...)
		body = append(body, cborText(rec.pk)...)
		if i > 0 {
			js += ","
		}
		js += `{"Data":"` + base64.StdEncoding.EncodeToString(rec.data) + `","PartitionKey":"` + rec.pk + `"`
		if rec.ehk != "" {
			body = append(body, cborText("ExplicitHashKey")...)
			body = append(body, cborText(rec.ehk)...)
			js += `,"ExplicitHashKey":"` + rec.ehk + `"`
		}
		body = append(body, 0xff)
		js += "}"
	}
	body = append(body, 0xff, 0xff)
	js += "]}"

	var fromCBOR, fromJSON PutRecordsRequest
	if err := fromCBOR.Decode(CBOR, body); err != nil {
		t.Fatalf("DecodeCBOR(%x): %v", body, err)
	}
	if err := fromJSON.Decode(JSON, []byte(js)); err != nil {
		t.Fatalf("DecodeJSON(%s): %v", js, err)
	}
	if !reflect.DeepEqual(mirrorOf(&fromCBOR), mirrorOf(&fromJSON)) {
		t.Fatalf("CBOR and JSON decode differently:\nCBOR %+v\nJSON %+v", fromCBOR.Records, fromJSON.Records)
	}
	if !fromCBOR.Records[1].HasData || fromCBOR.Records[1].Data == nil || fromCBOR.Records[0].ExplicitHashKey != nil {
		t.Fatalf("presence lost: %+v", fromCBOR.Records)
	}

	// The same request through fxamacker's encoder, with definite lengths.
	enc, err := CBOR.Marshal(map[string]any{
		"StreamName": "orders",
		"Records": []map[string]any{
			{"Data": []byte("hello"), "PartitionKey": "pk-1"},
			{"Data": []byte{}, "PartitionKey": "pk-2"},
			{"Data": bytes.Repeat([]byte{0, 0xff}, 300), "PartitionKey": "é€😀", "ExplicitHashKey": "12345"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var again PutRecordsRequest
	if err := again.DecodeCBOR(enc); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(mirrorOf(&again), mirrorOf(&fromJSON)) {
		t.Fatalf("fxamacker-encoded request decodes differently: %+v", again.Records)
	}
}

func TestPutRecordsDecodeCBORErrors(t *testing.T) {
	f := func(body []byte, wantInMessage string) {
		t.Helper()
		var r PutRecordsRequest
		err := r.DecodeCBOR(body)
		if !IsType(err, Serialization) || !strings.Contains(err.Error(), wantInMessage) {
			t.Fatalf("DecodeCBOR(%x) = %v; want a SerializationException mentioning %q", body, err, wantInMessage)
		}
	}
	rec := func(key string, val []byte) []byte {
		b := []byte{0xa1}
		b = append(b, cborText("Records")...)
		b = append(b, 0x81, 0xa1)
		b = append(b, cborText(key)...)
		return append(b, val...)
	}
	f([]byte{0x80}, "expected a CBOR map")
	f(rec("Data", cborText("aGk=")), "cannot decode CBOR UTF-8 text string into a blob")
	f(rec("PartitionKey", cborBytes([]byte("p"))), "cannot decode CBOR byte string into a string (in member Records)")
	f(rec("Data", nil), "malformed CBOR")
	f(append([]byte{0xa1}, append(cborText("Records"), 0x01)...), "into a list (in member Records)")
}
