package bench

import (
	"crypto/rand"
	"fmt"
)

// Workload shape. The put phase reuses a small set of prepared batches
// round-robin so that building requests costs nothing in the timed loop.
const (
	preparedBatches  = 64        // distinct full batches
	preparedBytesCap = 256 << 20 // rough cap on encoded prepared batches
	payloadBytesCap  = 64 << 20  // cap on distinct random payload bytes
	maxPayloads      = 1024      // cap on distinct random payloads
	partitionKeys    = 10000     // keys are tenant-0 .. tenant-9999
)

// recordRef is one record to put.
type recordRef struct {
	key  string
	data []byte
}

// workload is the set of records every mode puts: numBatches() batches,
// batch k being batches[batchIndex(k)].
type workload struct {
	total     int
	batchSize int
	size      int
	nFull     int           // prepared full batches: batches[:nFull]
	hasTail   bool          // batches[nFull] holds the total%batchSize tail
	batches   [][]recordRef // prepared batches
}

func newWorkload(total, batchSize, size int) *workload {
	w := &workload{total: total, batchSize: batchSize, size: size}
	full := total / batchSize
	encoded := batchSize * (size*4/3 + 48)
	w.nFull = min(preparedBatches, full, max(1, preparedBytesCap/encoded))
	tail := total % batchSize
	w.hasTail = tail > 0

	entries := w.nFull*batchSize + tail
	payloads := make([][]byte, min(entries, maxPayloads, max(1, payloadBytesCap/size)))
	buf := make([]byte, len(payloads)*size)
	if _, err := rand.Read(buf); err != nil {
		panic(fmt.Sprintf("BUG: crypto/rand failed: %v", err))
	}
	for i := range payloads {
		payloads[i] = buf[i*size : (i+1)*size : (i+1)*size]
	}
	recs := make([]recordRef, entries)
	for i := range recs {
		recs[i] = recordRef{key: fmt.Sprintf("tenant-%d", i%partitionKeys), data: payloads[i%len(payloads)]}
	}
	for i := 0; i < w.nFull; i++ {
		w.batches = append(w.batches, recs[i*batchSize:(i+1)*batchSize:(i+1)*batchSize])
	}
	if w.hasTail {
		w.batches = append(w.batches, recs[w.nFull*batchSize:])
	}
	return w
}

// numBatches is the number of PutRecords batches that put total records.
func (w *workload) numBatches() int {
	return (w.total + w.batchSize - 1) / w.batchSize
}

// batchIndex returns the prepared batch sent as batch k.
func (w *workload) batchIndex(k int) int {
	if w.hasTail && k == w.numBatches()-1 {
		return w.nFull
	}
	return k % w.nFull
}
