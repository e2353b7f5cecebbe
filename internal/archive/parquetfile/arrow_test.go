package parquetfile

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// The files are read back with arrow-go, an implementation independent of
// the writer's, as a query engine would.

func TestArrowReadsEvents(t *testing.T) {
	rows := testEventRows(t)
	w := NewEventWriter()
	if err := w.Write(rows...); err != nil {
		t.Fatal(err)
	}
	b, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	checkWithArrow(t, b, SchemaEvents, rows)
}

func TestArrowReadsErrors(t *testing.T) {
	rows := testErrorRows()
	b, err := WriteErrors(rows)
	if err != nil {
		t.Fatal(err)
	}
	checkWithArrow(t, b, SchemaErrors, rows)
}

func TestArrowReadsMetrics(t *testing.T) {
	rows := testMetricsRows()
	b, err := WriteMetrics(rows)
	if err != nil {
		t.Fatal(err)
	}
	checkWithArrow(t, b, SchemaMetrics, rows)
}

func TestArrowReadsMergedEvents(t *testing.T) {
	rows := testEventRows(t)
	var files [][]byte
	for _, part := range [][]EventRow{rows[:5], rows[5:]} {
		w := NewEventWriter()
		if err := w.Write(part...); err != nil {
			t.Fatal(err)
		}
		b, err := w.Finish()
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	b, err := MergeEvents(files...)
	if err != nil {
		t.Fatal(err)
	}
	checkWithArrow(t, b, SchemaEvents, rows)
}

// column is what a row type's field must be in the file, from its tag.
type column struct {
	name     string
	field    int
	typ      arrow.DataType
	nullable bool
}

func columnsOf(t *testing.T, typ reflect.Type) []column {
	t.Helper()
	var cols []column
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag := strings.Split(f.Tag.Get("parquet"), ",")
		c := column{name: tag[0], field: i, nullable: f.Type.Kind() == reflect.Pointer}
		ft := f.Type
		if c.nullable {
			ft = ft.Elem()
		}
		has := func(opt string) bool {
			for _, o := range tag[1:] {
				if o == opt || strings.HasPrefix(o, opt+"(") {
					return true
				}
			}
			return false
		}
		switch {
		case has("timestamp"):
			c.typ = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
		case has("date"):
			c.typ = arrow.FixedWidthTypes.Date32
		case ft.Kind() == reflect.String:
			c.typ = arrow.BinaryTypes.String
		case ft.Kind() == reflect.Int64:
			c.typ = arrow.PrimitiveTypes.Int64
		case ft.Kind() == reflect.Int32:
			c.typ = arrow.PrimitiveTypes.Int32
		case ft.Kind() == reflect.Float64:
			c.typ = arrow.PrimitiveTypes.Float64
		default:
			t.Fatalf("field %s: no arrow type for %s", f.Name, ft)
		}
		cols = append(cols, c)
	}
	return cols
}

// checkWithArrow reads b with arrow-go and checks the footer, the codec of
// every column chunk, the columns' names, types and nullability, and every
// value against rows.
func checkWithArrow[T any](t *testing.T, b []byte, schema string, rows []T) {
	t.Helper()
	pf, err := file.NewParquetReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	md := pf.MetaData()
	if v := md.KeyValueMetadata().FindValue(SchemaKey); v == nil || *v != schema {
		t.Errorf("footer %s: got %v, want %q", SchemaKey, v, schema)
	}
	if md.NumRows != int64(len(rows)) {
		t.Errorf("footer rows: got %d, want %d", md.NumRows, len(rows))
	}
	for rg := range pf.NumRowGroups() {
		rgm := md.RowGroup(rg)
		for c := range rgm.NumColumns() {
			cc, err := rgm.ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			if cc.Compression() != compress.Codecs.Snappy {
				t.Errorf("row group %d column %s: codec %v, want SNAPPY", rg, cc.PathInSchema(), cc.Compression())
			}
		}
	}

	tbl, err := pqarrow.ReadTable(context.Background(), bytes.NewReader(b), pq.NewReaderProperties(memory.DefaultAllocator),
		pqarrow.ArrowReadProperties{BatchSize: 1 << 10}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()

	cols := columnsOf(t, reflect.TypeFor[T]())
	fields := tbl.Schema().Fields()
	if len(fields) != len(cols) {
		t.Fatalf("got %d columns, want %d: %v", len(fields), len(cols), tbl.Schema())
	}
	for i, c := range cols {
		f := fields[i]
		if f.Name != c.name || !arrow.TypeEqual(f.Type, c.typ) || f.Nullable != c.nullable {
			t.Errorf("column %d: got %s %s nullable=%v, want %s %s nullable=%v",
				i, f.Name, f.Type, f.Nullable, c.name, c.typ, c.nullable)
			continue
		}
		var got []any
		for _, chunk := range tbl.Column(i).Data().Chunks() {
			for j := range chunk.Len() {
				got = append(got, arrowValue(t, chunk, j))
			}
		}
		if len(got) != len(rows) {
			t.Fatalf("column %s: %d values, want %d", c.name, len(got), len(rows))
		}
		for r := range rows {
			v := reflect.ValueOf(rows[r]).Field(c.field)
			var want any
			if v.Kind() != reflect.Pointer || !v.IsNil() {
				want = reflect.Indirect(v).Interface()
			}
			if got[r] != want {
				t.Errorf("row %d column %s: got %#v, want %#v", r, c.name, got[r], want)
			}
		}
	}
}

// arrowValue returns the value at j as the Go type the row field has, or
// nil for a null.
func arrowValue(t *testing.T, a arrow.Array, j int) any {
	t.Helper()
	if a.IsNull(j) {
		return nil
	}
	switch a := a.(type) {
	case *array.String:
		return a.Value(j)
	case *array.Int64:
		return a.Value(j)
	case *array.Int32:
		return a.Value(j)
	case *array.Float64:
		return a.Value(j)
	case *array.Timestamp:
		return int64(a.Value(j))
	case *array.Date32:
		return int32(a.Value(j))
	}
	t.Fatalf("unexpected arrow array %T", a)
	return nil
}
