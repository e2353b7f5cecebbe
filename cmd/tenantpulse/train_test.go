package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tenantpulse/tenantpulse/internal/model"
)

func TestTrainCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "churn.json")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"train", "--input", "../../examples/data/companies.csv", "--out", out, "--model-type", "binned"}, &stdout, &stderr); code != 0 {
		t.Fatalf("train exited %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != model.TypeBinned || m.Metrics.AUC < 0.99 || !strings.Contains(stdout.String(), "ROC AUC 1.0000") ||
		!strings.Contains(stdout.String(), strings.Join(m.Columns, " ")) {
		t.Errorf("model %s AUC %v; output:\n%s", m.Type, m.Metrics.AUC, stdout.String())
	}
	// A SageMaker training CSV: label first, no header.
	sm := filepath.Join(t.TempDir(), "train.csv")
	var rows strings.Builder
	for i := range 200 {
		x := float64(i % 10)
		label := 0
		if x > 4 {
			label = 1
		}
		rows.WriteString(strconv.Itoa(label) + "," + strconv.Itoa(int(x)) + "," + strconv.Itoa(i%3) + "\n")
	}
	os.WriteFile(sm, []byte(rows.String()), 0o644)
	stdout.Reset()
	if code := run([]string{"train", "--input", sm, "--out", out}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "[f1 f2]") {
		t.Fatalf("SageMaker CSV: exit %d: %s %s", code, stdout.String(), stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"train", "--input", out + ".missing", "--out", out}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "no such file") {
		t.Errorf("a missing input: exit %d, %s", code, stderr.String())
	}
	if code := run([]string{"train", "--out", out}, &stdout, &stderr); code != 2 {
		t.Errorf("no --input: exit %d", code)
	}
	stderr.Reset()
	if code := run([]string{"train", "--input", sm, "--labels", sm, "--out", out}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "either --input FILE") {
		t.Errorf("both --input and --labels: exit %d, %s", code, stderr.String())
	}
	stderr.Reset()
	labels := filepath.Join(t.TempDir(), "labels.csv")
	os.WriteFile(labels, []byte("tenantid,churned\na,1\nb,0\n"), 0o644)
	empty := t.TempDir()
	if code := run([]string{"train", "--labels", labels, "--data", empty, "--out", out}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "no archive at "+filepath.Join(empty, "buckets")) {
		t.Errorf("no archive: exit %d, %s", code, stderr.String())
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("train wrote %d entries into the data directory it reads (%s)", len(entries), entries[0].Name())
	}
	stderr.Reset()
	os.Mkdir(filepath.Join(empty, "buckets"), 0o755)
	if code := run([]string{"train", "--labels", labels, "--data", empty, "--out", out}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "the archive holds no events files") {
		t.Errorf("an empty archive: exit %d, %s", code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"train", "--labels", labels, "--as-of", "yesterday", "--out", out}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "not an RFC 3339 time") {
		t.Errorf("a bad --as-of: exit %d, %s", code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"train", "--labels", labels, "--features", "all", "--out", out}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "use live or reference") {
		t.Errorf("bad --features: exit %d, %s", code, stderr.String())
	}
}
