//go:build !linux

package vfs

import (
	"errors"
	"fmt"
)

// Datasync is fsync where there is no fdatasync.
func (f osFile) Datasync() error { return f.Sync() }

// SyncFS is Linux only (syncfs(2)).
func (osFS) SyncFS(string) error {
	return fmt.Errorf("syncfs is Linux only: %w", errors.ErrUnsupported)
}
