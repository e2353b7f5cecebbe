package trainset

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/analytics"
	"github.com/tenantpulse/tenantpulse/internal/app/scoring"
	"github.com/tenantpulse/tenantpulse/internal/archive/catalog"
	"github.com/tenantpulse/tenantpulse/internal/archive/parquetfile"
	"github.com/tenantpulse/tenantpulse/internal/event"
	"github.com/tenantpulse/tenantpulse/internal/model"
	"github.com/tenantpulse/tenantpulse/internal/objstore"
)

// Options say which archive to replay and as of when.
type Options struct {
	Store  objstore.Store
	Layout objstore.Layout
	// AsOf: the metrics are those at this time, from the events up to it.
	// Zero: the latest event time in the archive.
	AsOf time.Time
}

// Replay is what the archive says of each tenant as of one time.
type Replay struct {
	AsOf    time.Time
	Tenants map[string]analytics.Tenant // by tenant id
	Files   int                         // events files read
	Events  int64                       // archived events up to AsOf (a record archived twice counts twice)
	Later   int64                       // archived events after AsOf, ignored
}

// ReplayArchive reads every events file of the archive and computes each
// tenant's metrics as of opts.AsOf, with the live processor's
// aggregations. One tenant's files are in memory at a time.
func ReplayArchive(ctx context.Context, opts Options) (*Replay, error) {
	files, err := catalog.List(ctx, opts.Store, opts.Layout)
	if err != nil {
		return nil, err
	}
	groups := map[string][]catalog.File{} // by tenant root: bucket and key prefix before "events/"
	var roots []string
	lastDate := ""
	for _, f := range files {
		if f.Kind != "events" {
			continue
		}
		root := f.Bucket + "/" + f.Key[:strings.LastIndex(f.Key, "events/")]
		if groups[root] == nil {
			roots = append(roots, root)
		}
		groups[root] = append(groups[root], f)
		lastDate = max(lastDate, f.Date)
	}
	if len(roots) == 0 {
		return nil, errors.New("the archive holds no events files: is --data (or the S3 settings, --bucket-prefix and --bucket-mode) the server's?")
	}
	slices.Sort(roots)
	rp := &Replay{AsOf: opts.AsOf.UTC(), Tenants: map[string]analytics.Tenant{}}
	if opts.AsOf.IsZero() {
		// The latest event is in a file of the latest dt= partition.
		var latest int64
		for _, f := range files {
			if f.Kind != "events" || f.Date != lastDate {
				continue
			}
			rows, err := readEvents(ctx, opts.Store, f)
			if err != nil {
				return nil, err
			}
			for i := range rows {
				latest = max(latest, rows[i].Time)
			}
		}
		rp.AsOf = time.UnixMicro(latest).UTC()
	}
	// Tenants replay in parallel, one per worker at a time.
	type result struct {
		tenants       map[string]*analytics.Tenant
		files         int
		events, later int64
		err           error
	}
	work, results := make(chan string), make(chan result, len(roots)) // buffered: workers never wait on an early return
	workers := min(runtime.GOMAXPROCS(0), len(roots))
	for range workers {
		go func() {
			var rows []parquetfile.EventRow
			var rec []byte
			for root := range work {
				var res result
				rows, res.files, res.later, res.err = replayTenant(ctx, opts.Store, groups[root], rp.AsOf, rows[:0])
				if res.err == nil {
					res.events = int64(len(rows))
					// Each row goes to the shard of the stream it was archived
					// from, arriving at its event time.
					ts := analytics.NewTester(analytics.Options{})
					for i := range rows {
						r := &rows[i]
						sh := ts.Companies
						if r.Stream == event.StreamJobs {
							sh = ts.Jobs
						}
						rec = appendRecord(rec[:0], r)
						sh.Apply(rec, r.Time/1000, r.SequenceNumber)
					}
					res.tenants = ts.Tenants(rp.AsOf)
				}
				results <- res
			}
		}()
	}
	go func() {
		defer close(work)
		for _, root := range roots {
			select {
			case work <- root:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range roots {
		var res result
		select {
		case res = <-results:
		case <-ctx.Done():
			return nil, ctx.Err() // the feeder stopped: some roots give no result
		}
		if res.err != nil {
			return nil, res.err
		}
		rp.Files += res.files
		rp.Events += res.events
		rp.Later += res.later
		for id, t := range res.tenants {
			rp.Tenants[id] = *t
		}
	}
	return rp, nil
}

// replayTenant reads one tenant's events files and returns, appended to
// rows, its events up to asOf in the order they replay: event time, then
// arrival, then sequence number.
func replayTenant(ctx context.Context, store objstore.Store, files []catalog.File, asOf time.Time, rows []parquetfile.EventRow) (_ []parquetfile.EventRow, nfiles int, later int64, err error) {
	limit := asOf.UnixMicro()
	for _, f := range files {
		rs, err := readEvents(ctx, store, f)
		if err != nil {
			return rows, nfiles, later, err
		}
		nfiles++
		for _, r := range rs {
			if r.Time > limit {
				later++
				continue
			}
			rows = append(rows, r)
		}
	}
	slices.SortStableFunc(rows, func(a, b parquetfile.EventRow) int {
		if c := cmp.Compare(a.Time, b.Time); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Arrival, b.Arrival); c != 0 {
			return c
		}
		switch {
		case catalog.SeqLess(a.SequenceNumber, b.SequenceNumber):
			return -1
		case catalog.SeqLess(b.SequenceNumber, a.SequenceNumber):
			return 1
		}
		return 0
	})
	return rows, nfiles, later, nil
}

func readEvents(ctx context.Context, store objstore.Store, f catalog.File) ([]parquetfile.EventRow, error) {
	b, err := store.Get(ctx, f.Bucket, f.Key)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s/%s: %w", f.Bucket, f.Key, err)
	}
	rows, err := parquetfile.ReadEvents(b)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", f.Bucket, f.Key, err)
	}
	return rows, nil
}

// appendRecord appends the event of an archived row as a CloudEvent in
// structured JSON mode: the envelope from the columns, the data object as
// archived.
func appendRecord(dst []byte, r *parquetfile.EventRow) []byte {
	dst = append(dst, `{"specversion":`...)
	dst = appendJSONString(dst, r.SpecVersion)
	for _, f := range [...]struct{ name, v string }{{"id", r.ID}, {"source", r.Source}, {"type", r.Type}, {"tenantid", r.TenantID}} {
		dst = append(dst, ',', '"')
		dst = append(dst, f.name...)
		dst = append(dst, '"', ':')
		dst = appendJSONString(dst, f.v)
	}
	dst = append(dst, `,"time":"`...)
	dst = time.UnixMicro(r.Time).UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, '"')
	if r.Subject != nil {
		dst = append(dst, `,"subject":`...)
		dst = appendJSONString(dst, *r.Subject)
	}
	if r.Data != nil {
		dst = append(dst, `,"data":`...)
		dst = append(dst, *r.Data...)
	}
	return append(dst, '}')
}

// appendJSONString appends s as a JSON string.
func appendJSONString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return append(dst, b...)
}

// Stats count how the labels and the replayed tenants matched.
type Stats struct {
	Examples   int // labelled tenants found in the archive
	Churned    int // of them, labelled churned
	Unlabelled int // tenants in the archive without a label (left out)
	Missing    int // labelled tenants not in the archive (left out)
}

// Examples returns a training example per labelled tenant of the replay,
// sorted by tenant id: its facts as of the replay's time (scoring.FactsOf)
// and its label.
func (rp *Replay) Examples(labels Labels) ([]model.Example, Stats) {
	ids := make([]string, 0, len(rp.Tenants))
	for id := range rp.Tenants {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var st Stats
	var out []model.Example
	for _, id := range ids {
		churned, ok := labels[id]
		if !ok {
			st.Unlabelled++
			continue
		}
		out = append(out, model.Example{Facts: scoring.FactsOf(rp.Tenants[id], rp.AsOf), Churn: churned})
		if churned {
			st.Churned++
		}
	}
	st.Examples = len(out)
	for id := range labels {
		if _, ok := rp.Tenants[id]; !ok {
			st.Missing++
		}
	}
	return out, st
}
