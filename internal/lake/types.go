package lake

import (
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
)

// ErrUnsupportedType marks a column whose type Iceberg cannot hold: the
// table fails when its load is prepared, before any file is read.
var ErrUnsupportedType = errors.New("type not supported by Iceberg")

// icebergType maps an Arrow type s3load decodes to the Iceberg type its
// column gets, on purpose for each: every value survives the trip, or the
// column is refused here with what to do instead. Nested fields get
// IDs from next: a table assigns the real ones.
//
//   - signed ints: int8..int32 → int, int64 → long;
//   - unsigned: uint8, uint16 → int, uint32 → long, uint64 → decimal(20,0)
//     (a long would turn values over 2^63 negative);
//   - float16, float32 → float; float64 → double;
//   - decimals up to 38 digits → decimal(p,s);
//   - string, large string, string view → string; the binaries → binary;
//     fixed_size_binary(n) → fixed(n);
//   - date32, date64 → date; time32, time64 → time (µs);
//   - timestamps of any unit → timestamp (no zone) or timestamptz (a
//     zone): µs, so nanoseconds convert when they are whole microseconds
//     and fail the file that has sub-microsecond digits;
//   - struct, list (all kinds), map → struct, list, map (map values
//     optional); dictionaries → their value type;
//   - a column of only nulls (Arrow's null type) → string, all null.
func icebergType(dt arrow.DataType, next func() int) (iceberg.Type, error) {
	switch t := dt.(type) {
	case *arrow.Int8Type, *arrow.Int16Type, *arrow.Int32Type, *arrow.Uint8Type, *arrow.Uint16Type:
		return iceberg.PrimitiveTypes.Int32, nil
	case *arrow.Int64Type, *arrow.Uint32Type:
		return iceberg.PrimitiveTypes.Int64, nil
	case *arrow.Uint64Type:
		return iceberg.DecimalTypeOf(20, 0), nil
	case *arrow.Float16Type, *arrow.Float32Type:
		return iceberg.PrimitiveTypes.Float32, nil
	case *arrow.Float64Type:
		return iceberg.PrimitiveTypes.Float64, nil
	case *arrow.BooleanType:
		return iceberg.PrimitiveTypes.Bool, nil
	case *arrow.StringType, *arrow.LargeStringType, *arrow.StringViewType:
		return iceberg.PrimitiveTypes.String, nil
	case *arrow.BinaryType, *arrow.LargeBinaryType, *arrow.BinaryViewType:
		return iceberg.PrimitiveTypes.Binary, nil
	case *arrow.FixedSizeBinaryType:
		return iceberg.FixedTypeOf(t.ByteWidth), nil
	case *arrow.Date32Type, *arrow.Date64Type:
		return iceberg.PrimitiveTypes.Date, nil
	case *arrow.Time32Type, *arrow.Time64Type:
		return iceberg.PrimitiveTypes.Time, nil
	case *arrow.TimestampType:
		if t.TimeZone == "" {
			return iceberg.PrimitiveTypes.Timestamp, nil
		}
		return iceberg.PrimitiveTypes.TimestampTz, nil
	case arrow.DecimalType:
		if p := int(t.GetPrecision()); p <= 38 {
			return iceberg.DecimalTypeOf(p, int(t.GetScale())), nil
		}
		return nil, fmt.Errorf("%w: %s has more than 38 digits (declare a smaller decimal, or string)", ErrUnsupportedType, dt)
	case *arrow.DictionaryType:
		return icebergType(t.ValueType, next)
	case *arrow.StructType:
		fields := make([]iceberg.NestedField, t.NumFields())
		for i, f := range t.Fields() {
			id := next()
			ft, err := icebergType(f.Type, next)
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", f.Name, err)
			}
			fields[i] = iceberg.NestedField{ID: id, Name: f.Name, Type: ft, Required: !f.Nullable}
		}
		return &iceberg.StructType{FieldList: fields}, nil
	case arrow.ListLikeType:
		if _, isMap := t.(*arrow.MapType); !isMap {
			id := next()
			elem, err := icebergType(t.Elem(), next)
			if err != nil {
				return nil, fmt.Errorf("list element: %w", err)
			}
			return &iceberg.ListType{ElementID: id, Element: elem, ElementRequired: !t.ElemField().Nullable}, nil
		}
		m := t.(*arrow.MapType)
		keyID, valID := next(), next()
		key, err := icebergType(m.KeyType(), next)
		if err != nil {
			return nil, fmt.Errorf("map key: %w", err)
		}
		val, err := icebergType(m.ItemType(), next)
		if err != nil {
			return nil, fmt.Errorf("map value: %w", err)
		}
		// Values optional whatever the file says: iceberg-go v0.7.0's own
		// reader fails on a map with required values (its read schema says
		// nullable, the file's does not), and optional holds every value.
		return &iceberg.MapType{KeyID: keyID, KeyType: key, ValueID: valID, ValueType: val, ValueRequired: false}, nil
	case *arrow.NullType:
		// A column of only nulls (Parquet's UNKNOWN, a JSON key always
		// null) has no type to keep; the widest, string, holds it, as an
		// all-null column widens to any type across files.
		return iceberg.PrimitiveTypes.String, nil
	default:
		return nil, fmt.Errorf("%w: %s (declare the column as another type in schema:)", ErrUnsupportedType, dt)
	}
}

// icebergSchema maps a decoded Arrow schema to an Iceberg schema with
// IDs in pre-order from 1, naming the column any refusal is about.
func icebergSchema(s *arrow.Schema) (*iceberg.Schema, error) {
	id := 0
	next := func() int { id++; return id }
	fields := make([]iceberg.NestedField, s.NumFields())
	for i, f := range s.Fields() {
		fid := next()
		t, err := icebergType(f.Type, next)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", f.Name, err)
		}
		fields[i] = iceberg.NestedField{ID: fid, Name: f.Name, Type: t, Required: !f.Nullable}
	}
	return iceberg.NewSchema(0, fields...), nil
}
