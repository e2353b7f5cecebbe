package event

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated part of docs/events.md")

const (
	docPath  = "../../docs/events.md"
	genBegin = "<!-- BEGIN GENERATED: go test ./internal/event -run TestDocs -update -->"
	genEnd   = "<!-- END GENERATED -->"
)

// docTypes writes the per-type sections of docs/events.md.
func docTypes(t *testing.T) string {
	var sb strings.Builder
	for _, typ := range Types {
		spec := &typeSpecs[typ]
		var ex bytes.Buffer
		if err := json.Indent(&ex, []byte(object(example(typ))), "", "  "); err != nil {
			t.Fatal(err)
		}
		sb.WriteString("\n### " + spec.name + "\n\n" + spec.doc + " Stream `" + spec.stream + "`.\n\n")
		sb.WriteString("| data field | type | |\n|---|---|---|\n")
		for i := range numFields {
			f := Field(1) << i
			if spec.fields&f == 0 {
				continue
			}
			fs := &fieldSpecs[i]
			req := "optional"
			if spec.required&f != 0 {
				req = "required"
			}
			sb.WriteString("| `" + fs.name + "` | " + kindDoc(fs) + " | " + req + ". " + fs.doc + " |\n")
		}
		switch {
		case spec.optData:
			sb.WriteString("\n`data` may be left out or null.\n")
		case spec.anyOf:
			sb.WriteString("\n`data` must hold at least one of these fields (not null).\n")
		}
		sb.WriteString("\nSchema:\n\n```json\n" + string(Schema(typ)) + "\n```\n\nExample:\n\n```json\n" + ex.String() + "\n```\n")
	}
	return sb.String()
}

func kindDoc(fs *fieldSpec) string {
	switch fs.kind {
	case kindNonEmpty:
		return "non-empty string"
	case kindEnum:
		return "`" + strings.Join(fs.enum, "` \\| `") + "`"
	case kindNumber:
		return "number, 0 to " + docBound(fs.max)
	case kindInt:
		return "integer, 0 to " + docBound(fs.max) + " (no fraction or exponent)"
	}
	return "string"
}

// docBound writes a bound as the power of ten it is ("1e15").
func docBound(max int64) string {
	b := boundString(max)
	if i := strings.Index(b, "("); i >= 0 {
		return b[i+1 : len(b)-1]
	}
	return b
}

func TestDocs(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	b, e := strings.Index(s, genBegin), strings.Index(s, genEnd)
	if b < 0 || e < b {
		t.Fatalf("%s: no %q ... %q markers", docPath, genBegin, genEnd)
	}
	if *update {
		s = s[:b+len(genBegin)] + "\n" + docTypes(t) + "\n" + s[e:]
		if err := os.WriteFile(docPath, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Every type's section: the first json block is its schema, exactly
	// Schema(t); the second an example that decodes as valid.
	for _, typ := range Types {
		h := "\n### " + typ.String() + "\n"
		i := strings.Index(s, h)
		if i < 0 {
			t.Errorf("%s: no section %q", docPath, strings.TrimSpace(h))
			continue
		}
		sec := s[i+len(h):]
		if j := strings.Index(sec, "\n#"); j >= 0 {
			sec = sec[:j]
		}
		blocks := jsonBlocks(sec)
		if len(blocks) != 2 {
			t.Errorf("%s: section %s has %d json blocks, want 2 (schema, example)", docPath, typ, len(blocks))
			continue
		}
		if want := string(Schema(typ)); blocks[0] != want {
			t.Errorf("%s: schema of %s differs from Schema(); run go test ./internal/event -run TestDocs -update\ngot:\n%s\nwant:\n%s", docPath, typ, blocks[0], want)
		}
		var d Decoder
		var ev Event
		n, err := d.Decode([]byte(blocks[1]), &ev)
		if err != nil || ev.Type != typ || n != len(blocks[1]) {
			t.Errorf("%s: example of %s: %v (type %s, %d of %d bytes)", docPath, typ, err, ev.Type, n, len(blocks[1]))
		}
	}
	for _, want := range []string{"## Headline metrics", "activeUsers30d", "Duplicates (same `id` + `source`) count once"} {
		if !strings.Contains(s, want) {
			t.Errorf("%s: missing %q", docPath, want)
		}
	}
}

func jsonBlocks(s string) []string {
	var out []string
	for {
		i := strings.Index(s, "```json\n")
		if i < 0 {
			return out
		}
		s = s[i+len("```json\n"):]
		j := strings.Index(s, "\n```")
		if j < 0 {
			return out
		}
		out = append(out, s[:j])
		s = s[j+4:]
	}
}

func TestSchema(t *testing.T) {
	for _, typ := range Types {
		s := Schema(typ)
		var m map[string]any
		if err := json.Unmarshal(s, &m); err != nil {
			t.Fatalf("Schema(%s) is not JSON: %v", typ, err)
		}
		if m["$schema"] != "https://json-schema.org/draft/2020-12/schema" || m["title"] != typ.String() {
			t.Errorf("Schema(%s): %v", typ, m)
		}
		data := m["properties"].(map[string]any)["data"].(map[string]any)
		var req []string
		for _, r := range asSlice(data["required"]) {
			req = append(req, r.(string))
		}
		// The documented contract (decode_test.go), not the validator's table.
		slices.Sort(req)
		want := slices.Clone(documentedData[typ.String()].required)
		slices.Sort(want)
		if !slices.Equal(req, want) {
			t.Errorf("Schema(%s): data required %q, want %q", typ, req, want)
		}
		if n := len(data["properties"].(map[string]any)); n != len(exampleDataFields(typ)) && typ != TenantUpdated {
			t.Errorf("Schema(%s): %d data properties", typ, n)
		}
	}
	if Schema(TypeUnknown) != nil {
		t.Error("Schema(TypeUnknown) is not nil")
	}
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func exampleDataFields(typ Type) []member { return exampleData[typ] }

func TestTypes(t *testing.T) {
	want := []string{"tenant.created", "tenant.updated", "tenant.deleted", "user.added", "user.deleted", "user.login",
		"user.logoff", "user.session_timeout", "job.submitted", "job.terminated", "job.cancelled"}
	if len(Types) != len(want) {
		t.Fatalf("%d types", len(Types))
	}
	for i, typ := range Types {
		if typ.String() != want[i] {
			t.Errorf("Types[%d] = %s, want %s", i, typ, want[i])
		}
		if got, ok := ParseType([]byte(want[i])); !ok || got != typ {
			t.Errorf("ParseType(%s) = %v, %v", want[i], got, ok)
		}
		stream := StreamCompanies
		if strings.HasPrefix(want[i], "job.") {
			stream = StreamJobs
		}
		if typ.Stream() != stream {
			t.Errorf("%s.Stream() = %s, want %s", typ, typ.Stream(), stream)
		}
	}
	for _, s := range []string{"", "tenant", "Tenant.created", "job.submitted ", "unknown"} {
		if _, ok := ParseType([]byte(s)); ok {
			t.Errorf("ParseType(%q) ok", s)
		}
	}
	if TypeUnknown.String() != "unknown" || TypeUnknown.Stream() != "" || Type(200).Stream() != "" {
		t.Error("TypeUnknown")
	}
	if (FieldUserID | FieldSessionID).String() != "userId, sessionId" {
		t.Errorf("Field.String: %s", FieldUserID|FieldSessionID)
	}
}
