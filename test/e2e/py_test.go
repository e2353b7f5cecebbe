package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// debianPython is Debian's python3, which has python3-boto3; a pyenv
// python may come first on PATH.
const debianPython = "/usr/bin/python3"

// TestBoto3Smoke runs test/py/smoke.py: boto3 from Debian's python3-boto3
// puts records, reads every shard from TRIM_HORIZON and checks them byte
// for byte.
func TestBoto3Smoke(t *testing.T) {
	if _, err := os.Stat(debianPython); err != nil {
		t.Fatalf("%s is needed (run make deps): %v", debianPython, err)
	}
	script := filepath.Join(repoRoot(t), "test", "py", "smoke.py")
	srv := startServer(t)
	out := runCmd(t, 2*time.Minute, "", clientEnv(t), debianPython, script, srv.url)
	if !strings.Contains(out, "py smoke:") {
		t.Fatalf("smoke.py exited 0 without its summary line:\n%s", out)
	}
	t.Log(strings.TrimSpace(out))
}
