package parquetfile

import (
	"reflect"
	"testing"
)

// FuzzReadEvents checks that no input makes ReadEvents panic, and that
// whatever it reads writes back to a file that reads the same.
func FuzzReadEvents(f *testing.F) {
	rows := testEventRows(f)
	w := NewEventWriter()
	if err := w.Write(rows...); err != nil {
		f.Fatal(err)
	}
	b, err := w.Finish()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)-1])
	f.Add(b[len(b)/2:])
	eb, err := WriteErrors(testErrorRows())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(eb)
	f.Add([]byte("PAR1"))
	f.Add([]byte("PAR1\x00\x00\x00\x00PAR1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ReadEvents(b)
		if err != nil {
			return
		}
		w := NewEventWriter()
		if err := w.Write(got...); err != nil {
			t.Fatalf("rows read from a file do not write: %v", err)
		}
		b2, err := w.Finish()
		if err != nil {
			t.Fatal(err)
		}
		again, err := ReadEvents(b2)
		if err != nil {
			t.Fatalf("a written file does not read: %v", err)
		}
		if len(again) != len(got) || len(got) > 0 && !reflect.DeepEqual(again, got) {
			t.Fatalf("rows changed through a write and a read")
		}
	})
}
