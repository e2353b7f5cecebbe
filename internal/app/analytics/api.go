package analytics

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tenantpulse/tenantpulse/internal/analytics"
	"github.com/tenantpulse/tenantpulse/internal/consumer"
	"github.com/tenantpulse/tenantpulse/internal/restapi"
)

// Behavior: GET only (HEAD too, as net/http does); any other method is 405
// with Allow: GET. Unknown or repeated query parameters are 400, so a typo
// is never silently ignored. Every instant written is RFC 3339 UTC with
// milliseconds. docs/analytics-api.md is the reference.

const (
	defaultLimit  = 100
	maxLimit      = 1000
	defaultWindow = 30 * 24 * time.Hour
	cursorVersion = 1
	// timeLayout writes instants: RFC 3339, UTC, always milliseconds.
	timeLayout = "2006-01-02T15:04:05.000Z07:00"
)

// API serves the analytics endpoints over a Source.
type API struct {
	src Source
	now func() time.Time
}

// NewAPI returns the API over src; now gives the default asOf (nil:
// time.Now).
func NewAPI(src Source, now func() time.Time) *API {
	if now == nil {
		now = time.Now
	}
	return &API{src: src, now: now}
}

// Register adds the routes to mux: GET /v1/tenants, /v1/tenants/{id},
// /v1/summary, /v1/processor and /v1/dead-letters.
func (a *API) Register(mux *http.ServeMux) {
	routes := []struct {
		pattern string
		h       http.HandlerFunc
	}{
		{"/v1/tenants", a.listTenants},
		{"/v1/tenants/{id}", a.getTenant},
		{"/v1/summary", a.summary},
		{"/v1/processor", a.processor},
		{"/v1/dead-letters", a.deadLetters},
	}
	for _, rt := range routes {
		mux.HandleFunc("GET "+rt.pattern, rt.h)
		mux.HandleFunc(rt.pattern, methodNotAllowed)
	}
	// /v1/tenants/ and deeper paths: answer in the /v1 shape, not net/http's text.
	mux.HandleFunc("/v1/tenants/", func(w http.ResponseWriter, r *http.Request) {
		restapi.WriteError(w, http.StatusNotFound, restapi.CodeNotFound,
			fmt.Sprintf("no such resource %s; a tenant is GET /v1/tenants/{id}", r.URL.Path))
	})
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "GET")
	restapi.WriteError(w, http.StatusMethodNotAllowed, restapi.CodeMethodNotAllowed,
		fmt.Sprintf("%s %s is not supported; use GET", r.Method, r.URL.Path))
}

func badRequest(w http.ResponseWriter, err error) {
	restapi.WriteError(w, http.StatusBadRequest, restapi.CodeInvalidRequest, err.Error())
}

// tenantsPage is the /v1/tenants response.
type tenantsPage struct {
	Tenants []analytics.Tenant `json:"tenants"`
	Total   int                `json:"total"`
	Next    string             `json:"next,omitempty"`
	AsOf    string             `json:"asOf"`
}

// deadLettersPage is the /v1/dead-letters response.
type deadLettersPage struct {
	DeadLetters []analytics.DeadLetter `json:"deadLetters"`
	Total       int64                  `json:"total"`
}

func (a *API) listTenants(w http.ResponseWriter, r *http.Request) {
	q, err := query(r, "sort", "order", "industry", "q", "status", "limit", "cursor", "asOf")
	if err != nil {
		badRequest(w, err)
		return
	}
	sortName := cmp.Or(q["sort"], "id")
	field, ok := sortFieldByName(sortName)
	if !ok {
		badRequest(w, fmt.Errorf("cannot sort by %q; sort is one of %s", sortName, strings.Join(sortFieldNames(), ", ")))
		return
	}
	order := cmp.Or(q["order"], "asc")
	if order != "asc" && order != "desc" {
		badRequest(w, fmt.Errorf("order %q is not asc or desc", q["order"]))
		return
	}
	if s := q["status"]; s != "" && s != statusLive && s != statusDeleted {
		badRequest(w, fmt.Errorf("status %q is not %s or %s", s, statusLive, statusDeleted))
		return
	}
	limit, err := parseLimit(q["limit"])
	if err != nil {
		badRequest(w, err)
		return
	}
	asOf, err := a.asOf(q["asOf"])
	if err != nil {
		badRequest(w, err)
		return
	}
	sel := selection{Sort: sortName, Order: order, Industry: q["industry"], Q: q["q"], Status: q["status"]}
	var after *entry
	if q["cursor"] != "" {
		c, err := decodeCursor(q["cursor"])
		if err != nil {
			badRequest(w, err)
			return
		}
		if !c.selection.same(sel) {
			badRequest(w, fmt.Errorf("the cursor belongs to a listing with %s, not %s; repeat its parameters or drop the cursor to start again",
				c.selection, sel))
			return
		}
		after = &entry{n: c.N, f: math.Float64frombits(c.F), s: c.S, id: c.ID}
	}

	tenants := a.src.Tenants(asOf)
	entries := make([]entry, 0, len(tenants))
	industry, needle := sel.Industry, strings.ToLower(sel.Q)
	for i := range tenants {
		t := &tenants[i]
		if industry != "" && !strings.EqualFold(t.Industry, industry) {
			continue
		}
		if needle != "" && !containsFold(t.ID, needle) && !containsFold(t.Name, needle) {
			continue
		}
		if (sel.Status == statusLive && t.Deleted != "") || (sel.Status == statusDeleted && t.Deleted == "") {
			continue
		}
		entries = append(entries, entry{id: t.ID, i: int32(i)})
		field.key(t, &entries[len(entries)-1])
	}
	total := len(entries)
	compare := compareFunc(field.kind, order == "desc")
	if after != nil {
		entries = slices.DeleteFunc(entries, func(e entry) bool { return compare(e, *after) <= 0 })
	}
	// The page is the first limit entries in order: selected, not all
	// sorted, so a page of 100 of 100,000 tenants costs little more than
	// reading them.
	first, more := firstN(entries, limit, compare)
	page := tenantsPage{Tenants: make([]analytics.Tenant, 0, len(first)), Total: total, AsOf: formatTime(asOf)}
	for _, e := range first {
		page.Tenants = append(page.Tenants, tenants[e.i])
	}
	if more {
		last := first[len(first)-1]
		page.Next = encodeCursor(cursor{V: cursorVersion, selection: sel, N: last.n, F: math.Float64bits(last.f), S: last.s, ID: last.id})
	}
	restapi.WriteJSON(w, http.StatusOK, page)
}

func (a *API) getTenant(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q, err := query(r, "from", "to", "asOf")
	if err != nil {
		badRequest(w, err)
		return
	}
	asOf, from, to, err := a.span(q)
	if err != nil {
		badRequest(w, err)
		return
	}
	d, ok := a.src.Tenant(id, asOf, from, to)
	if !ok {
		restapi.WriteError(w, http.StatusNotFound, restapi.CodeNotFound,
			fmt.Sprintf("there is no tenant %q; GET /v1/tenants lists them", id))
		return
	}
	// The Source says what it used (it may shorten the range to what it
	// keeps); fill in only what it left out.
	d.AsOf = cmp.Or(d.AsOf, formatTime(asOf))
	d.From = cmp.Or(d.From, formatTime(from))
	d.To = cmp.Or(d.To, formatTime(to))
	if d.Days == nil {
		d.Days = []analytics.Day{}
	}
	if d.Hours == nil {
		d.Hours = []analytics.Hour{}
	}
	restapi.WriteJSON(w, http.StatusOK, d)
}

func (a *API) summary(w http.ResponseWriter, r *http.Request) {
	q, err := query(r, "from", "to", "asOf")
	if err != nil {
		badRequest(w, err)
		return
	}
	asOf, from, to, err := a.span(q)
	if err != nil {
		badRequest(w, err)
		return
	}
	s := a.src.Summary(asOf, from, to)
	s.AsOf = cmp.Or(s.AsOf, formatTime(asOf))
	if s.Industries == nil {
		s.Industries = map[string]int64{}
	}
	if s.Days == nil {
		s.Days = []analytics.Day{}
	}
	restapi.WriteJSON(w, http.StatusOK, s)
}

func (a *API) processor(w http.ResponseWriter, r *http.Request) {
	if _, err := query(r); err != nil {
		badRequest(w, err)
		return
	}
	p := a.src.Processor()
	if p.Shards == nil {
		p.Shards = []analytics.ShardStatus{}
	}
	if p.Streams == nil {
		p.Streams = []consumer.Status{}
	}
	restapi.WriteJSON(w, http.StatusOK, p)
}

func (a *API) deadLetters(w http.ResponseWriter, r *http.Request) {
	q, err := query(r, "limit")
	if err != nil {
		badRequest(w, err)
		return
	}
	limit, err := parseLimit(q["limit"])
	if err != nil {
		badRequest(w, err)
		return
	}
	dl, total := a.src.DeadLetters(limit)
	if dl == nil {
		dl = []analytics.DeadLetter{}
	}
	restapi.WriteJSON(w, http.StatusOK, deadLettersPage{DeadLetters: dl, Total: total})
}

// query parses the query string, refusing parameters other than allowed
// and parameters given twice.
func query(r *http.Request, allowed ...string) (map[string]string, error) {
	vs, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("the query string is not valid: %v", err)
	}
	q := make(map[string]string, len(vs))
	for k, v := range vs {
		if !slices.Contains(allowed, k) {
			if len(allowed) == 0 {
				return nil, fmt.Errorf("unknown parameter %q; %s takes none", k, r.URL.Path)
			}
			return nil, fmt.Errorf("unknown parameter %q; %s takes %s", k, r.URL.Path, strings.Join(allowed, ", "))
		}
		if len(v) > 1 {
			return nil, fmt.Errorf("parameter %q is given %d times; give it once", k, len(v))
		}
		q[k] = v[0]
	}
	return q, nil
}

func parseLimit(s string) (int, error) {
	if s == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		return 0, fmt.Errorf("limit %q is not a whole number from 1 to %d", s, maxLimit)
	}
	return n, nil
}

// asOf parses the asOf parameter; "" is now. Instants are kept to the
// millisecond, as they are written.
func (a *API) asOf(s string) (time.Time, error) {
	if s == "" {
		return a.now().UTC().Truncate(time.Millisecond), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("asOf %q is not an RFC 3339 time such as 2026-11-25T10:00:00Z", s)
	}
	return t.UTC().Truncate(time.Millisecond), nil
}

// span parses asOf, from and to: to defaults to asOf, from to 30 days
// before to.
func (a *API) span(q map[string]string) (asOf, from, to time.Time, err error) {
	if asOf, err = a.asOf(q["asOf"]); err != nil {
		return
	}
	to = asOf
	if s := q["to"]; s != "" {
		if to, err = parseBound("to", s, true); err != nil {
			return
		}
	}
	from = to.Add(-defaultWindow)
	if s := q["from"]; s != "" {
		if from, err = parseBound("from", s, false); err != nil {
			return
		}
	}
	if from.After(to) {
		err = fmt.Errorf("from (%s) is after to (%s); give from no later than to", formatTime(from), formatTime(to))
	}
	return
}

// parseBound parses from or to: an RFC 3339 time, or a date, which is the
// start of that UTC day for from and its last millisecond for to.
func parseBound(name, s string, end bool) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			t = t.Add(24*time.Hour - time.Millisecond)
		}
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q is neither an RFC 3339 time such as 2026-11-25T10:00:00Z nor a date such as 2026-11-25", name, s)
	}
	return t.UTC().Truncate(time.Millisecond), nil
}

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// containsFold reports whether s contains lower, which is lower case,
// ignoring case.
func containsFold(s, lower string) bool {
	if len(lower) > len(s) {
		return false
	}
	if !isASCII(s) || !isASCII(lower) {
		return strings.Contains(strings.ToLower(s), lower)
	}
	for i := 0; i+len(lower) <= len(s); i++ {
		j := 0
		for ; j < len(lower); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != lower[j] {
				break
			}
		}
		if j == len(lower) {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Sorting. Each request computes every tenant's sort key once into an
// entry, then sorts the entries with a comparator chosen by the key's kind;
// ties go to the id, ascending, so the order is total.

type keyKind uint8

const (
	kindInt keyKind = iota
	kindFloat
	kindString
)

// entry is one tenant's place in a listing: its sort key (one of n, f, s
// by the field's kind), its id and its index in the Source's slice.
type entry struct {
	n  int64
	f  float64
	s  string
	id string
	i  int32
}

type sortField struct {
	name string
	kind keyKind
	key  func(t *analytics.Tenant, e *entry)
}

func intField(name string, v func(t *analytics.Tenant) int64) sortField {
	return sortField{name, kindInt, func(t *analytics.Tenant, e *entry) { e.n = v(t) }}
}

func floatField(name string, v func(t *analytics.Tenant) float64) sortField {
	return sortField{name, kindFloat, func(t *analytics.Tenant, e *entry) { e.f = v(t) }}
}

func stringField(name string, v func(t *analytics.Tenant) string) sortField {
	return sortField{name, kindString, func(t *analytics.Tenant, e *entry) { e.s = v(t) }}
}

// sortFields are the fields of analytics.Tenant by JSON name, in its
// order. Strings compare bytewise; an absent risk sorts below every value.
var sortFields = []sortField{
	stringField("id", func(t *analytics.Tenant) string { return t.ID }),
	stringField("name", func(t *analytics.Tenant) string { return t.Name }),
	stringField("industry", func(t *analytics.Tenant) string { return t.Industry }),
	stringField("sentiment", func(t *analytics.Tenant) string { return t.Sentiment }),
	stringField("plan", func(t *analytics.Tenant) string { return t.Plan }),
	floatField("revenue", func(t *analytics.Tenant) float64 { return t.Revenue }),
	intField("employees", func(t *analytics.Tenant) int64 { return t.Employees }),
	floatField("monthlyFee", func(t *analytics.Tenant) float64 { return t.MonthlyFee }),
	floatField("totalFee", func(t *analytics.Tenant) float64 { return t.TotalFee }),
	stringField("created", func(t *analytics.Tenant) string { return t.Created }),
	stringField("deleted", func(t *analytics.Tenant) string { return t.Deleted }),
	intField("users", func(t *analytics.Tenant) int64 { return t.Users }),
	intField("usersAdded", func(t *analytics.Tenant) int64 { return t.UsersAdded }),
	intField("usersDeleted", func(t *analytics.Tenant) int64 { return t.UsersDeleted }),
	intField("activeUsers7d", func(t *analytics.Tenant) int64 { return t.ActiveUsers7d }),
	intField("activeUsers30d", func(t *analytics.Tenant) int64 { return t.ActiveUsers30d }),
	intField("logins", func(t *analytics.Tenant) int64 { return t.Logins }),
	intField("logoffs", func(t *analytics.Tenant) int64 { return t.Logoffs }),
	intField("sessionTimeouts", func(t *analytics.Tenant) int64 { return t.SessionTimeouts }),
	intField("openSessions", func(t *analytics.Tenant) int64 { return t.OpenSessions }),
	floatField("avgSessionSeconds", func(t *analytics.Tenant) float64 { return t.AvgSessionSeconds }),
	stringField("lastActivity", func(t *analytics.Tenant) string { return t.LastActivity }),
	intField("jobsSubmitted", func(t *analytics.Tenant) int64 { return t.JobsSubmitted }),
	intField("jobsTerminated", func(t *analytics.Tenant) int64 { return t.JobsTerminated }),
	intField("jobsSucceeded", func(t *analytics.Tenant) int64 { return t.JobsSucceeded }),
	intField("jobsFailed", func(t *analytics.Tenant) int64 { return t.JobsFailed }),
	intField("jobsCancelled", func(t *analytics.Tenant) int64 { return t.JobsCancelled }),
	intField("jobs30d", func(t *analytics.Tenant) int64 { return t.Jobs30d }),
	intField("jobs90d", func(t *analytics.Tenant) int64 { return t.Jobs90d }),
	floatField("jobsTrend", func(t *analytics.Tenant) float64 { return t.JobsTrend }),
	intField("runningJobs", func(t *analytics.Tenant) int64 { return t.RunningJobs }),
	floatField("cancelRate", func(t *analytics.Tenant) float64 { return t.CancelRate }),
	intField("dataBytes", func(t *analytics.Tenant) int64 { return t.DataBytes }),
	floatField("risk", func(t *analytics.Tenant) float64 {
		if t.Risk == nil {
			return math.NaN() // cmp.Compare puts NaN first
		}
		return t.Risk.Score
	}),
}

func sortFieldByName(name string) (sortField, bool) {
	for _, f := range sortFields {
		if f.name == name {
			return f, true
		}
	}
	return sortField{}, false
}

func sortFieldNames() []string {
	names := make([]string, len(sortFields))
	for i, f := range sortFields {
		names[i] = f.name
	}
	return names
}

// compareFunc returns the order of entries by a key of kind k, descending
// if desc, ties by id ascending.
// firstN returns the n first of entries in the order of compare, sorted,
// and whether there are more. It keeps the n smallest in a max-heap, so it
// takes O(len(entries) log n) and reorders entries.
func firstN(entries []entry, n int, compare func(a, b entry) int) ([]entry, bool) {
	if len(entries) <= n {
		slices.SortFunc(entries, compare)
		return entries, false
	}
	h := entries[:n] // a max-heap: h[0] is the largest kept
	for i := n/2 - 1; i >= 0; i-- {
		siftDown(h, i, compare)
	}
	for _, e := range entries[n:] {
		if compare(e, h[0]) < 0 {
			h[0] = e
			siftDown(h, 0, compare)
		}
	}
	slices.SortFunc(h, compare)
	return h, true
}

// siftDown restores the max-heap property of h below i.
func siftDown(h []entry, i int, compare func(a, b entry) int) {
	for {
		big, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && compare(h[l], h[big]) > 0 {
			big = l
		}
		if r < len(h) && compare(h[r], h[big]) > 0 {
			big = r
		}
		if big == i {
			return
		}
		h[i], h[big] = h[big], h[i]
		i = big
	}
}

func compareFunc(k keyKind, desc bool) func(a, b entry) int {
	sign := 1
	if desc {
		sign = -1
	}
	switch k {
	case kindInt:
		return func(a, b entry) int {
			if c := cmp.Compare(a.n, b.n); c != 0 {
				return sign * c
			}
			return strings.Compare(a.id, b.id)
		}
	case kindFloat:
		return func(a, b entry) int {
			if c := cmp.Compare(a.f, b.f); c != 0 {
				return sign * c
			}
			return strings.Compare(a.id, b.id)
		}
	case kindString:
		return func(a, b entry) int {
			if c := strings.Compare(a.s, b.s); c != 0 {
				return sign * c
			}
			return strings.Compare(a.id, b.id)
		}
	}
	panic(fmt.Sprintf("BUG: sort key kind %d", k))
}

// Cursors. A cursor is base64url JSON naming the listing (sort, order,
// filters) and the last tenant of the page (its key and id); the next page
// starts strictly after that position, wherever it now falls.

// selection is what a cursor must be used with.
type selection struct {
	Sort     string `json:"sort"`
	Order    string `json:"order"`
	Industry string `json:"industry,omitempty"`
	Q        string `json:"q,omitempty"`
	Status   string `json:"status,omitempty"`
}

// The values of /v1/tenants' status filter.
const (
	statusLive    = "live"    // not deleted
	statusDeleted = "deleted" // tenant.deleted seen
)

// same reports whether o selects the same tenants in the same order; the
// filters ignore case, and so does this.
func (s selection) same(o selection) bool {
	return s.Sort == o.Sort && s.Order == o.Order && strings.EqualFold(s.Industry, o.Industry) &&
		strings.ToLower(s.Q) == strings.ToLower(o.Q) && s.Status == o.Status
}

func (s selection) String() string {
	v := url.Values{"sort": {s.Sort}, "order": {s.Order}}
	if s.Industry != "" {
		v.Set("industry", s.Industry)
	}
	if s.Q != "" {
		v.Set("q", s.Q)
	}
	if s.Status != "" {
		v.Set("status", s.Status)
	}
	return v.Encode()
}

type cursor struct {
	V int `json:"v"`
	selection
	N  int64  `json:"n,omitempty"`
	F  uint64 `json:"f,omitempty"` // math.Float64bits: exact, and NaN survives
	S  string `json:"s,omitempty"`
	ID string `json:"id"`
}

func encodeCursor(c cursor) string {
	b, err := json.Marshal(c)
	if err != nil {
		panic("BUG: cannot encode a cursor: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.V != cursorVersion {
		return cursor{}, fmt.Errorf("the cursor is not one this server gave; pass a page's next value unchanged, or drop the cursor to start again")
	}
	return c, nil
}
