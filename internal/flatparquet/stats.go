package flatparquet

import (
	"bytes"
	"encoding/binary"
	"math"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// stats are the statistics of a page or a column chunk: min and max in the
// column's sort order, and the null count, set as arrow-go sets them
// (distinct counts are not).
type stats struct {
	phys     parquet.Type
	unsigned bool // INT32/INT64 of an unsigned logical type
	signed   bool // the sort order is SIGNED: the legacy min/max fields are written too

	has           bool // min and max are set
	nulls, values int64

	// INT32 and INT64 min and max as order-preserving keys: the value
	// (zero-extended for unsigned INT32, sign bit flipped for unsigned INT64)
	imin, imax int64
	fmin, fmax float64 // FLOAT (exactly widened) and DOUBLE
	bmin, bmax []byte  // BYTE_ARRAY, owned copies
	bfalse     bool    // BOOLEAN: a false seen
	btrue      bool    // BOOLEAN: a true seen
}

func newStats(col *schema.Column) stats {
	return stats{
		phys:     col.PhysicalType(),
		unsigned: col.SortOrder() == schema.SortUNSIGNED,
		signed:   col.SortOrder() == schema.SortSIGNED,
	}
}

func (s *stats) reset() {
	s.has, s.nulls, s.values = false, 0, 0
	s.bfalse, s.btrue = false, false
	s.bmin, s.bmax = s.bmin[:0], s.bmax[:0]
}

func (s *stats) setInt(mn, mx int64) {
	if !s.has {
		s.imin, s.imax, s.has = mn, mx, true
		return
	}
	s.imin, s.imax = min(s.imin, mn), max(s.imax, mx)
}

func (s *stats) addInt32(v []int32) {
	if len(v) == 0 {
		return
	}
	if s.unsigned {
		mn, mx := minMax(asUint32(v))
		s.setInt(int64(mn), int64(mx))
		return
	}
	mn, mx := minMax(v)
	s.setInt(int64(mn), int64(mx))
}

func (s *stats) addInt64(v []int64) {
	if len(v) == 0 {
		return
	}
	if s.unsigned {
		mn, mx := minMax(asUint64(v))
		s.setInt(int64(mn^(1<<63)), int64(mx^(1<<63)))
		return
	}
	s.setInt(minMax(v))
}

// addFloat takes the min and max of v, NaNs left out as arrow-go and the
// spec want them: a run of NaNs only has no min and max.
func addFloat[T float32 | float64](s *stats, v []T) {
	mn, mx := T(math.Inf(1)), T(math.Inf(-1))
	for _, x := range v {
		if x < mn {
			mn = x
		}
		if x > mx {
			mx = x
		}
	}
	if mn > mx {
		return
	}
	s.setFloat(float64(mn), float64(mx))
}

func (s *stats) setFloat(mn, mx float64) {
	if !s.has {
		s.fmin, s.fmax, s.has = mn, mx, true
		return
	}
	if mn < s.fmin {
		s.fmin = mn
	}
	if mx > s.fmax {
		s.fmax = mx
	}
}

func (s *stats) addBool(falses, trues bool) {
	s.bfalse = s.bfalse || falses
	s.btrue = s.btrue || trues
	s.has = s.bfalse || s.btrue
}

// setBytes takes mn and mx, which it copies: they point into a batch the
// caller releases.
func (s *stats) setBytes(mn, mx []byte) {
	if !s.has || bytes.Compare(mn, s.bmin) < 0 {
		s.bmin = append(s.bmin[:0], mn...)
	}
	if !s.has || bytes.Compare(mx, s.bmax) > 0 {
		s.bmax = append(s.bmax[:0], mx...)
	}
	s.has = true
}

// merge adds a page's statistics to a chunk's.
func (s *stats) merge(o *stats) {
	s.nulls += o.nulls
	s.values += o.values
	if !o.has {
		return
	}
	switch s.phys {
	case parquet.Types.Int32, parquet.Types.Int64:
		s.setInt(o.imin, o.imax)
	case parquet.Types.Float, parquet.Types.Double:
		s.setFloat(o.fmin, o.fmax)
	case parquet.Types.Boolean:
		s.addBool(o.bfalse, o.btrue)
	default:
		s.setBytes(o.bmin, o.bmax)
	}
}

// encode is s as written, values PLAIN-encoded (byte arrays without their
// length), dropped if longer than maxSize as arrow-go drops them.
func (s *stats) encode(maxSize int64) metadata.EncodedStatistics {
	var e metadata.EncodedStatistics
	if s.has {
		mn, mx := s.encodeMinMax()
		e.SetMax(mx)
		e.SetMin(mn)
	}
	e.SetNullCount(s.nulls)
	e.AllNullValue = s.values == 0
	e.ApplyStatSizeLimits(int(maxSize))
	e.Signed = s.signed
	return e
}

// encodeMinMax returns new slices: a chunk's statistics stay in the footer
// metadata until the file is closed.
func (s *stats) encodeMinMax() (mn, mx []byte) {
	switch s.phys {
	case parquet.Types.Int32:
		return binary.LittleEndian.AppendUint32(nil, uint32(s.imin)), binary.LittleEndian.AppendUint32(nil, uint32(s.imax))
	case parquet.Types.Int64:
		lo, hi := s.imin, s.imax
		if s.unsigned {
			lo, hi = lo^math.MinInt64, hi^math.MinInt64
		}
		return binary.LittleEndian.AppendUint64(nil, uint64(lo)), binary.LittleEndian.AppendUint64(nil, uint64(hi))
	case parquet.Types.Float:
		lo, hi := float32(zeroMin(s.fmin)), float32(zeroMax(s.fmax))
		return binary.LittleEndian.AppendUint32(nil, math.Float32bits(lo)), binary.LittleEndian.AppendUint32(nil, math.Float32bits(hi))
	case parquet.Types.Double:
		lo, hi := zeroMin(s.fmin), zeroMax(s.fmax)
		return binary.LittleEndian.AppendUint64(nil, math.Float64bits(lo)), binary.LittleEndian.AppendUint64(nil, math.Float64bits(hi))
	case parquet.Types.Boolean:
		// min is false if any value is, max true if any is
		return []byte{boolByte(!s.bfalse)}, []byte{boolByte(s.btrue)}
	default:
		// never nil: an empty string is a min, and a nil one would not be written
		return append(make([]byte, 0, len(s.bmin)), s.bmin...), append(make([]byte, 0, len(s.bmax)), s.bmax...)
	}
}

// zeroMin and zeroMax write a zero extreme as the spec asks: a min of
// -0.0 and a max of +0.0, whichever zeros the values held.
func zeroMin(v float64) float64 {
	if v == 0 {
		return math.Copysign(0, -1)
	}
	return v
}

func zeroMax(v float64) float64 {
	if v == 0 {
		return 0
	}
	return v
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

func minMax[T int32 | uint32 | int64 | uint64](v []T) (T, T) {
	mn, mx := v[0], v[0]
	for _, x := range v[1:] {
		mn = min(mn, x)
		mx = max(mx, x)
	}
	return mn, mx
}
