// Package dashboard owns the web dashboard: the page served at GET / and
// its assets under /ui/, embedded in the binary. The page is plain HTML,
// CSS and JavaScript over the public /v1 API (no private back door), with
// charts by uPlot, which `make web` copies from npm's package into
// assets/vendor before the build (it is not in the repository).
package dashboard

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed all:assets
var assets embed.FS

// files is the assets folder's content.
var files, _ = fs.Sub(assets, "assets")

// Charts reports whether the binary holds uPlot (make web ran before the
// build); without it the page says the charts are unavailable.
func Charts() bool {
	_, err := fs.Stat(files, "vendor/uPlot.iife.min.js")
	return err == nil
}

// Register adds GET /ui/ (the assets) to mux. The page itself is Index, for
// the caller's GET / route.
func Register(mux *http.ServeMux) {
	fileServer := http.StripPrefix("/ui/", http.FileServerFS(files))
	mux.Handle("GET /ui/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		fileServer.ServeHTTP(w, r)
	}))
}

// WantsPage reports whether a GET / asks for a page (a browser) rather
// than text (curl): its Accept names text/html.
func WantsPage(r *http.Request) bool { return strings.Contains(r.Header.Get("Accept"), "text/html") }

// Index serves the dashboard's page.
func Index(w http.ResponseWriter, r *http.Request) {
	b, err := fs.ReadFile(files, "index.html")
	if err != nil {
		http.Error(w, "the dashboard is missing from this binary", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}
