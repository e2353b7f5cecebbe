//go:build !linux

package objstore

// haveSyncFS is false where there is no syncfs(2): PutBatch falls back to
// one fsynced Put per object.
const haveSyncFS = false
