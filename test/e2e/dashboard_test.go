package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/tenantpulse/tenantpulse/internal/model"
	"github.com/tenantpulse/tenantpulse/internal/sim"
)

// TestDashboard drives the dashboard in Chromium against a server fed by
// the simulator, with a model deployed: the overview's numbers equal the
// API's, the tenants table sorts (by mouse and keyboard) and filters, a
// tenant's page draws its charts and shows a new event without a reload,
// the other pages render, a phone-width page does not overflow, and no
// page logs a console error. Screenshots of every page go to
// test/e2e/screenshots.
func TestDashboard(t *testing.T) {
	if _, err := os.Stat(filepath.Join(repoRoot(t), "internal", "dashboard", "assets", "vendor", "uPlot.iife.min.js")); err != nil {
		t.Fatalf("the dashboard's uPlot is not in internal/dashboard/assets/vendor: run make web (make test does): %v", err)
	}
	m := trainCompanies(t, model.TypeBinned)
	file, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "--risk-interval", "200ms")
	req, _ := http.NewRequest(http.MethodPut, srv.url+"/v1/models/churn", bytes.NewReader(file))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT /v1/models/churn: %v %v", err, resp)
	}
	resp.Body.Close()
	now := time.Now().UTC()
	g := sim.New(sim.Config{Seed: 17, Tenants: 30, Start: now.AddDate(0, 0, -45).Truncate(7 * 24 * time.Hour)}) // a Monday: the same events whenever it runs
	hc := &http.Client{Timeout: 30 * time.Second}
	sendUntil(t, hc, srv.url, g, now)
	// Every event applied, then every live tenant scored.
	events := g.Truth().Events
	waitFor(t, time.Minute, 100*time.Millisecond, func() error {
		var p struct{ Shards []struct{ Records int64 } }
		getJSON(t, srv.url+"/v1/processor", &p)
		var n int64
		for _, sh := range p.Shards {
			n += sh.Records
		}
		if n < events {
			return fmt.Errorf("the processor has read %d of %d events", n, events)
		}
		return nil
	})
	type tenant struct {
		ID, Name, Industry, Deleted string
		Jobs30d                     int64
		Risk                        *struct{ Score float64 }
	}
	var list struct {
		Tenants []tenant
		Total   int
	}
	waitFor(t, time.Minute, 200*time.Millisecond, func() error {
		list.Tenants = nil
		getJSON(t, srv.url+"/v1/tenants?limit=1000", &list)
		if len(list.Tenants) == 0 {
			return fmt.Errorf("no tenants yet")
		}
		for _, tn := range list.Tenants {
			if tn.Deleted == "" && tn.Risk == nil {
				return fmt.Errorf("tenant %s has no risk yet", tn.ID)
			}
		}
		return nil
	})
	var summary struct{ Tenants, Users int64 }
	getJSON(t, srv.url+"/v1/summary", &summary)

	b := newBrowser(t)

	// rows returns the text of column col (1-based) of the tenants table.
	rows := func(col int) []string {
		t.Helper()
		var out []string
		b.eval("read the table", fmt.Sprintf(`[...document.querySelectorAll("#tenants tbody tr")].map(r => r.children[%d].innerText.trim())`, col-1), &out)
		return out
	}
	number := func(s string) int64 {
		n, err := strconv.ParseInt(strings.ReplaceAll(s, ",", ""), 10, 64)
		if err != nil {
			t.Fatalf("%q is not a number", s)
		}
		return n
	}

	// Overview: the numbers are the API's.
	b.run("open the overview", chromedp.Navigate(srv.url+"/"))
	b.waitJS("the overview", `document.querySelectorAll("#tenants tbody tr").length > 0 && document.querySelector("#c-jobs canvas") !== null`)
	tenantsText, usersText, countText := b.text("#n-tenants"), b.text("#n-users"), b.text("#t-count")
	if number(tenantsText) != summary.Tenants || number(usersText) != summary.Users {
		t.Errorf("the overview shows %s tenants and %s users; /v1/summary says %d and %d", tenantsText, usersText, summary.Tenants, summary.Users)
	}
	if want := fmt.Sprintf("%d of %d tenants", list.Total, list.Total); strings.ReplaceAll(countText, ",", "") != want {
		t.Errorf("the table says %q, want %q", countText, want)
	}
	b.shot("overview")

	// The server pages the table: with 10 rows a page, the table shows 10
	// and offers more; "Show more" adds the next 10.
	b.eval("ten rows a page", `state.page = state.rows = 10; refresh(); true`, nil)
	b.waitJS("a page of 10", `document.querySelectorAll("#tenants tbody tr").length === 10 && !document.querySelector("#t-more").hidden`)
	if got, want := strings.ReplaceAll(b.text("#t-count"), ",", ""), fmt.Sprintf("the first 10 of %d of %d tenants", list.Total, list.Total); got != want {
		t.Errorf("with a page of 10 the table says %q, want %q", got, want)
	}
	b.run("show more", chromedp.Click("#t-more"))
	b.waitJS("20 rows", `document.querySelectorAll("#tenants tbody tr").length === 20`)
	// More rows than the API gives at once (1000; 7 here): the table
	// follows the cursor, and the rows are the API's, in its order.
	b.eval("API pages of 7", `apiPage = 7; refresh(); true`, nil)
	var byName struct{ Tenants []tenant }
	getJSON(t, srv.url+"/v1/tenants?sort=name&order=asc&limit=20", &byName)
	b.run("sort by name", chromedp.Click(`th button[data-sort="name"]`))
	b.waitJS("20 rows by name", fmt.Sprintf(`document.querySelectorAll("#tenants tbody tr").length === 20 && document.querySelector("#tenants tbody tr:last-child").dataset.id === %q`, byName.Tenants[19].ID))
	var ids []string
	b.eval("read the ids", `[...document.querySelectorAll("#tenants tbody tr")].map((r) => r.dataset.id)`, &ids)
	for i, tn := range byName.Tenants {
		if i >= len(ids) || ids[i] != tn.ID {
			t.Fatalf("20 rows read 7 at a time, by name: %v; the API lists %s at row %d", ids, tn.ID, i+1)
		}
	}
	b.eval("API pages of 1000, the first sort", `apiPage = 1000; state.sort = "jobs30d"; state.order = "desc"; refresh(); true`, nil)
	b.eval("all rows", `state.page = state.rows = 500; refresh(); true`, nil)
	b.waitJS("every row", fmt.Sprintf(`document.querySelectorAll("#tenants tbody tr").length === %d && document.querySelector("#t-more").hidden`, list.Total))

	// Sort by jobs in 30 days, ascending (a second click), and compare with the API's order.
	b.run("sort by jobs30d", chromedp.Click(`th button[data-sort="jobs30d"]`))
	b.waitJS("ascending jobs30d", `document.querySelector('th[aria-sort="ascending"] button[data-sort="jobs30d"]') !== null`)
	// Both read afresh until they agree: a day ending in between moves
	// the 30-day window.
	waitFor(t, 10*time.Second, 200*time.Millisecond, func() error {
		var now struct{ Tenants []tenant }
		getJSON(t, srv.url+"/v1/tenants?limit=1000", &now)
		byJobs := slices.Clone(now.Tenants)
		slices.SortStableFunc(byJobs, func(a, b tenant) int {
			if a.Jobs30d != b.Jobs30d {
				return int(a.Jobs30d - b.Jobs30d)
			}
			return strings.Compare(a.ID, b.ID)
		})
		got := rows(5)
		for i, tn := range byJobs {
			if i >= len(got) || number(got[i]) != tn.Jobs30d {
				return fmt.Errorf("sorted by jobs30d ascending the table reads %v; the API's tenants give %d at row %d", got, tn.Jobs30d, i+1)
			}
		}
		return nil
	})
	// The keyboard: focus the Name header and press Enter.
	b.run("sort by name with the keyboard", chromedp.Focus(`th button[data-sort="name"]`), chromedp.KeyEvent(kb.Enter))
	b.waitJS("ascending names", `document.querySelector('th[aria-sort="ascending"] button[data-sort="name"]') !== null`)
	names := rows(1)
	if !slices.IsSorted(names) || len(names) != len(list.Tenants) { // the API's order: byte by byte
		t.Errorf("sorted by name the table reads %v", names)
	}

	// Filter by an industry: the rows are the API's tenants of it.
	industry := list.Tenants[0].Industry
	var filtered struct{ Total int }
	getJSON(t, srv.url+"/v1/tenants?industry="+industry, &filtered)
	b.eval("filter by industry", fmt.Sprintf(`(() => { const s = document.querySelector("#f-industry"); s.value = %q; s.dispatchEvent(new Event("change")); return true; })()`, industry), nil)
	b.waitJS("the industry filter", fmt.Sprintf(`document.querySelectorAll("#tenants tbody tr").length === %d`, filtered.Total))
	for _, ind := range rows(2) {
		if ind != industry {
			t.Errorf("filtered by %s the table lists a tenant of %s", industry, ind)
		}
	}
	// Search by part of a name, within the industry.
	target := list.Tenants[0]
	part := strings.ToLower(strings.Fields(target.Name)[0])
	b.run("search", chromedp.SendKeys("#f-q", part))
	b.waitJS("the search", fmt.Sprintf(`[...document.querySelectorAll("#tenants tbody tr")].every(r => r.children[0].innerText.toLowerCase().includes(%q)) && document.querySelector('#tenants tbody tr[data-id=%q]') !== null`, part, target.ID))

	// Click the tenant: its page, with charts.
	b.run("open the tenant", chromedp.Click(fmt.Sprintf(`#tenants tbody tr[data-id=%q] a`, target.ID)))
	b.waitJS("the tenant page", fmt.Sprintf(`location.hash === %q && document.querySelector("#t-name").innerText.includes(%q) && document.querySelector("#c-tdays canvas") !== null && document.querySelector("#c-tdays canvas").width > 0 && document.querySelector("#t-risk .band") !== null`,
		"#/tenant/"+target.ID, target.Name))
	b.shot("tenant")

	// A new event shows without a reload.
	b.eval("mark the page", `window.__noReload = true`, nil)
	logins := b.text("#t-logins")
	ev := fmt.Sprintf(`{"specversion":"1.0","id":"dash-%d","source":"urn:test","type":"user.login","time":%q,"tenantid":%q,"data":{"userId":"u-0001","sessionId":"s-dash"}}`,
		time.Now().UnixNano(), time.Now().UTC().Format(time.RFC3339Nano), target.ID)
	postUntilAnswered(t, hc, srv.url, []byte(ev+"\n"))
	b.waitJS("the new login", fmt.Sprintf(`window.__noReload === true && document.querySelector("#t-logins").innerText.replace(/,/g, "") === "%d"`, number(logins)+1))

	// The other pages.
	b.run("the risk page", chromedp.Navigate(srv.url+"/#/risk"))
	b.waitJS("the risk page", `document.querySelectorAll("#risky tbody tr .band").length > 0 && document.querySelector("#c-pace canvas") !== null`)
	// Its tables are the API's: live tenants by risk, and by jobsTrend
	// (those with jobs in 90 days).
	column := func(table string) []string {
		var out []string
		b.eval("read "+table, fmt.Sprintf(`[...document.querySelectorAll("#%s tbody tr")].map(r => r.children[0].innerText.trim())`, table), &out)
		return out
	}
	var risky, slow struct {
		Tenants []struct {
			ID, Name string
			Jobs90d  int64
			Risk     *struct{ Score float64 }
		}
	}
	getJSON(t, srv.url+"/v1/tenants?status=live&sort=risk&order=desc&limit=30", &risky)
	getJSON(t, srv.url+"/v1/tenants?status=live&sort=jobsTrend&order=asc&limit=15", &slow)
	var wantRisky, wantSlow []string
	for _, tn := range risky.Tenants {
		if tn.Risk != nil {
			wantRisky = append(wantRisky, tn.Name)
		}
	}
	for _, tn := range slow.Tenants {
		if tn.Jobs90d > 0 {
			wantSlow = append(wantSlow, tn.Name)
		}
	}
	if got := column("risky"); !slices.Equal(got, wantRisky) {
		t.Errorf("the risk page lists %v by risk; the API says %v", got, wantRisky)
	}
	if got := column("pace"); !slices.Equal(got, wantSlow) || len(got) == 0 {
		t.Errorf("the risk page lists %v below pace; the API says %v", got, wantSlow)
	}
	b.shot("risk")
	b.run("the model page", chromedp.Navigate(srv.url+"/#/model"))
	b.waitJS("the model page", fmt.Sprintf(`document.querySelector("#m-auc") && document.querySelector("#m-auc").innerText === %q && document.querySelector("#c-roc canvas") !== null`, strconv.FormatFloat(m.Metrics.AUC, 'f', 4, 64)))
	b.shot("model")
	b.run("the system page", chromedp.Navigate(srv.url+"/#/system"))
	b.waitJS("the system page", `document.querySelectorAll("#proc tbody tr").length === 4 && document.querySelectorAll("#streams tbody tr").length >= 4`)
	// The writes chart has the last minute from its first answer: the
	// login posted above is in it.
	b.waitJS("the writes of the last minute", `charts.get("c-rate") !== undefined && charts.get("c-rate").data[0].length >= 60 && charts.get("c-rate").data[1].some((n) => n > 0)`)
	b.shot("system")

	// A phone's width: nothing wider than the screen but the table, which scrolls.
	b.run("phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(srv.url+"/#/"))
	b.waitJS("the overview on a phone", `document.querySelectorAll("#tenants tbody tr").length > 0`)
	var overflow bool
	b.eval("measure", `document.documentElement.scrollWidth > window.innerWidth + 1`, &overflow)
	if overflow {
		t.Error("at 390 px the page is wider than the screen")
	}
	b.shot("overview-phone")

	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("the pages logged errors:\n%s", strings.Join(errs, "\n"))
	}
	t.Logf("screenshots in %s", b.shots)
}
