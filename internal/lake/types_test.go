package lake

import (
	"errors"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
)

// Every type s3load decodes maps to the Iceberg type chosen for it, or is
// refused with a reason.
func TestIcebergTypes(t *testing.T) {
	utc := &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	cases := []struct {
		arrow arrow.DataType
		want  string // iceberg type; "" = refused
	}{
		{arrow.PrimitiveTypes.Int8, "int"},
		{arrow.PrimitiveTypes.Int16, "int"},
		{arrow.PrimitiveTypes.Int32, "int"},
		{arrow.PrimitiveTypes.Int64, "long"},
		{arrow.PrimitiveTypes.Uint8, "int"},
		{arrow.PrimitiveTypes.Uint16, "int"},
		{arrow.PrimitiveTypes.Uint32, "long"},
		{arrow.PrimitiveTypes.Uint64, "decimal(20, 0)"},
		{arrow.FixedWidthTypes.Float16, "float"},
		{arrow.PrimitiveTypes.Float32, "float"},
		{arrow.PrimitiveTypes.Float64, "double"},
		{&arrow.Decimal128Type{Precision: 18, Scale: 4}, "decimal(18, 4)"},
		{&arrow.Decimal256Type{Precision: 38, Scale: 2}, "decimal(38, 2)"},
		{&arrow.Decimal256Type{Precision: 40, Scale: 2}, ""},
		{arrow.FixedWidthTypes.Boolean, "boolean"},
		{arrow.BinaryTypes.String, "string"},
		{arrow.BinaryTypes.LargeString, "string"},
		{arrow.BinaryTypes.Binary, "binary"},
		{arrow.BinaryTypes.LargeBinary, "binary"},
		{&arrow.FixedSizeBinaryType{ByteWidth: 16}, "fixed[16]"},
		{arrow.FixedWidthTypes.Date32, "date"},
		{arrow.FixedWidthTypes.Date64, "date"},
		{arrow.FixedWidthTypes.Time32ms, "time"},
		{arrow.FixedWidthTypes.Time64us, "time"},
		{&arrow.TimestampType{Unit: arrow.Microsecond}, "timestamp"},
		{&arrow.TimestampType{Unit: arrow.Nanosecond}, "timestamp"},
		{&arrow.TimestampType{Unit: arrow.Second}, "timestamp"},
		{utc, "timestamptz"},
		{&arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "Europe/Berlin"}, "timestamptz"},
		{arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}), "struct<1: a: optional long>"},
		{arrow.ListOf(arrow.PrimitiveTypes.Int32), "list<int>"},
		{arrow.LargeListOf(arrow.BinaryTypes.String), "list<string>"},
		{arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), "map<string, long>"},
		{&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}, "string"},
		{arrow.Null, "string"},
		{arrow.FixedWidthTypes.MonthInterval, ""},
		{arrow.FixedWidthTypes.Duration_s, ""},
	}
	for _, c := range cases {
		t.Run(c.arrow.String(), func(t *testing.T) {
			id := 0
			got, err := icebergType(c.arrow, func() int { id++; return id })
			if c.want == "" {
				if !errors.Is(err, ErrUnsupportedType) {
					t.Fatalf("%s: got %v, %v; want ErrUnsupportedType", c.arrow, got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != c.want {
				t.Errorf("%s → %s, want %s", c.arrow, got, c.want)
			}
		})
	}
}

func TestPromotions(t *testing.T) {
	cases := []struct {
		from, to iceberg.Type
		want     bool
	}{
		{iceberg.PrimitiveTypes.Int32, iceberg.PrimitiveTypes.Int64, true},
		{iceberg.PrimitiveTypes.Int64, iceberg.PrimitiveTypes.Int32, false},
		{iceberg.PrimitiveTypes.Float32, iceberg.PrimitiveTypes.Float64, true},
		{iceberg.DecimalTypeOf(10, 2), iceberg.DecimalTypeOf(12, 2), true},
		{iceberg.DecimalTypeOf(10, 2), iceberg.DecimalTypeOf(12, 3), false},
		{iceberg.PrimitiveTypes.String, iceberg.PrimitiveTypes.Int64, false},
	}
	for _, c := range cases {
		if got := promotes(c.from, c.to); got != c.want {
			t.Errorf("promotes(%s, %s) = %v, want %v", c.from, c.to, got, c.want)
		}
	}
}
