package analytics

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/analytics"
)

var testNow = time.Date(2026, 11, 25, 12, 30, 0, 123456789, time.UTC)

func startAPI(t *testing.T, src Source) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	NewAPI(src, func() time.Time { return testNow }).Register(mux)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

// do sends method path and returns the status, the headers and the body.
func do(t *testing.T, ts *httptest.Server, method, path string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, body
}

// getJSON GETs path, wants 200 and decodes the body into v.
func getJSON(t *testing.T, ts *httptest.Server, path string, v any) {
	t.Helper()
	code, h, body := do(t, ts, "GET", path)
	if code != 200 {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	if ct := h.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("GET %s: Content-Type %q", path, ct)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

// wantError GETs (or sends method to) path and wants status with the /v1
// error shape, code, and a message containing each of msg.
func wantError(t *testing.T, ts *httptest.Server, method, path string, status int, code string, msg ...string) {
	t.Helper()
	got, h, body := do(t, ts, method, path)
	var e struct{ Error, Message string }
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("%s %s: %d %s: %v", method, path, got, body, err)
	}
	if got != status || e.Error != code || h.Get("Content-Type") != "application/json" {
		t.Fatalf("%s %s: %d %s, want %d %s", method, path, got, body, status, code)
	}
	for _, m := range msg {
		if !strings.Contains(e.Message, m) {
			t.Errorf("%s %s: message %q lacks %q", method, path, e.Message, m)
		}
	}
}

type page struct {
	Tenants []analytics.Tenant `json:"tenants"`
	Total   int                `json:"total"`
	Next    string             `json:"next"`
	AsOf    string             `json:"asOf"`
}

// walk follows next from the first page of query and returns every
// tenant, checking each page's total and size.
func walk(t *testing.T, ts *httptest.Server, query string, limit int) []analytics.Tenant {
	t.Helper()
	var all []analytics.Tenant
	next, total := "", -1
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatalf("%s: pages never end", query)
		}
		path := fmt.Sprintf("/v1/tenants?%s&limit=%d", query, limit)
		if next != "" {
			path += "&cursor=" + url.QueryEscape(next)
		}
		var p page
		getJSON(t, ts, path, &p)
		if total >= 0 && p.Total != total {
			t.Fatalf("%s: total went from %d to %d", path, total, p.Total)
		}
		total = p.Total
		if len(p.Tenants) > limit || (p.Next != "" && len(p.Tenants) != limit) {
			t.Fatalf("%s: %d tenants, next %q", path, len(p.Tenants), p.Next)
		}
		all = append(all, p.Tenants...)
		if p.Next == "" {
			if len(all) != total {
				t.Fatalf("%s: walked %d tenants, total %d", query, len(all), total)
			}
			return all
		}
		next = p.Next
	}
}

// sortKey is a test's reference for one sort field: the value compared.
func sortKey(t *testing.T, field string) func(x *analytics.Tenant) any {
	t.Helper()
	typ := reflect.TypeFor[analytics.Tenant]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if strings.Split(f.Tag.Get("json"), ",")[0] != field {
			continue
		}
		return func(x *analytics.Tenant) any {
			v := reflect.ValueOf(x).Elem().Field(i)
			if v.Kind() == reflect.Pointer {
				if v.IsNil() {
					return math.Inf(-1)
				}
				v = v.Elem()
			}
			if r, ok := v.Interface().(analytics.Risk); ok {
				return r.Score // risk sorts by its score
			}
			return v.Interface()
		}
	}
	t.Fatalf("no field %s", field)
	return nil
}

func compareAny(a, b any) int {
	switch a := a.(type) {
	case string:
		return strings.Compare(a, b.(string))
	case int64:
		return cmp.Compare(a, b.(int64))
	case float64:
		return cmp.Compare(a, b.(float64))
	}
	panic(fmt.Sprintf("%T", a))
}

// checkOrder fails unless ts is in the order of field (desc or not), ties
// by id ascending, and reports whether there was a tie.
func checkOrder(t *testing.T, ts []analytics.Tenant, field string, desc bool) (ties bool) {
	t.Helper()
	key := sortKey(t, field)
	for i := 1; i < len(ts); i++ {
		a, b := &ts[i-1], &ts[i]
		c := compareAny(key(a), key(b))
		if desc {
			c = -c
		}
		if c == 0 {
			ties = true
			c = strings.Compare(a.ID, b.ID)
		}
		if c >= 0 {
			t.Fatalf("sort=%s desc=%v: %s (%v) before %s (%v)", field, desc, a.ID, key(a), b.ID, key(b))
		}
	}
	return ties
}

func ids(ts []analytics.Tenant) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

func TestTenantsSort(t *testing.T) {
	src := newFake(300)
	ts := startAPI(t, src)
	all := ids(src.tenants)
	slices.Sort(all)

	f := func(field string, wantTies bool) {
		t.Helper()
		for _, order := range []string{"asc", "desc", ""} {
			var p page
			getJSON(t, ts, "/v1/tenants?limit=1000&sort="+field+"&order="+order, &p)
			if p.Total != 300 || len(p.Tenants) != 300 || p.Next != "" {
				t.Fatalf("sort=%s order=%s: total %d, %d tenants, next %q", field, order, p.Total, len(p.Tenants), p.Next)
			}
			got := ids(p.Tenants)
			slices.Sort(got)
			if !slices.Equal(got, all) {
				t.Fatalf("sort=%s order=%s: not every tenant once", field, order)
			}
			if ties := checkOrder(t, p.Tenants, field, order == "desc"); ties != wantTies {
				t.Fatalf("sort=%s order=%s: ties %v, want %v", field, order, ties, wantTies)
			}
		}
	}
	f("id", false)
	f("name", true)
	f("industry", true)
	f("jobs30d", true)
	f("jobs90d", true)
	f("revenue", true)
	f("cancelRate", true)
	f("lastActivity", true) // absent ("") sorts first
	f("risk", true)         // absent sorts first

	// The default is sort=id&order=asc.
	var p page
	getJSON(t, ts, "/v1/tenants?limit=1000", &p)
	if !slices.Equal(ids(p.Tenants), all) {
		t.Fatal("the default order is not by id ascending")
	}
}

func TestTenantsSortFields(t *testing.T) {
	ts := startAPI(t, newFake(20))
	typ := reflect.TypeFor[analytics.Tenant]()
	for i := range typ.NumField() {
		name := strings.Split(typ.Field(i).Tag.Get("json"), ",")[0]
		var p page
		getJSON(t, ts, "/v1/tenants?sort="+name+"&order=desc", &p)
		if len(p.Tenants) != 20 {
			t.Fatalf("sort=%s: %d tenants", name, len(p.Tenants))
		}
		checkOrder(t, p.Tenants, name, true)
	}
	if len(sortFields) != typ.NumField() {
		t.Fatalf("%d sort fields for %d fields of Tenant", len(sortFields), typ.NumField())
	}
}

func TestTenantsFilter(t *testing.T) {
	src := newFake(300)
	ts := startAPI(t, src)
	f := func(query string, match func(x *analytics.Tenant) bool) {
		t.Helper()
		var want []string
		for i := range src.tenants {
			if match(&src.tenants[i]) {
				want = append(want, src.tenants[i].ID)
			}
		}
		slices.Sort(want)
		if len(want) == 0 || len(want) == len(src.tenants) {
			t.Fatalf("%s: the test data should match some tenants, not %d", query, len(want))
		}
		var p page
		getJSON(t, ts, "/v1/tenants?limit=1000&"+query, &p)
		if got := ids(p.Tenants); !slices.Equal(got, want) || p.Total != len(want) {
			t.Fatalf("%s: total %d, got %v, want %v", query, p.Total, got, want)
		}
	}
	retail := func(x *analytics.Tenant) bool { return strings.ToLower(x.Industry) == "retail" }
	f("industry=retail", retail)
	f("industry=RETAIL", retail)
	f("industry=finance", func(x *analytics.Tenant) bool { return x.Industry == "finance" })
	acme := func(x *analytics.Tenant) bool {
		return strings.Contains(strings.ToLower(x.Name), "acme") || strings.Contains(x.ID, "acme")
	}
	f("q=acme", acme)
	f("q=AcMe", acme)
	f("q=T-01", func(x *analytics.Tenant) bool { return strings.Contains(x.ID, "t-01") })
	f("q=acme&industry=Retail", func(x *analytics.Tenant) bool { return acme(x) && retail(x) })
	f("q=labs+1", func(x *analytics.Tenant) bool { return strings.Contains(strings.ToLower(x.Name), "labs 1") })
	live := func(x *analytics.Tenant) bool { return x.Deleted == "" }
	f("status=live", live)
	f("status=deleted", func(x *analytics.Tenant) bool { return !live(x) })
	f("status=live&industry=retail&q=acme", func(x *analytics.Tenant) bool { return live(x) && retail(x) && acme(x) })

	var p page
	getJSON(t, ts, "/v1/tenants?industry=nothing", &p)
	if p.Total != 0 || p.Tenants == nil || len(p.Tenants) != 0 || p.Next != "" {
		t.Fatalf("no match: %+v", p)
	}
	_, _, body := do(t, ts, "GET", "/v1/tenants?q=zzz")
	if !bytes.Contains(body, []byte(`"tenants":[]`)) {
		t.Fatalf("no match writes %s", body)
	}
}

func TestTenantsPages(t *testing.T) {
	src := newFake(300)
	ts := startAPI(t, src)
	for _, query := range []string{"sort=id", "sort=jobs30d&order=desc", "sort=name&industry=retail", "sort=risk&q=acme", "sort=revenue&order=asc", "sort=jobsTrend&status=live"} {
		var whole page
		getJSON(t, ts, "/v1/tenants?limit=1000&"+query, &whole)
		for _, limit := range []int{1, 7, 1000} {
			got := walk(t, ts, query, limit)
			if !slices.Equal(ids(got), ids(whole.Tenants)) {
				t.Fatalf("%s limit=%d: pages give %v, want %v", query, limit, ids(got), ids(whole.Tenants))
			}
		}
	}
}

// TestTenantsPagesChange: the next page starts strictly after the last
// tenant's key and id, even when that tenant is gone and others changed.
func TestTenantsPagesChange(t *testing.T) {
	src := newFake(300)
	ts := startAPI(t, src)
	var p1 page
	getJSON(t, ts, "/v1/tenants?sort=jobs30d&order=desc&limit=50", &p1)
	last := p1.Tenants[49]
	src.update(func(tt []analytics.Tenant) []analytics.Tenant {
		return slices.DeleteFunc(tt, func(x analytics.Tenant) bool { return x.ID == last.ID || x.ID == p1.Tenants[0].ID })
	})
	var p2 page
	getJSON(t, ts, "/v1/tenants?sort=jobs30d&order=desc&limit=50&cursor="+p1.Next, &p2)
	if p2.Total != 298 {
		t.Fatalf("total %d after deleting two", p2.Total)
	}
	seen := map[string]bool{}
	for _, x := range p1.Tenants {
		seen[x.ID] = true
	}
	for _, x := range p2.Tenants {
		if seen[x.ID] {
			t.Fatalf("%s on both pages", x.ID)
		}
		if x.Jobs30d > last.Jobs30d || x.Jobs30d == last.Jobs30d && x.ID <= last.ID {
			t.Fatalf("%s (%d) is not after %s (%d)", x.ID, x.Jobs30d, last.ID, last.Jobs30d)
		}
	}
	checkOrder(t, append(p1.Tenants, p2.Tenants...), "jobs30d", true)
}

func TestTenantsCursorMisuse(t *testing.T) {
	ts := startAPI(t, newFake(300))
	var p page
	getJSON(t, ts, "/v1/tenants?sort=jobs30d&order=desc&industry=retail&q=acme&limit=2", &p)
	if p.Next == "" {
		t.Fatal("no next page")
	}
	c := "&cursor=" + p.Next
	for _, q := range []string{
		"sort=revenue&order=desc&industry=retail&q=acme",
		"sort=jobs30d&industry=retail&q=acme",
		"sort=jobs30d&order=asc&industry=retail&q=acme",
		"sort=jobs30d&order=desc&q=acme",
		"sort=jobs30d&order=desc&industry=finance&q=acme",
		"sort=jobs30d&order=desc&industry=retail",
		"sort=jobs30d&order=desc&industry=retail&q=acm",
		"sort=jobs30d&order=desc&industry=retail&q=acme&status=live",
	} {
		wantError(t, ts, "GET", "/v1/tenants?"+q+c, 400, "InvalidRequest", "cursor", "sort=jobs30d", "order=desc")
	}
	// The same listing, with the filters in another case and another limit, is fine.
	getJSON(t, ts, "/v1/tenants?sort=jobs30d&order=desc&industry=RETAIL&q=ACME&limit=5"+c, &p)
	for _, bad := range []string{"xyz", "!!!", p.Next[:len(p.Next)-3], "eyJ2IjoyfQ"} {
		wantError(t, ts, "GET", "/v1/tenants?cursor="+url.QueryEscape(bad), 400, "InvalidRequest", "cursor", "next")
	}
}

func TestBadParams(t *testing.T) {
	ts := startAPI(t, newFake(10))
	f := func(path string, msg ...string) {
		t.Helper()
		wantError(t, ts, "GET", path, 400, "InvalidRequest", msg...)
	}
	f("/v1/tenants?sort=bogus", `"bogus"`, "jobs30d", "activeUsers30d", "lastActivity", "risk")
	f("/v1/tenants?sort=Jobs30d", "jobs30d")
	f("/v1/tenants?order=up", `"up"`, "asc", "desc")
	f("/v1/tenants?status=gone", `"gone"`, "live", "deleted")
	f("/v1/tenants?status=Live", `"Live"`, "live", "deleted")
	f("/v1/tenants?limit=0", "limit", "1 to 1000")
	f("/v1/tenants?limit=1001", "limit", "1 to 1000")
	f("/v1/tenants?limit=ten", "limit", "1 to 1000")
	f("/v1/tenants?limit=-1", "limit")
	f("/v1/tenants?asOf=yesterday", "asOf", "RFC 3339", "2026-11-25T10:00:00Z")
	f("/v1/tenants?asOf=2026-11-25", "asOf", "RFC 3339")
	f("/v1/tenants?sortby=id", `"sortby"`, "sort, order")
	f("/v1/tenants?sort=id&sort=name", `"sort"`, "once")
	f("/v1/tenants?q=%zz", "query")
	f("/v1/tenants/t-00000?from=2026-11-26&to=2026-11-25", "from", "after", "to")
	f("/v1/tenants/t-00000?from=2026-11-25T10:00:00Z&to=2026-11-25T09:00:00Z", "from (2026-11-25T10:00:00.000Z) is after to (2026-11-25T09:00:00.000Z)")
	f("/v1/tenants/t-00000?from=2030-01-01", "from", "after") // to defaults to asOf
	f("/v1/tenants/t-00000?from=nov", "from", "RFC 3339", "2026-11-25")
	f("/v1/tenants/t-00000?to=2026-13-01", "to", "RFC 3339", "date")
	f("/v1/tenants/t-00000?asOf=now", "asOf")
	f("/v1/tenants/t-00000?limit=3", `"limit"`, "from, to, asOf")
	f("/v1/summary?from=2026-11-26&to=2026-11-25", "after")
	f("/v1/summary?asOf=12:00", "asOf")
	f("/v1/processor?x=1", `"x"`, "none")
	f("/v1/dead-letters?limit=5000", "limit", "1 to 1000")
	f("/v1/dead-letters?limit=0", "limit")
}

func TestTenantsAsOf(t *testing.T) {
	src := newFake(10)
	ts := startAPI(t, src)
	var p page
	getJSON(t, ts, "/v1/tenants", &p)
	if c := src.lastCall(); c.op != "Tenants" || !c.asOf.Equal(testNow.Truncate(time.Millisecond)) {
		t.Fatalf("default asOf: %+v", c)
	}
	if p.AsOf != "2026-11-25T12:30:00.123Z" {
		t.Fatalf("asOf %q", p.AsOf)
	}
	getJSON(t, ts, "/v1/tenants?asOf=2026-10-01T10:00:00%2B02:00", &p)
	want := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	if c := src.lastCall(); !c.asOf.Equal(want) || c.asOf.Location() != time.UTC {
		t.Fatalf("asOf: %+v", c)
	}
	if p.AsOf != "2026-10-01T08:00:00.000Z" {
		t.Fatalf("asOf %q", p.AsOf)
	}
}

func TestTenant(t *testing.T) {
	src := newFake(10)
	ts := startAPI(t, src)
	id := src.tenants[3].ID
	asOf := testNow.Truncate(time.Millisecond)
	f := func(query string, wantAsOf, wantFrom, wantTo time.Time) {
		t.Helper()
		var d analytics.TenantDetail
		getJSON(t, ts, "/v1/tenants/"+id+query, &d)
		c := src.lastCall()
		if c.op != "Tenant" || c.id != id || !c.asOf.Equal(wantAsOf) || !c.from.Equal(wantFrom) || !c.to.Equal(wantTo) {
			t.Fatalf("%s: the source got %+v, want asOf %v from %v to %v", query, c, wantAsOf, wantFrom, wantTo)
		}
		if d.ID != id || d.Name != src.tenants[3].Name || len(d.Days) != 1 || len(d.Hours) != 1 {
			t.Fatalf("%s: %+v", query, d)
		}
		if d.AsOf != formatTime(wantAsOf) || d.From != formatTime(wantFrom) || d.To != formatTime(wantTo) {
			t.Fatalf("%s: asOf %s from %s to %s", query, d.AsOf, d.From, d.To)
		}
	}
	f("", asOf, asOf.Add(-30*24*time.Hour), asOf)
	f("?asOf=2026-11-01T00:00:00Z", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	f("?from=2026-11-01&to=2026-11-10", asOf,
		time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 10, 23, 59, 59, 999e6, time.UTC))
	f("?to=2026-11-10T05:00:00Z", asOf,
		time.Date(2026, 10, 11, 5, 0, 0, 0, time.UTC), time.Date(2026, 11, 10, 5, 0, 0, 0, time.UTC))
	f("?from=2026-11-25&to=2026-11-25", asOf,
		time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 25, 23, 59, 59, 999e6, time.UTC))

	// The detail carries the headline fields and the series, in the struct's order.
	_, _, body := do(t, ts, "GET", "/v1/tenants/"+id)
	for _, k := range []string{`{"id":"` + id + `","name":`, `"jobs30d":`, `"asOf":"2026-11-25T12:30:00.123Z","from":"2026-10-26T12:30:00.123Z","to":"2026-11-25T12:30:00.123Z","days":[{"date":"2026-11-25"`, `"hours":[{"hour":"2026-11-25T10:00:00Z"`} {
		if !bytes.Contains(body, []byte(k)) {
			t.Errorf("%s lacks %s", body, k)
		}
	}

	// What the source says it used wins: it may shorten the range.
	src.mu.Lock()
	src.detailFrom = "2026-08-01T00:00:00.000Z"
	src.mu.Unlock()
	var d analytics.TenantDetail
	getJSON(t, ts, "/v1/tenants/"+id+"?from=2020-01-01", &d)
	if d.From != src.detailFrom || d.To != "2026-11-25T12:30:00.123Z" {
		t.Fatalf("from %s to %s", d.From, d.To)
	}

	wantError(t, ts, "GET", "/v1/tenants/nobody", 404, "NotFound", `"nobody"`)
	wantError(t, ts, "GET", "/v1/tenants/a%20b", 404, "NotFound", `"a b"`)
	wantError(t, ts, "GET", "/v1/tenants/x/y", 404, "NotFound")
	wantError(t, ts, "GET", "/v1/tenants/", 404, "NotFound")
}

func TestSummary(t *testing.T) {
	src := newFake(50)
	ts := startAPI(t, src)
	var s analytics.Summary
	getJSON(t, ts, "/v1/summary?from=2026-11-01&asOf=2026-11-20T00:00:00Z", &s)
	c := src.lastCall()
	asOf := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	if c.op != "Summary" || !c.asOf.Equal(asOf) || !c.to.Equal(asOf) || !c.from.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("the source got %+v", c)
	}
	if s.AsOf != "2026-11-20T00:00:00.000Z" || s.Tenants != 50 || s.Industries["retail"] == 0 || s.Days == nil {
		t.Fatalf("%+v", s)
	}
	getJSON(t, ts, "/v1/summary", &s)
	if c := src.lastCall(); !c.to.Equal(testNow.Truncate(time.Millisecond)) || !c.from.Equal(c.to.Add(-30*24*time.Hour)) {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestProcessorAndDeadLetters(t *testing.T) {
	src := newFake(1)
	ts := startAPI(t, src)
	var p Status
	getJSON(t, ts, "/v1/processor", &p)
	if !reflect.DeepEqual(p, src.proc) {
		t.Fatalf("got %+v, want %+v", p, src.proc)
	}
	_, _, body := do(t, ts, "GET", "/v1/processor")
	want := `{"workers":2,"allowedLateness":"168h0m0s","maxFuture":"1h0m0s","shards":[{"stream":"companies","shard":"shardId-000000000000","worker":0,"position":"4900","millisBehindLatest":12,"watermark":"2026-11-25T10:00:00.250Z","records":100,`
	if !bytes.HasPrefix(body, []byte(want)) {
		t.Fatalf("%s", body)
	}
	if want := `"streams":[{"stream":"companies","state":"reading","created":"2026-11-25T09:00:00.000Z","resets":0},{"stream":"jobs","state":"reading","created":"2026-11-25T09:30:00.000Z","resets":1,"resetAt":"2026-11-25T09:30:00.500Z","resetReason":"the stream was deleted and created again"}]}`; !bytes.Contains(body, []byte(want)) {
		t.Fatalf("%s\nwant it to hold %s", body, want)
	}

	var d struct {
		DeadLetters []analytics.DeadLetter `json:"deadLetters"`
		Total       int64                  `json:"total"`
	}
	getJSON(t, ts, "/v1/dead-letters", &d)
	if c := src.lastCall(); c.op != "DeadLetters" || c.limit != 100 {
		t.Fatalf("default limit: %+v", c)
	}
	if d.Total != 42 || !reflect.DeepEqual(d.DeadLetters, src.dead) {
		t.Fatalf("%+v", d)
	}
	getJSON(t, ts, "/v1/dead-letters?limit=2", &d)
	if c := src.lastCall(); c.limit != 2 || len(d.DeadLetters) != 2 || d.DeadLetters[0].Sequence != "4900" {
		t.Fatalf("limit=2: %+v %+v", c, d)
	}
	_, _, body = do(t, ts, "GET", "/v1/dead-letters?limit=1")
	if want := `{"deadLetters":[{"stream":"jobs","shard":"shardId-000000000001","sequenceNumber":"4900","arrival":"2026-11-25T10:00:00.000Z","reason":"late: 200h behind the watermark","id":"e-0","tenantid":"t-07919","data":"{}"}],"total":42}` + "\n"; string(body) != want {
		t.Fatalf("%s, want %s", body, want)
	}

	empty := newFake(0)
	empty.proc, empty.dead = Status{}, nil
	ts = startAPI(t, empty)
	for path, want := range map[string]string{
		"/v1/processor":                         `{"workers":0,"allowedLateness":"","maxFuture":"","shards":[],"streams":[]}`,
		"/v1/dead-letters":                      `{"deadLetters":[],"total":42}`,
		"/v1/tenants?asOf=2026-11-25T00:00:00Z": `{"tenants":[],"total":0,"asOf":"2026-11-25T00:00:00.000Z"}`,
		"/v1/summary?asOf=2026-11-25T00:00:00Z": `{"asOf":"2026-11-25T00:00:00.000Z","tenants":0,"tenantsDeleted":0,"users":0,"activeUsers30d":0,"openSessions":0,"runningJobs":0,"jobsSubmitted":0,"jobsTerminated":0,"jobsCancelled":0,"jobs30d":0,"jobs90d":0,"industries":{},"days":[]}`,
	} {
		if _, _, body := do(t, ts, "GET", path); string(body) != want+"\n" {
			t.Errorf("%s: %s, want %s", path, body, want)
		}
	}
}

func TestMethodNotAllowed(t *testing.T) {
	ts := startAPI(t, newFake(3))
	for _, c := range []struct{ method, path string }{
		{"POST", "/v1/tenants"}, {"DELETE", "/v1/tenants/t-00000"}, {"PUT", "/v1/summary"},
		{"POST", "/v1/processor"}, {"PATCH", "/v1/dead-letters"},
	} {
		wantError(t, ts, c.method, c.path, 405, "MethodNotAllowed", c.method, c.path, "GET")
		if _, h, _ := do(t, ts, c.method, c.path); h.Get("Allow") != "GET" {
			t.Errorf("%s %s: Allow %q", c.method, c.path, h.Get("Allow"))
		}
	}
	if code, _, body := do(t, ts, "HEAD", "/v1/processor"); code != 200 || len(body) != 0 {
		t.Errorf("HEAD: %d %q", code, body)
	}
}

// TestDeterministic: the same request gives the same bytes although the
// source returns the tenants in another order each time.
func TestDeterministic(t *testing.T) {
	ts := startAPI(t, newFake(300))
	for _, path := range []string{"/v1/tenants?sort=jobs30d&limit=1000", "/v1/tenants?sort=industry&limit=50", "/v1/summary", "/v1/tenants/t-00000"} {
		_, _, a := do(t, ts, "GET", path)
		_, _, b := do(t, ts, "GET", path)
		if !bytes.Equal(a, b) {
			t.Fatalf("%s: two answers:\n%s\n%s", path, a, b)
		}
	}
}

func TestContainsFold(t *testing.T) {
	f := func(s, sub string, want bool) {
		t.Helper()
		if got := containsFold(s, strings.ToLower(sub)); got != want {
			t.Errorf("containsFold(%q, %q) = %v", s, sub, got)
		}
	}
	f("Acme Corp", "acme", true)
	f("Acme Corp", "CORP", true)
	f("Acme Corp", "e c", true)
	f("Acme Corp", "corps", false)
	f("Acme", "", true)
	f("", "a", false)
	f("Ärzte GmbH", "ärzte", true)
	f("Ärzte GmbH", "ÄRZTE", true)
	f("Zürich AG", "zürich ag", true)
	f("Zürich", "zurich", false)
}

func BenchmarkTenants100k(b *testing.B) {
	src := newFake(100_000)
	src.rnd = nil // keep the source's order: measure the API, not the fake
	api := NewAPI(benchSource{src}, nil)
	mux := http.NewServeMux()
	api.Register(mux)
	for _, q := range []string{"sort=jobs30d&order=desc", "sort=name", "q=acme&sort=revenue"} {
		b.Run(q, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/v1/tenants?"+q, nil)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				mux.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatal(w.Code, w.Body.String())
				}
			}
		})
	}
}

// benchSource returns the fake's tenants without copying or shuffling.
type benchSource struct{ *fakeSource }

func (s benchSource) Tenants(time.Time) []analytics.Tenant { return s.tenants }

// TestDocs: docs/analytics-api.md names every sort field and metric.
func TestDocs(t *testing.T) {
	b, err := os.ReadFile("../../../docs/analytics-api.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, name := range sortFieldNames() {
		if !strings.Contains(doc, "`"+name+"`") {
			t.Errorf("the docs do not name the sort field %s", name)
		}
	}
	for _, m := range shardMetrics {
		name := strings.Split(strings.TrimPrefix(m.desc.String(), `Desc{fqName: "`), `"`)[0]
		if !strings.Contains(doc, "`"+name+"`") {
			t.Errorf("the docs do not name the metric %s", name)
		}
	}
}

// TestFirstN checks the page selection against sorting everything, for
// pages smaller than, equal to and larger than the entries, with many
// equal keys (the id breaks ties).
func TestFirstN(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for trial := range 500 {
		n := rng.IntN(60)
		entries := make([]entry, n)
		for i := range entries {
			entries[i] = entry{id: fmt.Sprintf("t-%03d", rng.IntN(1000)*1000+i), n: int64(rng.IntN(5)), f: float64(rng.IntN(4)), s: []string{"a", "b", ""}[rng.IntN(3)]}
		}
		kind := []keyKind{kindInt, kindFloat, kindString}[trial%3]
		compare := compareFunc(kind, trial%2 == 0)
		want := slices.Clone(entries)
		slices.SortFunc(want, compare)
		limit := 1 + rng.IntN(70)
		got, more := firstN(slices.Clone(entries), limit, compare)
		w := want[:min(limit, n)]
		if !slices.EqualFunc(got, w, func(a, b entry) bool { return a.id == b.id }) || more != (n > limit) {
			t.Fatalf("trial %d: first %d of %d: got %v (more %v), want %v", trial, limit, n, got, more, w)
		}
	}
}
