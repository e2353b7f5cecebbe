package streams_test

import (
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tenantpulse/tenantpulse/internal/app/streams"
	"github.com/tenantpulse/tenantpulse/internal/bodylimit"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// TestThrottledBody: with the server's in-flight body budget spent, a
// PutRecord is answered ProvisionedThroughputExceededException at once,
// which the SDK takes as throttling (and retries with backoff), and
// nothing is written.
func TestThrottledBody(t *testing.T) {
	store, err := streamlog.Open(streamlog.Options{Dir: t.TempDir(), MinFreeBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.CreateStream(streamlog.StreamConfig{Name: "s", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	budget := bodylimit.NewBudget(bodylimit.Options{Max: 16 << 20, ReturnAbove: -1})
	if !budget.Acquire(16 << 20) { // other requests hold it all
		t.Fatal("cannot fill the budget")
	}
	svc := streams.New(streams.Options{Store: store})
	srv := httptest.NewServer(bodylimit.Handler(svc, bodylimit.HandlerOptions{Budget: budget, Timeout: time.Minute}))
	t.Cleanup(srv.Close)
	c := newClient(srv.URL, nil)

	_, err = c.PutRecord(ctxT(t), &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte("x")})
	var pte *types.ProvisionedThroughputExceededException
	if !errors.As(err, &pte) {
		t.Fatalf("PutRecord past the body budget: %v, want ProvisionedThroughputExceededException", err)
	}
	if retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) != aws.TrueTernary {
		t.Errorf("the SDK does not take %v as throttling", err)
	}
	budget.Release(16 << 20)
	if _, err := c.PutRecord(ctxT(t), &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte("x")}); err != nil {
		t.Fatalf("PutRecord with the budget free: %v", err)
	}
	it, err := c.GetShardIterator(ctxT(t), &kinesis.GetShardIteratorInput{StreamName: aws.String("s"),
		ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.GetRecords(ctxT(t), &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil || len(out.Records) != 1 {
		t.Fatalf("GetRecords: %v, %d records; want the one PutRecord that was not throttled", err, len(out.Records))
	}
}
