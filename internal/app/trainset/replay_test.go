package trainset

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/app/archive"
	"github.com/tenantpulse/tenantpulse/internal/event"
	"github.com/tenantpulse/tenantpulse/internal/objstore"
	"github.com/tenantpulse/tenantpulse/internal/sim"
	"github.com/tenantpulse/tenantpulse/internal/stream"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// archived fills a stream store from the simulator (every tenth record
// appended twice, as a retried send would), archives it with the real
// archiver and returns the archive, the truth halfway (at an event whose
// successor is strictly later) and the truth at the end.
func archived(t *testing.T, layout objstore.Layout) (objstore.Store, sim.Truth, sim.Truth) {
	t.Helper()
	dir := t.TempDir()
	store, err := streamlog.Open(streamlog.Options{Dir: filepath.Join(dir, "streams"), Fsync: streamlog.FsyncInterval})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	byName := map[string]*streamlog.Stream{}
	for _, name := range []string{event.StreamCompanies, event.StreamJobs} {
		if byName[name], err = store.CreateStream(streamlog.StreamConfig{Name: name, ShardCount: 2}); err != nil {
			t.Fatal(err)
		}
	}
	live := time.Now().UTC().Truncate(time.Hour)
	g := sim.New(sim.Config{Seed: 7, Tenants: 8, Start: live.AddDate(0, 0, -90), Live: live})
	hashes := streamlog.NewHashCache()
	var records int64
	var mid sim.Truth
	pending := map[*streamlog.Shard][]streamlog.Entry{}
	appendAll := func(sh *streamlog.Shard) {
		if _, err := sh.Append(pending[sh], make([]streamlog.Seq, len(pending[sh]))); err != nil {
			t.Fatal(err)
		}
		records += int64(len(pending[sh]))
		pending[sh] = pending[sh][:0]
	}
	for i := 0; ; i++ {
		next, ok := g.Peek()
		if !ok || next.Time > live.UnixNano() {
			break
		}
		data, info, _ := g.Next(nil)
		sh := byName[info.Stream].ShardFor(hashes.Hash([]byte(info.TenantID)))
		e := streamlog.Entry{PartitionKey: []byte(info.TenantID), Data: data}
		pending[sh] = append(pending[sh], e)
		if i%10 == 0 {
			pending[sh] = append(pending[sh], e)
		}
		if len(pending[sh]) >= 1000 {
			appendAll(sh)
		}
		if mid.Tenants == nil && info.Time >= live.AddDate(0, 0, -20).UnixNano() {
			if p, ok := g.Peek(); ok && p.Time > info.Time {
				mid = g.Truth()
			}
		}
	}
	for sh := range pending {
		appendAll(sh)
	}
	end := g.Truth()
	objects, err := objstore.NewLocal(filepath.Join(dir, "buckets"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := archive.New(context.Background(), archive.Options{Reader: stream.NewEmbedded(store), Store: objects, Layout: layout, Dir: filepath.Join(dir, "archive")})
	if err != nil {
		t.Fatal(err)
	}
	a.Start()
	for deadline := time.Now().Add(time.Minute); a.Stats().Records.Load() < records; {
		if time.Now().After(deadline) {
			t.Fatalf("archived %d of %d records in a minute", a.Stats().Records.Load(), records)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	return objects, mid, end
}

// sameAsTruth compares a replay's metrics with the simulator's truth.
func sameAsTruth(t *testing.T, what string, rp *Replay, truth sim.Truth) {
	t.Helper()
	if got := rp.AsOf.Format("2006-01-02T15:04:05.000Z"); got != truth.AsOf {
		t.Errorf("%s: as of %s, truth is as of %s", what, got, truth.AsOf)
	}
	if len(rp.Tenants) != len(truth.Tenants) {
		t.Errorf("%s: %d tenants replayed, truth has %d", what, len(rp.Tenants), len(truth.Tenants))
	}
	churned := 0
	for _, tt := range truth.Tenants {
		tn, ok := rp.Tenants[tt.ID]
		if !ok {
			t.Errorf("%s: tenant %s is not in the replay", what, tt.ID)
			continue
		}
		got := fmt.Sprint(tn.Name, tn.Industry, tn.Sentiment, tn.Users, tn.ActiveUsers30d, tn.LastActivity,
			tn.JobsSubmitted, tn.JobsTerminated, tn.JobsCancelled, tn.Jobs30d, tn.Jobs90d, tn.Revenue, tn.Employees, tn.MonthlyFee, tn.Deleted != "")
		want := fmt.Sprint(tt.Name, tt.Industry, tt.Sentiment, tt.Users, tt.ActiveUsers30d, tt.LastActivity,
			tt.JobsSubmitted, tt.JobsTerminated, tt.JobsCancelled, tt.Jobs30d, tt.Jobs90d, tt.Revenue, tt.Employees, tt.MonthlyFee, tt.Churned)
		if got != want {
			t.Errorf("%s: tenant %s replayed as\n  %s\nthe truth is\n  %s", what, tt.ID, got, want)
		}
		if tt.Churned {
			churned++
		}
	}
	t.Logf("%s: %d tenants as of %s, %d events from %d files, %d later; %d churned", what, len(rp.Tenants), truth.AsOf, rp.Events, rp.Files, rp.Later, churned)
}

func TestReplayEqualsTruth(t *testing.T) {
	for _, mode := range []string{objstore.ModeBucket, objstore.ModePrefix} {
		t.Run(mode, func(t *testing.T) {
			layout := objstore.Layout{Prefix: "tp-", Mode: mode}
			t0 := time.Now()
			objects, mid, end := archived(t, layout)
			t.Logf("archived in %v", time.Since(t0))
			ctx := context.Background()
			t0 = time.Now()
			rp, err := ReplayArchive(ctx, Options{Store: objects, Layout: layout})
			t.Logf("replayed in %v", time.Since(t0))
			if err != nil {
				t.Fatal(err)
			}
			if rp.Later != 0 {
				t.Errorf("%d events after the latest one", rp.Later)
			}
			sameAsTruth(t, "end", rp, end)
			if mode == objstore.ModePrefix {
				return // the layout only changes where the files are
			}
			asOf, _ := time.Parse(time.RFC3339, mid.AsOf)
			rpMid, err := ReplayArchive(ctx, Options{Store: objects, Layout: layout, AsOf: asOf})
			if err != nil {
				t.Fatal(err)
			}
			if rpMid.Later == 0 || rpMid.Events+rpMid.Later != rp.Events {
				t.Errorf("as of %s: %d events and %d later, want some later and %d in all", mid.AsOf, rpMid.Events, rpMid.Later, rp.Events)
			}
			sameAsTruth(t, "halfway", rpMid, mid)

			var truthJSON strings.Builder
			fmt.Fprint(&truthJSON, `{"asOf":"x","tenants":[`)
			for i, tt := range end.Tenants {
				if i > 0 {
					truthJSON.WriteByte(',')
				}
				fmt.Fprintf(&truthJSON, `{"id":%q,"churned":%v}`, tt.ID, tt.Churned)
			}
			fmt.Fprint(&truthJSON, `,{"id":"not-archived","churned":true}]}`)
			labels, err := ReadLabels(strings.NewReader(truthJSON.String()))
			if err != nil {
				t.Fatal(err)
			}
			delete(labels, end.Tenants[0].ID)
			examples, st := rp.Examples(labels)
			if st.Examples != len(end.Tenants)-1 || st.Unlabelled != 1 || st.Missing != 1 || len(examples) != st.Examples {
				t.Errorf("stats %+v with %d examples, want %d examples, 1 unlabelled, 1 missing", st, len(examples), len(end.Tenants)-1)
			}
			churned := 0
			for _, tt := range end.Tenants[1:] {
				if tt.Churned {
					churned++
				}
			}
			if st.Churned != churned || churned == 0 {
				t.Errorf("%d churned examples, the truth has %d (want some)", st.Churned, churned)
			}
			// The facts are the live path's: jobs30d of the replayed tenant.
			ex := examples[0]
			id := end.Tenants[1].ID
			if ex.Facts.Num["jobs30d"] != float64(rp.Tenants[id].Jobs30d) || ex.Facts.Cat["industry"] != rp.Tenants[id].Industry {
				t.Errorf("first example's facts %v do not match tenant %s", ex.Facts, id)
			}
		})
	}
}

func TestReplayEmptyArchive(t *testing.T) {
	objects, err := objstore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, err = ReplayArchive(context.Background(), Options{Store: objects, Layout: objstore.Layout{}})
	if err == nil || !strings.Contains(err.Error(), "no events files") {
		t.Fatalf("err %v, want one saying the archive holds no events files", err)
	}
}
