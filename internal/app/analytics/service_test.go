package analytics

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/tenantpulse/tenantpulse/internal/analytics"
	"github.com/tenantpulse/tenantpulse/internal/app/streams"
	"github.com/tenantpulse/tenantpulse/internal/event"
	"github.com/tenantpulse/tenantpulse/internal/sim"
	"github.com/tenantpulse/tenantpulse/internal/stream"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// feed appends the generator's next n events to the streams, routed as
// the event API routes them.
func feed(t *testing.T, store *streamlog.Store, g *sim.Generator, n int) {
	t.Helper()
	for range n {
		data, info, ok := g.Next(nil)
		if !ok {
			t.Fatal("the simulator ran out of events")
		}
		st, err := store.Stream(info.Stream)
		if err != nil {
			t.Fatal(err)
		}
		sh := st.ShardFor(streamlog.HashPartitionKey([]byte(info.TenantID)))
		if _, err := sh.Append([]streamlog.Entry{{PartitionKey: []byte(info.TenantID), Data: data}}, make([]streamlog.Seq, 1)); err != nil {
			t.Fatal(err)
		}
	}
}

// matchTruth reports how the service's tenants differ from the truth.
func matchTruth(s *Service, truth sim.Truth) error {
	asOf, err := time.Parse(time.RFC3339, truth.AsOf)
	if err != nil {
		return err
	}
	got := map[string]analytics.Tenant{}
	for _, tn := range s.Tenants(asOf) {
		got[tn.ID] = tn
	}
	if len(got) != len(truth.Tenants) {
		return fmt.Errorf("%d tenants, truth has %d", len(got), len(truth.Tenants))
	}
	for _, w := range truth.Tenants {
		g := got[w.ID]
		if g.Name != w.Name || g.Industry != w.Industry || g.Sentiment != w.Sentiment || g.Users != int64(w.Users) ||
			g.ActiveUsers30d != int64(w.ActiveUsers30d) || g.LastActivity != w.LastActivity || g.JobsSubmitted != w.JobsSubmitted ||
			g.JobsTerminated != w.JobsTerminated || g.JobsCancelled != w.JobsCancelled || g.Jobs30d != w.Jobs30d || g.Jobs90d != w.Jobs90d {
			return fmt.Errorf("tenant %s:\n got %+v\ntruth %+v", w.ID, g, w)
		}
	}
	return nil
}

func waitTruth(t *testing.T, s *Service, truth sim.Truth) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := matchTruth(s, truth)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runService checks the processor over a reader: it reaches the ground
// truth, stops with a checkpoint, and a new service on the same
// checkpoints goes on from there to the next truth.
func runService(t *testing.T, newReader func(*streamlog.Store) stream.Reader) {
	store, err := streamlog.Open(streamlog.Options{Dir: t.TempDir(), MinFreeBytes: 1, Fsync: streamlog.FsyncInterval, FsyncInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for _, name := range []string{event.StreamCompanies, event.StreamJobs} {
		if _, err := store.CreateStream(streamlog.StreamConfig{Name: name, ShardCount: 2}); err != nil {
			t.Fatal(err)
		}
	}
	g := sim.New(sim.Config{Seed: 5, Tenants: 30, Start: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)})
	dir := t.TempDir()
	opts := Options{Reader: newReader(store), Dir: dir, Workers: 2, CheckpointInterval: 10 * time.Millisecond}
	feed(t, store, g, 20000)
	s, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	waitTruth(t, s, g.Truth())
	feed(t, store, g, 5000)
	waitTruth(t, s, g.Truth())
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	p := s.Processor()
	for _, st := range p.Shards {
		if st.CheckpointPosition != st.Position || st.LastCheckpoint == "" {
			t.Fatalf("after Stop, %s/%s is checkpointed at %q, applied up to %q", st.Stream, st.Shard, st.CheckpointPosition, st.Position)
		}
	}

	feed(t, store, g, 7000)
	s2, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var restored int64
	for _, st := range s2.Processor().Shards {
		restored += st.Records
	}
	if restored != 25000 {
		t.Fatalf("the restarted service starts from %d records, want the 25000 checkpointed", restored)
	}
	s2.Start()
	defer s2.Stop()
	waitTruth(t, s2, g.Truth())
	var total int64
	for _, st := range s2.Processor().Shards {
		total += st.Records
	}
	if total != 32000 {
		t.Fatalf("%d records read in all, want 32000 (none twice)", total)
	}
}

func TestServiceEmbedded(t *testing.T) {
	runService(t, stream.NewEmbedded)
}

// The same processor over the Kinesis API, through aws-sdk-go-v2.
func TestServiceKinesis(t *testing.T) {
	runService(t, func(store *streamlog.Store) stream.Reader { return kinesisReader(t, store) })
}

// bodyNoWriterTo hides the request body's WriteTo from net/http, working
// around smithy-go 1.28 closing the body early (see test/e2e).
type bodyNoWriterTo struct{ rt http.RoundTripper }

func (b bodyNoWriterTo) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		req.Body = struct{ io.ReadCloser }{req.Body}
	}
	return b.rt.RoundTrip(req)
}

// kinesisReader reads store through the Kinesis API of a test server,
// with aws-sdk-go-v2.
func kinesisReader(t *testing.T, store *streamlog.Store) stream.Reader {
	srv := httptest.NewServer(streams.New(streams.Options{Store: store}))
	t.Cleanup(srv.Close)
	return stream.NewKinesis(kinesis.New(kinesis.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		HTTPClient:  &http.Client{Transport: bodyNoWriterTo{http.DefaultTransport.(*http.Transport).Clone()}},
	}))
}
