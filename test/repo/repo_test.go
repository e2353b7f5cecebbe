// Package repo checks the repository itself: that it stands alone. A user
// clones this repository and nothing beside it, so no test, benchmark,
// Makefile rule, script or document may reach a path outside it (the
// steering repository's shared folder in particular).
package repo

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// skipDirs are not the repository's own files.
var skipDirs = map[string]bool{".git": true, "node_modules": true, "bin": true, "data": true, "screenshots": true}

// textFiles are checked line by line for paths that leave the repository.
var textExt = map[string]bool{".md": true, ".sh": true, ".mjs": true, ".js": true, ".py": true, ".yaml": true, ".yml": true, ".json": false}

// sharedRef is how the steering repository's files are named.
var sharedRef = regexp.MustCompile(`(\.\./)+shared(/|\b)|"\.\.",\s*"shared"`)

// relPath finds relative paths that climb: ../x, ../../x.
var relPath = regexp.MustCompile(`(?:^|[\s"'(=\x60])((?:\.\./)+[A-Za-z0-9_.\-/]*)`)

// mdLink finds Markdown link targets.
var mdLink = regexp.MustCompile(`\]\(([^)#\s]+)`)

func TestNothingReachesOutsideTheRepository(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("cannot find the repository root at %s: %v", root, err)
	}
	checked := 0
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if skipDirs[d.Name()] && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		name := d.Name()
		switch {
		case strings.HasSuffix(name, ".go"):
			checked++
			checkGo(t, root, rel)
		case name == "Makefile" || rel == filepath.Join(".ci", "run") || textExt[filepath.Ext(name)]:
			checked++
			checkText(t, root, rel, strings.HasSuffix(name, ".md"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("checked only %d files under %s: is the walk broken?", checked, root)
	}
}

// outside reports whether target, relative to the directory dir (both
// relative to the repository root), lies outside the repository.
func outside(dir, target string) bool {
	p := filepath.Clean(filepath.Join(dir, target))
	return p == ".." || strings.HasPrefix(p, "../")
}

func checkGo(t *testing.T, root, rel string) {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(root, rel), nil, parser.SkipObjectResolution)
	if err != nil {
		t.Errorf("%s: %v", rel, err)
		return
	}
	dir := filepath.Dir(rel)
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BasicLit:
			if n.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(n.Value)
			if err != nil {
				return true
			}
			if sharedRef.MatchString(s) || (strings.HasPrefix(s, "../") && !strings.ContainsAny(s, " \n%") && outside(dir, s)) {
				t.Errorf("%s: %q reaches outside the repository; ship what it needs in the repository (see examples/data)", fset.Position(n.Pos()), s)
			}
		case *ast.CallExpr:
			// filepath.Join(repoRoot(t), "..", ...): a path above the root.
			sel, ok := n.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "Join" || len(n.Args) < 2 {
				return true
			}
			base, ok := n.Args[0].(*ast.CallExpr)
			if !ok {
				return true
			}
			if id, ok := base.Fun.(*ast.Ident); !ok || id.Name != "repoRoot" {
				return true
			}
			var parts []string
			for _, a := range n.Args[1:] {
				lit, ok := a.(*ast.BasicLit)
				if !ok {
					break
				}
				s, _ := strconv.Unquote(lit.Value)
				parts = append(parts, s)
			}
			if len(parts) > 0 && outside(".", filepath.Join(parts...)) {
				t.Errorf("%s: a path above the repository root (%q); ship what it needs in the repository", fset.Position(n.Pos()), parts)
			}
		}
		return true
	})
}

func checkText(t *testing.T, root, rel string, markdown bool) {
	t.Helper()
	f, err := os.Open(filepath.Join(root, rel))
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	dir := filepath.Dir(rel)
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if sharedRef.MatchString(text) {
			t.Errorf("%s:%d: names the steering repository's shared folder, which a clone does not have: %s", rel, line, strings.TrimSpace(text))
			continue
		}
		if markdown {
			for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
				if target := m[1]; !strings.Contains(target, "://") && outside(dir, target) {
					t.Errorf("%s:%d: the link %s leads outside the repository", rel, line, target)
				}
			}
			continue
		}
		// Makefile, scripts: relative paths are taken from the repository
		// root (make and .ci/run run there) or from the file's directory.
		for _, m := range relPath.FindAllStringSubmatch(text, -1) {
			if outside(".", m[1]) && outside(dir, m[1]) {
				t.Errorf("%s:%d: %s reaches outside the repository", rel, line, m[1])
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Errorf("%s: %v", rel, err)
	}
}
