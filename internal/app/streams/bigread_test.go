package streams_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tenantpulse/tenantpulse/internal/app/streams"
)

// A GetRecords page larger than one read buffer (2 MiB) is read in several
// chunks: it holds up to 10 MiB of data, in order, and the next page goes
// on exactly where it stopped.
func TestGetRecordsLargePagesSpanReadBuffers(t *testing.T) {
	f := startServer(t, streams.Options{})
	createStream(t, f.client, "big", 1)
	const n, size = 1200, 20 << 10 // 24 MiB in all
	for b := 0; b < n/100; b++ {
		var entries []types.PutRecordsRequestEntry
		for i := 0; i < 100; i++ {
			k := b*100 + i
			entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String("k"),
				Data: append([]byte(fmt.Sprintf("%06d", k)), bytes.Repeat([]byte{byte(k)}, size-6)...)})
		}
		out, err := f.client.PutRecords(ctxT(t), &kinesis.PutRecordsInput{StreamName: aws.String("big"), Records: entries})
		if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
			t.Fatalf("PutRecords: %v", err)
		}
	}
	it, err := f.client.GetShardIterator(ctxT(t), &kinesis.GetShardIteratorInput{StreamName: aws.String("big"),
		ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	iter, next, pages := it.ShardIterator, 0, 0
	for next < n {
		out, err := f.client.GetRecords(ctxT(t), &kinesis.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		total := 0
		for _, r := range out.Records {
			total += len(r.Data)
			if want := fmt.Sprintf("%06d", next); string(r.Data[:6]) != want || len(r.Data) != size || r.Data[size-1] != byte(next) {
				t.Fatalf("page %d: record %q..., want %s", pages, r.Data[:6], want)
			}
			next++
		}
		if total > 10<<20 {
			t.Fatalf("page %d holds %d bytes, more than 10 MiB", pages, total)
		}
		if next < n && total < 8<<20 {
			t.Fatalf("page %d holds only %d bytes (%d records) though more were waiting", pages, total, len(out.Records))
		}
		iter = out.NextShardIterator
	}
	if pages != 3 {
		t.Fatalf("read 24 MiB in %d pages, want 3 of up to 10 MiB", pages)
	}
}
