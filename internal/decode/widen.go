package decode

import "github.com/apache/arrow-go/v18/arrow"

// maxDecimalDigits is what decimal128 holds; a wider merge becomes float64.
const maxDecimalDigits = 38

// widen returns the type that holds the values of both a and b, or false
// when none does. text says the values come from text (CSV, JSON), where
// any conflict falls back to string since every value was text to begin
// with; from Parquet a conflict (a struct beside an int) has no answer.
func widen(a, b arrow.DataType, text bool) (arrow.DataType, bool) {
	if arrow.TypeEqual(a, b) {
		return a, true
	}
	if a.ID() == arrow.NULL {
		return b, true
	}
	if b.ID() == arrow.NULL {
		return a, true
	}
	if t, ok := widenScalar(a, b); ok {
		return t, true
	}
	if t, ok := widenNested(a, b, text); ok {
		return t, true
	}
	if text {
		return arrow.BinaryTypes.String, true
	}
	return nil, false
}

// fitsInto says whether values of type from load into a column of type to
// without loss: to is what widening the two gives (to first, to keep the
// order of its struct fields).
func fitsInto(from, to arrow.DataType) bool {
	w, ok := widen(to, from, false)
	return ok && arrow.TypeEqual(w, to)
}

func widenScalar(a, b arrow.DataType) (arrow.DataType, bool) {
	ai, bi := a.ID(), b.ID()
	switch {
	case arrow.IsInteger(ai) && arrow.IsInteger(bi):
		return widenInts(a, b), true
	case isNumeric(ai) && isNumeric(bi) && (arrow.IsFloating(ai) || arrow.IsFloating(bi)):
		// float beside int or decimal, or float32 beside float64.
		return arrow.PrimitiveTypes.Float64, true
	case arrow.IsDecimal(ai) || arrow.IsDecimal(bi):
		if isNumeric(ai) && isNumeric(bi) {
			return widenDecimal(a, b), true
		}
	case ai == arrow.DATE32 && bi == arrow.TIMESTAMP:
		return b, true
	case ai == arrow.TIMESTAMP && bi == arrow.DATE32:
		return a, true
	case ai == arrow.TIMESTAMP && bi == arrow.TIMESTAMP:
		ta, tb := a.(*arrow.TimestampType), b.(*arrow.TimestampType)
		out := &arrow.TimestampType{Unit: max(ta.Unit, tb.Unit), TimeZone: ta.TimeZone}
		if out.TimeZone == "" {
			out.TimeZone = tb.TimeZone // naive beside zoned: zoned
		}
		return out, true
	}
	as, bs := isStringType(ai), isStringType(bi)
	if !as && !bs || arrow.IsNested(ai) || arrow.IsNested(bi) {
		return nil, false
	}
	large := ai == arrow.LARGE_STRING || bi == arrow.LARGE_STRING || ai == arrow.LARGE_BINARY || bi == arrow.LARGE_BINARY
	if isBinaryType(ai) || isBinaryType(bi) {
		if !isBinaryType(ai) && !as || !isBinaryType(bi) && !bs {
			return nil, false // binary beside a number: no common type
		}
		if large {
			return arrow.BinaryTypes.LargeBinary, true
		}
		return arrow.BinaryTypes.Binary, true
	}
	if large {
		return arrow.BinaryTypes.LargeString, true
	}
	return arrow.BinaryTypes.String, true // string beside any scalar
}

func isNumeric(id arrow.Type) bool {
	return arrow.IsInteger(id) || arrow.IsFloating(id) || arrow.IsDecimal(id)
}

func isStringType(id arrow.Type) bool {
	return id == arrow.STRING || id == arrow.LARGE_STRING
}

func isBinaryType(id arrow.Type) bool {
	return id == arrow.BINARY || id == arrow.LARGE_BINARY
}

// widenInts is the smallest integer type holding both: the wider of two
// signed or two unsigned types; beside a signed one, an unsigned type
// needs twice its width, and uint64 a decimal.
func widenInts(a, b arrow.DataType) arrow.DataType {
	wa, wb := a.(arrow.FixedWidthDataType).BitWidth(), b.(arrow.FixedWidthDataType).BitWidth()
	sa, sb := arrow.IsSignedInteger(a.ID()), arrow.IsSignedInteger(b.ID())
	if sa == sb {
		if wa >= wb {
			return a
		}
		return b
	}
	s, u := wa, wb
	if !sa {
		s, u = wb, wa
	}
	switch need := max(s, 2*u); {
	case need <= 8:
		return arrow.PrimitiveTypes.Int8
	case need <= 16:
		return arrow.PrimitiveTypes.Int16
	case need <= 32:
		return arrow.PrimitiveTypes.Int32
	case need <= 64:
		return arrow.PrimitiveTypes.Int64
	}
	return &arrow.Decimal128Type{Precision: 20, Scale: 0}
}

// intDigits is how many decimal digits an integer type's values need.
func intDigits(dt arrow.DataType) int32 {
	switch dt.ID() {
	case arrow.INT8, arrow.UINT8:
		return 3
	case arrow.INT16, arrow.UINT16:
		return 5
	case arrow.INT32, arrow.UINT32:
		return 10
	case arrow.INT64:
		return 19
	}
	return 20 // uint64
}

// widenDecimal merges a decimal with an integer or another decimal: the
// most digits before the point of either, the most after; past 38 digits
// float64.
func widenDecimal(a, b arrow.DataType) arrow.DataType {
	digits := func(dt arrow.DataType) (whole, scale int32) {
		if d, ok := dt.(arrow.DecimalType); ok {
			return d.GetPrecision() - d.GetScale(), d.GetScale()
		}
		return intDigits(dt), 0
	}
	wa, sa := digits(a)
	wb, sb := digits(b)
	scale := max(sa, sb)
	p := max(wa, wb) + scale
	if p > maxDecimalDigits {
		return arrow.PrimitiveTypes.Float64
	}
	return &arrow.Decimal128Type{Precision: p, Scale: scale}
}

// widenNested merges two structs (the union of their fields by name, each
// widened) or two lists (of the widened element).
func widenNested(a, b arrow.DataType, text bool) (arrow.DataType, bool) {
	switch ta := a.(type) {
	case *arrow.StructType:
		tb, ok := b.(*arrow.StructType)
		if !ok {
			return nil, false
		}
		fields := make([]arrow.Field, 0, ta.NumFields()+tb.NumFields())
		for _, f := range ta.Fields() {
			t := f.Type
			if j, ok := tb.FieldIdx(f.Name); ok {
				if t, ok = widen(t, tb.Field(j).Type, text); !ok {
					return nil, false
				}
			}
			// A field only one side has is null on the other.
			fields = append(fields, arrow.Field{Name: f.Name, Type: t, Nullable: true})
		}
		for _, f := range tb.Fields() {
			if _, ok := ta.FieldIdx(f.Name); !ok {
				fields = append(fields, arrow.Field{Name: f.Name, Type: f.Type, Nullable: true})
			}
		}
		return arrow.StructOf(fields...), true
	case *arrow.ListType:
		tb, ok := b.(*arrow.ListType)
		if !ok || b.ID() != arrow.LIST || a.ID() != arrow.LIST {
			return nil, false
		}
		t, ok := widen(ta.Elem(), tb.Elem(), text)
		if !ok {
			return nil, false
		}
		return arrow.ListOfField(arrow.Field{Name: ta.ElemField().Name, Type: t, Nullable: true}), true
	}
	return nil, false
}
