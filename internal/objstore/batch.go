package objstore

import (
	"context"
	"errors"
	"sync"
)

// PutObject is one object for PutMany.
type PutObject struct {
	Bucket, Key string
	Body        []byte
}

// Batcher is a Store that stores several objects at once more cheaply than
// one Put each. The local store is one: it makes them all durable with two
// file-system syncs instead of two fsyncs each.
type Batcher interface {
	// PutBatch stores objs as Put would, each whole or not at all. On an
	// error some objects may be stored and others not.
	PutBatch(ctx context.Context, objs []PutObject) error
}

// PutMany stores objs, each whole or not at all, with the store's
// PutBatch when it has one and otherwise with up to parallel Puts at a
// time. It returns when every object is stored, or with the errors of
// those that are not (others may be stored then).
func PutMany(ctx context.Context, s Store, objs []PutObject, parallel int) error {
	if b, ok := s.(Batcher); ok {
		return b.PutBatch(ctx, objs)
	}
	return putEach(ctx, s, objs, parallel)
}

// putEach stores objs with up to parallel Puts at a time.
func putEach(ctx context.Context, s Store, objs []PutObject, parallel int) error {
	errs := make([]error, len(objs))
	next := make(chan int, len(objs))
	for i := range objs {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range max(1, min(parallel, len(objs))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = s.Put(ctx, objs[i].Bucket, objs[i].Key, objs[i].Body)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
