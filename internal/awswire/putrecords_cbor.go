package awswire

import (
	"encoding/binary"
	"unicode/utf8"
)

// decodeCBORFast parses the common shape of a CBOR PutRecords request
// without reflection or per-record allocation: a map (definite or
// indefinite length, as the Java SDK's Jackson generator writes it) with
// StreamName, StreamARN and Records, each record a map of PartitionKey,
// Data and ExplicitHashKey, strings of definite length. Data and keys alias
// body. It reports ok == false for anything else (tags, chunked strings,
// unknown or repeated members, nulls, malformed input), and the caller then
// decodes with the general decoder, which also produces the error messages.
func (r *PutRecordsRequest) decodeCBORFast(body []byte) (ok bool) {
	r.Reset()
	c := cborCursor{b: body}
	n, indef, ok := c.container(5)
	if !ok {
		return false
	}
	var seen [3]bool
	for i := 0; indef || i < n; i++ {
		if indef && c.brk() {
			break
		}
		key, ok := c.text()
		if !ok {
			return false
		}
		switch string(key) {
		case "StreamName", "StreamARN":
			f := 0
			if key[6] == 'A' {
				f = 1
			}
			v, ok := c.text()
			if !ok || seen[f] {
				return false
			}
			seen[f] = true
			if f == 0 {
				r.StreamName = string(v)
			} else {
				r.StreamARN = string(v)
			}
		case "Records":
			if seen[2] || !r.cborRecords(&c) {
				return false
			}
			seen[2] = true
		default:
			return false
		}
	}
	return c.i == len(c.b)
}

func (r *PutRecordsRequest) cborRecords(c *cborCursor) bool {
	n, indef, ok := c.container(4)
	if !ok {
		return false
	}
	for i := 0; indef || i < n; i++ {
		if indef && c.brk() {
			return true
		}
		m, mindef, ok := c.container(5)
		if !ok {
			return false
		}
		var e PutRecordsEntry
		var seen [3]bool
		for j := 0; mindef || j < m; j++ {
			if mindef && c.brk() {
				break
			}
			key, ok := c.text()
			if !ok {
				return false
			}
			var f int
			var v []byte
			switch string(key) {
			case "PartitionKey":
				f = 0
				v, ok = c.text()
			case "Data":
				f = 1
				v, ok = c.str(2)
			case "ExplicitHashKey":
				f = 2
				v, ok = c.text()
			default:
				return false
			}
			if !ok || seen[f] {
				return false
			}
			seen[f] = true
			switch f {
			case 0:
				e.PartitionKey = v
			case 1:
				if v == nil {
					v = []byte{}
				}
				e.Data, e.HasData = v, true
			case 2:
				e.ExplicitHashKey = v
			}
		}
		r.Records = append(r.Records, e)
	}
	return true
}

// cborCursor reads CBOR data items from b.
type cborCursor struct {
	b []byte
	i int
}

// head reads an item's head: major type and argument. Indefinite length
// (additional information 31) is reported as indef.
func (c *cborCursor) head() (major byte, arg uint64, indef, ok bool) {
	if c.i >= len(c.b) {
		return 0, 0, false, false
	}
	ib := c.b[c.i]
	c.i++
	major, info := ib>>5, ib&31
	switch {
	case info < 24:
		return major, uint64(info), false, true
	case info == 31:
		return major, 0, true, true
	case info > 27:
		return 0, 0, false, false
	}
	size := 1 << (info - 24)
	if len(c.b)-c.i < size {
		return 0, 0, false, false
	}
	p := c.b[c.i:]
	c.i += size
	switch size {
	case 1:
		arg = uint64(p[0])
	case 2:
		arg = uint64(binary.BigEndian.Uint16(p))
	case 4:
		arg = uint64(binary.BigEndian.Uint32(p))
	default:
		arg = binary.BigEndian.Uint64(p)
	}
	return major, arg, false, true
}

// container reads the head of an array (major 4) or map (major 5).
func (c *cborCursor) container(major byte) (n int, indef, ok bool) {
	m, arg, indef, ok := c.head()
	if !ok || m != major || (!indef && arg > uint64(len(c.b))) {
		return 0, false, false
	}
	return int(arg), indef, true
}

// brk consumes the "break" that ends an indefinite-length container.
func (c *cborCursor) brk() bool {
	if c.i < len(c.b) && c.b[c.i] == 0xff {
		c.i++
		return true
	}
	return false
}

// str reads a definite-length string of the given major type (2 bytes,
// 3 text) and returns its content, aliasing b.
func (c *cborCursor) str(major byte) ([]byte, bool) {
	m, arg, indef, ok := c.head()
	if !ok || m != major || indef || arg > uint64(len(c.b)-c.i) {
		return nil, false
	}
	v := c.b[c.i : c.i+int(arg) : c.i+int(arg)]
	c.i += int(arg)
	return v, true
}

// text reads a definite-length, valid UTF-8 text string.
func (c *cborCursor) text() ([]byte, bool) {
	v, ok := c.str(3)
	if !ok || !utf8.Valid(v) {
		return nil, false
	}
	return v, true
}
