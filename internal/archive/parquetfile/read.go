package parquetfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"
)

// ErrNotOurs reports a Parquet file whose footer does not name the schema
// the reader expects under SchemaKey (another kind of file, another
// version, or a file tenantpulse did not write).
var ErrNotOurs = errors.New("not a tenantpulse Parquet file of the expected schema")

// readBatch is how many rows a reader decodes at a time.
const readBatch = 4096

// ReadEvents returns the rows of an events file.
func ReadEvents(b []byte) ([]EventRow, error) { return readAll[EventRow](SchemaEvents, b) }

// ReadErrors returns the rows of an errors file.
func ReadErrors(b []byte) ([]ErrorRow, error) { return readAll[ErrorRow](SchemaErrors, b) }

// ReadMetrics returns the rows of a metrics snapshot file.
func ReadMetrics(b []byte) ([]MetricsRow, error) { return readAll[MetricsRow](SchemaMetrics, b) }

// MergeEvents returns one events file holding the rows of files, in order:
// the first file's rows, then the second's, and so on. It is how the
// archive compacts small files.
func MergeEvents(files ...[]byte) ([]byte, error) {
	w := NewEventWriter()
	for i, b := range files {
		err := eachBatch(SchemaEvents, b, func(rows []EventRow) error { return w.Write(rows...) })
		if err != nil {
			return nil, fmt.Errorf("cannot merge events file %d of %d: %w", i+1, len(files), err)
		}
	}
	return w.Finish()
}

func readAll[T any](schema string, b []byte) ([]T, error) {
	var out []T
	err := eachBatch(schema, b, func(rows []T) error {
		out = append(out, rows...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachBatch calls fn with successive batches of the rows of the file b,
// which must be a file of schema. The batch is reused between calls.
// Corrupt input gives an error, never a panic.
func eachBatch[T any](schema string, b []byte, fn func([]T) error) (err error) {
	defer func() {
		// parquet-go panics on some malformed files; they are bad input,
		// not broken invariants here.
		if r := recover(); r != nil {
			err = fmt.Errorf("cannot read a %s file: malformed Parquet: %v", schema, r)
		}
	}()
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return fmt.Errorf("cannot read a %s file: %w", schema, err)
	}
	if v, ok := f.Lookup(SchemaKey); !ok || v != schema {
		return fmt.Errorf("cannot read a %s file: %s is %q: %w", schema, SchemaKey, v, ErrNotOurs)
	}
	want := parquet.SchemaOf(new(T))
	if !parquet.EqualNodes(want, f.Schema()) {
		return fmt.Errorf("cannot read a %s file: its columns differ from the schema's: %w", schema, ErrNotOurs)
	}
	r := parquet.NewGenericReader[T](f)
	defer r.Close()
	batch := make([]T, min(readBatch, max(f.NumRows(), 1)))
	for {
		clear(batch)
		n, err := r.Read(batch)
		if n > 0 {
			if err := fn(batch[:n]); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("cannot read a %s file: %w", schema, err)
		}
		if n == 0 {
			return fmt.Errorf("cannot read a %s file: the reader made no progress", schema)
		}
	}
}
