package decode

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/s3load/s3load/messages"
)

// EncodeSchema serializes s as an Arrow IPC stream holding only the schema
// message, as Arrow Flight does; DecodeSchema reverses it exactly, nested
// types and metadata included.
func EncodeSchema(s *arrow.Schema) ([]byte, error) {
	if s == nil {
		return nil, errors.New("encoding schema: nil schema")
	}
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(s), ipc.WithAllocator(memory.DefaultAllocator))
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encoding schema: %w", err)
	}
	return buf.Bytes(), nil
}

// DecodeSchema parses bytes written by EncodeSchema.
func DecodeSchema(b []byte) (s *arrow.Schema, err error) {
	// The IPC reader trusts its input; a corrupt message must not crash
	// the caller.
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("decoding schema: corrupt IPC message: %v", r)
		}
	}()
	r, err := ipc.NewReader(bytes.NewReader(b), ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		return nil, fmt.Errorf("decoding schema: %w", err)
	}
	defer r.Release()
	return r.Schema(), nil
}

// Fields lists s's columns as the manifest shows them.
func Fields(s *arrow.Schema) []messages.Field {
	out := make([]messages.Field, 0, s.NumFields())
	for _, f := range s.Fields() {
		out = append(out, messages.Field{Name: f.Name, Type: f.Type.String(), Nullable: f.Nullable})
	}
	return out
}

// simpleTypes are the user-declarable types by name, Arrow's own names
// first and common aliases after.
var simpleTypes = map[string]arrow.DataType{
	"int8":         arrow.PrimitiveTypes.Int8,
	"int16":        arrow.PrimitiveTypes.Int16,
	"int32":        arrow.PrimitiveTypes.Int32,
	"int64":        arrow.PrimitiveTypes.Int64,
	"uint8":        arrow.PrimitiveTypes.Uint8,
	"uint16":       arrow.PrimitiveTypes.Uint16,
	"uint32":       arrow.PrimitiveTypes.Uint32,
	"uint64":       arrow.PrimitiveTypes.Uint64,
	"float32":      arrow.PrimitiveTypes.Float32,
	"float64":      arrow.PrimitiveTypes.Float64,
	"bool":         arrow.FixedWidthTypes.Boolean,
	"utf8":         arrow.BinaryTypes.String,
	"binary":       arrow.BinaryTypes.Binary,
	"large_utf8":   arrow.BinaryTypes.LargeString,
	"large_binary": arrow.BinaryTypes.LargeBinary,
	"date32":       arrow.FixedWidthTypes.Date32,
	"string":       arrow.BinaryTypes.String,
	"boolean":      arrow.FixedWidthTypes.Boolean,
	"double":       arrow.PrimitiveTypes.Float64,
	"float":        arrow.PrimitiveTypes.Float32,
	"date":         arrow.FixedWidthTypes.Date32,
}

const typeHelp = "int8..int64, uint8..uint64, float32, float64, bool, string, binary, date32, timestamp[s|ms|us|ns] (optionally \", tz=UTC\"), decimal128(p,s), list<T>, struct<name: T, ...> or map<K, V>"

// ParseType parses a user-declared column type: the names above, or the
// String() of one of those Arrow types, so Fields round-trips through
// SchemaFromFields.
func ParseType(s string) (arrow.DataType, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if dt, ok := simpleTypes[t]; ok {
		return dt, nil
	}
	switch {
	case strings.HasPrefix(t, "timestamp[") && strings.HasSuffix(t, "]"):
		// Slice the original, not t, to keep the zone's spelling.
		orig := strings.TrimSpace(s)
		unit, zone, hasZone := strings.Cut(orig[len("timestamp["):len(orig)-1], ",")
		ts := &arrow.TimestampType{}
		switch strings.ToLower(strings.TrimSpace(unit)) {
		case "s":
			ts.Unit = arrow.Second
		case "ms":
			ts.Unit = arrow.Millisecond
		case "us":
			ts.Unit = arrow.Microsecond
		case "ns":
			ts.Unit = arrow.Nanosecond
		default:
			return nil, fmt.Errorf("parsing type %q: unknown timestamp unit; want s, ms, us or ns", s)
		}
		if hasZone {
			zone = strings.TrimSpace(zone)
			if len(zone) <= 3 || !strings.EqualFold(zone[:3], "tz=") {
				return nil, fmt.Errorf("parsing type %q: want timestamp[unit, tz=ZONE]", s)
			}
			ts.TimeZone = strings.TrimSpace(zone[3:])
		}
		return ts, nil
	case strings.HasPrefix(t, "decimal128(") || strings.HasPrefix(t, "decimal("):
		open := strings.Index(t, "(")
		if !strings.HasSuffix(t, ")") {
			break
		}
		ps, ss, ok := strings.Cut(t[open+1:len(t)-1], ",")
		if !ok {
			break
		}
		p, err1 := strconv.Atoi(strings.TrimSpace(ps))
		sc, err2 := strconv.Atoi(strings.TrimSpace(ss))
		if err1 != nil || err2 != nil {
			break
		}
		if p < 1 || p > 38 || sc < 0 || sc > p {
			return nil, fmt.Errorf("parsing type %q: decimal128 needs 1 <= precision <= 38 and 0 <= scale <= precision", s)
		}
		return &arrow.Decimal128Type{Precision: int32(p), Scale: int32(sc)}, nil
	}
	if dt, ok, err := parseNestedType(strings.TrimSpace(s)); ok {
		return dt, err
	}
	return nil, fmt.Errorf("parsing type %q: unknown type; want one of %s", s, typeHelp)
}

// SchemaFromFields builds a table schema from declared fields.
func SchemaFromFields(fs []messages.Field) (*arrow.Schema, error) {
	if len(fs) == 0 {
		return nil, errors.New("building schema: no fields")
	}
	seen := make(map[string]bool, len(fs))
	out := make([]arrow.Field, 0, len(fs))
	for i, f := range fs {
		if f.Name == "" {
			return nil, fmt.Errorf("building schema: field %d has no name", i)
		}
		if seen[f.Name] {
			return nil, fmt.Errorf("building schema: field %q declared twice", f.Name)
		}
		seen[f.Name] = true
		dt, err := ParseType(f.Type)
		if err != nil {
			return nil, fmt.Errorf("building schema: field %q: %w", f.Name, err)
		}
		out = append(out, arrow.Field{Name: f.Name, Type: dt, Nullable: f.Nullable})
	}
	return arrow.NewSchema(out, nil), nil
}

// compareSchemas lists the columns where found differs from want, matching
// columns by name: type differences (ignoring metadata) in want's order,
// then columns only found has. A nullable column found where want has a
// non-nullable one is not a difference here; its nulls are caught per value.
func compareSchemas(want, found *arrow.Schema) []ColumnDiff {
	var diffs []ColumnDiff
	wantFields, foundFields := want.Fields(), found.Fields()
	foundAt := firstIndices(foundFields)
	for _, w := range wantFields {
		i, ok := foundAt[w.Name]
		if !ok {
			diffs = append(diffs, ColumnDiff{Column: w.Name, Expected: w.Type.String(), Found: absent})
			continue
		}
		if f := foundFields[i]; !arrow.TypeEqual(w.Type, f.Type) {
			diffs = append(diffs, ColumnDiff{Column: w.Name, Expected: w.Type.String(), Found: f.Type.String()})
		}
	}
	wantAt := firstIndices(wantFields)
	for _, f := range foundFields {
		if _, ok := wantAt[f.Name]; !ok {
			diffs = append(diffs, ColumnDiff{Column: f.Name, Expected: absent, Found: f.Type.String()})
		}
	}
	return diffs
}

// firstIndices maps each name to its first field. arrow's FieldIndices
// copies every index of a name on each call, which a file repeating one
// name 100,000 times turns into minutes and gigabytes.
func firstIndices(fields []arrow.Field) map[string]int {
	m := make(map[string]int, len(fields))
	for i, f := range fields {
		if _, ok := m[f.Name]; !ok {
			m[f.Name] = i
		}
	}
	return m
}
