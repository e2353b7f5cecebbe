package model

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"os"
	"strconv"
	"testing"
)

// referenceCSV is the repository's copy of the reference training set.
const referenceCSV = "../../examples/data/companies.csv"

// TestReferenceLabelRule checks the repository's copy of the reference
// data set against what examples/data/README.md says of it: its checksum,
// its size and the rule its labels follow. It reads the file with
// encoding/csv, not ReadCSV, so it does not take the parser's word.
func TestReferenceLabelRule(t *testing.T) {
	b, err := os.ReadFile(referenceCSV)
	if err != nil {
		t.Fatalf("the reference data set must be in the repository: %v", err)
	}
	sum := sha256.Sum256(b)
	if got, want := hex.EncodeToString(sum[:]), "2b5952f8924b4b8fc6520371f6b2dfa21f361548ca87a69279a20c0b0373854b"; got != want {
		t.Errorf("companies.csv has SHA-256 %s, README says %s", got, want)
	}
	f, err := os.Open(referenceCSV)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := recs[0]; len(got) != 9 || got[1] != "Industry" || got[4] != "#job30" || got[5] != "#job90" || got[8] != "Churn" {
		t.Fatalf("header %q", got)
	}
	rows := recs[1:]
	if len(rows) != 10000 {
		t.Fatalf("%d rows, README says 10,000", len(rows))
	}
	churned := 0
	for i, r := range rows {
		j30, err1 := strconv.Atoi(r[4])
		j90, err2 := strconv.Atoi(r[5])
		if err1 != nil || err2 != nil {
			t.Fatalf("row %d: %q", i+2, r)
		}
		want := j30 < 5 || j90 < 20 || r[1] == "retail" || r[1] == "IT" || r[1] == "consulting"
		if got := r[8] == "1"; got != want {
			t.Errorf("row %d (%s): Churn %s, the rule says %v", i+2, r[0], r[8], want)
		}
		if r[8] == "1" {
			churned++
		}
	}
	if churned != 5692 {
		t.Errorf("%d churned rows, README says 5,692", churned)
	}
}
