package parquetfile

import (
	"bytes"
	"fmt"

	"github.com/parquet-go/parquet-go"
)

// RowGroupRows is the most rows a row group holds. An events file of about
// 5 MiB holds one or two row groups; readers parallelize across them.
const RowGroupRows = 128 * 1024

// options returns the writer options of every file: Snappy, the row group
// limit and the schema name in the footer.
func options(schema string) []parquet.WriterOption {
	return []parquet.WriterOption{
		parquet.Compression(&parquet.Snappy),
		parquet.MaxRowsPerRowGroup(RowGroupRows),
		parquet.PageBufferSize(1 << 20),
		// Bounds of JSON blobs and random ids prune nothing; computing
		// them costs a comparison of every value.
		parquet.SkipPageBounds("data"),
		parquet.SkipPageBounds("id"),
		parquet.KeyValueMetadata(SchemaKey, schema),
		parquet.CreatedBy("tenantpulse", "", ""),
	}
}

// fileWriter writes one file of rows of type T into memory.
type fileWriter[T any] struct {
	schema string
	buf    *bytes.Buffer
	w      *parquet.GenericWriter[T]
	rows   int
	done   bool
}

func newFileWriter[T any](schema string) *fileWriter[T] {
	fw := &fileWriter[T]{schema: schema, buf: new(bytes.Buffer)}
	fw.w = parquet.NewGenericWriter[T](fw.buf, options(schema)...)
	return fw
}

func (fw *fileWriter[T]) write(rows []T) error {
	if fw.done {
		panic("BUG: Write after Finish without Reset")
	}
	n, err := fw.w.Write(rows)
	fw.rows += n
	if err != nil {
		return fmt.Errorf("cannot write %s rows: %w", fw.schema, err)
	}
	return nil
}

func (fw *fileWriter[T]) finish() ([]byte, error) {
	if fw.done {
		panic("BUG: Finish called twice without Reset")
	}
	fw.done = true
	if err := fw.w.Close(); err != nil {
		return nil, fmt.Errorf("cannot finish a %s file: %w", fw.schema, err)
	}
	return fw.buf.Bytes(), nil
}

// reset starts a new file. The bytes a previous finish returned stay valid:
// the new file goes to a new buffer, sized like the last one.
func (fw *fileWriter[T]) reset() {
	fw.buf = bytes.NewBuffer(make([]byte, 0, fw.buf.Len()))
	fw.w.Reset(fw.buf)
	fw.rows = 0
	fw.done = false
}

// EventWriter builds one events file in memory. Write rows, then Finish;
// Reset to build the next file with the same buffers. An EventWriter is not
// safe for concurrent use.
type EventWriter struct {
	fw      *fileWriter[EventRow]
	scratch *rowScratch // WriteBatch's, made on first use
}

// NewEventWriter returns a writer of an empty events file.
func NewEventWriter() *EventWriter {
	return &EventWriter{fw: newFileWriter[EventRow](SchemaEvents)}
}

// Write appends rows to the file. The writer copies what it needs: the rows
// may be reused after Write returns.
func (w *EventWriter) Write(rows ...EventRow) error { return w.fw.write(rows) }

// Rows returns the number of rows written since the file began.
func (w *EventWriter) Rows() int { return w.fw.rows }

// Size returns an estimate of the file's size so far, in bytes: the
// encoded row groups and pages plus the buffered rows, which count before
// compression, so the estimate is high until the file is finished.
func (w *EventWriter) Size() int64 {
	if w.fw.done {
		return int64(w.fw.buf.Len())
	}
	return w.fw.w.Size()
}

// Finish writes the footer and returns the whole file. The bytes stay
// valid after Reset.
func (w *EventWriter) Finish() ([]byte, error) { return w.fw.finish() }

// Reset discards the file (finished or not) and begins a new one.
func (w *EventWriter) Reset() { w.fw.reset() }

// WriteErrors returns an errors file of rows.
func WriteErrors(rows []ErrorRow) ([]byte, error) {
	return writeAll(SchemaErrors, rows)
}

// WriteMetrics returns a metrics snapshot file of rows.
func WriteMetrics(rows []MetricsRow) ([]byte, error) {
	return writeAll(SchemaMetrics, rows)
}

func writeAll[T any](schema string, rows []T) ([]byte, error) {
	fw := newFileWriter[T](schema)
	if err := fw.write(rows); err != nil {
		return nil, err
	}
	return fw.finish()
}
