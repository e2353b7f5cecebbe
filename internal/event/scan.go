package event

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// maxDepth is the deepest nesting of arrays and objects accepted, the same
// as encoding/json's, so both agree on what is valid.
const maxDepth = 10000

// parser is the state of one Decode call: the input and the position.
type parser struct {
	b    []byte
	i    int
	d    *Decoder
	ferr *FieldError // the first field error; parsing goes on to check syntax
	// lone is set by strValue when the string held an unpaired surrogate
	// escape, which unescaping turned into U+FFFD.
	lone bool
}

// char classes
const (
	cSpace   = 1 << iota // JSON whitespace
	cStrSafe             // a byte that stands for itself inside a string
	cHex                 // a hex digit
)

var class = func() (t [256]uint8) {
	for _, c := range " \t\n\r" {
		t[c] |= cSpace
	}
	for c := 0x20; c < 0x80; c++ {
		if c != '"' && c != '\\' {
			t[c] |= cStrSafe
		}
	}
	for _, c := range "0123456789abcdefABCDEF" {
		t[c] |= cHex
	}
	return t
}()

func (p *parser) syntax(msg string) *SyntaxError {
	return &SyntaxError{Offset: p.i, Msg: msg}
}

// found describes what is at p.i, for syntax messages.
func (p *parser) found() string {
	if p.i >= len(p.b) {
		return "end of input"
	}
	c := p.b[p.i]
	if c >= 0x20 && c < 0x7f {
		return "'" + string(rune(c)) + "'"
	}
	const hex = "0123456789abcdef"
	return "byte 0x" + string([]byte{hex[c>>4], hex[c&15]})
}

// fail records a field error unless one was recorded already.
func (p *parser) fail(field, reason string) {
	if p.ferr == nil {
		p.ferr = &FieldError{Field: field, Reason: reason}
	}
}

// ws skips JSON whitespace.
func (p *parser) ws() {
	if p.i < len(p.b) && p.b[p.i] > ' ' {
		return
	}
	p.wsSlow()
}

func (p *parser) wsSlow() {
	i := p.i
	for i < len(p.b) && class[p.b[i]]&cSpace != 0 {
		i++
	}
	p.i = i
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// str scans a string whose opening quote is at p.i and leaves p.i past the
// closing quote. It returns the bounds of the raw contents and whether they
// hold escapes. Escapes and UTF-8 are checked strictly.
func (p *parser) str() (start, end int, escaped bool, err error) {
	b := p.b
	i := p.i + 1
	start = i
	for {
		if i+8 <= len(b) {
			// Eight bytes at a time: the lowest flagged byte is exactly the
			// first '"', '\\', control character or non-ASCII byte.
			x := binary.LittleEndian.Uint64(b[i:])
			q := x ^ ('"' * ones)
			s := x ^ ('\\' * ones)
			m := (((q - ones) & ^q) | ((s - ones) & ^s) | (x - 0x20*ones) | x) & highs
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		} else {
			for i < len(b) && class[b[i]]&cStrSafe != 0 {
				i++
			}
			if i >= len(b) {
				p.i = i
				return 0, 0, false, p.syntax("unexpected end of input in a string, expected '\"'")
			}
		}
		switch c := b[i]; {
		case c == '"':
			p.i = i + 1
			return start, i, escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				p.i = i + 1
				return 0, 0, false, p.syntax("unexpected end of input in a string escape")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for k := i + 2; k < i+6; k++ {
					if k >= len(b) || class[b[k]]&cHex == 0 {
						p.i = k
						return 0, 0, false, p.syntax("expected 4 hex digits after \\u in a string, found " + p.found())
					}
				}
				i += 6
			default:
				p.i = i + 1
				return 0, 0, false, p.syntax("invalid escape in a string: \\" + p.found() + "; use \\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\uXXXX")
			}
		case c < 0x20:
			p.i = i
			return 0, 0, false, p.syntax("control character " + p.found() + " in a string; escape it")
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size <= 1 {
				p.i = i
				return 0, 0, false, p.syntax("invalid UTF-8 in a string")
			}
			i += size
		}
	}
}

// strValue scans a string at p.i and returns its unescaped contents,
// aliasing the input or the decoder's scratch.
func (p *parser) strValue() ([]byte, error) {
	start, end, escaped, err := p.str()
	if err != nil {
		return nil, err
	}
	p.lone = false
	if !escaped {
		return p.b[start:end:end], nil
	}
	d := p.d
	n := len(d.scratch)
	d.scratch, p.lone = appendUnescaped(d.scratch, p.b[start:end])
	return d.scratch[n:len(d.scratch):len(d.scratch)], nil
}

// number scans a number at p.i and returns its text; isInt is false when
// it has a fraction or an exponent.
func (p *parser) number() (lit []byte, isInt bool, err error) {
	b := p.b
	i := p.i
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i++
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		p.i = i
		return nil, false, p.syntax("expected a digit in a number, found " + p.found())
	}
	isInt = true
	if i < len(b) && b[i] == '.' {
		isInt = false
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			p.i = i
			return nil, false, p.syntax("expected a digit after '.' in a number, found " + p.found())
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		isInt = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			p.i = i
			return nil, false, p.syntax("expected a digit in a number's exponent, found " + p.found())
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	p.i = i
	return b[start:i], isInt, nil
}

// literal scans true, false or null at p.i.
func (p *parser) literal() error {
	b := p.b[p.i:]
	var lit string
	switch b[0] {
	case 't':
		lit = "true"
	case 'f':
		lit = "false"
	default:
		lit = "null"
	}
	for k := 1; k < len(lit); k++ {
		if k >= len(b) || b[k] != lit[k] {
			p.i += k
			return p.syntax("invalid literal, expected " + lit + ", found " + p.found())
		}
	}
	p.i += len(lit)
	return nil
}

// key scans a member name at p.i and the ':' after it, leaving p.i at the
// value. The name is unescaped (into the scratch when needed).
func (p *parser) key() ([]byte, error) {
	// Fast path: a short plain name, then ':' and the value, no spaces.
	b, i := p.b, p.i
	if i < len(b) && b[i] == '"' {
		j := i + 1
		for j < len(b) && class[b[j]]&cStrSafe != 0 {
			j++
		}
		if j+2 < len(b) && b[j] == '"' && b[j+1] == ':' && b[j+2] > ' ' {
			p.i = j + 2
			return b[i+1 : j : j], nil
		}
	}
	return p.keySlow()
}

func (p *parser) keySlow() ([]byte, error) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return nil, p.syntax("expected a string member name, found " + p.found())
	}
	k, err := p.strValue()
	if err != nil {
		return nil, err
	}
	if p.i >= len(p.b) || p.b[p.i] != ':' {
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, p.syntax("expected ':' after object key, found " + p.found())
		}
	}
	p.i++
	p.ws()
	if p.i >= len(p.b) {
		return nil, p.syntax("unexpected end of input, expected a value")
	}
	return k, nil
}

// sep consumes the ',' or closing byte after a member or element, and the
// whitespace after a ','. It reports whether the container ended.
func (p *parser) sep(closing byte) (done bool, err error) {
	if p.i < len(p.b) && p.b[p.i] == ',' {
		p.i++
		p.ws()
		return false, nil
	}
	p.ws()
	if p.i < len(p.b) {
		switch p.b[p.i] {
		case ',':
			p.i++
			p.ws()
			return false, nil
		case closing:
			p.i++
			return true, nil
		}
	}
	if closing == '}' {
		return false, p.syntax("expected ',' or '}' after object member, found " + p.found())
	}
	return false, p.syntax("expected ',' or ']' after array element, found " + p.found())
}

// skip scans one value of any kind at p.i, checking its syntax, without
// recursion. depth is the number of containers around the value.
func (p *parser) skip(depth int) error {
	stack := p.d.stack[:0]
	defer func() { p.d.stack = stack[:0] }()
	b := p.b
	for {
		// A value at p.i.
		if p.i >= len(b) {
			return p.syntax("unexpected end of input, expected a value")
		}
		switch c := b[p.i]; c {
		case '{', '[':
			if depth+len(stack)+1 > maxDepth {
				return p.syntax("arrays and objects nested deeper than 10000 levels")
			}
			p.i++
			p.ws()
			closing := byte('}')
			if c == '[' {
				closing = ']'
			}
			if p.i < len(b) && b[p.i] == closing {
				p.i++
				break
			}
			stack = append(stack, closing)
			if c == '{' {
				if _, err := p.key(); err != nil {
					return err
				}
			}
			continue
		case '"':
			if _, _, _, err := p.str(); err != nil {
				return err
			}
		case 't', 'f', 'n':
			if err := p.literal(); err != nil {
				return err
			}
		default:
			if c != '-' && (c < '0' || c > '9') {
				return p.syntax("expected a value, found " + p.found())
			}
			if _, _, err := p.number(); err != nil {
				return err
			}
		}
		// After a complete value: close containers until one goes on.
		for {
			if len(stack) == 0 {
				return nil
			}
			closing := stack[len(stack)-1]
			done, err := p.sep(closing)
			if err != nil {
				return err
			}
			if !done {
				if closing == '}' {
					if _, err := p.key(); err != nil {
						return err
					}
				}
				break
			}
			stack = stack[:len(stack)-1]
		}
	}
}

// appendUnescaped appends the unescaped contents of a checked JSON string.
// An unpaired surrogate becomes U+FFFD, as in encoding/json; lone reports
// that one did.
func appendUnescaped(dst, s []byte) (out []byte, lone bool) {
	for len(s) > 0 {
		k := 0
		for k < len(s) && s[k] != '\\' {
			k++
		}
		dst = append(dst, s[:k]...)
		s = s[k:]
		if len(s) == 0 {
			break
		}
		switch s[1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := rune(hex4(s[2:6]))
			s = s[6:]
			if r >= 0xd800 && r < 0xdc00 && len(s) >= 6 && s[0] == '\\' && s[1] == 'u' {
				if r2 := rune(hex4(s[2:6])); r2 >= 0xdc00 && r2 < 0xe000 {
					r = (r-0xd800)<<10 | (r2 - 0xdc00) + 0x10000
					s = s[6:]
				}
			}
			if r >= 0xd800 && r < 0xe000 {
				r, lone = utf8.RuneError, true
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, s[1])
		}
		s = s[2:]
	}
	return dst, lone
}

func hex4(b []byte) int {
	v := 0
	for _, c := range b[:4] {
		switch {
		case c <= '9':
			c -= '0'
		case c <= 'F':
			c -= 'A' - 10
		default:
			c -= 'a' - 10
		}
		v = v<<4 | int(c)
	}
	return v
}
