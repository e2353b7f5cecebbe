// Package catalog owns what can be done with an archive at rest: list its
// files, verify that every row is where it belongs and stored once, and
// compact a partition's many small files into few large ones, crash-safely.
// `tenantpulse archive ls|verify|compact` are thin commands over it. It
// reads and writes through internal/objstore and never touches the
// archiver's checkpoints.
package catalog

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/archive/parquetfile"
	"github.com/tenantpulse/tenantpulse/internal/objstore"
)

// File is one archive object, with what its key says.
type File struct {
	Bucket string
	Key    string
	Size   int64
	Kind   string // "events", "errors" or "metrics"
	Stream string // events and errors
	Date   string // the dt= partition
	Shard  string // events and errors
	First  string // the sequence range the file holds (events and errors)
	Last   string
}

// Partition is the directory of a file: its bucket and key up to the file name.
func (f File) Partition() string { return f.Bucket + "/" + f.Key[:strings.LastIndexByte(f.Key, '/')+1] }

// ParseKey reads a key of the archive's layout:
// [tenants/<seg>/|errors/... ]events/stream=<s>/dt=<date>/<shard>-<first>-<last>.parquet,
// errors/stream=<s>/dt=<date>/..., or metrics/dt=<date>/<name>.parquet.
func ParseKey(key string) (File, bool) {
	f := File{Key: key}
	parts := strings.Split(key, "/")
	i := -1
	for j, p := range parts {
		if p == "events" || p == "errors" || p == "metrics" {
			i = j
		}
	}
	if i < 0 || !strings.HasSuffix(key, ".parquet") {
		return f, false
	}
	f.Kind = parts[i]
	rest := parts[i+1:]
	if f.Kind == "metrics" {
		if len(rest) != 2 || !strings.HasPrefix(rest[0], "dt=") {
			return f, false
		}
		f.Date = rest[0][3:]
		return f, true
	}
	if len(rest) != 3 || !strings.HasPrefix(rest[0], "stream=") || !strings.HasPrefix(rest[1], "dt=") {
		return f, false
	}
	f.Stream, f.Date = rest[0][7:], rest[1][3:]
	name := strings.TrimSuffix(rest[2], ".parquet")
	fields := strings.Split(name, "-")
	if len(fields) < 3 {
		return f, false
	}
	f.Last = fields[len(fields)-1]
	f.First = fields[len(fields)-2]
	f.Shard = strings.Join(fields[:len(fields)-2], "-")
	return f, f.Shard != "" && isDigits(f.First) && isDigits(f.Last)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// SeqLess reports whether the decimal sequence number a is below b.
func SeqLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// contains reports whether f's sequence range holds g's (same shard).
func (f File) contains(g File) bool {
	return f.Shard == g.Shard && f.Key != g.Key && !SeqLess(g.First, f.First) && !SeqLess(f.Last, g.Last)
}

// List returns every archive file, sorted by bucket and key.
func List(ctx context.Context, store objstore.Store, layout objstore.Layout) ([]File, error) {
	buckets, err := store.Buckets(ctx, layout.Prefix)
	if err != nil {
		return nil, fmt.Errorf("cannot list the buckets: %w", err)
	}
	var out []File
	for _, b := range buckets {
		objs, err := store.List(ctx, b, "")
		if err != nil {
			return nil, fmt.Errorf("cannot list bucket %s: %w", b, err)
		}
		for _, o := range objs {
			if f, ok := ParseKey(o.Key); ok {
				f.Bucket, f.Size = b, o.Size
				out = append(out, f)
			}
		}
	}
	return out, nil
}

// Report says what Verify or Compact found and did.
type Report struct {
	Files    int
	Rows     int64
	Bytes    int64
	Merged   int      // files compaction merged away
	Written  int      // files compaction wrote
	Removed  int      // leftovers of an interrupted compaction removed
	Problems []string // what Verify found wrong
}

// Verify reads every events file and checks that each row belongs where it
// is (its tenant's bucket or prefix, its stream's and its event date's
// partition, the sequence range in the file's name) and that no record is
// stored twice.
func Verify(ctx context.Context, store objstore.Store, layout objstore.Layout) (Report, error) {
	files, err := List(ctx, store, layout)
	if err != nil {
		return Report{}, err
	}
	var r Report
	seen := map[string]string{} // stream/shard/seq -> file
	problem := func(format string, args ...any) {
		if len(r.Problems) < 100 {
			r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
		}
	}
	for _, f := range files {
		if f.Kind != "events" {
			continue
		}
		b, err := store.Get(ctx, f.Bucket, f.Key)
		if err != nil {
			return r, err
		}
		rows, err := parquetfile.ReadEvents(b)
		if err != nil {
			problem("%s/%s: %v", f.Bucket, f.Key, err)
			continue
		}
		r.Files++
		r.Bytes += f.Size
		for _, row := range rows {
			r.Rows++
			bucket, prefix := layout.Tenant(row.TenantID)
			where := f.Bucket + "/" + f.Key
			if bucket != f.Bucket || !strings.HasPrefix(f.Key, prefix+"events/") {
				problem("%s: a row of tenant %q, whose place is %s/%s", where, row.TenantID, bucket, prefix)
			}
			if row.Stream != f.Stream || dateOf(row.Time) != f.Date || row.Shard != f.Shard {
				problem("%s: row %s is of stream %s, shard %s, date %s", where, row.ID, row.Stream, row.Shard, dateOf(row.Time))
			}
			if SeqLess(row.SequenceNumber, f.First) || SeqLess(f.Last, row.SequenceNumber) {
				problem("%s: row %s has sequence number %s, outside the file's range", where, row.ID, row.SequenceNumber)
			}
			k := row.Stream + "/" + row.Shard + "/" + row.SequenceNumber
			if other, dup := seen[k]; dup {
				problem("record %s is stored twice: in %s and %s", k, other, where)
			}
			seen[k] = where
		}
	}
	return r, nil
}

// Compact merges each partition's files of one shard into one file, when
// there are several. It is crash-safe and idempotent: the merged file
// holds the whole sequence range of the files it replaces, so it is
// written (one PUT) before they are deleted, and any file whose range lies
// inside another's is a leftover of an interrupted run and is deleted
// first. A reader listing files during a run may briefly see a merged file
// next to some of the files it replaces (rows twice), never a row missing.
//
// onMerge, when not nil, is called after each merged file replaced the
// files it holds, with its bucket and key and how many files it replaced.
func Compact(ctx context.Context, store objstore.Store, layout objstore.Layout, maxBytes int64, onMerge func(bucket, key string, files int)) (Report, error) {
	files, err := List(ctx, store, layout)
	if err != nil {
		return Report{}, err
	}
	groups := map[string][]File{}
	var order []string
	for _, f := range files {
		if f.Kind != "events" {
			continue
		}
		g := f.Partition() + f.Shard
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], f)
	}
	sort.Strings(order)
	var r Report
	for _, g := range order {
		fs := groups[g]
		// Leftovers: files inside another file's range.
		var keep []File
		for _, f := range fs {
			inside := false
			for _, o := range fs {
				if o.contains(f) && !(f.contains(o)) {
					inside = true
					break
				}
			}
			if inside {
				if err := store.Delete(ctx, f.Bucket, f.Key); err != nil {
					return r, err
				}
				r.Removed++
			} else {
				keep = append(keep, f)
			}
		}
		sort.Slice(keep, func(i, j int) bool { return SeqLess(keep[i].First, keep[j].First) })
		// Merge runs of files up to maxBytes.
		for start := 0; start < len(keep); {
			end, size := start, int64(0)
			for end < len(keep) && (end == start || size+keep[end].Size <= maxBytes) {
				size += keep[end].Size
				end++
			}
			run := keep[start:end]
			start = end
			if len(run) < 2 {
				continue
			}
			var bodies [][]byte
			for _, f := range run {
				b, err := store.Get(ctx, f.Bucket, f.Key)
				if err != nil {
					return r, err
				}
				bodies = append(bodies, b)
			}
			merged, err := parquetfile.MergeEvents(bodies...)
			if err != nil {
				return r, fmt.Errorf("cannot merge %s: %w", g, err)
			}
			first, last := run[0], run[len(run)-1]
			key := first.Key[:strings.LastIndexByte(first.Key, '/')+1] + first.Shard + "-" + first.First + "-" + last.Last + ".parquet"
			if err := store.Put(ctx, first.Bucket, key, merged); err != nil {
				return r, err
			}
			r.Written++
			for _, f := range run {
				if f.Key == key {
					continue
				}
				if err := store.Delete(ctx, f.Bucket, f.Key); err != nil {
					return r, err
				}
				r.Merged++
			}
			if onMerge != nil {
				onMerge(first.Bucket, key, len(run))
			}
		}
	}
	return r, nil
}

// dateOf is the UTC date of a Parquet timestamp in microseconds.
func dateOf(us int64) string { return time.UnixMicro(us).UTC().Format(time.DateOnly) }
