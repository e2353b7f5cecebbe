package trainset

import (
	"strings"
	"testing"
)

func TestReadLabels(t *testing.T) {
	for _, c := range []struct {
		in   string
		want map[string]bool
		err  string
	}{
		{in: "tenantid,churned\na,true\nb,0\nc,YES\n", want: map[string]bool{"a": true, "b": false, "c": true}},
		{in: "\ufeffname,Churn,CompanyID\nA Co,1,a\nB Co,no,b\n", want: map[string]bool{"a": true, "b": false}},
		{in: "id,label\r\na,1\r\na,1\r\n", want: map[string]bool{"a": true}},
		{in: ` {"asOf":"x","tenants":[{"id":"a","churned":true},{"id":"b","churned":false,"users":3}]}`, want: map[string]bool{"a": true, "b": false}},
		{in: "", err: "the labels file is empty"},
		{in: "tenant\na\n", err: "names no tenant id column (tenantid, tenant_id, tenant, id, companyid) or no label column"},
		{in: "tenant,churned\n", err: "a header but no tenants"},
		{in: "tenant,churned\na,maybe\n", err: `line 2: the label "maybe" is not one of`},
		{in: "tenant,churned\na,1\na,0\n", err: `line 3 labels tenant "a" false, an earlier line true`},
		{in: "tenant,churned\n,1\n", err: "line 2 has an empty tenant id"},
		{in: "tenant,churned\na\n", err: "line 2 has 1 fields, want at least 2"},
		{in: "tenant,churned\n\"a,1\n", err: "the labels file: "},
		{in: `{"tenants":[{"id":"a"}]}`, err: `tenants[0] has no "churned"`},
		{in: `{"users":[]}`, err: `without a "tenants" array`},
		{in: `{"tenants":[]}`, err: `"tenants" array is empty`},
		{in: `{"tenants":`, err: "the labels file is JSON but not the simulator's truth"},
	} {
		got, err := ReadLabels(strings.NewReader(c.in))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: err %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if len(got) != len(c.want) {
			t.Errorf("%q: %v, want %v", c.in, got, c.want)
		}
		for id, v := range c.want {
			if g, ok := got[id]; !ok || g != v {
				t.Errorf("%q: %v, want %v", c.in, got, c.want)
			}
		}
	}
}

// FuzzReadLabels: any input is labels or an error, never a panic, and
// labels never hold an empty id.
func FuzzReadLabels(f *testing.F) {
	f.Add("tenantid,churned\na,true\nb,0\n")
	f.Add(`{"tenants":[{"id":"a","churned":true}]}`)
	f.Add("id,label\n\"a\"\"b\",1\n")
	f.Fuzz(func(t *testing.T, in string) {
		l, err := ReadLabels(strings.NewReader(in))
		if err != nil {
			if l != nil {
				t.Fatalf("labels %v with error %v", l, err)
			}
			return
		}
		if len(l) == 0 {
			t.Fatal("no labels and no error")
		}
		if _, ok := l[""]; ok {
			t.Fatal("an empty tenant id")
		}
	})
}
