package bodylimit

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// drip returns its bytes a few at a time, as a slow client sends them.
type drip struct {
	b []byte
	n int
}

func (d *drip) Read(p []byte) (int, error) {
	if len(d.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), d.n)], d.b)
	d.b = d.b[n:]
	return n, nil
}

func TestReadAll(t *testing.T) {
	f := func(body string, bufCap int, limit int64, wantErr error) {
		t.Helper()
		for _, step := range []int{1, 1000, len(body) + 1} {
			b, err := ReadAll(&drip{[]byte(body), step}, make([]byte, 0, bufCap), limit)
			if !errors.Is(err, wantErr) {
				t.Errorf("ReadAll(%d bytes by %d, limit %d): %v, want %v", len(body), step, limit, err, wantErr)
			}
			if wantErr == nil && string(b) != body {
				t.Errorf("ReadAll(%d bytes by %d): got %d bytes", len(body), step, len(b))
			}
			if wantErr == nil && len(body) > bufCap && cap(b) > len(body)+len(body)/8+64 {
				t.Errorf("ReadAll(%d bytes by %d): a buffer of %d bytes, want about the body's size", len(body), step, cap(b))
			}
		}
	}
	f("", 0, 10, nil)
	f("0123456789", 64, 10, nil)
	f("0123456789", 0, 10, nil)
	f(strings.Repeat("x", 11), 0, 10, ErrTooLarge)
	f(strings.Repeat("x", 11), 100, 10, ErrTooLarge)
	f(strings.Repeat("x", 100_000), 0, 1<<20, nil)
	f(strings.Repeat("x", 300_000), 4096, 1<<20, nil)
	f(strings.Repeat("x", 1<<20), 0, 1000, ErrTooLarge)

	// Appends to what buf holds.
	b, err := ReadAll(strings.NewReader("def"), []byte("abc"), 3)
	if string(b) != "abcdef" || err != nil {
		t.Errorf("ReadAll after abc: %q, %v", b, err)
	}
}

// TestReadAllHoldsWhatArrived: a body declared 1 MiB of which 10 bytes
// came holds a few KiB, not 1 MiB.
func TestReadAllHoldsWhatArrived(t *testing.T) {
	pr, pw := io.Pipe()
	done := make(chan struct{})
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	go func() {
		ReadAll(pr, nil, 1<<20)
		close(done)
	}()
	pw.Write([]byte("0123456789"))
	pw.Write([]byte("0123456789")) // the first write was consumed: ReadAll waits for more
	runtime.ReadMemStats(&m1)
	if d := m1.TotalAlloc - m0.TotalAlloc; d > 64<<10 {
		t.Errorf("%d bytes allocated for 20 bytes of a body", d)
	}
	pw.Close()
	<-done
}

func TestBudget(t *testing.T) {
	b := NewBudget(Options{Max: 100, ReturnAbove: -1})
	if !b.Acquire(60) || !b.Acquire(40) {
		t.Fatal("100 bytes did not fit in a budget of 100")
	}
	if b.Acquire(1) {
		t.Error("a byte past the budget fit")
	}
	b.Release(40)
	if b.Acquire(41) || !b.Acquire(40) {
		t.Error("after a release: 41 bytes fit or 40 did not")
	}
	b.Release(100)
	if b.InUse() != 0 || b.Refused() != 2 {
		t.Errorf("in use %d, refused %d; want 0 and 2", b.InUse(), b.Refused())
	}
}

func TestBudgetReturnsMemory(t *testing.T) {
	b := NewBudget(Options{Max: 100, ReturnAbove: 50, ReturnEvery: time.Millisecond})
	b.Acquire(10)
	b.Release(10)
	b.Acquire(60)
	b.Release(60)
	for deadline := time.Now().Add(5 * time.Second); b.Returned() != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("returned %d times after a 60-byte peak drained, want 1", b.Returned())
		}
	}
}

func TestBodyBusy(t *testing.T) {
	budget := NewBudget(Options{Max: 10, ReturnAbove: -1})
	var a, c Body
	a.Reset(io.NopCloser(strings.NewReader("0123456789")), budget, time.Second)
	if b, err := io.ReadAll(&a); err != nil || len(b) != 10 {
		t.Fatalf("a body within the budget: %q %v", b, err)
	}
	c.Reset(io.NopCloser(strings.NewReader("x")), budget, time.Second)
	if _, err := io.ReadAll(&c); !errors.Is(err, ErrBusy) {
		t.Errorf("a body with the budget spent: %v, want ErrBusy", err)
	}
	a.Release()
	c.Release()
	if budget.InUse() != 0 {
		t.Errorf("%d bytes in use after release", budget.InUse())
	}
}

// serveH2C serves h with Handler on HTTP/1 and unencrypted HTTP/2.
func serveH2C(t *testing.T, h http.HandlerFunc, opts HandlerOptions) string {
	t.Helper()
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: Handler(h, opts), Protocols: &p}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// TestHandlerTimeout: a body that stalls is cut after the timeout, on
// HTTP/1 and on an HTTP/2 stream.
func TestHandlerTimeout(t *testing.T) {
	errs := make(chan error, 1)
	addr := serveH2C(t, func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		errs <- err
		w.WriteHeader(http.StatusRequestTimeout)
	}, HandlerOptions{Timeout: 200 * time.Millisecond})
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("h2c=%v", h2), func(t *testing.T) {
			var p http.Protocols
			if h2 {
				p.SetUnencryptedHTTP2(true)
			} else {
				p.SetHTTP1(true)
			}
			hc := &http.Client{Transport: &http.Transport{Protocols: &p}, Timeout: 10 * time.Second}
			pr, pw := io.Pipe()
			defer pw.Close()
			go pw.Write([]byte("0123456789")) // then nothing
			req, _ := http.NewRequest("POST", "http://"+addr+"/", pr)
			req.ContentLength = 100
			go func() {
				if resp, err := hc.Do(req); err == nil {
					resp.Body.Close()
				}
			}()
			select {
			case err := <-errs:
				if !errors.Is(err, ErrTimeout) {
					t.Errorf("reading a stalled body: %v, want ErrTimeout", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("a stalled body was not cut within 5 s (timeout 200 ms)")
			}
		})
	}
}

// TestHandlerBudget: the handler's body bytes are reserved while it runs
// and given back after.
func TestHandlerBudget(t *testing.T) {
	budget := NewBudget(Options{Max: 1000, ReturnAbove: -1})
	inUse := make(chan int64, 1)
	addr := serveH2C(t, func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		inUse <- budget.InUse()
		if errors.Is(err, ErrBusy) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}, HandlerOptions{Budget: budget, Timeout: time.Second})
	post := func(n int) int {
		resp, err := http.Post("http://"+addr+"/", "text/plain", bytes.NewReader(make([]byte, n)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(600); code != 200 || <-inUse != 600 {
		t.Errorf("600 bytes in a budget of 1000: %d", code)
	}
	if code := post(1200); code != 503 {
		t.Errorf("1200 bytes in a budget of 1000: %d, want 503", code)
	}
	<-inUse
	if budget.InUse() != 0 {
		t.Errorf("%d bytes reserved after the requests", budget.InUse())
	}
}

// TestDecodedCharged: a small gzip body that inflates past the budget is
// refused: its decompressed bytes are charged too.
func TestDecodedCharged(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(make([]byte, 100_000))
	zw.Close()
	budget := NewBudget(Options{Max: 10_000, ReturnAbove: -1})
	var b Body
	b.Reset(io.NopCloser(bytes.NewReader(gz.Bytes())), budget, time.Second)
	defer b.Release()
	zr, err := gzip.NewReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadAll(Decoded(&b, zr), nil, 1<<20); !errors.Is(err, ErrBusy) {
		t.Errorf("%d bytes of gzip inflating to 100,000 in a budget of 10,000: %v, want ErrBusy", gz.Len(), err)
	}
	if _, err := ReadAll(Decoded(strings.NewReader("x"), strings.NewReader("plain")), nil, 10); err != nil {
		t.Errorf("Decoded over a body that is not a *Body: %v", err)
	}
}
