package event

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func TestAppendStored(t *testing.T) {
	const received = 1795600800123 // 2026-11-25T10:00:00.123Z
	const rt = `"2020-01-01T00:00:00Z"`
	base := example(UserLogin)
	f := func(name, in string) {
		t.Helper()
		var d Decoder
		var e Event
		if _, err := d.Decode([]byte(in), &e); err != nil {
			t.Fatalf("%s: Decode(%s): %v", name, in, err)
		}
		out := AppendStored([]byte("prefix"), &e, received)
		if !bytes.HasPrefix(out, []byte("prefix")) {
			t.Fatalf("%s: prefix lost", name)
		}
		out = out[len("prefix"):]
		if !json.Valid(out) {
			t.Fatalf("%s: not valid JSON: %s", name, out)
		}
		if c := bytes.Count(out, []byte(`"receivedtime"`)); c != 1 {
			t.Fatalf("%s: receivedtime %d times in %s", name, c, out)
		}
		if !bytes.HasPrefix(out, []byte(`{"receivedtime":"2026-11-25T10:00:00.123Z"`)) {
			t.Fatalf("%s: %s", name, out)
		}
		var got, want map[string]any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatal(err)
		}
		want["receivedtime"] = "2026-11-25T10:00:00.123Z"
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: stored %v, want %v", name, got, want)
		}
		// it decodes again, with the new receivedtime
		var e2 Event
		if _, err := d.Decode(out, &e2); err != nil || e2.ReceivedTime != received*1e6 {
			t.Fatalf("%s: re-decode: %v, %d", name, err, e2.ReceivedTime)
		}
	}
	f("no receivedtime", object(base))
	f("first", object(append([]member{{"receivedtime", rt}}, base...)))
	f("middle", object(append(append(append([]member(nil), base[:3]...), member{"receivedtime", rt}), base[3:]...)))
	f("last", object(append(append([]member(nil), base...), member{"receivedtime", rt})))
	f("null", object(append(append([]member(nil), base[:2]...), append([]member{{"receivedtime", "null"}}, base[2:]...)...)))
	f("escaped name", object(append(append([]member(nil), base...), member{`receivedtim\u0065`, rt})))
	f("whitespace", "{ \"receivedtime\" : "+rt+" ,\n"+object(base)[1:len(object(base))-1]+" \n}")
	f("whitespace last", "{\n"+object(base)[1:len(object(base))-1]+" ,\t\"receivedtime\":"+rt+"\n}")
}

func TestAppendStoredOnlyReceivedTime(t *testing.T) {
	// Not a valid event, but AppendStored must keep the object valid when
	// receivedtime is its only member.
	for _, in := range []string{`{"receivedtime":"2020-01-01T00:00:00Z"}`, `{ "receivedtime" : null }`, `{}`, `{ }`} {
		var e Event
		e.Raw = []byte(in)
		p := parser{b: e.Raw, d: new(Decoder)}
		_ = p.event(&e)
		out := AppendStored(nil, &e, 0)
		var c bytes.Buffer
		if err := json.Compact(&c, out); err != nil || c.String() != `{"receivedtime":"1970-01-01T00:00:00.000Z"}` {
			t.Fatalf("AppendStored(%s) = %s", in, out)
		}
	}
}
