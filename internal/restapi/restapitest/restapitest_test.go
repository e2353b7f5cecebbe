package restapitest

import "testing"

func TestFiniteJSON(t *testing.T) {
	for _, ok := range []string{`{"a":1.5,"b":[1e308,-1e-300,0]}`, "{\"score\":1}\n{\"score\":0}\n", `1.7976931348623157e308`, `"NaN"`} {
		if err := FiniteJSON([]byte(ok)); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{`{"score":NaN}`, `{"a":[1e400]}`, `-Inf`, ``, `{"a":1}{`, `{"a":{"b":-1e309}}`} {
		if err := FiniteJSON([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}
