package scoring

import (
	"encoding/json"
	"maps"
	"math"
	"testing"

	"github.com/tenantpulse/tenantpulse/internal/model"
)

// FuzzInvocationsCSV: the body parser never panics, and what it accepts
// re-encodes (appendRow) to a body that parses to the same values, bit for
// bit.
func FuzzInvocationsCSV(f *testing.F) {
	for _, seed := range []string{
		"1,2,3\n", "1,2,3\r\n4,5,6", "\n\n1, 2 ,\"3\"\n", "1,2\n", "1,2,3,4", "a,b,c", "1e308,-1e-308,0x1p-2",
		"NaN,Inf,-Inf", "1e6,-1e6\n1000001,0", "0,1.7e308", `"1","2","3"`, "1,,3", ",,", "\r\n", "1,2,3\n\n\n", "\t1\t,2,3", "1_000,2,3", "+1,-2,.3",
	} {
		f.Add([]byte(seed), 3)
	}
	f.Add([]byte("1e6,-1e6\n1000001,0"), 2) // the second row is outside the bounds
	f.Add([]byte("0,1.7e308"), 2)
	f.Add([]byte("999999.9,-999999.9\n"), 2)
	f.Fuzz(func(t *testing.T, body []byte, width int) {
		if width < 1 || width > 64 {
			return
		}
		// Odd widths parse without bounds, even ones within ±1e6 per column.
		var bounds []model.Bound
		if width%2 == 0 {
			for range width {
				bounds = append(bounds, model.Bound{Min: -1e6, Max: 1e6})
			}
		}
		x, rows, err := parseRows(nil, body, width, bounds)
		if err != nil {
			if err.Row < 1 || (err.Cols == 0) == (err.Column == 0) {
				t.Fatalf("error %+v names neither a column count nor a column", err)
			}
			if err.Bound != nil && (bounds == nil || err.Column > width) {
				t.Fatalf("error %+v names a bound, but there are none", err)
			}
			return
		}
		for _, v := range x {
			if bounds != nil && !bounds[0].Contains(v) {
				t.Fatalf("accepted %v outside %s", v, bounds[0])
			}
		}
		if len(x) != rows*width {
			t.Fatalf("%d values for %d rows of %d", len(x), rows, width)
		}
		var again []byte
		for i := 0; i < rows; i++ {
			row := x[i*width : (i+1)*width]
			for _, v := range row {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("accepted %v", v)
				}
			}
			again = appendRow(again, row)
		}
		y, rows2, err := parseRows(nil, again, width, bounds)
		if err != nil || rows2 != rows {
			t.Fatalf("re-encoded body %q: %d rows, %+v", again, rows2, err)
		}
		for i := range x {
			if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
				t.Fatalf("value %d: %v re-reads as %v", i, x[i], y[i])
			}
		}
	})
}

// FuzzAssessPayload: the payload decoder never panics, and what it
// accepts, written back as a payload, decodes to the same facts.
func FuzzAssessPayload(f *testing.F) {
	for _, seed := range []string{
		referencePayload,
		`{"companyID":"c1","revenue":"9270","job30":" 3 ","industry":null}`,
		`{"revenu":1,"revenue":2}`, `{"x":1}`, `[]`, `null`, `{"job90":true}`, `{"totalFee":"1e999"}`,
		`{"employees":-0}`, `{"companyID":"\u00e9\ud800"}`, `{}`, `{"job30":1}{}`, `{"monthlyFee":"0x10"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodePayload(b)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		out := map[string]any{payloadID: p.CompanyID}
		for _, fld := range payloadFields {
			if fld.name == "revenue" {
				continue
			}
			if fld.src.Cat {
				if v, ok := p.Facts.Cat[fld.src.Name]; ok {
					out[fld.name] = v
				}
			} else if v, ok := p.Facts.Num[fld.src.Name]; ok {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("%s accepted as %v", fld.name, v)
				}
				out[fld.name] = v
			}
		}
		again, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		q, err := decodePayload(again)
		if err != nil {
			t.Fatalf("%s decoded, but its re-encoding %s does not: %v", b, again, err)
		}
		if q.CompanyID != p.CompanyID || !maps.Equal(q.Facts.Cat, p.Facts.Cat) || !maps.Equal(q.Facts.Num, p.Facts.Num) {
			t.Fatalf("%s -> %+v; re-encoded %s -> %+v", b, p, again, q)
		}
	})
}
