package scoring

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/httpfast"
	"github.com/tenantpulse/tenantpulse/internal/model"
)

// trained holds the models the tests share, trained once on the reference
// data set: linear and binned over DefaultSpec (same columns), and a
// linear one without the industry feature (other columns).
var trained struct {
	once                   sync.Once
	err                    error
	linear, binned, narrow []byte // model files
}

func modelFiles(t testing.TB) (linear, binned, narrow []byte) {
	t.Helper()
	trained.once.Do(func() {
		f, err := os.Open("../../../examples/data/companies.csv")
		if err != nil {
			trained.err = err
			return
		}
		defer f.Close()
		spec, rows, err := model.ReadCSV(f)
		if err != nil {
			trained.err = err
			return
		}
		train := func(spec model.Spec, typ string) []byte {
			m, err := model.Train(spec, rows, model.Options{Type: typ, Seed: 1})
			if err != nil {
				trained.err = err
				return nil
			}
			b, err := m.Marshal()
			if err != nil {
				trained.err = err
			}
			return b
		}
		trained.linear = train(spec, model.TypeLinear)
		trained.binned = train(spec, model.TypeBinned)
		narrow := spec
		narrow.Features = slices.DeleteFunc(slices.Clone(spec.Features), func(f model.Feature) bool { return f.Source == "industry" })
		trained.narrow = train(narrow, model.TypeLinear)
	})
	if trained.err != nil {
		t.Fatalf("cannot train the test models: %v", trained.err)
	}
	return trained.linear, trained.binned, trained.narrow
}

func mustLoad(t testing.TB, file []byte) *model.Model {
	t.Helper()
	m, err := model.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// writeModel writes file into the test's temporary directory.
func writeModel(t testing.TB, file []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "churn.json")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// testServer is a server on 127.0.0.1 as serve runs it: InvokeEndpoint on
// the fast path (internal/httpfast), everything else through the mux.
type testServer struct{ URL string }

// startService starts a scoring service with the linear model at "churn"
// (unless opts.Models is set) and serves it on 127.0.0.1, port 0.
func startService(t testing.TB, opts Options) (*Service, *testServer) {
	t.Helper()
	if opts.Models == nil {
		linear, _, _ := modelFiles(t)
		opts.Models = map[string]string{"churn": writeModel(t, linear)}
	}
	s, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	s.Register(mux)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fast := &httpfast.Server{HTTP: &http.Server{Handler: mux}, Routes: []httpfast.Route{s.InvokeRoute()}}
	done := make(chan struct{})
	go func() { fast.Serve(ln); close(done) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		fast.Shutdown(ctx)
		<-done
	})
	return s, &testServer{URL: "http://" + ln.Addr().String()}
}

// call sends a request and returns the response with its body read.
func call(t testing.TB, method, url string, header map[string]string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func invoke(t testing.TB, base, endpoint string, header map[string]string, body []byte) (*http.Response, []byte) {
	t.Helper()
	h := map[string]string{"Content-Type": "text/csv"}
	for k, v := range header {
		h[k] = v
	}
	return call(t, "POST", base+"/endpoints/"+endpoint+"/invocations", h, body)
}

func decode(t testing.TB, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("cannot decode %s: %v", b, err)
	}
}

// referenceFacts are the reference payload's facts.
const referencePayload = `{"companyID":"c1","industry":"retail","revenu":9270,"employees":4635,"job30":3,"job90":56,"monthlyFee":446,"totalFee":1476}`

func referenceFacts() model.Facts {
	f := model.NewFacts()
	f.Cat["industry"] = "retail"
	f.Num["revenue"] = 9270
	f.Num["employees"] = 4635
	f.Num["jobs30d"] = 3
	f.Num["jobs90d"] = 56
	f.Num["monthlyFee"] = 446
	f.Num["totalFee"] = 1476
	return f
}

func encode(t testing.TB, m *model.Model, f model.Facts) []float64 {
	t.Helper()
	x, err := m.Spec.Encode(nil, f)
	if err != nil {
		t.Fatal(err)
	}
	return x
}
