package objstore_test

import (
	"context"
	"fmt"
	"os"

	"github.com/tenantpulse/tenantpulse/internal/objstore"
)

func ExampleLayout_Tenant() {
	l := objstore.Layout{} // one bucket per tenant, prefix "tenantpulse-"
	for _, id := range []string{"acme-42", "Acme Corp", "errors"} {
		bucket, _ := l.Tenant(id)
		fmt.Println(bucket)
	}
	fmt.Println(quote(l.Errors()))

	p := objstore.Layout{Prefix: "acme-", Mode: objstore.ModePrefix}
	fmt.Println(quote(p.Tenant("acme-42")))
	fmt.Println(quote(p.Errors()))
	// Output:
	// tenantpulse-acme-42
	// tenantpulse-acme-corp--u46livr64ltszygoqbou
	// tenantpulse-errors--xzf5kz3so4chdnrzk5gz
	// "tenantpulse-errors" ""
	// "acme-archive" "tenants/acme-42/"
	// "acme-archive" "errors/"
}

func quote(bucket, keyPrefix string) string { return fmt.Sprintf("%q %q", bucket, keyPrefix) }

func ExampleNewLocal() {
	dir, _ := os.MkdirTemp("", "archive")
	defer os.RemoveAll(dir)
	objstore.RemoveTemps(dir) // at startup: what a crash left
	s, _ := objstore.NewLocal(dir)
	ctx := context.Background()
	bucket, prefix := objstore.Layout{}.Tenant("acme-42")
	s.CreateBucket(ctx, bucket)
	s.Put(ctx, bucket, prefix+"events/stream=jobs/dt=2026-11-25/part-0.parquet", []byte("PAR1..."))
	objs, _ := s.List(ctx, bucket, prefix+"events/stream=jobs/")
	fmt.Println(objs)
	// Output:
	// [{events/stream=jobs/dt=2026-11-25/part-0.parquet 7}]
}
