package lake_test

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"testing"
)

const benchParts = 10_000

// BenchmarkCommit10000Parts commits a load of 10,000 parts on the
// filesystem catalog: the first load of a table (an append) and a load
// replacing one of 10,000 parts (an overwrite, which also lists the old
// snapshot's files). The parts are one real Parquet file hard-linked
// 10,000 times, with identical stats, since a commit reads none of them.
func BenchmarkCommit10000Parts(b *testing.B) {
	for _, overwrite := range []bool{false, true} {
		name := map[bool]string{false: "append", true: "overwrite"}[overwrite]
		b.Run(name, func(b *testing.B) {
			e := newFSLake(b, 0)
			ctx := context.Background()
			tmpl := e.prepare(b, "template", "load", peopleSchema)
			rec := e.writePart(b, tmpl, "p.parquet", `[{"id":1,"name":"a"},{"id":2,"name":"b"}]`)
			src := e.partPath("template", "load", "p.parquet")
			// fill makes l a load of benchParts links to the template part.
			fill := func(l *load) {
				for j := range benchParts {
					name := fmt.Sprintf("part-%05d.parquet", j)
					dst := e.partPath(l.table, l.id, name)
					if j == 0 {
						if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
							b.Fatal(err)
						}
					}
					if err := os.Link(src, dst); err != nil {
						b.Fatal(err)
					}
					r := rec
					r.LoadID, r.Table, r.Part = l.id, l.table, path.Join("data", l.id, name)
					r.Source.Key = name + ".csv"
					l.loaded = append(l.loaded, r)
				}
			}
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				tbl := "t" + strconv.Itoa(i)
				if overwrite {
					first := e.prepare(b, tbl, "load-0", peopleSchema)
					fill(first)
					e.commit(b, first)
				}
				l := e.prepare(b, tbl, "load-1", peopleSchema)
				fill(l)
				b.StartTimer()
				if _, err := e.c.Commit(ctx, l.request()); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				snap := e.loadTableTB(b, tbl).CurrentSnapshot()
				if got := snap.Summary.Properties["total-data-files"]; got != strconv.Itoa(benchParts) {
					b.Fatalf("table has %s data files, want %d", got, benchParts)
				}
				b.StartTimer()
			}
		})
	}
}
