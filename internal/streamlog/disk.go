package streamlog

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/retry"
)

// DiskStatus is what the store knows about its volume and the writes it
// refused, for health checks and metrics.
type DiskStatus struct {
	Dir          string
	FreeBytes    uint64 // available to tenantpulse, at the last check (every second)
	SizeBytes    uint64 // the volume's size
	MinFreeBytes uint64
	// Low is true while FreeBytes is under MinFreeBytes: every write is
	// refused (ErrThrottled) until space comes back.
	Low bool
	// RefusedLowSpace counts the records refused because free space was
	// under MinFreeBytes; RefusedWriteErrors those refused because a
	// write to disk failed (ENOSPC, EIO), with the batch queued behind it.
	RefusedLowSpace    uint64
	RefusedWriteErrors uint64
	// Writes says since when the store's writes fail (zero Since: the
	// latest write to any shard succeeded; a full volume fails them all)
	// and why, and counts the failed writes.
	Writes retry.State
}

// diskCounters are the store's refusal counters.
type diskCounters struct {
	free, size    atomic.Uint64
	refusedLow    atomic.Uint64
	refusedFailed atomic.Uint64
	writes        retry.Failures // the committers' writes
}

// Disk returns the store's volume and refusals.
func (s *Store) Disk() DiskStatus {
	d := DiskStatus{Dir: s.dir, FreeBytes: s.disk.free.Load(), SizeBytes: s.disk.size.Load(), MinFreeBytes: s.opts.MinFreeBytes,
		Low: s.diskLow.Load(), RefusedLowSpace: s.disk.refusedLow.Load(), RefusedWriteErrors: s.disk.refusedFailed.Load(),
		Writes: s.disk.writes.State()}
	return d
}

// Refusing reports, while the store refuses writes, why (one sentence);
// "" when it takes them.
func (d DiskStatus) Refusing() string {
	switch {
	case d.Low:
		return fmt.Sprintf("free space %s on the volume of %s is below min_free_bytes %s", HumanBytes(d.FreeBytes), d.Dir, HumanBytes(d.MinFreeBytes))
	case d.Writes.Failing():
		return fmt.Sprintf("writes fail since %s: %s", d.Writes.Since.UTC().Format(time.RFC3339), d.Writes.Last)
	}
	return ""
}

// HumanBytes formats a byte count for messages: 512 bytes, 12.5 KiB,
// 64.0 MiB, 2.0 GiB.
func HumanBytes(b uint64) string {
	switch {
	case b == 1:
		return "1 byte"
	case b < 1<<10:
		return fmt.Sprintf("%d bytes", b)
	case b < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	case b < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
}

// warnSmallVolume says at start when the volume is smaller than
// MinFreeBytes: every write would be refused from the first one.
func (s *Store) warnSmallVolume() {
	size := s.disk.size.Load()
	if size == 0 || size >= s.opts.MinFreeBytes {
		return
	}
	s.opts.Logger.Warn(fmt.Sprintf("the volume of %s is %s in all, smaller than min_free_bytes (%s): every write will be refused; "+
		"put the data directory on a larger volume, or set min_free_bytes (--min-free-bytes) well below the volume's size, such as %d",
		s.dir, HumanBytes(size), HumanBytes(s.opts.MinFreeBytes), size/8),
		"volume_bytes", size, "free_bytes", s.disk.free.Load(), "min_free_bytes", s.opts.MinFreeBytes)
}
