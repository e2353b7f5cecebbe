package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/tenantpulse/tenantpulse/internal/model"
	"github.com/tenantpulse/tenantpulse/internal/sim"
)

// chromiumPath is Debian's chromium, installed by make deps.
const chromiumPath = "/usr/bin/chromium"

// TestDashboard drives the dashboard in Chromium against a server fed by
// the simulator, with a model deployed: the overview's numbers equal the
// API's, the tenants table sorts (by mouse and keyboard) and filters, a
// tenant's page draws its charts and shows a new event without a reload,
// the other pages render, a phone-width page does not overflow, and no
// page logs a console error. Screenshots of every page go to
// test/e2e/screenshots.
func TestDashboard(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("Chromium from Debian's chromium package is needed at %s (run make deps): %v", chromiumPath, err)
	}
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
	g := sim.New(sim.Config{Seed: 17, Tenants: 30, Start: now.AddDate(0, 0, -45)})
	hc := &http.Client{Timeout: 30 * time.Second}
	var body []byte
	for n := 1; ; n++ {
		p, ok := g.Peek()
		if !ok || p.Time > now.UnixNano() || n%10000 == 0 {
			postUntilAnswered(t, hc, srv.url, body)
			body = body[:0]
		}
		if !ok || p.Time > now.UnixNano() {
			break
		}
		body, _, _ = g.Next(body)
		body = append(body, '\n')
	}
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

	shots := filepath.Join(repoRoot(t), "test", "e2e", "screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromiumPath), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx) // no timeout: it would stop the browser (chromedp.Run)
	defer cancel()
	var mu sync.Mutex
	var consoleErrors []string
	listenErr := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				consoleErrors = append(consoleErrors, "console."+string(ev.Type)+": "+strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			consoleErrors = append(consoleErrors, fmt.Sprintf("exception: %s %v", ev.ExceptionDetails.Text, ev.ExceptionDetails.Exception))
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError {
				consoleErrors = append(consoleErrors, "log: "+ev.Entry.Text+" "+ev.Entry.URL)
			}
		}
	})
	if listenErr != nil {
		t.Fatal(listenErr)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	// step bounds one browser step after the first.
	step := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, 30*time.Second) }
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		c, cancel := step()
		defer cancel()
		if err := chromedp.Do(c, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(what, js string, out any) {
		t.Helper()
		c, cancel := step()
		defer cancel()
		v, err := chromedp.Run(c, chromedp.Evaluate[json.RawMessage](js))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if out != nil {
			if err := json.Unmarshal(v, out); err != nil {
				t.Fatalf("%s: %s: %v", what, v, err)
			}
		}
	}
	text := func(sel string) string {
		t.Helper()
		var s string
		eval("read "+sel, fmt.Sprintf(`document.querySelector(%q).innerText`, sel), &s)
		return s
	}
	shot := func(name string) {
		t.Helper()
		c, cancel := step()
		defer cancel()
		buf, err := chromedp.Run(c, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// waitJS polls a JavaScript condition, failing with what it last saw.
	waitJS := func(what, cond string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			c, cancel := step()
			ok, err := chromedp.Run(c, chromedp.Evaluate[bool](cond))
			cancel()
			if err == nil && ok {
				return
			}
			if time.Now().After(deadline) {
				var html string
				eval("the page", `document.querySelector("main").innerText.slice(0, 2000)`, &html)
				t.Fatalf("%s: %s never held (%v); the page shows:\n%s", what, cond, err, html)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// rows returns the text of column col (1-based) of the tenants table.
	rows := func(col int) []string {
		t.Helper()
		var out []string
		eval("read the table", fmt.Sprintf(`[...document.querySelectorAll("#tenants tbody tr")].map(r => r.children[%d].innerText.trim())`, col-1), &out)
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
	run("open the overview", chromedp.Navigate(srv.url+"/"))
	waitJS("the overview", `document.querySelectorAll("#tenants tbody tr").length > 0 && document.querySelector("#c-jobs canvas") !== null`)
	tenantsText, usersText, countText := text("#n-tenants"), text("#n-users"), text("#t-count")
	if number(tenantsText) != summary.Tenants || number(usersText) != summary.Users {
		t.Errorf("the overview shows %s tenants and %s users; /v1/summary says %d and %d", tenantsText, usersText, summary.Tenants, summary.Users)
	}
	if want := fmt.Sprintf("%d of %d tenants", list.Total, list.Total); countText != want {
		t.Errorf("the table says %q, want %q", countText, want)
	}
	shot("overview")

	// Sort by jobs in 30 days, ascending (a second click), and compare with the API's order.
	run("sort by jobs30d", chromedp.Click(`th button[data-sort="jobs30d"]`))
	waitJS("ascending jobs30d", `document.querySelector('th[aria-sort="ascending"] button[data-sort="jobs30d"]') !== null`)
	byJobs := slices.Clone(list.Tenants)
	slices.SortStableFunc(byJobs, func(a, b tenant) int {
		if a.Jobs30d != b.Jobs30d {
			return int(a.Jobs30d - b.Jobs30d)
		}
		return strings.Compare(a.ID, b.ID)
	})
	got := rows(5)
	for i, tn := range byJobs {
		if i >= len(got) || number(got[i]) != tn.Jobs30d {
			t.Fatalf("sorted by jobs30d ascending the table reads %v; the API's tenants give %d at row %d", got, tn.Jobs30d, i+1)
		}
	}
	// The keyboard: focus the Name header and press Enter.
	run("sort by name with the keyboard", chromedp.Focus(`th button[data-sort="name"]`), chromedp.KeyEvent(kb.Enter))
	waitJS("ascending names", `document.querySelector('th[aria-sort="ascending"] button[data-sort="name"]') !== null`)
	names := rows(1)
	if !slices.IsSortedFunc(names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) }) || len(names) != len(list.Tenants) {
		t.Errorf("sorted by name the table reads %v", names)
	}

	// Filter by an industry: the rows are the API's tenants of it.
	industry := list.Tenants[0].Industry
	var filtered struct{ Total int }
	getJSON(t, srv.url+"/v1/tenants?industry="+industry, &filtered)
	eval("filter by industry", fmt.Sprintf(`(() => { const s = document.querySelector("#f-industry"); s.value = %q; s.dispatchEvent(new Event("change")); return true; })()`, industry), nil)
	waitJS("the industry filter", fmt.Sprintf(`document.querySelectorAll("#tenants tbody tr").length === %d`, filtered.Total))
	for _, ind := range rows(2) {
		if ind != industry {
			t.Errorf("filtered by %s the table lists a tenant of %s", industry, ind)
		}
	}
	// Search by part of a name, within the industry.
	target := list.Tenants[0]
	part := strings.ToLower(strings.Fields(target.Name)[0])
	run("search", chromedp.SendKeys("#f-q", part))
	waitJS("the search", fmt.Sprintf(`[...document.querySelectorAll("#tenants tbody tr")].every(r => r.children[0].innerText.toLowerCase().includes(%q)) && document.querySelector('#tenants tbody tr[data-id=%q]') !== null`, part, target.ID))

	// Click the tenant: its page, with charts.
	run("open the tenant", chromedp.Click(fmt.Sprintf(`#tenants tbody tr[data-id=%q] a`, target.ID)))
	waitJS("the tenant page", fmt.Sprintf(`location.hash === %q && document.querySelector("#t-name").innerText.includes(%q) && document.querySelector("#c-tdays canvas") !== null && document.querySelector("#c-tdays canvas").width > 0 && document.querySelector("#t-risk .band") !== null`,
		"#/tenant/"+target.ID, target.Name))
	shot("tenant")

	// A new event shows without a reload.
	eval("mark the page", `window.__noReload = true`, nil)
	logins := text("#t-logins")
	ev := fmt.Sprintf(`{"specversion":"1.0","id":"dash-%d","source":"urn:test","type":"user.login","time":%q,"tenantid":%q,"data":{"userId":"u-0001","sessionId":"s-dash"}}`,
		time.Now().UnixNano(), time.Now().UTC().Format(time.RFC3339Nano), target.ID)
	postUntilAnswered(t, hc, srv.url, []byte(ev+"\n"))
	waitJS("the new login", fmt.Sprintf(`window.__noReload === true && document.querySelector("#t-logins").innerText.replace(/,/g, "") === "%d"`, number(logins)+1))

	// The other pages.
	run("the risk page", chromedp.Navigate(srv.url+"/#/risk"))
	waitJS("the risk page", `document.querySelectorAll("#risky tbody tr .band").length > 0 && document.querySelector("#c-pace canvas") !== null`)
	shot("risk")
	run("the model page", chromedp.Navigate(srv.url+"/#/model"))
	waitJS("the model page", fmt.Sprintf(`document.querySelector("#m-auc") && document.querySelector("#m-auc").innerText === %q && document.querySelector("#c-roc canvas") !== null`, strconv.FormatFloat(m.Metrics.AUC, 'f', 4, 64)))
	shot("model")
	run("the system page", chromedp.Navigate(srv.url+"/#/system"))
	waitJS("the system page", `document.querySelectorAll("#proc tbody tr").length === 4 && document.querySelectorAll("#streams tbody tr").length >= 4`)
	shot("system")

	// A phone's width: nothing wider than the screen but the table, which scrolls.
	run("phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(srv.url+"/#/"))
	waitJS("the overview on a phone", `document.querySelectorAll("#tenants tbody tr").length > 0`)
	var overflow bool
	eval("measure", `document.documentElement.scrollWidth > window.innerWidth + 1`, &overflow)
	if overflow {
		t.Error("at 390 px the page is wider than the screen")
	}
	shot("overview-phone")

	mu.Lock()
	defer mu.Unlock()
	if len(consoleErrors) > 0 {
		t.Errorf("the pages logged errors:\n%s", strings.Join(consoleErrors, "\n"))
	}
	t.Logf("screenshots in %s", shots)
}
