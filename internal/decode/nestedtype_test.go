package decode

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestParseNestedType(t *testing.T) {
	addr := arrow.StructOf(arrow.Field{Name: "city", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "zip", Type: arrow.PrimitiveTypes.Int64, Nullable: true})
	tests := []struct {
		in      string
		want    arrow.DataType
		wantErr string
	}{
		{in: "list<string>", want: arrow.ListOf(arrow.BinaryTypes.String)},
		{in: "list<item: int64, nullable>", want: arrow.ListOf(arrow.PrimitiveTypes.Int64)},
		{in: "list<int64 not null>", want: arrow.ListOfNonNullable(arrow.PrimitiveTypes.Int64)},
		{in: "list<decimal(18,2)>", want: arrow.ListOf(&arrow.Decimal128Type{Precision: 18, Scale: 2})},
		{in: "struct<city: string, zip: int64>", want: addr},
		{in: "struct<city: utf8 nullable, zip: int64 nullable>", want: addr},
		{in: "struct<at: timestamp[us, tz=UTC], tags: list<string>>", want: arrow.StructOf(
			arrow.Field{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
			arrow.Field{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true})},
		{in: "list<struct<city: string, zip: int64>>", want: arrow.ListOf(addr)},
		{in: "map<string, int64>", want: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64)},
		{in: "map<utf8, int64, items_nullable>", want: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64)},
		{in: "list<>", wantErr: "no type between the brackets"},
		{in: "list<int64, string>", wantErr: "a list has one element type"},
		{in: "struct<int64>", wantErr: "want struct<name: type, ...>"},
		{in: "struct<a: list<int64>", wantErr: "unbalanced"},
		{in: "list<item: int64>", want: arrow.ListOfNonNullable(arrow.PrimitiveTypes.Int64)},
		{in: "map<string>", wantErr: "want map<key type, value type>"},
		{in: "struct<a: nosuch>", wantErr: `parsing type "nosuch": unknown type`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseType(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseType(%q) = %v, %v; want an error with %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !arrow.TypeEqual(got, tt.want) {
				t.Fatalf("ParseType(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			// What Arrow prints parses back to the same type.
			if back, err := ParseType(got.String()); err != nil || !arrow.TypeEqual(back, got) {
				t.Errorf("ParseType(%q) = %v, %v; want %v back", got.String(), back, err, got)
			}
		})
	}
}
