package decode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// csvHead is what the start of a CSV file says: column names and, when
// asked for, the first records kept for decoding after inference.
type csvHead struct {
	names   []string
	kinds   []uint8
	pending []csvRecord
}

// readCSVHeader reads the header record, if the file has one, and returns
// its column names; nil means no header or an empty file.
func readCSVHeader(cr *csvReader, s *settings) ([]string, error) {
	if !s.header {
		return nil, nil
	}
	rec, err := cr.next()
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	names := make([]string, rec.len())
	for i := range names {
		f := rec.field(i)
		if !utf8.Valid(f) {
			return nil, dataErrf(cr.name, rec.line, "", "header field %d: %v", i+1, errUTF8)
		}
		names[i] = strings.TrimSpace(string(f))
	}
	if n := len(names); n >= 2 && names[n-1] == "" && !rec.quoted[n-1] {
		// A delimiter ends the header: the empty column it makes is no
		// column, and the records' one is dropped too (as DuckDB does).
		names = names[:n-1]
		cr.trailing = true
	}
	return uniqueNames(names), nil
}

// uniqueNames names unnamed columns columnN (N the 0-based position) and
// suffixes repeated names (_1, _2, ... as DuckDB does) so every column can
// be addressed.
func uniqueNames(names []string) []string {
	seen := make(map[string]bool, len(names))
	for i, n := range names {
		if n == "" {
			n = "column" + strconv.Itoa(i)
		}
		base := n
		for k := 1; seen[n]; k++ {
			n = base + "_" + strconv.Itoa(k)
		}
		seen[n] = true
		names[i] = n
	}
	return names
}

func positionalNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = "column" + strconv.Itoa(i)
	}
	return names
}

// sampleCSV classifies up to the sample bound of records, starting with
// h.pending, into h.kinds; keep also keeps the records read. ncols < 0
// means take the count from the first record.
func sampleCSV(cr *csvReader, s *settings, h *csvHead, ncols int, keep bool) error {
	var rows, bytes int
	visit := func(rec *csvRecord) error {
		if ncols < 0 {
			ncols = rec.len()
		}
		if rec.len() != ncols {
			if s.onReject == nil {
				return fieldCountErr(cr.name, rec, ncols)
			}
			// To be rejected when decoded: it says nothing of the types.
			rows++
			bytes += len(rec.buf)
			return nil
		}
		if h.kinds == nil {
			h.kinds = make([]uint8, ncols)
		}
		for i := range ncols {
			if h.kinds[i]&kindString != 0 {
				continue // text absorbs every kind: nothing left to learn
			}
			if f := rec.field(i); rec.quoted[i] || !isNull(f, s.nulls) {
				h.kinds[i] |= s.text.classify(f)
			}
		}
		rows++
		bytes += len(rec.buf)
		return nil
	}
	for i := range h.pending {
		if err := visit(&h.pending[i]); err != nil {
			return err
		}
	}
	for rows < sampleRows && bytes < sampleBytes {
		rec, err := cr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if err := visit(rec); err != nil {
			return err
		}
		if keep {
			h.pending = append(h.pending, rec.clone(s.onReject != nil))
		}
	}
	if h.kinds == nil && ncols > 0 {
		h.kinds = make([]uint8, ncols)
	}
	if h.names == nil {
		h.names = positionalNames(len(h.kinds))
	}
	return nil
}

func isNull(f []byte, nulls []string) bool {
	for _, n := range nulls {
		if string(f) == n {
			return true
		}
	}
	return false
}

// inferredSchema is the schema a sample's kinds make. Inferred columns are
// nullable: a later file of the table may have nulls where this one had
// none.
func (h *csvHead) inferredSchema() *arrow.Schema {
	fields := make([]arrow.Field, len(h.names))
	for i, n := range h.names {
		fields[i] = arrow.Field{Name: n, Type: typeOfKinds(h.kinds[i]), Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

func inferCSV(cr *csvReader, s *settings) (*arrow.Schema, error) {
	names, err := readCSVHeader(cr, s)
	if err != nil {
		return nil, err
	}
	h := &csvHead{names: names}
	if err := sampleCSV(cr, s, h, ncolsOf(names), false); err != nil {
		return nil, err
	}
	if s.detected != nil {
		return withDialect(h.inferredSchema(), *s.detected), nil
	}
	return h.inferredSchema(), nil
}

func ncolsOf(names []string) int {
	if names == nil {
		return -1
	}
	return len(names)
}

// decodeCSV decodes the records of cr into s.schema (or the inferred one).
func decodeCSV(ctx context.Context, cr *csvReader, s *settings, emit func(arrow.RecordBatch) error) (int64, error) {
	names, err := readCSVHeader(cr, s)
	if err != nil {
		return 0, err
	}
	h := &csvHead{names: names}
	schema := s.schema
	var colMap []int // file column → schema column
	if schema == nil {
		if err := sampleCSV(cr, s, h, ncolsOf(names), true); err != nil {
			return 0, err
		}
		schema = h.inferredSchema()
		colMap = identity(schema.NumFields())
	} else {
		if names == nil {
			// No header: the first record says how many columns there are.
			rec, err := cr.next()
			if err == io.EOF {
				return 0, nil
			}
			if err != nil {
				return 0, err
			}
			h.pending = append(h.pending, rec.clone(s.onReject != nil))
			// Positional: the table's names where the file has columns,
			// columnN past them, so a count mismatch names each extra
			// or missing column.
			h.names = positionalNames(rec.len())
			copy(h.names, schemaNames(schema))
			if rec.len() == schema.NumFields() {
				colMap = identity(rec.len())
			}
		} else {
			colMap = mapByName(h.names, schema, s.columns)
		}
		if colMap == nil {
			return 0, csvSchemaError(cr, s, h, schema)
		}
		if fileSchema, from := csvFileSchema(h.names, schema, colMap); fileSchema != nil {
			// Columns are missing or skipped: decode the file's own
			// columns, then make its batches the table's.
			emit = projectEmit(s, schema, from, emit)
			schema, colMap = fileSchema, identity(len(h.names))
		}
	}
	return decodeCSVRecords(ctx, cr, s, schema, h, colMap, emit)
}

func identity(n int) []int {
	m := make([]int, n)
	for i := range m {
		m[i] = i
	}
	return m
}

func schemaNames(schema *arrow.Schema) []string {
	names := make([]string, schema.NumFields())
	for i, f := range schema.Fields() {
		names[i] = f.Name
	}
	return names
}

// mapByName matches header names to the table's columns in any order, or
// returns nil if the two sets differ in a way cols does not allow: a file
// column the table lacks maps to -1 under cols.IgnoreExtra, a nullable
// table column the file lacks is allowed under cols.MissingAsNull.
func mapByName(names []string, schema *arrow.Schema, cols ColumnPolicy) []int {
	at := make(map[string]int, schema.NumFields())
	for j, f := range schema.Fields() {
		if _, dup := at[f.Name]; dup {
			return nil
		}
		at[f.Name] = j
	}
	m := make([]int, len(names))
	found := 0
	for i, n := range names {
		j, ok := at[n]
		if !ok {
			if !cols.IgnoreExtra {
				return nil
			}
			m[i] = -1
			continue
		}
		m[i] = j
		found++
	}
	if found == schema.NumFields() {
		return m
	}
	if !cols.MissingAsNull {
		return nil
	}
	mapped := make([]bool, schema.NumFields())
	for _, j := range m {
		if j >= 0 {
			mapped[j] = true
		}
	}
	for j, f := range schema.Fields() {
		if !mapped[j] && !f.Nullable {
			return nil // its nulls could not load
		}
	}
	return m
}

// csvFileSchema is the schema of the file's own columns when they are not
// the table's (some skipped, some missing), each as the table has it and a
// skipped one as binary, which takes any bytes; from is, per table column,
// its file column or -1. nil when the file has exactly the table's columns.
func csvFileSchema(names []string, table *arrow.Schema, colMap []int) (*arrow.Schema, []int) {
	from := make([]int, table.NumFields())
	for j := range from {
		from[j] = -1
	}
	fields := make([]arrow.Field, len(names))
	exact := len(names) == table.NumFields()
	for i, j := range colMap {
		if j < 0 {
			exact = false
			fields[i] = arrow.Field{Name: names[i], Type: arrow.BinaryTypes.Binary, Nullable: true}
			continue
		}
		fields[i] = table.Field(j)
		from[j] = i
	}
	if exact {
		return nil, nil
	}
	return arrow.NewSchema(fields, nil), from
}

// projectEmit hands emit batches of the table from batches of a file's
// columns: from is each table column's file column, or -1 for all nulls.
func projectEmit(s *settings, table *arrow.Schema, from []int, emit func(arrow.RecordBatch) error) func(arrow.RecordBatch) error {
	cols := make([]arrow.Array, len(from))
	return func(rec arrow.RecordBatch) error {
		n := rec.NumRows()
		var owned []arrow.Array
		for j, i := range from {
			if i < 0 {
				cols[j] = array.MakeArrayOfNull(s.mem, table.Field(j).Type, int(n))
				owned = append(owned, cols[j])
				continue
			}
			cols[j] = rec.Column(i)
		}
		out := array.NewRecordBatch(table, cols, n)
		releaseAll(owned)
		clear(cols)
		defer out.Release()
		return emit(out)
	}
}

// csvSchemaError reports the columns where the file and the table differ.
// CSV has no types of its own, so columns only the file has are described
// by inferring them from a sample.
func csvSchemaError(cr *csvReader, s *settings, h *csvHead, schema *arrow.Schema) error {
	if err := sampleCSV(cr, s, h, len(h.names), false); err != nil {
		var de *DataError
		if !errors.As(err, &de) {
			return err // an I/O error is the caller's to retry
		}
		h.kinds = make([]uint8, len(h.names)) // describe the columns as utf8
	}
	return &SchemaError{File: cr.name, Diffs: compareNames(schema, h.inferredSchema(), s.columns)}
}

// compareNames is compareSchemas for CSV: only presence counts, since a
// text column's inferred type is no reason to refuse it, and only where
// cols does not allow it (a missing column that is not nullable is still
// a difference).
func compareNames(want, found *arrow.Schema, cols ColumnPolicy) []ColumnDiff {
	var diffs []ColumnDiff
	for _, d := range compareSchemas(want, found) {
		switch {
		case d.Expected != absent && d.Found != absent:
			continue
		case d.Expected == absent && cols.IgnoreExtra:
			continue
		case d.Found == absent && cols.MissingAsNull:
			if f, ok := want.FieldsByName(d.Column); ok && f[0].Nullable {
				continue
			}
		}
		diffs = append(diffs, d)
	}
	if len(diffs) == 0 {
		// Same names, but one is repeated in the table: say so.
		diffs = append(diffs, ColumnDiff{Column: "(all)", Expected: fmt.Sprintf("%d columns", want.NumFields()), Found: fmt.Sprintf("%d columns", found.NumFields())})
	}
	return diffs
}

func decodeCSVRecords(ctx context.Context, cr *csvReader, s *settings, schema *arrow.Schema, h *csvHead, colMap []int, emit func(arrow.RecordBatch) error) (int64, error) {
	for _, f := range schema.Fields() {
		if !isTextType(f.Type) {
			return 0, dataErrf(cr.name, 0, f.Name, "type %s cannot be read from CSV", f.Type)
		}
	}
	cs := newColumns(s.mem, schema, s.batchRows, s.nulls)
	defer cs.release()
	cs.setText(s.text)
	d := newCSVDecoder(cr, cs, colMap, s.generalOnly)
	d.onReject = s.onReject
	for i := range h.pending {
		cs.room()
		if err := d.putRecord(&h.pending[i]); err != nil {
			if err := d.reject(&h.pending[i], err); err != nil {
				return cs.total, err
			}
			continue
		}
		if err := cs.rowDone(ctx, emit); err != nil {
			return cs.total, err
		}
	}
	h.pending = nil
	if err := d.run(ctx, emit); err != nil {
		return cs.total, err
	}
	if err := cs.flush(ctx, emit); err != nil {
		return cs.total, err
	}
	return cs.total, nil
}
