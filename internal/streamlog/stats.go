package streamlog

import (
	"sync"
	"sync/atomic"
	"time"
)

// RateWindow is the span over which ShardStats averages write rates.
const RateWindow = 60 * time.Second

// RateSeconds is the number of one-second slots in a shard's rate ring.
const RateSeconds = int(RateWindow / time.Second)

const rateSlots = int64(RateSeconds)

// ShardStats counts the writes a shard acknowledged since the store was
// opened, whichever API made them.
type ShardStats struct {
	Records uint64 // records acknowledged
	Bytes   uint64 // their partition keys and data, as Kinesis's write quota counts them
	// LastSeq is the sequence number of the newest record written to the
	// shard, since the store opened or before (HasLastSeq false: none).
	LastSeq    Seq
	HasLastSeq bool
	// RecordsPerSecond and BytesPerSecond are the records and bytes that
	// arrived in the last RateWindow (counted per whole second of arrival
	// time, the current second included), divided by its seconds.
	RecordsPerSecond float64
	BytesPerSecond   float64
	// RecentRecords are the records that arrived in each second of the
	// RateWindow, oldest first: the last is the second of now.
	RecentRecords [RateSeconds]uint64
}

// writeStats counts a shard's acknowledged writes. The committer updates
// it once per group commit, before acknowledging; readers take mu briefly.
// mu is a leaf lock: nothing else is locked while it is held.
type writeStats struct {
	records atomic.Uint64
	bytes   atomic.Uint64
	end     atomic.Uint64 // one past the newest acknowledged offset

	mu    sync.Mutex
	slots [rateSlots]rateSlot // by arrival second modulo rateSlots
}

type rateSlot struct {
	sec            int64 // Unix second the counts are for
	records, bytes uint64
}

// add counts n records of b bytes that arrived at arrivalMs, ending at
// offset end.
func (w *writeStats) add(n, b, end uint64, arrivalMs int64) {
	w.records.Add(n)
	w.bytes.Add(b)
	w.end.Store(end)
	sec := arrivalMs / 1000
	w.mu.Lock()
	s := &w.slots[((sec%rateSlots)+rateSlots)%rateSlots]
	if s.sec != sec {
		*s = rateSlot{sec: sec}
	}
	s.records += n
	s.bytes += b
	w.mu.Unlock()
}

// recent sums the counts of the RateWindow seconds ending with nowSec,
// and puts each second's records in perSec, oldest first.
func (w *writeStats) recent(nowSec int64, perSec *[RateSeconds]uint64) (records, bytes uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.slots {
		// A slot ahead of now (the clock stepped back; arrival times
		// never do) still counts, so that no write goes unseen.
		if s.sec > nowSec-rateSlots {
			records += s.records
			bytes += s.bytes
			if i := s.sec - nowSec + rateSlots - 1; i < rateSlots {
				perSec[i] += s.records
			}
		}
	}
	return records, bytes
}

// Stats returns the shard's write counters and rates as of now (the
// store's clock).
func (sh *Shard) Stats() ShardStats { return sh.StatsAt(sh.opts.Now()) }

// StatsAt returns the shard's write counters and rates as of now, so that
// the shards of a view share one clock reading.
func (sh *Shard) StatsAt(now time.Time) ShardStats {
	w := &sh.stats
	st := ShardStats{Records: w.records.Load(), Bytes: w.bytes.Load()}
	if end := w.end.Load(); end > sh.openEnd {
		st.LastSeq, st.HasLastSeq = Seq{Gen: sh.gen, Shard: uint32(sh.index), Offset: end - 1}, true
	} else if sh.hasPrevLast {
		st.LastSeq, st.HasLastSeq = sh.prevLast, true
	}
	r, b := w.recent(now.Unix(), &st.RecentRecords)
	secs := float64(rateSlots)
	st.RecordsPerSecond, st.BytesPerSecond = float64(r)/secs, float64(b)/secs
	return st
}
