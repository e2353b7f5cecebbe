package scoring

import (
	"bytes"
	"math"
	"strconv"
	"unsafe"

	"github.com/tenantpulse/tenantpulse/internal/model"
)

// rowError says what is wrong with a CSV body: the row (its line, from 1),
// and either the number of columns it has or the column (from 1) whose
// value is not a number.
type rowError struct {
	Row    int
	Cols   int    // the row's columns, when their number is wrong
	Column int    // the column holding Value, when a value is wrong
	Value  string // the value that is not a finite number, or is out of Bound
	// Bound is the column's bound when Value is a number outside it.
	Bound *model.Bound
}

// parseRows parses body, CSV rows of width numbers each (SageMaker's
// text/csv without a label), appending the values to dst row after row.
// Rows end with \n or \r\n; blank lines are skipped (they still count in
// row numbers); spaces and tabs around a value and double quotes around it
// are ignored. A value must be a finite number as strconv.ParseFloat reads
// it, and inside its column's bound when bounds is not nil (the model's
// Spec.Bounds, len(bounds) == width). It returns the number of rows; on
// error dst holds a partial result the caller must not use.
func parseRows(dst []float64, body []byte, width int, bounds []model.Bound) ([]float64, int, *rowError) {
	rows := 0
	line := 0
	for len(body) > 0 {
		var ln []byte
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			ln, body = body[:i], body[i+1:]
		} else {
			ln, body = body, nil
		}
		line++
		if len(ln) > 0 && ln[len(ln)-1] == '\r' {
			ln = ln[:len(ln)-1]
		}
		if len(trim(ln)) == 0 {
			continue
		}
		if n := bytes.Count(ln, comma) + 1; n != width {
			return dst, rows, &rowError{Row: line, Cols: n}
		}
		for col := 1; ; col++ {
			f := ln
			i := bytes.IndexByte(ln, ',')
			if i >= 0 {
				f, ln = ln[:i], ln[i+1:]
			}
			v, ok := parseNumber(f)
			if !ok {
				return dst, rows, &rowError{Row: line, Column: col, Value: string(trim(f))}
			}
			if bounds != nil && !bounds[col-1].Contains(v) {
				return dst, rows, &rowError{Row: line, Column: col, Value: string(trim(f)), Bound: &bounds[col-1]}
			}
			dst = append(dst, v)
			if i < 0 {
				break
			}
		}
		rows++
	}
	return dst, rows, nil
}

var comma = []byte{','}

// parseNumber reads one CSV value as a finite float64.
func parseNumber(f []byte) (float64, bool) {
	f = trim(f)
	if len(f) >= 2 && f[0] == '"' && f[len(f)-1] == '"' {
		f = trim(f[1 : len(f)-1])
	}
	if len(f) == 0 {
		return 0, false
	}
	// ParseFloat keeps no reference to its argument (its error clones it).
	v, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(f), len(f)), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

func trim(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// appendRow appends x as one CSV row ending in \n, each number written so
// that ParseFloat reads back exactly the same float64.
func appendRow(dst []byte, x []float64) []byte {
	for i, v := range x {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendFloat(dst, v, 'g', -1, 64)
	}
	return append(dst, '\n')
}
