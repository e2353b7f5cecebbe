package stream_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/tenantpulse/tenantpulse/internal/app/streams"
	"github.com/tenantpulse/tenantpulse/internal/stream"
	"github.com/tenantpulse/tenantpulse/internal/stream/streamtest"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// clock is the wall clock plus an offset the retention cases advance.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

func openStore(t *testing.T) (*streamlog.Store, *clock) {
	t.Helper()
	clk := &clock{}
	store, err := streamlog.Open(streamlog.Options{Dir: t.TempDir(), MinFreeBytes: 1, Now: clk.Now})
	if err != nil {
		t.Fatalf("cannot open the store: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	return store, clk
}

func TestEmbedded(t *testing.T) {
	streamtest.Run(t, func(t *testing.T) streamtest.Env {
		store, clk := openStore(t)
		return streamtest.Env{Reader: stream.NewEmbedded(store), Store: store, Advance: clk.Advance, ReportsTrimmed: true}
	})
}

func TestKinesis(t *testing.T) {
	streamtest.Run(t, func(t *testing.T) streamtest.Env {
		store, clk := openStore(t)
		srv := httptest.NewServer(streams.New(streams.Options{Store: store}))
		t.Cleanup(srv.Close)
		return streamtest.Env{Reader: stream.NewKinesis(newClient(srv.URL)), Store: store, Advance: clk.Advance, ArrivalSlack: 1}
	})
}

// newClient returns an SDK client for the server at url that never
// retries, so every error reaches the reader under test.
func newClient(url string) *kinesis.Client {
	return kinesis.New(kinesis.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   &http.Client{Transport: bodyNoWriterTo{http.DefaultTransport.(*http.Transport).Clone()}},
	})
}

// bodyNoWriterTo works around a race in the SDK (smithy-go 1.28), as
// test/e2e does: smithy-go closes the request body as soon as the response
// headers arrive, the body's WriteTo then returns io.EOF, and net/http's
// write loop, draining the body, takes that for a write error and closes
// the connection under a large response still being read ("use of closed
// network connection"). Hiding WriteTo makes the drain use Read, which
// reports a closed body as a plain end of stream.
type bodyNoWriterTo struct{ rt http.RoundTripper }

func (b bodyNoWriterTo) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		req.Body = struct{ io.ReadCloser }{req.Body}
	}
	return b.rt.RoundTrip(req)
}
