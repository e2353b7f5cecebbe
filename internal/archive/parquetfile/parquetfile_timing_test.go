package parquetfile

import (
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/event"
	"github.com/tenantpulse/tenantpulse/internal/sim"
)

// simRecords returns n simulator events as stored records (with a
// receivedtime), and their total NDJSON size (one newline each).
func simRecords(b *testing.B, n int) ([][]byte, int64) {
	b.Helper()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	g := sim.New(sim.Config{Seed: 1, Tenants: 300, Start: now.Add(-120 * 24 * time.Hour)})
	var d event.Decoder
	var e event.Event
	recs := make([][]byte, 0, n)
	var ndjson int64
	for range n {
		js, info, ok := g.Next(nil)
		if !ok {
			b.Fatal("the generator ran dry")
		}
		if _, err := d.Decode(js, &e); err != nil {
			b.Fatal(err)
		}
		rec := event.AppendStored(nil, &e, info.Time/1e6+250)
		recs = append(recs, rec)
		ndjson += int64(len(rec)) + 1
	}
	return recs, ndjson
}

// BenchmarkEventWriter measures the archive's hot path for events: decode a
// stored record, EventRowFrom, Write, and Finish a file every 100,000 rows
// (about 5 MiB). It reports events/s and the file's bytes per event next
// to the records' NDJSON bytes per event.
func BenchmarkEventWriter(b *testing.B) {
	const perFile = 100_000
	recs, ndjson := simRecords(b, perFile)
	seqs := make([]string, len(recs))
	for i := range seqs {
		seqs[i] = "49" + strconv.FormatInt(1_764_064_800_000_000+int64(i), 10) + "00000000000001" + strconv.Itoa(100000000+i)
	}
	var d event.Decoder
	var e event.Event
	w := NewEventWriter()
	var fileBytes, fileRows int64
	batch := make([]EventRow, 0, 500)
	flush := func() {
		if err := w.Write(batch...); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	i := 0
	for b.Loop() {
		rec := recs[i]
		if _, err := d.Decode(rec, &e); err != nil {
			b.Fatal(err)
		}
		batch = append(batch, EventRowFrom(&e, e.Type.Stream(), "shardId-000000000001", seqs[i], e.Time/1e6+300))
		if len(batch) == cap(batch) {
			flush()
		}
		i++
		if i == len(recs) {
			flush()
			f, err := w.Finish()
			if err != nil {
				b.Fatal(err)
			}
			fileBytes += int64(len(f))
			fileRows += int64(w.Rows())
			w.Reset()
			i = 0
		}
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	// The process's CPU time (GC included) per event: unlike events/s it
	// does not drop when other processes share the cores.
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/event")
	b.ReportMetric(float64(ndjson)/float64(len(recs)), "ndjson-B/event")
	if fileRows > 0 {
		b.ReportMetric(float64(fileBytes)/float64(fileRows), "parquet-B/event")
	}
}

// cpuTime returns the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
