package sim

import "testing"

// FuzzParseProgress: the progress tag comes from the server, so parsing any
// string never panics, and what parses prints back to a value that parses
// to the same progress.
func FuzzParseProgress(f *testing.F) {
	f.Add(Progress{Tenants: 300, Start: 1, Live: 2, Rate: 100, Acked: -1, At: 3}.String())
	f.Add("v1 tenants=1 start=0 live=0 rate=0.5 acked=7 at=9 extra=1")
	f.Add("v1 tenants=-1 start=0 live=0 rate=NaN acked=7 at=9")
	f.Add("v2")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseProgress(s)
		if err != nil {
			return
		}
		q, err := ParseProgress(p.String())
		if err != nil || q != p {
			t.Fatalf("%q parsed to %+v, printed %q, parsed again to %+v, %v", s, p, p.String(), q, err)
		}
	})
}

// FuzzParseOrdinal: any record read back from a stream is handled.
func FuzzParseOrdinal(f *testing.F) {
	f.Add([]byte(`{"id":"7-12","source":"`+Source+`"}`), "7-")
	f.Add([]byte(`{"id":"7--1","source":"`+Source+`"}`), "7-")
	f.Add([]byte(`not json`), "7-")
	f.Fuzz(func(t *testing.T, data []byte, prefix string) {
		if o, ok := ParseOrdinal(data, prefix); ok && o < 0 {
			t.Fatalf("negative ordinal %d from %q", o, data)
		}
	})
}
