// Package restapitest holds checks that tests of the JSON APIs share. It
// is imported by tests only.
package restapitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// FiniteJSON returns an error unless b is JSON (one value, or several one
// after another as in JSON lines) whose every number is finite:
// encoding/json refuses NaN and Inf tokens, and a number past float64's
// range (1e400) is reported too.
func FiniteJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	values := 0
	for dec.More() {
		var v any
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("not JSON: %w", err)
		}
		if err := finite(v); err != nil {
			return err
		}
		values++
	}
	if values == 0 {
		return errors.New("no JSON value")
	}
	return nil
}

func finite(v any) error {
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			if err := finite(c); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		}
	case []any:
		for i, c := range v {
			if err := finite(c); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
	case json.Number:
		if f, err := strconv.ParseFloat(string(v), 64); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return fmt.Errorf("number %s is not finite", v)
		}
	}
	return nil
}
