package event

import (
	"bytes"
	"encoding/json"
	"regexp"
)

// Schema returns the JSON Schema (draft 2020-12) of events of type t,
// envelope and data, generated from the same field table the decoder
// validates with; nil for an unknown type. The schema cannot say four
// things the decoder checks: member names must not repeat, integers must
// be written without fraction or exponent (the schema's "integer" also
// allows 12.0), tenantid's limit is in bytes, not characters, and
// tenantid must not hold an unpaired surrogate escape. Each call returns a
// new slice.
func Schema(t Type) []byte {
	if t == TypeUnknown || t >= numTypes {
		return nil
	}
	spec := &typeSpecs[t]
	str := func(desc string) *schema { return &schema{Type: "string", Description: desc} }
	nonEmpty := func(desc string) *schema { s := str(desc); s.MinLength = ptr(1); return s }
	orNull := func(s *schema) *schema { s.Type = []string{s.Type.(string), "null"}; return s }

	timeS := str("When the event happened: an RFC 3339 timestamp such as 2026-11-25T10:00:00Z.")
	timeS.Format = "date-time"
	tenant := nonEmpty("The tenant: the Kinesis partition key, 1 to 256 bytes of UTF-8 without control characters.")
	tenant.MaxLength = ptr(MaxTenantIDLen)
	tenant.Pattern = `^[^\u0000-\u001f\u007f-\u009f]+$`
	ct := orNull(str(`Must be application/json (parameters allowed) or text/json if present.`))
	ct.Pattern = "^(application/json(;.*)?|text/json)$"
	recv := orNull(str("Set by the server when it stores the event (a sent value is replaced): RFC 3339 UTC with milliseconds."))
	recv.Format = "date-time"

	root := &schema{
		Schema:      "https://json-schema.org/draft/2020-12/schema",
		ID:          "urn:tenantpulse:event:" + spec.name,
		Title:       spec.name,
		Description: spec.doc + " Routed to stream " + spec.stream + " with tenantid as the partition key.",
		Type:        "object",
		Required:    []string{"specversion", "id", "source", "type", "time", "tenantid"},
		Properties: props{
			{"specversion", &schema{Const: ptr("1.0"), Description: "The CloudEvents version."}},
			{"id", nonEmpty("Unique per source; id and source identify the event.")},
			{"source", nonEmpty("The sending system, such as urn:tenantpulse:simulator.")},
			{"type", &schema{Const: ptr(spec.name)}},
			{"time", timeS},
			{"tenantid", tenant},
			{"subject", orNull(str("Optional CloudEvents subject."))},
			{"datacontenttype", ct},
			{"dataschema", orNull(str("Optional CloudEvents dataschema."))},
			{"receivedtime", recv},
			{"data", dataSchema(spec)},
		},
		AdditionalProperties: ptr(true),
	}
	if !spec.optData {
		root.Required = append(root.Required, "data")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(root); err != nil {
		panic("BUG: cannot encode schema: " + err.Error())
	}
	out := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	// Arrays of scalars on one line: ["a", "b"].
	return scalarArray.ReplaceAllFunc(out, func(m []byte) []byte {
		items := scalarItem.FindAll(m, -1)
		return append(append([]byte{'['}, bytes.Join(items, []byte(", "))...), ']')
	})
}

var (
	scalarArray = regexp.MustCompile(`\[\n(?:\s*(?:"[^"\\\n]*"|null),?\n)+\s*\]`)
	scalarItem  = regexp.MustCompile(`"[^"\\\n]*"|null`)
)

func dataSchema(spec *typeSpec) *schema {
	d := &schema{Type: "object", Description: "Unknown members are kept and not checked.", AdditionalProperties: ptr(true)}
	if spec.optData {
		d.Type = []string{"object", "null"}
	}
	for i := range numFields {
		f := Field(1) << i
		if spec.fields&f == 0 {
			continue
		}
		fs := &fieldSpecs[i]
		req := spec.required&f != 0
		s := &schema{Description: fs.doc}
		var typ string
		switch fs.kind {
		case kindString:
			typ = "string"
		case kindNonEmpty:
			typ, s.MinLength = "string", ptr(1)
		case kindEnum:
			for _, v := range fs.enum {
				s.Enum = append(s.Enum, v)
			}
			if !req {
				s.Enum = append(s.Enum, nil)
			}
		case kindNumber:
			typ, s.Minimum, s.Maximum = "number", ptr[int64](0), ptr(fs.max)
		case kindInt:
			typ, s.Minimum, s.Maximum = "integer", ptr[int64](0), ptr(fs.max)
		}
		if typ != "" {
			if req {
				s.Type = typ
			} else {
				s.Type = []string{typ, "null"}
			}
		}
		if req {
			d.Required = append(d.Required, fs.name)
		}
		if spec.anyOf {
			d.AnyOf = append(d.AnyOf, &schema{
				Required:   []string{fs.name},
				Properties: props{{fs.name, &schema{Not: &schema{Type: "null"}}}},
			})
		}
		d.Properties = append(d.Properties, prop{fs.name, s})
	}
	return d
}

func ptr[T any](v T) *T { return &v }

// schema is a JSON Schema node; fields are written in this order.
type schema struct {
	Schema               string    `json:"$schema,omitempty"`
	ID                   string    `json:"$id,omitempty"`
	Title                string    `json:"title,omitempty"`
	Description          string    `json:"description,omitempty"`
	Type                 any       `json:"type,omitempty"` // a string or []string
	Const                *string   `json:"const,omitempty"`
	Enum                 []any     `json:"enum,omitempty"`
	Format               string    `json:"format,omitempty"`
	Pattern              string    `json:"pattern,omitempty"`
	MinLength            *int      `json:"minLength,omitempty"`
	MaxLength            *int      `json:"maxLength,omitempty"`
	Minimum              *int64    `json:"minimum,omitempty"`
	Maximum              *int64    `json:"maximum,omitempty"`
	Required             []string  `json:"required,omitempty"`
	Properties           props     `json:"properties,omitempty"`
	AdditionalProperties *bool     `json:"additionalProperties,omitempty"`
	AnyOf                []*schema `json:"anyOf,omitempty"`
	Not                  *schema   `json:"not,omitempty"`
}

// props is an ordered set of properties.
type props []prop

type prop struct {
	name string
	s    *schema
}

func (ps props) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, p := range ps {
		if i > 0 {
			b = append(b, ',')
		}
		k, _ := json.Marshal(p.name)
		v, err := json.Marshal(p.s)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}
