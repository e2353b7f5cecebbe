package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tenantpulse/tenantpulse/internal/model"
	"github.com/tenantpulse/tenantpulse/internal/sim"
)

// TestOpenAPI checks docs/openapi.yaml against the server: it is an
// OpenAPI 3 document whose every $ref resolves, and every GET it lists
// answers 200 with JSON holding the top-level fields it documents as
// required (with a model deployed and a simulated business sent), and every
// other operation it lists exists (no 404 or 405 for its route).
func TestOpenAPI(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("docs/openapi.yaml is not YAML: %v", err)
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Fatalf("openapi: %v, want 3.x", doc["openapi"])
	}
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				if k == "$ref" {
					refs = append(refs, c.(string))
				}
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(doc)
	for _, r := range refs {
		var cur any = doc
		for _, part := range strings.Split(strings.TrimPrefix(r, "#/"), "/") {
			m, _ := cur.(map[string]any)
			cur = m[part]
		}
		if cur == nil {
			t.Errorf("$ref %s does not resolve", r)
		}
	}

	m := trainCompanies(t, model.TypeLinear)
	file, _ := m.Marshal()
	srv := startServer(t, "--risk-interval", "100ms")
	req, _ := http.NewRequest(http.MethodPut, srv.url+"/v1/models/churn", bytes.NewReader(file))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT /v1/models/churn: %v %v", err, resp)
	}
	// Ten days of five tenants, up to now: a later event would be
	// rejected as dated in the future (max_future).
	g := sim.New(sim.Config{Seed: 3, Tenants: 5, Start: time.Now().UTC().AddDate(0, 0, -10)})
	hc := &http.Client{Timeout: 30 * time.Second}
	sendUntil(t, hc, srv.url, g, time.Now())
	tenant := g.Truth().Tenants[0].ID
	waitFor(t, 30*time.Second, 100*time.Millisecond, func() error {
		resp, err := http.Get(srv.url + "/v1/tenants/" + tenant + "/risk/history")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("no risk history yet: %s", resp.Status)
		}
		return nil
	})

	paths := doc["paths"].(map[string]any)
	names := make([]string, 0, len(paths))
	for p := range paths {
		names = append(names, p)
	}
	slices.Sort(names)
	var deletes []string // run last: DELETE /v1/models/churn removes the model the GETs need
	for _, p := range names {
		url := srv.url + strings.NewReplacer("{id}", tenant, "{name}", "churn").Replace(p)
		for method, op := range paths[p].(map[string]any) {
			if method == "delete" {
				deletes = append(deletes, url)
				continue
			}
			if method != "get" {
				// Another method: its route exists (an empty body is a 400, not a 404 or 405).
				req, _ := http.NewRequest(strings.ToUpper(method), url, strings.NewReader(""))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode == 404 || resp.StatusCode == 405 {
					t.Errorf("%s %s: %s; the document lists it", strings.ToUpper(method), p, resp.Status)
				}
				continue
			}
			resp, err := http.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Errorf("GET %s: %s %s %.200s", p, resp.Status, resp.Header.Get("Content-Type"), got)
				continue
			}
			var v map[string]any
			if err := json.Unmarshal(got, &v); err != nil {
				t.Errorf("GET %s: not a JSON object: %v", p, err)
				continue
			}
			schema := dig(op, "responses", "200", "content", "application/json", "schema")
			req, _ := dig(schema, "required").([]any)
			for _, r := range req {
				if _, ok := v[r.(string)]; !ok {
					t.Errorf("GET %s: the answer lacks %s, which the document requires", p, r)
				}
			}
			props, _ := dig(schema, "properties").(map[string]any)
			for k := range v {
				if props != nil && props[k] == nil && dig(schema, "allOf") == nil {
					t.Errorf("GET %s: the answer has %s, which the document does not list", p, k)
				}
			}
		}
	}
	for _, url := range deletes {
		req, _ := http.NewRequest(http.MethodDelete, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 404 || resp.StatusCode == 405 {
			t.Errorf("DELETE %s: %s; the document lists it", url, resp.Status)
		}
	}
}

// dig follows keys through nested maps; nil when one is missing.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
