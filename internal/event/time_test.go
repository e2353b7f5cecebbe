package event

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	f := func(s string) {
		t.Helper()
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatalf("time.Parse(%q): %v", s, err)
		}
		got, ok := ParseTime([]byte(s))
		if !ok || got != want.UnixNano() {
			t.Fatalf("ParseTime(%q) = %d, %v; want %d", s, got, ok, want.UnixNano())
		}
	}
	f("2026-11-25T10:00:00Z")
	f("2026-11-25T10:00:00.123Z")
	f("2026-11-25T10:00:00.1Z")
	f("2026-11-25T10:00:00.123456789Z")
	f("2026-11-25T10:00:00.1234567891234Z") // beyond nanoseconds: truncated
	f("2026-11-25T11:00:00+01:00")
	f("2026-11-25T04:30:00.5-05:30")
	f("2026-11-25T00:00:00+23:59")
	f("2026-11-25T00:00:00-00:00")
	f("2024-02-29T23:59:59.999Z")
	f("2000-02-29T00:00:00Z")
	f("1970-01-01T00:00:00Z")
	f("1969-12-31T23:59:59.999999999Z")
	f("1677-09-21T00:12:43.145224192Z") // the least int64
	f("2262-04-11T23:47:16.854775807Z") // the greatest
	f("1999-12-31T23:59:59Z")
	f("2100-03-01T00:00:00Z")

	bad := func(s string) {
		t.Helper()
		if ns, ok := ParseTime([]byte(s)); ok {
			t.Fatalf("ParseTime(%q) = %d, want failure", s, ns)
		}
	}
	bad("")
	bad("yesterday")
	bad("2026-11-25")
	bad("2026-11-25T10:00:00")       // no offset
	bad("2026-11-25 10:00:00Z")      // space
	bad("2026-11-25t10:00:00Z")      // lower-case t
	bad("2026-11-25T10:00:00z")      // lower-case z
	bad("2026-11-25T10:00Z")         // no seconds
	bad("2026-11-25T10:00:00.Z")     // empty fraction
	bad("2026-11-25T10:00:00,5Z")    // comma
	bad("2026-13-25T10:00:00Z")      // month
	bad("2026-00-25T10:00:00Z")      // month
	bad("2026-02-29T10:00:00Z")      // not a leap year
	bad("1900-02-29T10:00:00Z")      // not a leap year
	bad("2026-04-31T10:00:00Z")      // day
	bad("2026-11-00T10:00:00Z")      // day
	bad("2026-11-25T24:00:00Z")      // hour
	bad("2026-11-25T10:60:00Z")      // minute
	bad("2026-11-25T10:00:60Z")      // leap second
	bad("2026-11-25T10:00:00+24:00") // offset hour
	bad("2026-11-25T10:00:00+01:60") // offset minute
	bad("2026-11-25T10:00:00+0100")
	bad("2026-11-25T10:00:00+01")
	bad("2026-11-25T10:00:00Z ")
	bad("2026-11-25T10:00:00+01:00Z")
	bad("+2026-11-25T10:00:00Z")
	bad("2026-1a-25T10:00:00Z")
	bad("1677-09-21T00:12:43.145224191Z") // one before the least int64
	bad("2262-04-11T23:47:16.854775808Z") // one after the greatest
	bad("0000-01-01T00:00:00Z")
	bad("9999-12-31T23:59:59Z")
}

func TestAppendTime(t *testing.T) {
	f := func(ns int64, want string) {
		t.Helper()
		if got := string(AppendTime([]byte("x"), ns)); got != "x"+want {
			t.Fatalf("AppendTime(%d) = %q, want %q", ns, got, "x"+want)
		}
		if want2 := time.Unix(0, ns).UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z"); ns >= 0 && want2 != want {
			t.Fatalf("time.Format gives %q, want %q", want2, want)
		}
	}
	f(0, "1970-01-01T00:00:00.000Z")
	f(time.Date(2026, 11, 25, 10, 0, 0, 123456789, time.UTC).UnixNano(), "2026-11-25T10:00:00.123Z")
	f(time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC).UnixNano(), "2024-02-29T23:59:59.999Z")
	f(-1, "1969-12-31T23:59:59.999Z")
	f(-1e6, "1969-12-31T23:59:59.999Z")
	f(-1e6-1, "1969-12-31T23:59:59.998Z")
	f(-9223372036854775808, "1677-09-21T00:12:43.145Z")
	f(9223372036854775807, "2262-04-11T23:47:16.854Z")
	// round trip over a spread of instants
	for ns := int64(-9e18); ns < 9e18; ns += 7_777_777_777_777_777 {
		s := AppendTime(nil, ns)
		got, ok := ParseTime(s)
		if !ok || got != ns-((ns%1e6)+1e6)%1e6 {
			t.Fatalf("ParseTime(AppendTime(%d) = %s) = %d, %v", ns, s, got, ok)
		}
	}
	if got := string(appendTimeMilli(nil, 1<<62)); got != "9999-12-31T23:59:59.999Z" {
		t.Fatalf("clamped: %s", got)
	}
}

func TestAhead(t *testing.T) {
	ref := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).UnixNano()
	f := func(t0 int64, max time.Duration, want string, wantAhead bool) {
		t.Helper()
		by, ahead := Ahead(t0, ref, max)
		if by != want || ahead != wantAhead {
			t.Errorf("Ahead(ref%+d ns, %s) = %q, %v; want %q, %v", t0-ref, max, by, ahead, want, wantAhead)
		}
	}
	f(ref, time.Hour, "", false)
	f(ref-int64(1000*time.Hour), time.Hour, "", false)
	f(ref+int64(time.Hour), time.Hour, "", false)                  // exactly the bound
	f(ref+int64(time.Hour)+1, time.Hour, "1h0m0.000000001s", true) // rounding would hide the excess
	f(ref+int64(time.Hour+time.Second/2), time.Hour, "1h0m0.5s", true)
	f(ref+int64(time.Hour+time.Millisecond), time.Hour, "1h0m0.001s", true)
	f(ref+int64(25*time.Hour), time.Hour, "1 day 1h0m0s", true)
	f(ref+int64(7*24*time.Hour), time.Hour, "7 days 0s", true)
	f(ref+int64(48*time.Hour)+1, 48*time.Hour, "2 days 1ns", true)
	f(9223372036854775807, time.Hour, "85969 days 11h47m17s", true)
	// ref so far before t that t - ref overflows int64.
	if by, ahead := Ahead(9223372036854775807, -9223372036854775808, time.Hour); !ahead || by != "more than 292 years" {
		t.Errorf("overflow: %q, %v", by, ahead)
	}
}
