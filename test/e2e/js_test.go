package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestJSSDKSmoke runs test/js/smoke.mjs: the AWS SDK for JavaScript v3
// (@aws-sdk/client-kinesis) over HTTP/2 cleartext puts records, reads every
// shard from TRIM_HORIZON and checks them byte for byte. It fails, not
// skips, when node or test/js/node_modules is missing: make deps installs
// them.
func TestJSSDKSmoke(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "test", "js")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@aws-sdk", "client-kinesis")); err != nil {
		t.Fatalf("test/js/node_modules lacks @aws-sdk/client-kinesis; run make deps (npm ci in test/js): %v", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed: %v", err)
	}
	srv := startServer(t)
	out := runCmd(t, 2*time.Minute, dir, clientEnv(t), node, "smoke.mjs", srv.url)
	if !strings.Contains(out, "js smoke:") {
		t.Fatalf("smoke.mjs exited 0 without its summary line:\n%s", out)
	}
	t.Log(strings.TrimSpace(out))
}
