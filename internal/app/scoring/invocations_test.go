package scoring

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

func TestInvokeJSON(t *testing.T) {
	linear, _, _ := modelFiles(t)
	m := mustLoad(t, linear)
	_, srv := startService(t, Options{})
	x := encode(t, m, referenceFacts())
	want := m.Score(x)

	f := func(header map[string]string, body []byte, wantCT string, rows int) []Prediction {
		t.Helper()
		resp, b := invoke(t, srv.URL, "churn", header, body)
		if resp.StatusCode != 200 {
			t.Fatalf("%v: %s %s", header, resp.Status, b)
		}
		if ct := resp.Header.Get("Content-Type"); ct != wantCT {
			t.Fatalf("%v: Content-Type %q; want %q", header, ct, wantCT)
		}
		if v := resp.Header.Get("x-Amzn-Invoked-Production-Variant"); v != "AllTraffic" {
			t.Fatalf("x-Amzn-Invoked-Production-Variant %q", v)
		}
		var preds []Prediction
		if wantCT == "application/json" {
			var out struct{ Predictions []Prediction }
			decode(t, b, &out)
			preds = out.Predictions
		} else {
			lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			for _, ln := range lines {
				var p Prediction
				decode(t, []byte(ln), &p)
				preds = append(preds, p)
			}
		}
		if len(preds) != rows {
			t.Fatalf("%v: %d predictions; want %d: %s", header, len(preds), rows, b)
		}
		return preds
	}
	row := appendRow(nil, x)
	for _, h := range []map[string]string{
		nil,
		{"Accept": "application/json"},
		{"Accept": "*/*"},
		{"Accept": "text/html, application/json;q=0.9"},
		{"Content-Type": "text/csv; charset=utf-8"},
		{"Content-Type": "text/csv; label_size=0"},
		{"Content-Type": "TEXT/CSV;charset=UTF-8;label_size=0"},
	} {
		p := f(h, row, "application/json", 1)[0]
		if p.Score != want {
			t.Fatalf("%v: score %v; want %v", h, p.Score, want)
		}
		if wantLabel := m.Churn(want); (p.PredictedLabel == 1) != wantLabel || p.PredictedLabel > 1 || p.PredictedLabel < 0 {
			t.Fatalf("predicted_label %d for score %v, threshold %v", p.PredictedLabel, want, m.Threshold)
		}
	}

	// Several rows, CRLF line ends, a blank line, spaces and quotes.
	other := referenceFacts()
	other.Cat["industry"] = "finance"
	other.Num["jobs30d"] = 70
	x2 := encode(t, m, other)
	var body bytes.Buffer
	body.Write(appendRow(nil, x))
	body.WriteString("\r\n")
	for i, v := range x2 {
		if i > 0 {
			body.WriteString(" , ")
		}
		if i == 0 {
			fmt.Fprintf(&body, "%q", strconv.FormatFloat(v, 'g', -1, 64))
		} else {
			body.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		}
	}
	body.WriteString("\r\n")
	body.Write(appendRow(nil, x2)) // no final newline below
	b := bytes.TrimSuffix(body.Bytes(), []byte("\n"))
	for _, accept := range []string{"application/json", "application/jsonlines"} {
		preds := f(map[string]string{"Accept": accept}, b, accept, 3)
		if preds[0].Score != want || preds[1].Score != m.Score(x2) || preds[2].Score != preds[1].Score {
			t.Fatalf("%s: %+v; want %v, %v, %v", accept, preds, want, m.Score(x2), m.Score(x2))
		}
		if preds[0].Score == preds[1].Score {
			t.Fatalf("two different rows scored the same: %+v", preds)
		}
	}
}

// smError is a SageMaker error response as the tests read it.
type smErrorBody struct {
	Message            string `json:"message"`
	OriginalStatusCode int
	OriginalMessage    string
	LogStreamArn       string
}

func TestInvokeErrors(t *testing.T) {
	linear, _, _ := modelFiles(t)
	m := mustLoad(t, linear)
	_, srv := startService(t, Options{Region: "eu-west-1"})
	row := strings.TrimSuffix(string(appendRow(nil, encode(t, m, referenceFacts()))), "\n")
	cols := strings.Split(row, ",")
	width := len(m.Columns)

	f := func(endpoint string, header map[string]string, body string, status int, typ string, wantMsg ...string) smErrorBody {
		t.Helper()
		resp, b := invoke(t, srv.URL, endpoint, header, []byte(body))
		if resp.StatusCode != status {
			t.Fatalf("status %d; want %d: %s", resp.StatusCode, status, b)
		}
		if et := resp.Header.Get("x-amzn-ErrorType"); !strings.HasPrefix(et, typ+":http://internal.amazon.com/coral/") {
			t.Fatalf("x-amzn-ErrorType %q; want %s:http://internal.amazon.com/coral/...", et, typ)
		}
		if resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("x-amzn-RequestId") == "" {
			t.Fatalf("headers %v", resp.Header)
		}
		var e smErrorBody
		decode(t, b, &e)
		for _, w := range wantMsg {
			if !strings.Contains(e.Message, w) {
				t.Fatalf("message %q lacks %q", e.Message, w)
			}
		}
		return e
	}
	model := func(e smErrorBody, wantOriginal ...string) {
		t.Helper()
		if e.OriginalStatusCode != 400 || e.LogStreamArn != "arn:aws:logs:eu-west-1:000000000000:log-group:/aws/sagemaker/Endpoints/churn" {
			t.Fatalf("ModelError %+v", e)
		}
		if !strings.HasPrefix(e.Message, `Received client error (400) from primary with message "`+e.OriginalMessage+`"`) {
			t.Fatalf("ModelError message %q does not quote %q", e.Message, e.OriginalMessage)
		}
		for _, w := range wantOriginal {
			if !strings.Contains(e.OriginalMessage, w) {
				t.Fatalf("OriginalMessage %q lacks %q", e.OriginalMessage, w)
			}
		}
	}

	f("nope", nil, row, 400, ErrValidation, "Endpoint nope of account 000000000000 not found.")
	f("churn", nil, "", 400, ErrValidation, "body")
	f("churn", map[string]string{"Content-Type": "application/json"}, row, 400, ErrValidation, `"application/json"`, "text/csv")
	f("churn", map[string]string{"Content-Type": "text/csv; label_size=1"}, row, 400, ErrValidation, "label_size=1")
	f("churn", map[string]string{"Accept": "text/csv"}, row, 400, ErrValidation, "Accept", "application/jsonlines")
	f("churn", nil, strings.Repeat(row+"\n", maxBody/len(row)+1), 400, ErrValidation, "6291456")

	short := strings.Join(cols[:width-1], ",")
	model(f("churn", nil, row+"\n"+short+"\n", 424, ErrModel),
		fmt.Sprintf("row 2 has %d columns", width-1), fmt.Sprintf("takes %d", width), "GET /v1/models/churn", strings.Join(m.Columns, ","))
	model(f("churn", nil, row+","+cols[0], 424, ErrModel), fmt.Sprintf("row 1 has %d columns", width+1))
	bad := slices3(cols)
	bad[2] = "abc"
	model(f("churn", nil, "\n"+row+"\n"+strings.Join(bad, ","), 424, ErrModel),
		`row 3, column 3 (`+m.Columns[2]+`): "abc" is not a number`)
	bad[2] = "NaN"
	model(f("churn", nil, strings.Join(bad, ","), 424, ErrModel), `row 1, column 3`, `"NaN"`)
	bad[2] = ""
	model(f("churn", nil, strings.Join(bad, ","), 424, ErrModel), `row 1, column 3`)
	model(f("churn", nil, "\n \n", 424, ErrModel), "no CSV rows")
}

func slices3(s []string) []string { return append([]string(nil), s...) }

func TestParseRowsExact(t *testing.T) {
	// Every float64 written by appendRow reads back bit for bit.
	vals := []float64{0, -0.0, 1, -1, 0.1, 1e-300, 5e-324, math.MaxFloat64, 123456789.123456789, 1.0 / 3}
	x, rows, err := parseRows(nil, appendRow(nil, vals), len(vals), nil)
	if err != nil || rows != 1 {
		t.Fatalf("%v rows %d", err, rows)
	}
	for i := range vals {
		if math.Float64bits(x[i]) != math.Float64bits(vals[i]) {
			t.Fatalf("value %d: %v read back as %v", i, vals[i], x[i])
		}
	}
	for _, in := range []string{"1,inf", "1,+Inf", "1,0x", "1,1e400", `1,"2`, "1,2,", ",1"} {
		if _, _, err := parseRows(nil, []byte(in), 2, nil); err == nil {
			t.Errorf("%q parsed", in)
		}
	}
}

func TestInvokeAllocs(t *testing.T) {
	linear, _, _ := modelFiles(t)
	m := mustLoad(t, linear)
	s, _ := startService(t, Options{})
	mux := http.NewServeMux()
	s.Register(mux)
	row := appendRow(nil, encode(t, m, referenceFacts()))
	req, _ := http.NewRequest("POST", "/endpoints/churn/invocations", nil)
	req.Header.Set("Content-Type", "text/csv")
	w := &discardWriter{h: http.Header{}}
	n := testing.AllocsPerRun(200, func() {
		req.Body = &bodyReader{b: row}
		clear(w.h)
		mux.ServeHTTP(w, req)
	})
	if w.status != 200 {
		t.Fatalf("status %d", w.status)
	}
	// The request ID string and the header values; nothing per row.
	t.Logf("allocs per invocation: %v", n)
	if n > 6 {
		t.Fatalf("an invocation allocates %v times", n)
	}
}

type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(s int)           { w.status = s }

type bodyReader struct{ b []byte }

func (r *bodyReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}
func (r *bodyReader) Close() error { return nil }
