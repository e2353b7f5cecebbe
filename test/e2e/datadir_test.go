package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/sim"
)

// TestDataDirOneWriter runs a server on a data directory and tries every
// other command that writes one on it while it runs: serve (on a free
// port, so only the lock can stop it), demo and archive compact each exit
// non-zero at once, name the server's pid, and leave every file and
// directory as it was (path, size, modification time, SHA-256). archive ls
// and archive verify work beside it and write nothing either. The server
// then writes more, restarts cleanly with every record (before the lock, a
// second serve added segments that made the first one's restart fail), and
// after kill -9 a new server starts on the directory at once: the lock
// died with its holder.
func TestDataDirOneWriter(t *testing.T) {
	dataDir := t.TempDir()
	// Archive files within moments; no metrics snapshots and no periodic
	// analytics checkpoints once caught up, so the running server leaves
	// the directory alone while the others are tried.
	args := []string{"--archive-file-age", "200ms", "--checkpoint-interval", "100ms", "--snapshot-interval", "1h"}
	srv := startServerIn(t, dataDir, args...)
	pid := srv.cmd.Process.Pid
	api := &rawAPI{t: t, url: srv.url}
	api.call("CreateStream", `{"StreamName":"ledger","ShardCount":2}`, nil)
	var acked []string
	putLedger := func(n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			d := fmt.Sprintf("ledger-%04d", len(acked))
			api.call("PutRecord", fmt.Sprintf(`{"StreamName":"ledger","PartitionKey":"k%d","Data":%q}`, i, base64.StdEncoding.EncodeToString([]byte(d))), nil)
			acked = append(acked, d)
		}
	}
	putLedger(20)
	// Events, so the archive has files for ls and verify to read.
	postRecentEvents(t, srv.url, 7, 200)
	waitFor(t, time.Minute, 100*time.Millisecond, func() error {
		out := runCmd(t, time.Minute, "", os.Environ(), binary(t), "archive", "verify", "--data", dataDir)
		if !strings.Contains(out, "200 rows") {
			return fmt.Errorf("archive verify: %s", out)
		}
		return nil
	})
	// The server is done writing when two looks at the directory agree.
	var before map[string]string
	waitFor(t, time.Minute, 500*time.Millisecond, func() error {
		now := dirState(t, dataDir)
		if d := diffState(before, now); before == nil || d != "" {
			before = now
			return fmt.Errorf("the server is still writing: %s", d)
		}
		return nil
	})

	refused := func(name string, cmdArgs ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		out, err := exec.CommandContext(ctx, binary(t), cmdArgs...).CombinedOutput()
		var ee *exec.ExitError
		if ctx.Err() != nil || !errors.As(err, &ee) || ee.ExitCode() == 0 {
			t.Fatalf("%s on a data directory in use: %v (want a non-zero exit at once)\n%s", name, err, out)
		}
		for _, want := range []string{fmt.Sprintf("pid %d", pid), "serve", "in use"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("%s's refusal does not say %q:\n%s", name, want, out)
			}
		}
		if d := diffState(before, dirState(t, dataDir)); d != "" {
			t.Fatalf("%s, refused, changed the data directory: %s\n%s", name, d, out)
		}
	}
	refused("serve", "serve", "--listen", "127.0.0.1:0", "--data", dataDir)
	refused("serve on the same port", "serve", "--listen", srv.addr, "--data", dataDir)
	refused("demo", "demo", "--listen", "127.0.0.1:0", "--data", dataDir, "--tenants", "5")
	refused("archive compact", "archive", "compact", "--data", dataDir)

	// Readers work beside the server and write nothing.
	if out := runCmd(t, time.Minute, "", os.Environ(), binary(t), "archive", "ls", "--data", dataDir); !strings.Contains(out, "events/stream=") {
		t.Errorf("archive ls beside the server lists no events files:\n%s", out)
	}
	if out := runCmd(t, time.Minute, "", os.Environ(), binary(t), "archive", "verify", "--data", dataDir); !strings.Contains(out, "200 rows") || !strings.Contains(out, ": 0 problems") {
		t.Errorf("archive verify beside the server: %s", out)
	}
	if d := diffState(before, dirState(t, dataDir)); d != "" {
		t.Fatalf("archive ls or verify changed the data directory: %s", d)
	}

	// The server was not disturbed: it writes on and restarts cleanly.
	putLedger(20)
	srv.stop()
	srv = startServerIn(t, dataDir, args...)
	api.url = srv.url
	if got := api.readStream("ledger"); !sameRecords(got, acked) {
		t.Fatalf("after the restart, ledger holds %d records, %d were acknowledged; %s", len(got), len(acked), diffRecords(got, acked))
	}
	// A crash leaves no lock behind.
	putLedger(5)
	srv.kill9()
	srv = startServerIn(t, dataDir, args...)
	api.url = srv.url
	if got := api.readStream("ledger"); !sameRecords(got, acked) {
		t.Fatalf("after kill -9, ledger holds %d records, %d were acknowledged; %s", len(got), len(acked), diffRecords(got, acked))
	}
	if !strings.Contains(srv.log.String(), "listening on") {
		t.Fatalf("the server after kill -9 did not start:\n%s", srv.log.String())
	}
}

// TestArchiveReadersWriteNothing runs archive ls, archive verify and
// train --labels on a directory that holds no archive: each says so and
// exits non-zero, and none creates anything.
func TestArchiveReadersWriteNothing(t *testing.T) {
	empty := t.TempDir()
	labels := filepath.Join(t.TempDir(), "labels.csv")
	if err := os.WriteFile(labels, []byte("tenantid,churned\na,1\nb,0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"archive", "ls", "--data", empty},
		{"archive", "verify", "--data", empty},
		{"train", "--labels", labels, "--data", empty, "--out", filepath.Join(t.TempDir(), "m.json")},
	} {
		out, err := exec.Command(binary(t), args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "no archive at "+filepath.Join(empty, "buckets")) {
			t.Errorf("%s on a directory without an archive: %v\n%s", strings.Join(args[:2], " "), err, out)
		}
		if entries, _ := os.ReadDir(empty); len(entries) > 0 {
			t.Fatalf("%s created %s in the directory it reads", strings.Join(args[:2], " "), entries[0].Name())
		}
	}
}

// postRecentEvents posts n events of a simulated business of five
// tenants (seed), dated over the last two days, until all are answered.
func postRecentEvents(t *testing.T, url string, seed uint64, n int) {
	t.Helper()
	g := sim.New(sim.Config{Seed: seed, Tenants: 5, Start: time.Now().UTC().Add(-48 * time.Hour)})
	var body []byte
	for range n {
		var ok bool
		if body, _, ok = g.Next(body); !ok {
			t.Fatal("the simulator ran out of events")
		}
		body = append(body, '\n')
	}
	postUntilAnswered(t, &http.Client{Timeout: 10 * time.Second}, url, body)
}

// dirState describes every file and directory under dir: type, size,
// modification time and, for files, the SHA-256 of the content.
func dirState(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		desc := fmt.Sprintf("%s size %d mtime %s", info.Mode().Type(), info.Size(), info.ModTime().Format(time.RFC3339Nano))
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			desc += " sha256 " + hex.EncodeToString(sum[:8])
		}
		out[rel] = desc
		return nil
	})
	if err != nil {
		t.Fatalf("cannot list %s: %v", dir, err)
	}
	return out
}

// diffState lists what differs between two dirStates ("" if nothing).
func diffState(before, after map[string]string) string {
	var d []string
	for p, b := range before {
		if a, ok := after[p]; !ok {
			d = append(d, "removed "+p)
		} else if a != b {
			d = append(d, fmt.Sprintf("changed %s: %s -> %s", p, b, a))
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			d = append(d, "added "+p)
		}
	}
	sort.Strings(d)
	return strings.Join(d, "; ")
}
