package objstore_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tenantpulse/tenantpulse/internal/objstore"
	"github.com/tenantpulse/tenantpulse/internal/objstore/objstoretest"
	"github.com/tenantpulse/tenantpulse/internal/vfs/vfstest"
)

// The local store over vfstest passes the conformance suite: the file
// system in memory behaves as the real one does for everything the store
// does, so the power-loss tests below (and the archiver's) exercise the
// real code paths.
func TestLocalConformanceOverVFSTest(t *testing.T) {
	objstoretest.Run(t, func(t *testing.T) objstore.Store {
		s, err := objstore.NewLocalFS(vfstest.New(), "/archive")
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestLocalPowerLoss stores objects one at a time and in batches over a
// file system that keeps only what was synced, loses power at a random
// operation, and checks what the next boot finds: every acknowledged
// object, whole; nothing else but whole objects that were being stored.
func TestLocalPowerLoss(t *testing.T) {
	ctx := context.Background()
	for round := range 200 {
		rnd := rand.New(rand.NewPCG(14, uint64(round)))
		fsys := vfstest.New()
		s, err := objstore.NewLocalFS(fsys, "/archive")
		if err != nil {
			t.Fatal(err)
		}
		if err := fsys.SyncFS("/"); err != nil {
			t.Fatal(err)
		}
		fsys.PowerLossAfter(1 + rnd.IntN(120))
		if round%2 == 1 {
			// Unsynced renames and creates may survive too (in these rounds).
			fsys.KeepUnsyncedEntries(rand.New(rand.NewPCG(uint64(round), 1)))
		}
		sent := map[string][]byte{} // bucket/key -> body, acknowledged or not
		acked := map[string]bool{}
		body := func(k string) []byte { return bytes.Repeat([]byte(k), 1+rnd.IntN(50)) }
		for i := 0; i < 12; i++ {
			bucket := fmt.Sprint("tp-b", i%3)
			if err := s.CreateBucket(ctx, bucket); err != nil {
				break
			}
			if i%2 == 0 {
				key := fmt.Sprintf("events/dt=2026-11-%02d/f%d.parquet", 1+i%4, i)
				b := body(key)
				sent[bucket+"/"+key] = b
				if err := s.Put(ctx, bucket, key, b); err != nil {
					break
				}
				acked[bucket+"/"+key] = true
				continue
			}
			var objs []objstore.PutObject
			for j := range 3 {
				key := fmt.Sprintf("events/dt=2026-11-%02d/g%d-%d.parquet", 1+j, i, j)
				objs = append(objs, objstore.PutObject{Bucket: bucket, Key: key, Body: body(key)})
				sent[bucket+"/"+key] = objs[j].Body
			}
			if err := objstore.PutMany(ctx, s, objs, 2); err != nil {
				break
			}
			for _, o := range objs {
				acked[o.Bucket+"/"+o.Key] = true
			}
		}
		after := fsys.Crash()
		s2, err := objstore.NewLocalFS(after, "/archive")
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		found := map[string]bool{}
		buckets, err := s2.Buckets(ctx, "")
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for _, b := range buckets {
			objs, err := s2.List(ctx, b, "")
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			for _, o := range objs {
				got, err := s2.Get(ctx, b, o.Key)
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				if want, ok := sent[b+"/"+o.Key]; !ok || !bytes.Equal(got, want) {
					t.Fatalf("round %d: %s/%s holds %d bytes after the power loss, want the %d stored (whole or absent)", round, b, o.Key, len(got), len(want))
				}
				found[b+"/"+o.Key] = true
			}
		}
		for k := range acked {
			if !found[k] {
				t.Fatalf("round %d: acknowledged object %s is lost after the power loss", round, k)
			}
		}
	}
}
