package scoring

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tenantpulse/tenantpulse/internal/model"
)

// The business payload of POST /v1/assess-churn, the reference
// architecture's shape:
//
//	{"companyID":"c1","industry":"retail","revenu":9270,"employees":4635,
//	 "job30":3,"job90":56,"monthlyFee":446,"totalFee":1476}
//
// Field names are model.Sources' Payload names ("revenue" is accepted for
// "revenu"). Numbers may be JSON numbers or strings holding one; null or
// an absent field is a missing fact (the model takes the training mean for
// a number, the average tenant for a category).

// payloadID is the payload's company id field.
const payloadID = "companyID"

// payloadField is one fact field of the payload.
type payloadField struct {
	name string // in the payload
	src  model.Source
}

// payloadFields are the payload's fact fields, with the alias "revenue".
var payloadFields = func() []payloadField {
	var out []payloadField
	for _, s := range model.Sources {
		if s.Payload == "" {
			continue
		}
		out = append(out, payloadField{s.Payload, s})
		if s.Payload == "revenu" {
			out = append(out, payloadField{"revenue", s})
		}
	}
	return out
}()

// payloadNames lists the fields in messages.
var payloadNames = func() string {
	names := []string{payloadID}
	for _, f := range payloadFields {
		if f.name == "revenue" {
			names[len(names)-1] += " (or revenue)"
			continue
		}
		names = append(names, f.name)
	}
	return strings.Join(names, ", ")
}()

// assessPayload is a decoded payload.
type assessPayload struct {
	CompanyID string
	Facts     model.Facts
}

// decodePayload reads a business payload. An error names the field to fix.
func decodePayload(b []byte) (assessPayload, error) {
	p := assessPayload{Facts: model.NewFacts()}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var fields map[string]json.RawMessage
	if err := dec.Decode(&fields); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return p, fmt.Errorf("the body is a JSON %s; send an object like {%q:\"c1\",\"industry\":\"retail\",\"revenu\":9270,...}", te.Value, payloadID)
		}
		return p, fmt.Errorf("the body is not valid JSON: %v", err)
	}
	if fields == nil {
		return p, fmt.Errorf("the body is null; send an object like {%q:\"c1\",\"industry\":\"retail\",\"revenu\":9270,...}", payloadID)
	}
	if _, err := dec.Token(); err == nil {
		return p, errors.New("the body has more after its JSON object; send one object")
	}
	var unknown []string
	for k := range fields {
		if k == payloadID || slices.ContainsFunc(payloadFields, func(f payloadField) bool { return f.name == k }) {
			continue
		}
		unknown = append(unknown, strconv.Quote(k))
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return p, fmt.Errorf("unknown field %s; the payload takes %s", strings.Join(unknown, ", "), payloadNames)
	}
	if raw, ok := fields[payloadID]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &p.CompanyID); err != nil {
			return p, fmt.Errorf("%s is %s; send a string", payloadID, kindOf(raw))
		}
	}
	seen := map[string]string{}
	for _, f := range payloadFields {
		raw, ok := fields[f.name]
		if !ok {
			continue
		}
		if other, dup := seen[f.src.Name]; dup {
			return p, fmt.Errorf("both %s and %s are given; send one", other, f.name)
		}
		seen[f.src.Name] = f.name
		if isNull(raw) {
			continue
		}
		if f.src.Cat {
			var v string
			if err := json.Unmarshal(raw, &v); err != nil {
				return p, fmt.Errorf("%s is %s; send a string such as \"retail\"", f.name, kindOf(raw))
			}
			p.Facts.Cat[f.src.Name] = v
			continue
		}
		v, err := payloadNumber(raw)
		if err != nil {
			return p, fmt.Errorf("%s %v", f.name, err)
		}
		p.Facts.Num[f.src.Name] = v
	}
	return p, nil
}

// payloadNumber reads a JSON number or a string holding one.
func payloadNumber(raw json.RawMessage) (float64, error) {
	s := string(raw)
	if len(raw) > 0 && raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, fmt.Errorf("is not a valid string: %v", err)
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return 0, errors.New("is an empty string; send a number, or null or nothing when unknown")
		}
	} else if k := kindOf(raw); k != "a number" {
		return 0, fmt.Errorf("is %s; send a number", k)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		if errors.Is(err, strconv.ErrRange) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("%s is out of range; send a finite number", strconv.Quote(s))
		}
		return 0, fmt.Errorf("%s is not a number; send a number such as 9270", strconv.Quote(s))
	}
	return v, nil
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

// kindOf names the JSON kind of raw, for messages.
func kindOf(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "empty"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
