package event

// AppendStored appends the event as it is stored in a stream: Raw with the
// extension "receivedtime" set to received (RFC 3339 UTC with
// milliseconds, e.g. "2026-11-25T10:00:00.123Z"), inserted right after the
// opening '{' (with a comma if the object is not empty), and any
// receivedtime member the client sent removed (with its comma). The result
// is valid JSON when e came from a successful Decode.
func AppendStored(dst []byte, e *Event, receivedUnixMilli int64) []byte {
	raw := e.Raw
	if len(raw) < 2 || raw[0] != '{' {
		panic("BUG: AppendStored of an event that is not a decoded object")
	}
	rest, tail := raw[1:], []byte(nil)
	if e.rmEnd > 0 {
		rest, tail = raw[1:e.rmStart], raw[e.rmEnd:]
	}
	dst = append(dst, `{"receivedtime":"`...)
	dst = appendTimeMilli(dst, receivedUnixMilli)
	dst = append(dst, '"')
	if !emptyObjectRest(rest, tail) {
		dst = append(dst, ',')
	}
	dst = append(dst, rest...)
	return append(dst, tail...)
}

// emptyObjectRest reports whether what follows an object's '{' (in two
// pieces) is only whitespace and the closing '}'.
func emptyObjectRest(a, b []byte) bool {
	for _, s := range [2][]byte{a, b} {
		for _, c := range s {
			if c == '}' {
				return true
			}
			if class[c]&cSpace == 0 {
				return false
			}
		}
	}
	return true
}
