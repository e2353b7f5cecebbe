package archive

import (
	"github.com/tenantpulse/tenantpulse/internal/archive/parquetfile"
	"github.com/tenantpulse/tenantpulse/internal/event"
)

// encoder builds Parquet files; one per goroutine (a writer is costly to
// set up, so each is reused).
type encoder struct {
	dec event.Decoder
	ev  event.Event
	w   *parquetfile.EventWriter
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
	w := x.w
	w.Reset()
	for _, r := range buf.recs {
		if _, err := x.dec.Decode(buf.data[r.off:r.off+r.n], &x.ev); err != nil {
			return nil, err // decoded fine when buffered: cannot happen
		}
		if err := w.Write(parquetfile.EventRowFrom(&x.ev, a.stream, a.shard, r.seq, r.arrival)); err != nil {
			return nil, err
		}
	}
	return w.Finish()
}
