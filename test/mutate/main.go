// Command mutate checks that the tests catch the bugs listed in
// mutations.go: it copies the repository's files (tracked and untracked,
// not ignored) to a temporary directory, runs each mutation's tests there
// unmutated (they must pass), applies the mutation, runs them again (they
// must fail), and prints a table. It exits 1 when a mutation survives or
// a baseline fails. The working tree is never changed.
//
//	go run ./test/mutate           # every mutation
//	go run ./test/mutate -only dedupe
//
// docs/testing.md describes it.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

type mutation struct {
	name     string
	file     string   // relative to the repository's root
	from, to string   // exact snippet, found exactly once, and its replacement
	pkgs     []string // packages whose tests must catch it
	run      string   // go test -run pattern; "" for all of the packages' tests
}

func main() {
	only := flag.String("only", "", "run only the mutations whose name contains this")
	keep := flag.Bool("keep", false, "keep the temporary copy (its path is printed)")
	flag.Parse()
	root, err := gitOutput("", "rev-parse", "--show-toplevel")
	if err != nil {
		fatal("not in a git repository: %v", err)
	}
	root = strings.TrimSpace(root)
	tmp, err := os.MkdirTemp("", "tenantpulse-mutate-")
	if err != nil {
		fatal("%v", err)
	}
	if *keep {
		fmt.Println("copy:", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	if err := copyRepo(root, tmp); err != nil {
		fatal("cannot copy the repository: %v", err)
	}
	failed := false
	fmt.Printf("%-9s %6s  %s\n", "RESULT", "TIME", "MUTATION")
	for _, m := range mutations {
		if !strings.Contains(m.name, *only) {
			continue
		}
		start := time.Now()
		result, detail := check(tmp, m)
		if result != "caught" {
			failed = true
		}
		fmt.Printf("%-9s %5.1fs  %s (%s)\n", result, time.Since(start).Seconds(), m.name, m.file)
		if detail != "" {
			fmt.Println(indent(detail))
		}
	}
	if failed {
		os.Exit(1)
	}
}

// check runs m's tests in the copy at dir before and after applying it.
func check(dir string, m mutation) (result, detail string) {
	path := filepath.Join(dir, m.file)
	orig, err := os.ReadFile(path)
	if err != nil {
		return "error", err.Error()
	}
	if n := bytes.Count(orig, []byte(m.from)); n != 1 {
		return "error", fmt.Sprintf("the snippet occurs %d times in %s; it must occur once (the code changed: update mutations.go)\n%s", n, m.file, m.from)
	}
	if out, err := goTest(dir, m); err != nil {
		return "baseline", "the tests fail without the mutation:\n" + tail(out, 15)
	}
	mutated := bytes.Replace(orig, []byte(m.from), []byte(m.to), 1)
	if err := os.WriteFile(path, mutated, 0o644); err != nil {
		return "error", err.Error()
	}
	defer os.WriteFile(path, orig, 0o644)
	out, err := goTest(dir, m)
	if err == nil {
		return "SURVIVED", "no test failed"
	}
	if strings.Contains(out, "[build failed]") || strings.Contains(out, "[setup failed]") {
		return "error", "the mutation does not build:\n" + tail(out, 15)
	}
	return "caught", firstFailure(out)
}

func goTest(dir string, m mutation) (string, error) {
	args := []string{"test", "-count=1", "-timeout", "5m"}
	if m.run != "" {
		args = append(args, "-run", m.run)
	}
	args = append(args, m.pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// copyRepo copies the files git knows of (tracked, and untracked but not
// ignored) from root to dst, so uncommitted changes are tested too.
func copyRepo(root, dst string) error {
	list, err := gitOutput(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	if err != nil {
		return err
	}
	for _, name := range strings.Split(list, "\x00") {
		if name == "" {
			continue
		}
		src := filepath.Join(root, name)
		fi, err := os.Lstat(src)
		if err != nil || !fi.Mode().IsRegular() {
			continue // deleted in the working tree, or not a plain file
		}
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		p := filepath.Join(dst, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, fi.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}

func gitOutput(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	return string(out), err
}

// firstFailure returns the first lines that say what failed.
func firstFailure(out string) string {
	for _, l := range strings.Split(out, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "--- FAIL") {
			return t
		}
	}
	return ""
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func indent(s string) string { return "          " + strings.ReplaceAll(s, "\n", "\n          ") }

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "mutate: "+format+"\n", args...)
	os.Exit(2)
}
