package lakecheck

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math"
	"strings"
)

// Agg aggregates one top-level column over the rows read from the data
// files.
type Agg struct {
	Type  string // the column's Iceberg type in the current schema
	Count int64  // non-null values
	Nulls int64
	NaNs  int64 // float and double only; NaNs are left out of Sum, Min and Max
	// Sum is kept for int, long, float, double and decimal columns.
	Sum float64
	// Min and Max are nil until a non-null value is seen. They are int64
	// for int, long, date (days), time and timestamps (in the unit
	// stored), float64 for float, double and decimal, string for string,
	// and bool for boolean.
	Min, Max any
}

// isNumeric reports whether Sum is kept for an Iceberg type.
func isNumeric(typ string) bool {
	switch typ {
	case "int", "long", "float", "double":
		return true
	}
	return strings.HasPrefix(typ, "decimal")
}

// see records one non-null value.
func (a *Agg) see(v any) {
	a.Count++
	if isNumeric(a.Type) {
		switch x := v.(type) {
		case int64:
			a.Sum += float64(x)
		case float64:
			a.Sum += x
		}
	}
	if a.Min == nil || compareValues(v, a.Min) < 0 {
		a.Min = v
	}
	if a.Max == nil || compareValues(v, a.Max) > 0 {
		a.Max = v
	}
}

// merge adds another aggregate of the same column.
func (a *Agg) merge(o *Agg) {
	a.Count += o.Count
	a.Nulls += o.Nulls
	a.NaNs += o.NaNs
	a.Sum += o.Sum
	if o.Min != nil && (a.Min == nil || compareValues(o.Min, a.Min) < 0) {
		a.Min = o.Min
	}
	if o.Max != nil && (a.Max == nil || compareValues(o.Max, a.Max) > 0) {
		a.Max = o.Max
	}
}

// compareValues orders two values of the same Go type, as Agg holds them.
func compareValues(x, y any) int {
	switch x := x.(type) {
	case int64:
		return cmp.Compare(x, y.(int64))
	case float64:
		return cmp.Compare(x, y.(float64))
	case string:
		// Iceberg orders strings by their UTF-8 bytes, as Go does.
		return strings.Compare(x, y.(string))
	case bool:
		yb := y.(bool)
		switch {
		case x == yb:
			return 0
		case !x:
			return -1
		}
		return 1
	}
	return 0
}

// decodeBound decodes a manifest's single-value serialization of a lower or
// upper bound into the Go type Agg uses, for the types the checker compares.
func decodeBound(typ string, b []byte) (any, bool) {
	switch typ {
	case "int", "date":
		if len(b) == 4 {
			return int64(int32(binary.LittleEndian.Uint32(b))), true
		}
	case "long", "time", "timestamp", "timestamptz", "timestamp_ns", "timestamptz_ns":
		if len(b) == 8 {
			return int64(binary.LittleEndian.Uint64(b)), true
		}
	case "float":
		if len(b) == 4 {
			return float64(math.Float32frombits(binary.LittleEndian.Uint32(b))), true
		}
	case "double":
		if len(b) == 8 {
			return math.Float64frombits(binary.LittleEndian.Uint64(b)), true
		}
	case "string":
		return string(bytes.Clone(b)), true
	}
	return nil, false
}
