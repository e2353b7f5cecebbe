package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium, installed by make deps.
const chromiumPath = "/usr/bin/chromium"

// browser is a headless Chromium driven by chromedp for one test, with
// the console errors and exceptions of its pages recorded and a folder for
// screenshots (test/e2e/screenshots).
type browser struct {
	t      *testing.T
	ctx    context.Context
	shots  string
	mu     sync.Mutex
	errors []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("Chromium from Debian's chromium package is needed at %s (run make deps): %v", chromiumPath, err)
	}
	b := &browser{t: t, shots: filepath.Join(repoRoot(t), "test", "e2e", "screenshots")}
	if err := os.MkdirAll(b.shots, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromiumPath), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx) // no timeout: it would stop the browser (chromedp.Run)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b.ctx = ctx
	err := chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				msg := "console." + string(ev.Type) + ":"
				for _, a := range ev.Args {
					msg += " " + string(a.Value) + a.Description
				}
				b.errors = append(b.errors, msg)
			}
		case *runtime.EventExceptionThrown:
			b.errors = append(b.errors, fmt.Sprintf("exception: %s %v", ev.ExceptionDetails.Text, ev.ExceptionDetails.Exception))
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError {
				b.errors = append(b.errors, "log: "+ev.Entry.Text+" "+ev.Entry.URL)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return b
}

// step bounds one browser step after the first.
func (b *browser) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, 30*time.Second)
}

func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	c, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(c, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates js and decodes its value into out (nil: ignored).
func (b *browser) eval(what, js string, out any) {
	b.t.Helper()
	c, cancel := b.step()
	defer cancel()
	v, err := chromedp.Run(c, chromedp.Evaluate[json.RawMessage](js))
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	if out != nil {
		if err := json.Unmarshal(v, out); err != nil {
			b.t.Fatalf("%s: %s: %v", what, v, err)
		}
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	var s string
	b.eval("read "+sel, fmt.Sprintf(`document.querySelector(%q).innerText`, sel), &s)
	return s
}

// shot saves a screenshot of the whole page as <name>.png.
func (b *browser) shot(name string) {
	b.t.Helper()
	c, cancel := b.step()
	defer cancel()
	buf, err := chromedp.Run(c, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// waitJS polls a JavaScript condition for 20 s, failing with what the page
// last showed.
func (b *browser) waitJS(what, cond string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, cancel := b.step()
		ok, err := chromedp.Run(c, chromedp.Evaluate[bool](cond))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			var html string
			b.eval("the page", `document.querySelector("main").innerText.slice(0, 2000)`, &html)
			b.t.Fatalf("%s: %s never held (%v); the page shows:\n%s", what, cond, err, html)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// consoleErrors returns the errors the pages logged so far.
func (b *browser) consoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}
