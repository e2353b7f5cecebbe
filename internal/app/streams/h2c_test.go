package streams_test

// Cleartext HTTP/2 with prior knowledge, as serve.go configures the server.

import (
	"net/http"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tenantpulse/tenantpulse/internal/app/streams"
)

// h2cOnlyClient speaks only cleartext HTTP/2 with prior knowledge.
func h2cOnlyClient() *http.Client {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: &p}}
}

// protoRecorder records the protocol version of every response.
type protoRecorder struct {
	next   http.RoundTripper
	mu     sync.Mutex
	protos []string
}

func (r *protoRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err == nil {
		r.mu.Lock()
		r.protos = append(r.protos, resp.Proto)
		r.mu.Unlock()
	}
	return resp, err
}

func TestH2CPriorKnowledge(t *testing.T) {
	s := startServer(t, streams.Options{})
	createStream(t, s.client, "h2", 1)

	hc := h2cOnlyClient()
	r := rawCall(t, hc, s.url, "Kinesis_20131202.DescribeStreamSummary", "application/x-amz-json-1.1", []byte(`{"StreamName":"h2"}`), true)
	if r.proto != 2 {
		t.Errorf("response protocol HTTP/%d, want HTTP/2", r.proto)
	}
	d := decodeJSONOK(t, r)["StreamDescriptionSummary"].(map[string]any)
	if d["StreamName"] != "h2" || d["StreamARN"] != arnOf("h2") {
		t.Errorf("DescribeStreamSummary over h2c: %v", d)
	}
	// Errors over h2c too.
	wantJSONError(t, rawCall(t, hc, s.url, "Kinesis_20131202.DescribeStreamSummary", "application/x-amz-json-1.1", []byte(`{"StreamName":"nope"}`), true),
		"ResourceNotFoundException", "nope")
	// HTTP/1.1 still works on the same port.
	if r := rawCall(t, &http.Client{}, s.url, "Kinesis_20131202.ListStreams", "application/x-amz-json-1.1", []byte(`{}`), true); r.proto != 1 || r.status != http.StatusOK {
		t.Errorf("HTTP/1.1: protocol %d status %d, want 1 and 200", r.proto, r.status)
	}
}

func TestH2CSDKRoundTrip(t *testing.T) {
	s := startServer(t, streams.Options{})
	rec := &protoRecorder{next: h2cOnlyClient().Transport}
	c := newClient(s.url, rec)

	createStream(t, c, "h2", 2)
	put, err := c.PutRecord(ctxT(t), &kinesis.PutRecordInput{StreamName: aws.String("h2"), PartitionKey: aws.String("k"), Data: []byte("over h2c")})
	if err != nil {
		t.Fatalf("PutRecord over h2c: %v", err)
	}
	it, err := c.GetShardIterator(ctxT(t), &kinesis.GetShardIteratorInput{StreamName: aws.String("h2"), ShardId: put.ShardId,
		ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: put.SequenceNumber})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.GetRecords(ctxT(t), &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatalf("GetRecords over h2c: %v", err)
	}
	if len(out.Records) != 1 || string(out.Records[0].Data) != "over h2c" || *out.Records[0].SequenceNumber != *put.SequenceNumber {
		t.Fatalf("read %d records, want the one put", len(out.Records))
	}
	_, err = c.DescribeStream(ctxT(t), &kinesis.DescribeStreamInput{StreamName: aws.String("nope")})
	apiError[*types.ResourceNotFoundException](t, err)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.protos) != 5 {
		t.Errorf("%d responses recorded, want 5", len(rec.protos))
	}
	for i, p := range rec.protos {
		if p != "HTTP/2.0" {
			t.Errorf("response %d came over %s, want HTTP/2.0", i, p)
		}
	}
}
