package decode

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// jsonRow is one sampled object kept for decoding after inference.
type jsonRow struct {
	start, end int
	line       int64
	// err, when set, makes the row one to reject, as class; buf holds
	// its text.
	err   error
	class string
}

// jsonSample is what the first objects of a file say: the shape of their
// keys' values, keys in order of first appearance.
type jsonSample struct {
	root jsonShape
	buf  []byte // the kept objects, back to back
	rows []jsonRow
	// objects counts the objects sampled.
	objects int
}

// sampleJSON reads up to the sample bound of objects; keep also keeps them.
// With rejects a malformed JSON lines object is passed over (kept as a row
// to reject) and a repeated key left for the decode to reject.
func sampleJSON(sc *jsonReader, keep, rejects bool) (*jsonSample, error) {
	smp := &jsonSample{}
	var seen []int // per key, the last row it appeared in, to catch repeats
	var scratch []byte
	for n := 1; n <= sampleRows && len(smp.buf) < sampleBytes; n++ {
		obj, line, err := sc.next()
		if err == io.EOF {
			break
		}
		if err != nil && rejects && sc.bad != "" {
			bad, line, class := err, sc.objLine(), sc.bad
			start := len(smp.buf)
			if smp.buf, err = sc.skipLine(smp.buf); err != nil {
				return nil, err
			}
			if !keep {
				smp.buf = smp.buf[:start]
				continue
			}
			smp.rows = append(smp.rows, jsonRow{start: start, end: len(smp.buf), line: line, err: bad, class: class})
			continue
		}
		if err != nil {
			return nil, err
		}
		smp.objects++
		var rowErr error
		walkObject(obj, func(key []byte, kind jsonKind, raw []byte) bool {
			key = unquoteKey(key, &scratch)
			i, f := smp.root.field(key)
			if i == len(seen) {
				seen = append(seen, 0)
			}
			if seen[i] == n {
				rowErr = dataErrf(sc.name, line, string(key), "key appears twice in one object")
				return false
			}
			seen[i] = n
			f.add(kind, raw, &scratch)
			return true
		})
		if rowErr != nil && !rejects {
			return nil, rowErr
		}
		if keep {
			start := len(smp.buf)
			if cap(smp.buf)-start < len(obj)+jsonPad {
				// Doubled: append grows a large slice by a quarter at a
				// time, and the sample would be copied ~5 times over. When
				// the reader likely holds the rest of the file (its last
				// read left room), room for all of it within the sample's
				// bound: a small file's sample is then one allocation, with
				// the padding decodeJSON adds.
				want := max(len(obj), cap(smp.buf))
				if (sc.eof || sc.short) && smp.rows == nil {
					want = min(len(obj)+sc.end-sc.pos, sampleBytes)
					smp.rows = make([]jsonRow, 0, min(sampleRows, want/max(len(obj), 1)+1))
				}
				smp.buf = slices.Grow(smp.buf, want+jsonPad)
			}
			smp.buf = append(smp.buf, obj...)
			smp.rows = append(smp.rows, jsonRow{start: start, end: len(smp.buf), line: line})
		}
	}
	return smp, nil
}

// schema is the sample's inferred schema, every column nullable.
func (smp *jsonSample) schema() *arrow.Schema {
	fields := make([]arrow.Field, len(smp.root.names))
	for i, n := range smp.root.names {
		fields[i] = arrow.Field{Name: n, Type: smp.root.fields[i].dataType(), Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

// diffs lists the sampled keys the table lacks (unless ignoreExtra) and
// the keys whose sampled values cannot go into the table's column type
// (unless byRow: rows are rejected, each row whose value does not fit).
// Keys the sample lacks are fine: they decode as nulls.
func (smp *jsonSample) diffs(table *arrow.Schema, ignoreExtra, byRow bool) []ColumnDiff {
	var out []ColumnDiff
	for _, f := range table.Fields() {
		if byRow {
			break
		}
		i, ok := smp.root.index[f.Name]
		if !ok {
			continue
		}
		if sh := smp.root.fields[i]; !sh.fits(f.Type) {
			found := sh.dataType().String()
			if sh.kinds&(shObject|shArray) != 0 && !isNestedJSONType(sh.dataType()) {
				found = "nested JSON"
			}
			out = append(out, ColumnDiff{Column: f.Name, Expected: f.Type.String(), Found: found})
		}
	}
	for i, n := range smp.root.names {
		if !ignoreExtra && !table.HasField(n) {
			out = append(out, ColumnDiff{Column: n, Expected: absent, Found: smp.root.fields[i].dataType().String()})
		}
	}
	return out
}

// withExtraKeys is table plus a string column per sampled key it lacks,
// so those keys decode (as text, which takes any value) to be dropped;
// from is each table column's column in it. nil when there is none.
func (smp *jsonSample) withExtraKeys(table *arrow.Schema) (*arrow.Schema, []int) {
	var extra []arrow.Field
	for _, n := range smp.root.names {
		if !table.HasField(n) {
			extra = append(extra, arrow.Field{Name: n, Type: arrow.BinaryTypes.String, Nullable: true})
		}
	}
	if extra == nil {
		return nil, nil
	}
	return arrow.NewSchema(append(table.Fields(), extra...), nil), identity(table.NumFields())
}

func isNestedJSONType(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.STRUCT, arrow.LIST, arrow.LARGE_LIST, arrow.FIXED_SIZE_LIST, arrow.MAP:
		return true
	}
	return false
}

// inferJSON is the schema of the sampled objects. A file of no object (an
// empty array, no line, only whitespace) or only of empty objects gives no
// column: ErrEmpty, so the caller looks for the schema elsewhere rather than
// take a schema of no column, which no Parquet reader accepts.
func inferJSON(sc *jsonReader, rejects bool) (*arrow.Schema, error) {
	smp, err := sampleJSON(sc, false, rejects)
	if err != nil {
		return nil, err
	}
	if len(smp.root.names) == 0 {
		what := "no JSON object"
		if smp.objects > 0 {
			what = "only empty JSON objects"
		}
		return nil, fmt.Errorf("%s: %s: %w", sc.name, what, ErrEmpty)
	}
	return smp.schema(), nil
}

// jsonAppender puts one non-null JSON value into a column.
type jsonAppender func(kind jsonKind, raw []byte) error

func decodeJSON(ctx context.Context, jr *jsonReader, s *settings, emit func(arrow.RecordBatch) error) (int64, error) {
	smp, err := sampleJSON(jr, true, s.onReject != nil)
	if err != nil {
		return 0, err
	}
	schema := s.schema
	if schema == nil {
		schema = smp.schema()
	} else if diffs := smp.diffs(schema, s.columns.IgnoreExtra, s.onReject != nil); len(diffs) > 0 {
		return 0, &SchemaError{File: jr.name, Diffs: diffs}
	} else if s.columns.IgnoreExtra {
		if wide, from := smp.withExtraKeys(schema); wide != nil {
			emit = projectEmit(s, schema, from, emit)
			schema = wide
		}
	}
	cs := newColumns(s.mem, schema, s.batchRows, nil)
	defer cs.release()
	d, err := newJSONDecoder(jr, cs)
	if err != nil {
		return 0, err
	}
	d.onReject = s.onReject
	// The sampled objects, back to back, are checked JSON; the padding
	// ends the last one as the reader's buffer does.
	buf := append(smp.buf, make([]byte, jsonPad)...)
	for _, r := range smp.rows {
		cs.room()
		if r.err != nil {
			if err := cs.rejectRow(d.onReject, Reject{Line: r.line, Class: r.class, Raw: buf[r.start:r.end], Err: r.err}); err != nil {
				return cs.total, err
			}
			continue
		}
		if _, pos, fail, err := d.object(buf[:r.end+jsonPad], r.start, func() int64 { return r.line }); err != nil {
			if d.onReject == nil {
				return cs.total, err
			}
			if err := d.rejectValue(err, r.line, buf[r.start:r.end]); err != nil {
				return cs.total, err
			}
			continue
		} else if fail != jsonOK {
			return cs.total, dataErrf(jr.name, r.line, "", "invalid JSON at byte %d of the object", pos-r.start)
		}
		if err := cs.rowDone(ctx, emit); err != nil {
			return cs.total, err
		}
	}
	smp = nil
	if err := d.run(ctx, emit); err != nil {
		return cs.total, err
	}
	if err := cs.flush(ctx, emit); err != nil {
		return cs.total, err
	}
	return cs.total, nil
}

// newJSONAppender returns how values go into a column of type dt, or nil
// if JSON cannot fill such a column. text and compact are scratch buffers
// shared by all columns of one decode.
func newJSONAppender(bld array.Builder, dt arrow.DataType, text, compact *[]byte) jsonAppender {
	conflict := func(kind jsonKind, raw []byte) error {
		return fmt.Errorf("expected %s, found %s %s", dt, kind, clip(raw))
	}
	if app := newJSONNestedAppender(bld, dt, text, compact); app != nil {
		return app
	}
	if isNestedJSONType(dt) {
		// Maps and fixed-size lists: Arrow's own JSON reading.
		return func(kind jsonKind, raw []byte) error {
			if kind != jsonObject && kind != jsonArray {
				return conflict(kind, raw)
			}
			// Arrow's builders read nested values from a JSON array of them.
			wrapped := append(append(append((*compact)[:0], '['), raw...), ']')
			*compact = wrapped
			if err := bld.UnmarshalJSON(wrapped); err != nil {
				return fmt.Errorf("decoding %s as %s: %w", kind, dt, err)
			}
			return nil
		}
	}
	if !isTextType(dt) {
		return nil
	}
	app := newTextAppender(bld, dt)
	id := dt.ID()
	switch {
	case id == arrow.STRING || id == arrow.LARGE_STRING || id == arrow.STRING_VIEW:
		// Anything can be text: strings unquoted, scalars as written,
		// nested values as compact JSON.
		return func(kind jsonKind, raw []byte) error {
			switch kind {
			case jsonString:
				*text = appendUnescaped((*text)[:0], raw[1:len(raw)-1])
				return app(*text)
			case jsonObject, jsonArray:
				buf := bytes.NewBuffer((*compact)[:0])
				if err := json.Compact(buf, raw); err != nil {
					return err
				}
				*compact = buf.Bytes()
				return app(*compact)
			}
			return app(raw)
		}
	case id == arrow.BOOL:
		bb := bld.(*array.BooleanBuilder)
		return func(kind jsonKind, raw []byte) error {
			if kind != jsonBool {
				return conflict(kind, raw)
			}
			bb.Append(raw[0] == 't')
			return nil
		}
	case arrow.IsInteger(id) || arrow.IsFloating(id):
		return func(kind jsonKind, raw []byte) error {
			if kind != jsonNumber {
				return conflict(kind, raw)
			}
			return app(raw)
		}
	case arrow.IsDecimal(id):
		return func(kind jsonKind, raw []byte) error {
			switch kind {
			case jsonNumber:
				return app(raw)
			case jsonString:
				*text = appendUnescaped((*text)[:0], raw[1:len(raw)-1])
				return app(*text)
			}
			return conflict(kind, raw)
		}
	}
	// Binary, dates and timestamps come from strings.
	return func(kind jsonKind, raw []byte) error {
		if kind != jsonString {
			return conflict(kind, raw)
		}
		*text = appendUnescaped((*text)[:0], raw[1:len(raw)-1])
		return app(*text)
	}
}
