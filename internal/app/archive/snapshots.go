package archive

import (
	"context"
	"fmt"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/analytics"
	"github.com/tenantpulse/tenantpulse/internal/archive/parquetfile"
)

// Snapshotter writes each tenant's headline metrics of the day, as one
// Parquet row, to <bucket>/[<prefix>]metrics/dt=<date>/metrics.parquet,
// every interval: the file of today is replaced with each refresh (a
// single PUT, so readers see the old or the new), and once the day is over
// its last snapshot stays. BI tools read these files at rest.
type Snapshotter struct {
	s        *Service
	tenants  func(asOf time.Time) []analytics.Tenant
	interval time.Duration
	done     chan struct{}
	stop     chan struct{}
	buckets  map[string]bool
}

// StartSnapshots writes metrics snapshots from tenants every interval
// until Stop.
func (s *Service) StartSnapshots(tenants func(asOf time.Time) []analytics.Tenant, interval time.Duration) {
	sn := &Snapshotter{s: s, tenants: tenants, interval: interval, done: make(chan struct{}), stop: make(chan struct{}), buckets: map[string]bool{}}
	s.snap = sn
	go sn.run()
}

func (sn *Snapshotter) run() {
	defer close(sn.done)
	t := time.NewTicker(sn.interval)
	defer t.Stop()
	for {
		select {
		case <-sn.stop:
			return
		case <-t.C:
		}
		if err := sn.Snapshot(context.Background(), sn.s.opts.Now()); err != nil {
			sn.s.log.Warn("cannot write the metrics snapshots", "error", err)
		}
	}
}

// Snapshot writes every tenant's row for the day of now.
func (sn *Snapshotter) Snapshot(ctx context.Context, now time.Time) error {
	date := now.UTC().Format(time.DateOnly)
	for _, t := range sn.tenants(now) {
		row := parquetfile.MetricsRow{
			Date: parquetfile.Date(now.UnixMilli()), ID: t.ID, Users: t.Users, ActiveUsers30d: t.ActiveUsers30d,
			JobsSubmitted: t.JobsSubmitted, JobsTerminated: t.JobsTerminated, JobsCancelled: t.JobsCancelled,
			Jobs30d: t.Jobs30d, Jobs90d: t.Jobs90d, AsOf: now.UnixMicro(),
		}
		if t.Risk != nil {
			row.Risk = &t.Risk.Score
		}
		if t.Name != "" {
			row.Name = &t.Name
		}
		if t.Industry != "" {
			row.Industry = &t.Industry
		}
		if t.Sentiment != "" {
			row.Sentiment = &t.Sentiment
		}
		if la, err := time.Parse(time.RFC3339Nano, t.LastActivity); err == nil {
			us := la.UnixMicro()
			row.LastActivity = &us
		}
		body, err := parquetfile.WriteMetrics([]parquetfile.MetricsRow{row})
		if err != nil {
			return err
		}
		bucket, prefix := sn.s.opts.Layout.Tenant(t.ID)
		if !sn.buckets[bucket] {
			if err := sn.s.opts.Store.CreateBucket(ctx, bucket); err != nil {
				return fmt.Errorf("cannot create bucket %s: %w", bucket, err)
			}
			sn.buckets[bucket] = true
		}
		if err := sn.s.opts.Store.Put(ctx, bucket, prefix+"metrics/dt="+date+"/metrics.parquet", body); err != nil {
			return err
		}
	}
	return nil
}

func (sn *Snapshotter) shutdown() {
	close(sn.stop)
	<-sn.done
}
