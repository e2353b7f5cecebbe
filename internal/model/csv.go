package model

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// ReadCSV reads labelled rows in either of two formats, told apart by the
// first line:
//   - the reference data set's (companies.csv): a header naming the
//     columns, among them the label Churn (1 or 0) and the facts of
//     Sources by their CSV names (Industry, Revenue, Employees, #job30,
//     #job90, MonthlyCharge, TotalCharge); other columns (Company) are
//     ignored. The spec is DefaultSpec, of the facts present.
//   - SageMaker linear learner's training CSV: no header, the label first,
//     then numbers only. The spec has one numeric feature per column, f1,
//     f2, ...
func ReadCSV(r io.Reader) (Spec, []Example, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	first, err := cr.Read()
	if err == io.EOF {
		return Spec{}, nil, errors.New("the input is empty; give a CSV file with a header or SageMaker's headerless rows")
	}
	if err != nil {
		return Spec{}, nil, fmt.Errorf("line 1: %w", err)
	}
	if allNumbers(first) {
		return readSageMaker(cr, first)
	}
	return readReference(cr, first)
}

func allNumbers(rec []string) bool {
	for _, f := range rec {
		if _, err := strconv.ParseFloat(strings.TrimSpace(f), 64); err != nil {
			return false
		}
	}
	return len(rec) > 0
}

func readReference(cr *csv.Reader, header []string) (Spec, []Example, error) {
	header = slices.Clone(header) // the reader reuses its record
	label := -1
	cols := map[int]Source{}
	present := map[string]bool{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if strings.EqualFold(h, "Churn") {
			label = i
			continue
		}
		for _, s := range Sources {
			if s.CSV != "" && strings.EqualFold(s.CSV, h) {
				cols[i] = s
				present[s.Name] = true
			}
		}
	}
	if label < 0 {
		return Spec{}, nil, fmt.Errorf("the header %q has no Churn column (the label, 1 or 0)", strings.Join(header, ","))
	}
	if len(cols) == 0 {
		return Spec{}, nil, errors.New("the header names none of the features Industry, Revenue, Employees, #job30, #job90, MonthlyCharge, TotalCharge")
	}
	var spec Spec
	for _, f := range DefaultSpec().Features {
		if present[f.Source] {
			spec.Features = append(spec.Features, f)
		}
	}
	var rows []Example
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Spec{}, nil, fmt.Errorf("line %d: %w", line, err)
		}
		ex := Example{Facts: NewFacts()}
		y, err := parseLabel(rec[label])
		if err != nil {
			return Spec{}, nil, fmt.Errorf("line %d, column Churn: %w", line, err)
		}
		ex.Churn = y
		for i, s := range cols {
			v := strings.TrimSpace(rec[i])
			if v == "" {
				continue // missing
			}
			if s.Cat {
				ex.Facts.Cat[s.Name] = v
				continue
			}
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return Spec{}, nil, fmt.Errorf("line %d, column %s: %q is not a number", line, header[i], v)
			}
			ex.Facts.Num[s.Name] = f
		}
		rows = append(rows, ex)
	}
	return spec, rows, nil
}

func readSageMaker(cr *csv.Reader, first []string) (Spec, []Example, error) {
	n := len(first) - 1
	if n < 1 {
		return Spec{}, nil, errors.New("line 1: a SageMaker training row needs the label and at least one feature")
	}
	var spec Spec
	for j := 1; j <= n; j++ {
		name := "f" + strconv.Itoa(j)
		spec.Features = append(spec.Features, Feature{Name: name, Source: name, Type: Numeric, Text: "feature " + strconv.Itoa(j)})
	}
	var rows []Example
	rec := first
	for line := 1; ; line++ {
		if line > 1 {
			var err error
			rec, err = cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return Spec{}, nil, fmt.Errorf("line %d: %w", line, err)
			}
		}
		if len(rec) != n+1 {
			return Spec{}, nil, fmt.Errorf("line %d has %d columns, line 1 has %d", line, len(rec), n+1)
		}
		y, err := parseLabel(rec[0])
		if err != nil {
			return Spec{}, nil, fmt.Errorf("line %d, column 1 (the label): %w", line, err)
		}
		ex := Example{Facts: Facts{Num: make(map[string]float64, n)}, Churn: y}
		for j := 1; j <= n; j++ {
			v, err := strconv.ParseFloat(strings.TrimSpace(rec[j]), 64)
			if err != nil {
				return Spec{}, nil, fmt.Errorf("line %d, column %d: %q is not a number", line, j+1, rec[j])
			}
			ex.Facts.Num[spec.Features[j-1].Source] = v
		}
		rows = append(rows, ex)
	}
	return spec, rows, nil
}

func parseLabel(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "1.0", "true", "yes":
		return true, nil
	case "0", "0.0", "false", "no":
		return false, nil
	}
	return false, fmt.Errorf("label %q is not 1 or 0", s)
}
