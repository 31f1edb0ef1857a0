package soak

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/s3load/s3load/internal/lake/lakecheck"
	"github.com/s3load/s3load/messages"
)

// The bookkeeping of one load: every committed table read back (its
// manifest and every Parquet part) and set against the source as listed at
// the load's start, file by file:
//
//	ok          all of the file's rows, each once
//	lost        some row of the file missing
//	duplicated  some row of the file there twice or more
//	unknown     rows or files the source did not hold (a deleted file, an
//	            old version of a rewritten one, a marker)
//
// A file both lost and duplicated counts in both. The table's directory
// must also hold exactly the manifest's parts, each part's footer agree
// with the manifest, and no file be recorded failed: those are problems.

// tally is one table's bookkeeping.
type tally struct {
	table                                string
	files, ok, lost, duplicated, unknown int
	// problems say what is wrong, a line each (the first few files of
	// each kind, and every structural problem).
	problems []string
}

func (t *tally) add(o tally) {
	t.files += o.files
	t.ok += o.ok
	t.lost += o.lost
	t.duplicated += o.duplicated
	t.unknown += o.unknown
	t.problems = append(t.problems, o.problems...)
}

func (t tally) exact() bool {
	return t.lost == 0 && t.duplicated == 0 && t.unknown == 0 && t.ok == t.files && len(t.problems) == 0
}

// maxNamed bounds the files named per kind of problem.
const maxNamed = 5

// account reads the committed table under out and does its bookkeeping
// against src, the table's files by key.
func account(out, table string, src map[string]object) tally {
	tl := tally{table: table, files: len(src)}
	problem := func(format string, args ...any) {
		tl.problems = append(tl.problems, table+": "+fmt.Sprintf(format, args...))
	}
	dir := filepath.Join(out, table)
	data, err := os.ReadFile(filepath.Join(dir, "_manifest.json"))
	if err != nil {
		problem("not committed: %v", err)
		tl.lost = len(src)
		return tl
	}
	m, err := messages.Unmarshal[messages.Manifest](data)
	if err != nil {
		problem("manifest: %v", err)
		return tl
	}
	for _, f := range m.Failed {
		problem("manifest records %s as %s: %s", f.Source, f.State, f.Error)
	}
	checkLayout(dir, m, src, problem)

	parts := make([]string, len(m.Parts))
	for i, p := range m.Parts {
		parts[i] = filepath.Join(dir, p.Path)
	}
	countRows(&tl, src, parts, nil, problem)
	return tl
}

// accountIceberg reads the committed Iceberg table soak.<table> under out
// with a reader independent of the writer (it checks the metadata against
// the data files: counts, sizes, bounds, field IDs) and does the same
// bookkeeping against src.
func accountIceberg(out, table string, src map[string]object) tally {
	tl := tally{table: table, files: len(src)}
	problem := func(format string, args ...any) {
		tl.problems = append(tl.problems, table+": "+fmt.Sprintf(format, args...))
	}
	tbl, err := lakecheck.ReadTable(context.Background(), lakecheck.LocalOpener(), "file://"+filepath.Join(out, "soak", table))
	if err != nil {
		problem("not committed, or not readable: %v", err)
		tl.lost = len(src)
		return tl
	}
	if tbl.SnapshotID == 0 && len(src) > 0 {
		problem("no snapshot")
	}
	parts := make([]string, len(tbl.DataFiles))
	masked := map[string][]int64{}
	for i, f := range tbl.DataFiles {
		parts[i] = strings.TrimPrefix(f.Path, "file://")
		masked[parts[i]] = tbl.DeletedRows[f.Path]
	}
	countRows(&tl, src, parts, masked, problem)
	return tl
}

// countRows reads every row of the parts, but those masked (positions by
// part, ascending: an Iceberg table's position deletes), and counts, per
// source file, the rows found, missing, duplicated and unknown.
func countRows(tl *tally, src map[string]object, parts []string, masked map[string][]int64, problem func(string, ...any)) {
	// seen[key][i] counts the rows of id first+i of the file.
	seen := map[string][]int{}
	for k, o := range src {
		seen[k] = make([]int, o.rows)
	}
	unknown := map[string]int{} // key -> rows not of the listed version
	for _, path := range parts {
		err := readRows(path, masked[path], func(id int64, key string) {
			o, ok := src[key]
			if !ok || id < o.first || id >= o.first+int64(o.rows) {
				unknown[key]++
				return
			}
			seen[key][id-o.first]++
		})
		if err != nil {
			problem("part %s: %v", path, err)
		}
	}

	var lost, dup []string
	for _, k := range sortedKeys(seen) {
		missing, twice := 0, 0
		for _, n := range seen[k] {
			switch {
			case n == 0:
				missing++
			case n > 1:
				twice += n - 1
			}
		}
		if missing > 0 {
			tl.lost++
			lost = append(lost, fmt.Sprintf("%s (%d of %d rows missing)", k, missing, len(seen[k])))
		}
		if twice > 0 {
			tl.duplicated++
			dup = append(dup, fmt.Sprintf("%s (%d rows more than once)", k, twice))
		}
		if _, bad := unknown[k]; missing == 0 && twice == 0 && !bad {
			tl.ok++
		}
	}
	var unknownNamed []string
	for _, k := range sortedKeys(unknown) {
		tl.unknown++
		unknownNamed = append(unknownNamed, fmt.Sprintf("%s (%d rows)", k, unknown[k]))
	}
	for _, l := range []struct {
		what  string
		files []string
	}{{"lost rows", lost}, {"duplicated rows", dup}, {"rows not in the source", unknownNamed}} {
		for i, f := range l.files {
			if i == maxNamed {
				problem("%s: and %d more files", l.what, len(l.files)-maxNamed)
				break
			}
			problem("%s: %s", l.what, f)
		}
	}
}

// checkLayout compares the manifest with the directory, the parts' footers
// and the source: the parts listed are exactly the files there, every
// source file is accounted for once (a split file once per range), in the
// version listed.
func checkLayout(dir string, m messages.Manifest, src map[string]object, problem func(string, ...any)) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		problem("%v", err)
		return
	}
	var onDisk, listed []string
	for _, e := range entries {
		onDisk = append(onDisk, e.Name())
	}
	listed = append(listed, "_manifest.json")
	named := map[string]int64{} // part -> rows of the files recorded in it
	entriesOf := map[string]int{}
	for _, f := range m.Files {
		named[f.Path] += f.Rows
		o, ok := src[f.Source.Key]
		switch {
		case !ok:
			problem("manifest lists %s, which the source did not hold", f.Source.Key)
		case f.Source.ETag != o.etag:
			problem("manifest lists %s at ETag %s; the source held %s", f.Source.Key, f.Source.ETag, o.etag)
		}
		id := f.Source.Key
		if f.Range != nil {
			id = fmt.Sprintf("%s range %d of %d", f.Source.Key, f.Range.Index, f.Range.Count)
		}
		entriesOf[id]++
		if entriesOf[id] == 2 {
			problem("manifest lists %s twice", id)
		}
	}
	inManifest := map[string]bool{}
	for _, f := range m.Files {
		inManifest[f.Source.Key] = true
	}
	for _, k := range sortedKeys(src) {
		if !inManifest[k] {
			problem("the source's %s is not in the manifest", k)
		}
	}
	var rows int64
	for _, p := range m.Parts {
		listed = append(listed, p.Path)
		r, err := file.OpenParquetFile(filepath.Join(dir, p.Path), false)
		if err != nil {
			problem("part %s: %v", p.Path, err)
			continue
		}
		if r.NumRows() != p.Rows || named[p.Path] != p.Rows {
			problem("part %s has %d rows, the manifest says %d, its files %d", p.Path, r.NumRows(), p.Rows, named[p.Path])
		}
		delete(named, p.Path)
		rows += r.NumRows()
		r.Close()
	}
	for part := range named {
		problem("files name part %s, which the manifest does not list", part)
	}
	sort.Strings(onDisk)
	sort.Strings(listed)
	if !slices.Equal(onDisk, listed) {
		problem("the directory holds %d files, the manifest lists %d (with itself): %v vs %v",
			len(onDisk), len(listed), difference(onDisk, listed), difference(listed, onDisk))
	}
	if rows != m.Rows {
		problem("the parts hold %d rows, the manifest says %d", rows, m.Rows)
	}
}

// readRows calls row for each row's id and src of a part, but the rows at
// masked (ascending positions).
func readRows(path string, masked []int64, row func(id int64, key string)) error {
	f, err := file.OpenParquetFile(path, false)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := pqarrow.NewFileReader(f, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, memory.DefaultAllocator)
	if err != nil {
		return err
	}
	// Only the two columns the bookkeeping needs, of every row group.
	sc := f.MetaData().Schema
	cols := []int{sc.ColumnIndexByName("id"), sc.ColumnIndexByName("src")}
	if cols[0] < 0 || cols[1] < 0 {
		return fmt.Errorf("no column id or src")
	}
	groups := make([]int, f.NumRowGroups())
	for i := range groups {
		groups[i] = i
	}
	tbl, err := r.ReadRowGroups(context.Background(), cols, groups)
	if err != nil {
		return err
	}
	defer tbl.Release()
	idCol, err := column(tbl, "id")
	if err != nil {
		return err
	}
	keyCol, err := column(tbl, "src")
	if err != nil {
		return err
	}
	var ids []int64
	for _, chunk := range idCol.Chunks() {
		c, ok := chunk.(*array.Int64)
		if !ok {
			return fmt.Errorf("id is %s, want int64", chunk.DataType())
		}
		for i := range c.Len() {
			if c.IsNull(i) {
				return fmt.Errorf("row %d: null id", len(ids))
			}
			ids = append(ids, c.Value(i))
		}
	}
	var keys []string
	for _, chunk := range keyCol.Chunks() {
		c, ok := chunk.(interface {
			arrow.Array
			Value(int) string
		})
		if !ok {
			return fmt.Errorf("src is %s, want a string", chunk.DataType())
		}
		for i := range c.Len() {
			if c.IsNull(i) {
				return fmt.Errorf("row %d: null src", len(keys))
			}
			keys = append(keys, c.Value(i))
		}
	}
	if len(ids) != len(keys) {
		return fmt.Errorf("%d ids but %d srcs", len(ids), len(keys))
	}
	for i, id := range ids {
		for len(masked) > 0 && masked[0] < int64(i) {
			masked = masked[1:]
		}
		if len(masked) > 0 && masked[0] == int64(i) {
			continue
		}
		row(id, keys[i])
	}
	return nil
}

func column(tbl arrow.Table, name string) (*arrow.Chunked, error) {
	idx := tbl.Schema().FieldIndices(name)
	if len(idx) != 1 {
		return nil, fmt.Errorf("no column %s", name)
	}
	return tbl.Column(idx[0]).Data(), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// difference lists what a holds and b does not.
func difference(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}
