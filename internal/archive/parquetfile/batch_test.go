package parquetfile

import (
	"bytes"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/tenantpulse/tenantpulse/internal/event"
)

// TestEventBatch checks that a file written from a batch holds the rows
// EventRowFrom makes, across chunk boundaries, and that resetting and
// refilling the batch after WriteBatch leaves what was written intact.
func TestEventBatch(t *testing.T) {
	var d event.Decoder
	var e event.Event
	b := NewEventBatch("jobs", "shardId-000000000001")
	var want []EventRow
	n := rowsChunk*2 + 7
	for i := range n {
		s := testEvents[i%len(testEvents)]
		if _, err := d.Decode([]byte(s), &e); err != nil {
			t.Fatal(err)
		}
		seq := "4960" + strconv.Itoa(1_000_000+i)
		b.Add(&e, seq, 1795600800000+int64(i))
		want = append(want, EventRowFrom(&e, "jobs", "shardId-000000000001", seq, 1795600800000+int64(i)))
	}
	if b.Len() != n || b.Seq(n-1) != "4960"+strconv.Itoa(1_000_000+n-1) {
		t.Fatalf("Len %d, last Seq %s", b.Len(), b.Seq(n-1))
	}
	w := NewEventWriter()
	if err := w.WriteBatch(b); err != nil {
		t.Fatal(err)
	}
	// Overwrite the batch's bytes with other records before finishing.
	b.Reset("companies", "shardId-000000000009")
	for range n {
		if _, err := d.Decode([]byte(testEvents[0]), &e); err != nil {
			t.Fatal(err)
		}
		b.Add(&e, "1", 1)
	}
	file, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadEvents(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("read %d rows, want %d", len(got), n)
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("row %d:\n got %s\nwant %s", i, show(got[i]), show(want[i]))
		}
	}
}

func BenchmarkEventBatchAdd(b *testing.B) {
	var d event.Decoder
	var e event.Event
	if _, err := d.Decode([]byte(testEvents[0]), &e); err != nil {
		b.Fatal(err)
	}
	batch := NewEventBatch("companies", "shardId-000000000000")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%10000 == 0 {
			batch.Reset("companies", "shardId-000000000000")
		}
		batch.Add(&e, "49600000000000000000000000000000000000000000000000000001", 1795600800000)
	}
}

// TestEventBatchMemory checks that a batch of one row is small, that a
// record bigger than a chunk gets a chunk of its own, and that Reset gives
// everything back.
func TestEventBatchMemory(t *testing.T) {
	var d event.Decoder
	var e event.Event
	b := NewEventBatch("jobs", "shardId-000000000000")
	if _, err := d.Decode([]byte(testEvents[12]), &e); err != nil {
		t.Fatal(err)
	}
	b.Add(&e, "1", 1)
	if got, max := b.Bytes(), int64(smallChunk)+smallBlockRows*rowSize; got > max {
		t.Errorf("one row holds %d bytes, want at most %d", got, max)
	}
	big := `{"specversion":"1.0","id":"big","source":"s","type":"job.terminated","time":"2026-11-25T10:00:00Z","tenantid":"t1","data":{"status":"failed","durationMs":1,"jobId":"` +
		strings.Repeat("x", 100_000) + `","pad":"` + strings.Repeat("\\u0041", 20_000) + `"}}`
	if _, err := d.Decode([]byte(big), &e); err != nil {
		t.Fatal(err)
	}
	b.Add(&e, "2", 2)
	w := NewEventWriter()
	if err := w.WriteBatch(b); err != nil {
		t.Fatal(err)
	}
	file, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := ReadEvents(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || *rows[1].JobID != strings.Repeat("x", 100_000) || rows[1].ID != "big" || rows[1].SequenceNumber != "2" {
		t.Fatalf("read back %d rows; the big one is wrong", len(rows))
	}
	b.Reset("jobs", "shardId-000000000000")
	if b.Len() != 0 || b.Bytes() != 0 {
		t.Errorf("after Reset: %d rows, %d bytes", b.Len(), b.Bytes())
	}
}

// TestEventFileBounds checks which columns carry min/max statistics: all
// but id and data.
func TestEventFileBounds(t *testing.T) {
	w := NewEventWriter()
	if err := w.Write(testEventRows(t)...); err != nil {
		t.Fatal(err)
	}
	file, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Metadata().RowGroups[0].Columns {
		name := strings.Join(c.MetaData.PathInSchema, ".")
		has := c.MetaData.Statistics.MinValue != nil
		if want := name != "id" && name != "data"; has != want {
			t.Errorf("column %s: bounds %v, want %v", name, has, want)
		}
	}
}
