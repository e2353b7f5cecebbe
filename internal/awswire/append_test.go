package awswire

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendString(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		got := string(AppendString([]byte("x"), in))
		if got != "x"+want {
			t.Fatalf("AppendString(%q) = %s; want %s", in, got[1:], want)
		}
		if got := string(AppendBytesString(nil, []byte(in))); got != want {
			t.Fatalf("AppendBytesString(%q) = %s; want %s", in, got, want)
		}
		// encoding/json reads back the input, with invalid UTF-8 replaced.
		var back string
		if err := json.Unmarshal([]byte(want), &back); err != nil {
			t.Fatalf("%s is not a JSON string: %v", want, err)
		}
		if back != strings.ToValidUTF8(in, "\ufffd") && utf8.ValidString(in) {
			t.Fatalf("%s reads back as %q; want %q", want, back, in)
		}
	}
	f("", `""`)
	f("plain", `"plain"`)
	f(`q"b\s/`, `"q\"b\\s/"`)
	f("\x00\x01\n\r\t\x1f\x7f", `"\u0000\u0001\u000a\u000d\u0009\u001f`+"\x7f"+`"`)
	f("é€😀", `"é€😀"`)
	f("a\xffb\xc3", `"a\ufffdb\ufffd"`)
	f("<&>\u2028", "\"<&>\u2028\"")

	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { buf = AppendString(buf[:0], "shardId-000000000001 \"x\"") }); n != 0 {
		t.Fatalf("AppendString allocates %v times", n)
	}
}

func TestAppendBase64(t *testing.T) {
	f := func(in string) {
		t.Helper()
		got := string(AppendBase64(nil, []byte(in)))
		want := `"` + base64.StdEncoding.EncodeToString([]byte(in)) + `"`
		if got != want {
			t.Fatalf("AppendBase64(%q) = %s; want %s", in, got, want)
		}
		var back []byte
		if err := json.Unmarshal([]byte(got), &back); err != nil || string(back) != in {
			t.Fatalf("%s reads back as %q, %v", got, back, err)
		}
	}
	f("")
	f("h")
	f("hi")
	f("hi!")
	f("\x00\xff binary")
	if got := string(AppendBase64(nil, []byte("hi"))); got != `"aGk="` {
		t.Fatalf("got %s", got)
	}
}
