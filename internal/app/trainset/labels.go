package trainset

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Labels says, per tenant id, whether the tenant churned.
type Labels map[string]bool

// maxLabelsBytes bounds a labels file: 64 MiB is millions of tenants.
const maxLabelsBytes = 64 << 20

// Column names ReadLabels accepts (case-insensitive) in a CSV header.
var (
	idColumns    = []string{"tenantid", "tenant_id", "tenant", "id", "companyid"}
	labelColumns = []string{"churned", "churn", "label"}
)

// ReadLabels reads a labels file. Two formats:
//
//   - CSV with a header naming a tenant id column (tenantid, tenant_id,
//     tenant, id or companyID) and a label column (churned, churn or
//     label), in any order among other columns; a label is true, false,
//     yes, no, 1 or 0 (any case);
//   - JSON with a "tenants" array of objects with "id" and "churned", the
//     simulator's ground truth (`tenantpulse simulate --truth FILE`).
//
// A tenant listed twice with different labels, an empty id, or a label
// that is none of the above is an error naming the line.
func ReadLabels(r io.Reader) (Labels, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxLabelsBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxLabelsBytes {
		return nil, fmt.Errorf("the labels file is over %d MiB", maxLabelsBytes>>20)
	}
	if t := bytes.TrimLeft(b, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '{' {
		return readTruth(t)
	}
	return readLabelsCSV(b)
}

func readTruth(b []byte) (Labels, error) {
	var truth struct {
		Tenants []struct {
			ID      string `json:"id"`
			Churned *bool  `json:"churned"`
		} `json:"tenants"`
	}
	if err := json.Unmarshal(b, &truth); err != nil {
		return nil, fmt.Errorf("the labels file is JSON but not the simulator's truth ({\"tenants\":[{\"id\":...,\"churned\":...}]}): %v", err)
	}
	if truth.Tenants == nil {
		return nil, errors.New(`the labels file is JSON without a "tenants" array: give the simulator's truth, or a CSV of tenantid,churned`)
	}
	if len(truth.Tenants) == 0 {
		return nil, errors.New(`the labels file's "tenants" array is empty`)
	}
	l := Labels{}
	for i, t := range truth.Tenants {
		where := fmt.Sprintf("tenants[%d]", i)
		if t.Churned == nil {
			return nil, fmt.Errorf("%s has no \"churned\"", where)
		}
		if err := l.add(t.ID, *t.Churned, where); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func readLabelsCSV(b []byte) (Labels, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\ufeff"))))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	header, err := r.Read()
	if err == io.EOF {
		return nil, errors.New("the labels file is empty: give a CSV with a header (tenantid,churned) or the simulator's truth")
	}
	if err != nil {
		return nil, fmt.Errorf("the labels file: %v", err)
	}
	idCol, labelCol := findColumn(header, idColumns), findColumn(header, labelColumns)
	if idCol < 0 || labelCol < 0 {
		return nil, fmt.Errorf("the labels file's header %q names no tenant id column (%s) or no label column (%s)",
			strings.Join(header, ","), strings.Join(idColumns, ", "), strings.Join(labelColumns, ", "))
	}
	l := Labels{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("the labels file: %v", err)
		}
		line, _ := r.FieldPos(0)
		where := fmt.Sprintf("line %d", line)
		if len(rec) <= max(idCol, labelCol) {
			return nil, fmt.Errorf("%s has %d fields, want at least %d", where, len(rec), max(idCol, labelCol)+1)
		}
		churned, ok := parseLabel(rec[labelCol])
		if !ok {
			return nil, fmt.Errorf("%s: the label %q is not one of true, false, yes, no, 1, 0", where, rec[labelCol])
		}
		if err := l.add(strings.TrimSpace(rec[idCol]), churned, where); err != nil {
			return nil, err
		}
	}
	if len(l) == 0 {
		return nil, errors.New("the labels file has a header but no tenants")
	}
	return l, nil
}

func (l Labels) add(id string, churned bool, where string) error {
	if id == "" {
		return fmt.Errorf("%s has an empty tenant id", where)
	}
	if old, dup := l[id]; dup && old != churned {
		return fmt.Errorf("%s labels tenant %q %v, an earlier line %v", where, id, churned, old)
	}
	l[id] = churned
	return nil
}

func findColumn(header, names []string) int {
	for i, h := range header {
		h = strings.TrimSpace(h)
		for _, n := range names {
			if strings.EqualFold(h, n) {
				return i
			}
		}
	}
	return -1
}

func parseLabel(s string) (churned, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "1":
		return true, true
	case "false", "no", "0":
		return false, true
	}
	return false, false
}
