package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/tenantpulse/tenantpulse/internal/objstore"
	"github.com/tenantpulse/tenantpulse/internal/sim"
)

// archivedRow is what the test checks of one archived event.
type archivedRow struct {
	id, tenant, stream, seq string
	time                    time.Time
}

// readArchive reads every events file under <data>/buckets with arrow-go,
// a Parquet reader independent of the one that wrote them, and checks each
// file is where its rows belong: the tenant's bucket, the stream's and the
// event date's partition.
func readArchive(t *testing.T, dataDir string) []archivedRow {
	t.Helper()
	root := filepath.Join(dataDir, "buckets")
	layout := objstore.Layout{Prefix: "tenantpulse-", Mode: "bucket"}
	var rows []archivedRow
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".parquet") || strings.HasPrefix(d.Name(), ".") || strings.Contains(path, "/errors/") || strings.Contains(path, "/metrics/") {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		parts := strings.Split(rel, string(filepath.Separator))
		// <bucket>/events/stream=<s>/dt=<date>/<file>
		if len(parts) != 5 || parts[1] != "events" || !strings.HasPrefix(parts[2], "stream=") || !strings.HasPrefix(parts[3], "dt=") {
			t.Errorf("unexpected archive path %s", rel)
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		tbl, err := pqarrow.ReadTable(context.Background(), bytes.NewReader(b), nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
		if err != nil {
			t.Errorf("arrow-go cannot read %s: %v", rel, err)
			return nil
		}
		defer tbl.Release()
		col := func(name string) arrow.Array {
			idx := tbl.Schema().FieldIndices(name)
			if len(idx) != 1 {
				t.Fatalf("%s has no column %s", rel, name)
			}
			ch := tbl.Column(idx[0]).Data().Chunks()
			if len(ch) != 1 {
				// Concatenate chunks.
				a, err := array.Concatenate(ch, memory.DefaultAllocator)
				if err != nil {
					t.Fatal(err)
				}
				return a
			}
			return ch[0]
		}
		ids, tenants, streams, seqs := col("id").(*array.String), col("tenantid").(*array.String), col("stream_name").(*array.String), col("sequence_number").(*array.String)
		times := col("time").(*array.Timestamp)
		unit := times.DataType().(*arrow.TimestampType).Unit
		for i := 0; i < ids.Len(); i++ {
			r := archivedRow{id: ids.Value(i), tenant: tenants.Value(i), stream: streams.Value(i), seq: seqs.Value(i),
				time: times.Value(i).ToTime(unit).UTC()}
			if bucket, _ := layout.Tenant(r.tenant); bucket != parts[0] {
				t.Errorf("%s: a row of tenant %s, whose bucket is %s", rel, r.tenant, bucket)
			}
			if "stream="+r.stream != parts[2] || "dt="+r.time.Format(time.DateOnly) != parts[3] {
				t.Errorf("%s: a row of stream %s at %s", rel, r.stream, r.time)
			}
			rows = append(rows, r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestArchiveKill9ExactlyOnce sends a simulated business to the event API
// while the server, archiving with small files, is killed with SIGKILL at
// random points and restarted. After a clean stop, the archive read with
// arrow-go holds every event exactly once, each in its tenant's bucket and
// its partition.
func TestArchiveKill9ExactlyOnce(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	dataDir := t.TempDir()
	// Files of about twenty records: many partitions get several, so the
	// compaction below has merges to be killed in, however fast the
	// machine sends.
	args := []string{"--archive-file-bytes", "4096", "--archive-file-age", "100ms"}
	srv := startServerIn(t, dataDir, args...)
	g := sim.New(sim.Config{Seed: seed % 1000, Tenants: 25, Start: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)})
	hc := &http.Client{Timeout: 10 * time.Second}
	const total = 60_000
	sent := map[string]bool{}
	nextKill, kills := 5000+rng.IntN(15000), 0
	var body []byte
	for len(sent) < total {
		n := min(1+rng.IntN(800), total-len(sent))
		body = body[:0]
		for range n {
			var ok bool
			start := len(body)
			if body, _, ok = g.Next(body); !ok {
				t.Fatal("the simulator ran out of events")
			}
			var e struct{ ID string }
			json.Unmarshal(body[start:], &e)
			sent[e.ID] = true
			body = append(body, '\n')
		}
		postUntilAnswered(t, hc, srv.url, body)
		if len(sent) >= nextKill && kills < 5 {
			time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
			srv.kill9()
			kills++
			srv = startServerIn(t, dataDir, args...)
			nextKill = len(sent) + 5000 + rng.IntN(20000)
		}
	}
	// A clean stop stores the open files; a last run archives what was
	// not read yet, and stops cleanly too.
	srv.stop()
	srv = startServerIn(t, dataDir, args...)
	waitFor(t, 2*time.Minute, 200*time.Millisecond, func() error {
		ids := map[string]bool{}
		for _, r := range readArchive(t, dataDir) {
			ids[r.id] = true
		}
		if len(ids) < len(sent) {
			return fmt.Errorf("%d of %d events archived", len(ids), len(sent))
		}
		return nil
	})
	srv.stop()
	rows := readArchive(t, dataDir)
	count := map[string]int{}
	for _, r := range rows {
		count[r.id]++
	}
	lost, twice := 0, 0
	for id := range sent {
		switch count[id] {
		case 0:
			lost++
		case 1:
		default:
			twice++
		}
	}
	t.Logf("%d events sent, %d rows archived, %d kills", len(sent), len(rows), kills)
	// tenantpulse archive verify agrees, and ls lists the files.
	out := runCmd(t, time.Minute, "", os.Environ(), binary(t), "archive", "verify", "--data", dataDir)
	if !strings.Contains(out, fmt.Sprintf("%d rows", len(sent))) || !strings.Contains(out, ": 0 problems") {
		t.Errorf("archive verify: %s", out)
	}
	// DuckDB, as a BI user would: every event once, each in the Hive
	// partitions its columns say.
	dir := filepath.Join(repoRoot(t), "test", "js")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@duckdb", "node-api")); err != nil {
		t.Fatalf("test/js/node_modules lacks @duckdb/node-api; run make deps (npm ci in test/js): %v", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed: %v", err)
	}
	var duck struct{ Rows, Ids, Wrong_stream, Wrong_date string }
	if err := json.Unmarshal([]byte(runCmd(t, 2*time.Minute, dir, os.Environ(), node, "duckdb.mjs", filepath.Join(dataDir, "buckets"))), &duck); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprint(len(sent)); duck.Rows != want || duck.Ids != want || duck.Wrong_stream != "0" || duck.Wrong_date != "0" {
		t.Errorf("DuckDB read %+v, want %s rows of %s ids, all in their partitions", duck, want, want)
	}
	if out := runCmd(t, time.Minute, "", os.Environ(), binary(t), "archive", "ls", "--data", dataDir); !strings.Contains(out, "/events/stream=jobs/dt=") && !strings.Contains(out, "events/stream=jobs/dt=") {
		t.Errorf("archive ls: %.500s", out)
	}
	if lost > 0 || twice > 0 || len(rows) != len(sent) {
		t.Fatalf("%d events lost, %d archived more than once, %d rows for %d events", lost, twice, len(rows), len(sent))
	}

	// Compaction, killed with SIGKILL after a random number of merges and
	// run again, then run to the end: still every event exactly once, in
	// fewer files.
	before, mergeable := countFiles(t, dataDir)
	if mergeable < 10 {
		t.Fatalf("only %d of the archive's partitions have several files; the compaction test needs more", mergeable)
	}
	killed := 0
	for range 4 {
		if !compactKilled(t, dataDir, rng) {
			break // it finished before the kill: nothing left to merge
		}
		killed++
		// Interrupted, it may leave rows twice (the next run removes
		// them), never a row missing.
		seen := map[string]bool{}
		for _, r := range readArchive(t, dataDir) {
			seen[r.id] = true
		}
		for id := range sent {
			if !seen[id] {
				t.Fatalf("after compaction was killed: event %s is missing", id)
			}
		}
	}
	runCmd(t, 2*time.Minute, "", os.Environ(), binary(t), "archive", "compact", "--data", dataDir)
	after, left := countFiles(t, dataDir)
	count = map[string]int{}
	rows = readArchive(t, dataDir)
	for _, r := range rows {
		count[r.id]++
	}
	for id := range sent {
		if count[id] != 1 {
			t.Fatalf("after compaction killed %d times: event %s archived %d times", killed, id, count[id])
		}
	}
	if len(rows) != len(sent) || after >= before || killed == 0 || left != 0 {
		t.Fatalf("after compaction killed %d times: %d rows for %d events, %d files (%d before), %d partitions still with several", killed, len(rows), len(sent), after, before, left)
	}
	t.Logf("compaction killed %d times: %d files, %d partitions with several, merged into %d", killed, before, mergeable, after)
	if out := runCmd(t, time.Minute, "", os.Environ(), binary(t), "archive", "verify", "--data", dataDir); !strings.Contains(out, ": 0 problems") {
		t.Errorf("archive verify after compaction: %s", out)
	}
}

// compactKilled runs tenantpulse archive compact on dataDir and kills it
// with SIGKILL a random moment after a random number of merges. It
// reports whether the kill came before the run ended.
func compactKilled(t *testing.T, dataDir string, rng *rand.Rand) bool {
	t.Helper()
	cmd := exec.Command(binary(t), "archive", "compact", "--data", dataDir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	k, merges := 1+rng.IntN(6), 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "merged ") && !strings.Contains(sc.Text(), "; removed") {
			merges++
		}
		if merges == k {
			time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
			cmd.Process.Kill()
			break
		}
	}
	io.Copy(io.Discard, out)
	err = cmd.Wait()
	if err == nil {
		return false
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
		t.Fatalf("archive compact: %v\n%s", err, stderr.String())
	}
	return true
}

// countFiles counts the events files of the local archive under dataDir,
// and the partitions where one shard has several (what compaction merges).
func countFiles(t *testing.T, dataDir string) (files, several int) {
	t.Helper()
	perShard := map[string]int{}
	err := filepath.WalkDir(filepath.Join(dataDir, "buckets"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".parquet") && strings.Contains(path, "/events/") && !strings.HasPrefix(d.Name(), ".") {
			files++
			// <shard>-<first>-<last>.parquet
			name := d.Name()
			for range 2 {
				name = name[:strings.LastIndexByte(name, '-')]
			}
			if perShard[filepath.Dir(path)+"/"+name]++; perShard[filepath.Dir(path)+"/"+name] == 2 {
				several++
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, several
}
