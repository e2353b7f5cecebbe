package model

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// FuzzLoad checks that no input makes Load panic, and that what it loads
// scores without panicking.
func FuzzLoad(f *testing.F) {
	spec, rows := loadCompanies(f)
	for _, typ := range []string{TypeLinear, TypeBinned} {
		m, err := Train(spec, rows[:1000], Options{Type: typ, Seed: 1, Now: fixedNow})
		if err != nil {
			f.Fatal(err)
		}
		b, err := m.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
		f.Add(bytes.Replace(b, []byte(`"column": 7`), []byte(`"column": 99`), 1))
	}
	f.Add([]byte(`{"format":"tenantpulse.model/v1"}`))
	if old, err := os.ReadFile("testdata/binned-before-roc.model.json"); err == nil {
		f.Add(old)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Load(b)
		if err != nil {
			return
		}
		x := make([]float64, len(m.Columns))
		s := m.Score(x)
		if s < 0 || s > 1 {
			t.Fatalf("score %v", s)
		}
		m.Explain(x, nil, 3)
		if _, err := m.Marshal(); err != nil {
			t.Fatalf("a loaded model does not marshal: %v", err)
		}
	})
}

// FuzzReadCSV checks that no input makes ReadCSV panic.
func FuzzReadCSV(f *testing.F) {
	f.Add("Company,Industry,Revenue,Employees,#job30,#job90,MonthlyCharge,TotalCharge,Churn\ncomp_0,travel,9270,4635,3,56,446,1476,1\n")
	f.Add("1,2,3\n0,4,5\n")
	f.Add("Churn,Industry\n1,\n0,x\n")
	f.Add("\"a\nb\",Churn\n")
	f.Fuzz(func(t *testing.T, s string) {
		spec, rows, err := ReadCSV(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, r := range rows {
			spec.Encode(nil, r.Facts)
		}
	})
}
