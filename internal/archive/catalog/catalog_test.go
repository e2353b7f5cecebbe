package catalog

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/archive/parquetfile"
	"github.com/tenantpulse/tenantpulse/internal/event"
	"github.com/tenantpulse/tenantpulse/internal/objstore"
)

var layout = objstore.Layout{Prefix: "tenantpulse-", Mode: "bucket"}

func seq(n int) string { return fmt.Sprintf("49%054d", n) }

// putFile stores an events file of tenant's records first..last (sequence
// numbers) on day, as the archiver names it.
func putFile(t *testing.T, store objstore.Store, tenant string, first, last int, day time.Time) {
	t.Helper()
	ctx := context.Background()
	bucket, prefix := layout.Tenant(tenant)
	if err := store.CreateBucket(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	w := parquetfile.NewEventWriter()
	var dec event.Decoder
	var ev event.Event
	for n := first; n <= last; n++ {
		raw := fmt.Sprintf(`{"specversion":"1.0","id":"e%d","source":"s","type":"job.cancelled","time":%q,"tenantid":%q,"data":{"jobId":"j","userId":"u"}}`,
			n, day.Add(time.Duration(n)*time.Second).Format(time.RFC3339), tenant)
		if _, err := dec.Decode([]byte(raw), &ev); err != nil {
			t.Fatal(err)
		}
		if err := w.Write(parquetfile.EventRowFrom(&ev, "jobs", "shardId-000000000000", seq(n), day.UnixMilli())); err != nil {
			t.Fatal(err)
		}
	}
	body, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	key := prefix + "events/stream=jobs/dt=" + day.Format(time.DateOnly) + "/shardId-000000000000-" + seq(first) + "-" + seq(last) + ".parquet"
	if err := store.Put(ctx, bucket, key, body); err != nil {
		t.Fatal(err)
	}
}

func TestParseKey(t *testing.T) {
	f, ok := ParseKey("events/stream=jobs/dt=2026-11-25/shardId-000000000001-" + seq(5) + "-" + seq(9) + ".parquet")
	if !ok || f.Kind != "events" || f.Stream != "jobs" || f.Date != "2026-11-25" || f.Shard != "shardId-000000000001" || f.First != seq(5) || f.Last != seq(9) {
		t.Fatalf("%+v %v", f, ok)
	}
	if f, ok := ParseKey("tenants/acme/metrics/dt=2026-11-25/metrics.parquet"); !ok || f.Kind != "metrics" || f.Date != "2026-11-25" {
		t.Fatalf("%+v %v", f, ok)
	}
	for _, k := range []string{"events/x.parquet", "events/stream=jobs/dt=2026-11-25/noseq.parquet", "notes.txt", "events/stream=jobs/dt=2026-11-25/s-1-x.parquet"} {
		if _, ok := ParseKey(k); ok {
			t.Errorf("ParseKey(%q) accepted it", k)
		}
	}
}

func TestVerifyAndCompact(t *testing.T) {
	ctx := context.Background()
	store, err := objstore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	putFile(t, store, "acme", 1, 10, day)
	putFile(t, store, "acme", 11, 20, day)
	putFile(t, store, "acme", 21, 25, day)
	putFile(t, store, "Other Co", 30, 40, day)
	r, err := Verify(ctx, store, layout)
	if err != nil || len(r.Problems) > 0 || r.Rows != 36 || r.Files != 4 {
		t.Fatalf("verify: %+v %v", r, err)
	}
	// An interrupted compaction: the merged file is stored, the old ones
	// are still there. Verify sees the rows twice; compact removes them.
	putFile(t, store, "acme", 1, 20, day)
	r, _ = Verify(ctx, store, layout)
	if len(r.Problems) != 20 || !strings.Contains(r.Problems[0], "stored twice") {
		t.Fatalf("verify after an interrupted compaction: %+v", r.Problems)
	}
	c, err := Compact(ctx, store, layout, 1<<30, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Removed != 2 || c.Written != 1 || c.Merged != 2 {
		t.Fatalf("compact: %+v", c)
	}
	files, _ := List(ctx, store, layout)
	if len(files) != 2 {
		t.Fatalf("after compaction: %+v", files)
	}
	r, _ = Verify(ctx, store, layout)
	if len(r.Problems) > 0 || r.Rows != 36 {
		t.Fatalf("verify after compaction: %+v", r)
	}
	// Compacting again changes nothing.
	if c, _ := Compact(ctx, store, layout, 1<<30, nil); c.Written+c.Merged+c.Removed != 0 {
		t.Fatalf("a second compaction did %+v", c)
	}
	// A row in the wrong bucket is reported.
	bucket, _ := layout.Tenant("acme")
	files, _ = List(ctx, store, layout)
	body, _ := store.Get(ctx, files[0].Bucket, files[0].Key)
	if files[0].Bucket == bucket {
		body, _ = store.Get(ctx, files[1].Bucket, files[1].Key)
	}
	store.Put(ctx, bucket, "events/stream=jobs/dt=2026-11-25/shardId-000000000000-"+seq(30)+"-"+seq(40)+".parquet", body)
	r, _ = Verify(ctx, store, layout)
	if len(r.Problems) == 0 || !strings.Contains(strings.Join(r.Problems, "\n"), `tenant "Other Co"`) {
		t.Fatalf("a misplaced file was not reported: %+v", r.Problems)
	}
}
