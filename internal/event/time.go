package event

import (
	"fmt"
	"time"
)

// DefaultMaxFuture is how far ahead of a clock an event's time may be by
// default (--max-future): the event API compares it with the server's
// clock, the analytics processor with the record's arrival time. An event
// dated further ahead would move its shard's watermark past every real
// event's time, so it is refused (the event API) or dead-lettered (the
// processor).
const DefaultMaxFuture = time.Hour

// Ahead reports whether the event time t (Unix ns) is more than maxFuture
// ahead of ref (Unix ns), and if so by how much, as text that says it
// plainly: "2h0m0.5s" (to the millisecond), or "7 days 2h0m1s" (to the
// second) from a day on; exact when rounding would hide the excess.
func Ahead(t, ref int64, maxFuture time.Duration) (by string, ahead bool) {
	if t <= ref {
		return "", false
	}
	d := time.Duration(t - ref)
	if d < 0 { // t - ref overflowed int64: ref is centuries before t
		return "more than 292 years", true
	}
	if d <= maxFuture {
		return "", false
	}
	const day = 24 * time.Hour
	shown := d.Round(time.Millisecond)
	if d >= day {
		shown = d.Round(time.Second)
	}
	if shown <= maxFuture {
		shown = d
	}
	switch days := shown / day; days {
	case 0:
		return shown.String(), true
	case 1:
		return fmt.Sprintf("1 day %s", shown%day), true
	default:
		return fmt.Sprintf("%d days %s", days, shown%day), true
	}
}

// ParseTime parses an RFC 3339 timestamp, such as 2026-11-25T10:00:00Z or
// 2026-11-25T11:00:00.123456+01:00, into Unix nanoseconds. The fraction may
// have any number of digits (beyond nine they are truncated, as time.Parse
// does); the offset is Z or ±hh:mm. 'T' and 'Z' must be upper case. It
// rejects out-of-range fields (month 13, February 30, hour 24, second 60,
// offset hour 24) and instants that do not fit int64 nanoseconds (before
// 1677-09-21 or after 2262-04-11). It does not allocate.
func ParseTime(b []byte) (int64, bool) {
	// YYYY-MM-DDTHH:MM:SS is 19 bytes, the shortest offset "Z" one more.
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	year, ok1 := digits4(b[0:4])
	month, ok2 := digits2(b[5:7])
	day, ok3 := digits2(b[8:10])
	hour, ok4 := digits2(b[11:13])
	minute, ok5 := digits2(b[14:16])
	sec, ok6 := digits2(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return 0, false
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	i := 19
	var frac int64
	if b[i] == '.' {
		i++
		start := i
		scale := int64(100_000_000)
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			frac += int64(b[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == start {
			return 0, false
		}
	}
	if i >= len(b) {
		return 0, false
	}
	var off int64
	switch b[i] {
	case 'Z':
		i++
	case '+', '-':
		if len(b)-i != 6 || b[i+3] != ':' {
			return 0, false
		}
		oh, ok1 := digits2(b[i+1 : i+3])
		om, ok2 := digits2(b[i+4 : i+6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return 0, false
		}
		off = int64(oh*3600 + om*60)
		if b[i] == '-' {
			off = -off
		}
		i += 6
	default:
		return 0, false
	}
	if i != len(b) {
		return 0, false
	}
	s := daysFromCivil(year, month, day)*86400 + int64(hour*3600+minute*60+sec) - off
	// -9223372036854775808 ns is -9223372037 s + 145224192 ns.
	const maxSec, minSec = 9223372036, -9223372037
	if s > maxSec || s < minSec || (s == maxSec && frac > 854775807) || (s == minSec && frac < 145224192) {
		return 0, false
	}
	return s*1e9 + frac, true
}

func digits2(b []byte) (int, bool) {
	d0, d1 := b[0]-'0', b[1]-'0'
	return int(d0)*10 + int(d1), d0 <= 9 && d1 <= 9
}

func digits4(b []byte) (int, bool) {
	h, ok1 := digits2(b[0:2])
	l, ok2 := digits2(b[2:4])
	return h*100 + l, ok1 && ok2
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(month, year int) int {
	switch month {
	case 2:
		if isLeap(year) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the number of days since 1970-01-01 of a
// proleptic Gregorian date (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	y = int(yoe + era*400)
	if m <= 2 {
		y++
	}
	return y, m, d
}

// AppendTime appends unixNano as an RFC 3339 UTC timestamp with exactly
// three fraction digits, such as 2026-11-25T10:00:00.123Z, truncating to
// the millisecond (towards the past).
func AppendTime(dst []byte, unixNano int64) []byte {
	ms := unixNano / 1e6
	if unixNano%1e6 < 0 {
		ms--
	}
	return appendTimeMilli(dst, ms)
}

// appendTimeMilli appends Unix milliseconds as AppendTime does. Years
// outside 0000..9999 are clamped so the result stays RFC 3339.
func appendTimeMilli(dst []byte, ms int64) []byte {
	const minMs, maxMs = -62167219200000, 253402300799999 // 0000-01-01, 9999-12-31T23:59:59.999
	ms = min(max(ms, minMs), maxMs)
	days, rem := ms/86_400_000, ms%86_400_000
	if rem < 0 {
		days--
		rem += 86_400_000
	}
	y, m, d := civilFromDays(days)
	r := int(rem)
	h, r := r/3_600_000, r%3_600_000
	mi, r := r/60_000, r%60_000
	s, milli := r/1000, r%1000
	return append(dst,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-',
		byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+h/10), byte('0'+h%10), ':',
		byte('0'+mi/10), byte('0'+mi%10), ':',
		byte('0'+s/10), byte('0'+s%10), '.',
		byte('0'+milli/100), byte('0'+milli/10%10), byte('0'+milli%10), 'Z')
}
