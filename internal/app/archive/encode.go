package archive

import "github.com/tenantpulse/tenantpulse/internal/archive/parquetfile"

// encoder builds Parquet files; one per goroutine (a writer is costly to
// set up, so each is reused).
type encoder struct {
	w *parquetfile.EventWriter
}

// encode builds the Parquet file of a buffer.
func (a *shardArchiver) encode(buf *buffer, x *encoder) ([]byte, error) {
	if buf.errors {
		rows := make([]parquetfile.ErrorRow, len(buf.recs))
		for i, r := range buf.recs {
			rows[i] = parquetfile.ErrorRowFrom(buf.data[r.off:r.off+r.n], a.stream, a.shard, r.seq, r.arrival, 1, "InvalidEvent", r.errMsg)
		}
		return parquetfile.WriteErrors(rows)
	}
	if x.w == nil {
		x.w = parquetfile.NewEventWriter()
	}
	x.w.Reset()
	if err := x.w.WriteBatch(buf.batch); err != nil {
		return nil, err
	}
	return x.w.Finish()
}
