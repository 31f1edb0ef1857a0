package partstats_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/metadata"

	"github.com/s3load/s3load/internal/partstats"
	"github.com/s3load/s3load/messages"
)

// TestFromFooterDoubtfulStats: figures the footer does not vouch for are
// left out, never guessed.
func TestFromFooterDoubtfulStats(t *testing.T) {
	f := false
	cases := []struct {
		name  string
		props []parquet.WriterProperty
		edit  func(md *metadata.FileMetaData)
		check func(t *testing.T, ps messages.PartStats)
	}{
		{
			name:  "inexact max drops bounds",
			edit:  func(md *metadata.FileMetaData) { md.RowGroups[1].Columns[0].MetaData.Statistics.IsMaxValueExact = &f },
			check: wantBounds(false),
		},
		{
			name:  "inexact min drops bounds",
			edit:  func(md *metadata.FileMetaData) { md.RowGroups[0].Columns[0].MetaData.Statistics.IsMinValueExact = &f },
			check: wantBounds(false),
		},
		{
			name: "missing min_value drops bounds though deprecated min is set",
			edit: func(md *metadata.FileMetaData) {
				st := md.RowGroups[0].Columns[0].MetaData.Statistics
				st.Min, st.MinValue = st.MinValue, nil
			},
			check: wantBounds(false),
		},
		{
			name:  "untouched footer has bounds",
			edit:  func(*metadata.FileMetaData) {},
			check: wantBounds(true),
		},
		{
			name: "missing null count drops the column",
			edit: func(md *metadata.FileMetaData) { md.RowGroups[1].Columns[0].MetaData.Statistics.NullCount = nil },
			check: func(t *testing.T, ps messages.PartStats) {
				if len(ps.Columns) != 0 {
					t.Errorf("columns %+v, want none", ps.Columns)
				}
			},
		},
		{
			name:  "statistics off drops the column",
			props: []parquet.WriterProperty{parquet.WithStatsFor("c", false)},
			edit:  func(*metadata.FileMetaData) {},
			check: func(t *testing.T, ps messages.PartStats) {
				if len(ps.Columns) != 0 {
					t.Errorf("columns %+v, want none", ps.Columns)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			col, _, err := array.FromJSON(mem, arrow.PrimitiveTypes.Int64, strings.NewReader(`[1, 2, null, 4, 5, 6, 7]`))
			if err != nil {
				t.Fatalf("building column: %v", err)
			}
			defer col.Release()
			md, data := writePart(t, mem, field("c", arrow.PrimitiveTypes.Int64, 1), col, tc.props)
			tc.edit(md)
			ps, err := partstats.FromFooter(md, int64(len(data)))
			if err != nil {
				t.Fatalf("FromFooter: %v", err)
			}
			tc.check(t, ps)
		})
	}
}

func wantBounds(want bool) func(t *testing.T, ps messages.PartStats) {
	return func(t *testing.T, ps messages.PartStats) {
		t.Helper()
		if len(ps.Columns) != 1 {
			t.Fatalf("columns %+v, want one", ps.Columns)
		}
		c := ps.Columns[0]
		if c.Values != 7 || c.Nulls != 1 {
			t.Errorf("values %d nulls %d, want 7 1", c.Values, c.Nulls)
		}
		if has := c.Lower != nil && c.Upper != nil; has != want || (c.Lower == nil) != (c.Upper == nil) {
			t.Errorf("bounds %x %x, want them: %v", c.Lower, c.Upper, want)
		}
	}
}

func TestFromFooterDuplicateFieldID(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	st := arrow.StructOf(field("a", arrow.PrimitiveTypes.Int32, 7), field("b", arrow.PrimitiveTypes.Int32, 7))
	col, _, err := array.FromJSON(mem, st, strings.NewReader(`[{"a": 1, "b": 2}, null, {"a": 3, "b": 4}, {"a": 5, "b": 6}]`))
	if err != nil {
		t.Fatalf("building column: %v", err)
	}
	defer col.Release()
	md, data := writePart(t, mem, field("s", st, 1), col, nil)
	if _, err := partstats.FromFooter(md, int64(len(data))); !errors.Is(err, partstats.ErrDuplicateFieldID) {
		t.Errorf("error %v, want ErrDuplicateFieldID", err)
	}
}

func TestFromFooterNoFooter(t *testing.T) {
	if _, err := partstats.FromFooter(nil, 0); err == nil {
		t.Error("no error for a nil footer")
	}
}

func TestFromFileNotParquet(t *testing.T) {
	r := strings.NewReader("not a parquet file at all")
	if _, err := partstats.FromFile(r, r.Size()); err == nil {
		t.Error("no error for bytes that are not Parquet")
	}
}
