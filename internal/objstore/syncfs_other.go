//go:build !linux

package objstore

import "errors"

func syncFS(string) error { return errors.New("syncfs is Linux only") }

// haveSyncFS is false where there is no syncfs(2): PutBatch falls back to
// one fsynced Put per object.
const haveSyncFS = false
