package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/model"
)

// runScoringCommand measures training time, in-process scoring rows/s and,
// against a server, InvokeEndpoint requests/s and latency.
func runScoringCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench scoring", flag.ContinueOnError)
	fs.SetOutput(stderr)
	input := fs.String("input", "", "labelled CSV to train on (default: 10,000 generated rows shaped like the reference data set)")
	modelType := fs.String("model-type", model.TypeLinear, "linear or binned")
	rows := fs.Int("rows", 20_000_000, "rows to score in process")
	endpoint := fs.String("endpoint", "", "server URL to send InvokeEndpoint requests to (http://127.0.0.1:8080); the HTTP phase runs only with it")
	name := fs.String("endpoint-name", "churn", "the server's endpoint to invoke")
	requests := fs.Int("requests", 200_000, "InvokeEndpoint requests to send")
	conns := fs.Int("connections", 16, "concurrent HTTP clients")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := scoringBench(ctx, *input, *modelType, *rows, *endpoint, *name, *requests, *conns, stdout); err != nil {
		fmt.Fprintf(stderr, "bench scoring: %v\n", err)
		return 1
	}
	return 0
}

func scoringBench(ctx context.Context, input, modelType string, nrows int, endpoint, name string, requests, conns int, out io.Writer) error {
	var spec model.Spec
	var data []model.Example
	if input != "" {
		f, err := os.Open(input)
		if err != nil {
			return err
		}
		spec, data, err = model.ReadCSV(f)
		f.Close()
		if err != nil {
			return err
		}
	} else {
		spec, data = referenceLike(10_000)
	}
	t0 := time.Now()
	m, err := model.Train(spec, data, model.Options{Type: modelType, Seed: 1})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "train    %s model on %d rows in %.0f ms (%d epochs): held-out AUC %.4f, accuracy %.4f\n",
		m.Type, len(data), float64(time.Since(t0).Microseconds())/1000, m.Training.Epochs, m.Metrics.AUC, m.Metrics.Accuracy)

	// In process: every core scores encoded rows.
	width := len(m.Columns)
	const distinct = 4096
	xs := make([]float64, 0, distinct*width)
	for i := range distinct {
		xs, _ = m.Spec.Encode(xs, data[i%len(data)].Facts)
	}
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	var sink atomic.Uint64
	t0 = time.Now()
	per := nrows / workers
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := 0.0
			for i := range per {
				k := (i + w*7) % distinct
				s += m.Score(xs[k*width : (k+1)*width])
			}
			sink.Add(uint64(s))
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	fmt.Fprintf(out, "score    %d rows in process on %d cores in %.2fs: %s rows/s (%.0f ns per row per core)\n",
		per*workers, workers, el.Seconds(), commas(int64(float64(per*workers)/el.Seconds())), float64(el.Nanoseconds())*float64(workers)/float64(per*workers))

	if endpoint == "" {
		fmt.Fprintln(out, "invoke   skipped: give --endpoint URL of a server with the endpoint --endpoint-name")
		return nil
	}
	return invokeBench(ctx, m, xs, distinct, strings.TrimRight(endpoint, "/")+"/endpoints/"+name+"/invocations", requests, conns, out)
}

// invokeBench sends single-row InvokeEndpoint requests from conns
// keep-alive connections. The client is a lean HTTP/1.1 loop over a TCP
// connection (prepared requests, a minimal response parser), as load
// generators such as wrk are, so that on a small machine it leaves the
// cores to the server it measures.
func invokeBench(ctx context.Context, m *model.Model, xs []float64, distinct int, url string, requests, conns int, out io.Writer) error {
	hostport, path, err := splitURL(url)
	if err != nil {
		return err
	}
	width := len(m.Columns)
	reqs := make([][]byte, distinct)
	for k := range distinct {
		var b []byte
		for j, v := range xs[k*width : (k+1)*width] {
			if j > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendFloat(b, v, 'g', -1, 64)
		}
		reqs[k] = fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/csv\r\nAccept: application/json\r\nContent-Length: %d\r\n\r\n%s",
			path, hostport, len(b), b)
	}
	var next atomic.Int64
	lat := make([][]time.Duration, conns)
	errs := make([]error, conns)
	var wg sync.WaitGroup
	t0 := time.Now()
	for c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", hostport)
			if err != nil {
				errs[c] = err
				return
			}
			defer conn.Close()
			r := bufio.NewReaderSize(conn, 16<<10)
			var body []byte
			for {
				i := next.Add(1) - 1
				if i >= int64(requests) || ctx.Err() != nil {
					return
				}
				s := time.Now()
				if _, err := conn.Write(reqs[i%int64(distinct)]); err != nil {
					errs[c] = err
					return
				}
				status, b, err := readResponse(r, body[:0])
				body = b
				if err != nil {
					errs[c] = err
					return
				}
				if status != http.StatusOK || !bytes.Contains(body, []byte(`"score"`)) {
					errs[c] = fmt.Errorf("status %d: %.200s", status, body)
					return
				}
				lat[c] = append(lat[c], time.Since(s))
			}
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	fmt.Fprintf(out, "invoke   %d single-row requests, %d connections, in %.2fs: %s requests/s  p50 %s p99 %s\n",
		len(all), conns, el.Seconds(), commas(int64(float64(len(all))/el.Seconds())), fmtMs(ms(percentile(all, 0.5))), fmtMs(ms(percentile(all, 0.99))))
	return nil
}

// splitURL returns the host:port and the path of an http:// URL.
func splitURL(raw string) (hostport, path string, err error) {
	u, err := neturl.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return "", "", fmt.Errorf("endpoint %q: give an http://host:port URL", raw)
	}
	hostport = u.Host
	if u.Port() == "" {
		hostport += ":80"
	}
	return hostport, u.EscapedPath(), nil
}

// readResponse reads one HTTP/1.1 response with a Content-Length body,
// appending the body to dst.
func readResponse(r *bufio.Reader, dst []byte) (int, []byte, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return 0, dst, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, dst, fmt.Errorf("not an HTTP/1.1 response: %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, dst, fmt.Errorf("bad status line %q", line)
	}
	n := -1
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return 0, dst, err
		}
		h := bytes.TrimRight(line, "\r\n")
		if len(h) == 0 {
			break
		}
		if name, v, ok := bytes.Cut(h, []byte(":")); ok && strings.EqualFold(string(name), "Content-Length") {
			if n, err = strconv.Atoi(string(bytes.TrimSpace(v))); err != nil {
				return 0, dst, fmt.Errorf("bad Content-Length %q", v)
			}
		}
	}
	if n < 0 {
		return 0, dst, errors.New("a response without Content-Length")
	}
	start := len(dst)
	dst = slices.Grow(dst, n)[:start+n]
	_, err = io.ReadFull(r, dst[start:])
	return status, dst, err
}

// referenceLike generates n labelled rows shaped like the reference data
// set (industry, revenue, employees, #job30, #job90, monthly and total
// charge), labelled by a rule of the same kind as its.
func referenceLike(n int) (model.Spec, []model.Example) {
	rng := rand.New(rand.NewPCG(1, 2))
	industries := []string{"IT", "consulting", "energy", "finance", "gov", "health", "retail", "service", "travel"}
	rows := make([]model.Example, n)
	for i := range rows {
		f := model.NewFacts()
		ind := industries[rng.IntN(len(industries))]
		f.Cat["industry"] = ind
		f.Num["revenue"] = float64(1000 + rng.IntN(100000))
		f.Num["employees"] = float64(10 + rng.IntN(50000))
		j30 := float64(rng.IntN(10))
		j90 := j30 + float64(rng.IntN(100))
		f.Num["jobs30d"], f.Num["jobs90d"] = j30, j90
		f.Num["monthlyFee"] = float64(100 + rng.IntN(1500))
		f.Num["totalFee"] = f.Num["monthlyFee"] * float64(1+rng.IntN(10))
		rows[i] = model.Example{Facts: f, Churn: j30 <= 4 || j90 <= 19 || ind == "retail" || ind == "IT"}
	}
	return model.DefaultSpec(), rows
}
