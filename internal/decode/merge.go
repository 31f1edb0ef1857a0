package decode

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Schema policies: how the schemas of a table's files make its schema.
const (
	// PolicyConsistent: every file has the same set of columns, in any
	// order; their types are widened across files.
	PolicyConsistent = "consistent"
	// PolicyUnion: every column of any file, widened; a file lacking one
	// loads nulls there.
	PolicyUnion = "union"
	// PolicyDeclared: the declared schema is the table's; every file must
	// load into it.
	PolicyDeclared = "declared"
)

// FileSchema is one file's schema, as Infer found it.
type FileSchema struct {
	Name   string
	Schema *arrow.Schema
	// Text says the values were parsed from text (CSV, JSON): a column
	// whose types cannot be widened becomes a string rather than a misfit.
	Text bool
	// Files is how many files have this schema (0 counts as 1): a caller
	// that probed 100,000 files passes each distinct schema once, with
	// its weight in the vote for the column set.
	Files int
}

// MergePolicy is a table's schema settings.
type MergePolicy struct {
	Policy   string        // PolicyConsistent ("" means it), PolicyUnion or PolicyDeclared
	Declared *arrow.Schema // the table under PolicyDeclared
	// Columns replaces the merged (or declared) type of columns by name,
	// metadata included.
	Columns map[string]arrow.Field
	// IgnoreExtra drops file columns the declared schema lacks instead of
	// refusing the file.
	IgnoreExtra bool
}

// MergeResult is the table's schema and which files do not fit it.
type MergeResult struct {
	Schema  *arrow.Schema  // every field nullable but declared ones
	Misfits []*SchemaError // per input: nil where the file fits
	// Widened has a line per column whose type is wider than some fitting
	// file's ("amount: int64 → float64"); a column only null in a file is
	// not counted, nor a column an override sets.
	Widened []string
}

// mergeCol is one table column while files are merged.
type mergeCol struct {
	field    arrow.Field
	override bool             // the type is the user's: files are checked, not merged
	seen     []arrow.DataType // the files' distinct types, for Widened
	stamp    int              // the last file (index+1) collected with this column
}

// merger holds the table's columns while files are merged into it.
type merger struct {
	cols []mergeCol
	at   map[string]int
}

// MergeSchemas decides a table's schema from the schemas of all its files
// (in input order) under policy p, and names the files that do not fit.
func MergeSchemas(files []FileSchema, p MergePolicy) (MergeResult, error) {
	for i, f := range files {
		if f.Schema == nil {
			return MergeResult{}, fmt.Errorf("merging schemas: file %d (%s) has no schema", i, f.Name)
		}
	}
	res := MergeResult{Misfits: make([]*SchemaError, len(files))}
	var m *merger
	var err error
	switch p.Policy {
	case "", PolicyConsistent:
		if len(files) == 0 {
			return res, errors.New("merging schemas: no file to take the table's schema from")
		}
		m, err = mergeConsistent(files, p, res.Misfits)
	case PolicyUnion:
		if len(files) == 0 {
			return res, errors.New("merging schemas: no file to take the table's schema from")
		}
		m, err = mergeUnion(files, p, res.Misfits)
	case PolicyDeclared:
		if p.Declared == nil {
			return res, errors.New("merging schemas: schema_policy declared needs a declared schema")
		}
		m, err = mergeDeclared(files, p, res.Misfits)
	default:
		return res, fmt.Errorf("merging schemas: unknown schema_policy %q; want %s, %s or %s", p.Policy, PolicyConsistent, PolicyUnion, PolicyDeclared)
	}
	if err != nil {
		return res, err
	}
	fields := make([]arrow.Field, len(m.cols))
	for i := range m.cols {
		c := &m.cols[i]
		fields[i] = c.field
		if line := c.widenedLine(); line != "" {
			res.Widened = append(res.Widened, line)
		}
	}
	var base arrow.Metadata
	if p.Policy == PolicyDeclared {
		base = p.Declared.Metadata()
	}
	meta := withDialectOf(base, files)
	res.Schema = arrow.NewSchema(fields, &meta)
	return res, nil
}

// newMerger starts a table with overrides applied as files come.
func newMerger(n int) *merger {
	return &merger{cols: make([]mergeCol, 0, n), at: make(map[string]int, n)}
}

func (m *merger) add(f arrow.Field, p MergePolicy) {
	c := mergeCol{field: arrow.Field{Name: f.Name, Type: f.Type, Nullable: true}}
	if o, ok := p.Columns[f.Name]; ok {
		c.field.Type, c.field.Metadata, c.override = o.Type, o.Metadata, true
	}
	m.at[f.Name] = len(m.cols)
	m.cols = append(m.cols, c)
}

// checkOverrides refuses overrides of columns no file has.
func (m *merger) checkOverrides(p MergePolicy) error {
	var missing []string
	for name := range p.Columns {
		if _, ok := m.at[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("merging schemas: columns overrides name %q, which no file has", missing)
	}
	return nil
}

// fileCol pairs a file's column with the table column it merges into.
type fileCol struct {
	col int
	typ arrow.DataType
}

// typeClash is a file's column whose type cannot join the table's.
type typeClash struct {
	name        string
	want, found arrow.DataType
}

// tryFile widens the table's columns by one file's, all or nothing: the
// file's columns that cannot join are returned and change nothing.
func (m *merger) tryFile(fs FileSchema, cols []fileCol) []typeClash {
	var diffs []typeClash
	var widened []arrow.DataType
	for k, fc := range cols {
		c := &m.cols[fc.col]
		if arrow.TypeEqual(c.field.Type, fc.typ) {
			continue
		}
		if c.override {
			if !fitsFile(fs, fc.typ, c.field.Type) {
				diffs = append(diffs, typeClash{c.field.Name, c.field.Type, fc.typ})
			}
			continue
		}
		w, ok := widen(c.field.Type, fc.typ, fs.Text)
		if !ok {
			diffs = append(diffs, typeClash{c.field.Name, c.field.Type, fc.typ})
			continue
		}
		if widened == nil {
			widened = make([]arrow.DataType, len(cols))
		}
		widened[k] = w
	}
	if len(diffs) > 0 {
		return diffs
	}
	for k, fc := range cols {
		c := &m.cols[fc.col]
		if widened != nil && widened[k] != nil {
			c.field.Type = widened[k]
		}
		c.saw(fc.typ)
	}
	return nil
}

// fitsFile says whether a file's column of type from loads into the
// table's type to. Text is parsed value by value, so only its shape counts
// here (nested or not; anything goes into a string); the decoder checks
// each value.
func fitsFile(fs FileSchema, from, to arrow.DataType) bool {
	if !fs.Text {
		return fitsInto(from, to)
	}
	return isStringType(to.ID()) || arrow.IsNested(from.ID()) == arrow.IsNested(to.ID())
}

// saw records a fitting file's type of the column.
func (c *mergeCol) saw(t arrow.DataType) {
	if t.ID() == arrow.NULL {
		return
	}
	if n := len(c.seen); n > 0 && arrow.TypeEqual(c.seen[n-1], t) {
		return
	}
	for _, s := range c.seen {
		if arrow.TypeEqual(s, t) {
			return
		}
	}
	c.seen = append(c.seen, t)
}

func (c *mergeCol) widenedLine() string {
	if c.override {
		return ""
	}
	var from []string
	for _, t := range c.seen {
		if !arrow.TypeEqual(t, c.field.Type) {
			from = append(from, t.String())
		}
	}
	if len(from) == 0 {
		return ""
	}
	return fmt.Sprintf("%s: %s → %s", c.field.Name, strings.Join(from, ", "), c.field.Type)
}

// collect pairs each column of s with its table column, a repeated name
// once, stamping the table's columns the file has; columns the table lacks
// are returned apart.
func (m *merger) collect(s *arrow.Schema, stamp int, fc []fileCol) ([]fileCol, []arrow.Field) {
	var extra []arrow.Field
	for i := range s.NumFields() {
		f := s.Field(i)
		j, ok := m.at[f.Name]
		if !ok {
			if !slices.ContainsFunc(extra, func(e arrow.Field) bool { return e.Name == f.Name }) {
				extra = append(extra, f)
			}
			continue
		}
		if c := &m.cols[j]; c.stamp != stamp {
			c.stamp = stamp
			fc = append(fc, fileCol{col: j, typ: f.Type})
		}
	}
	return fc, extra
}

// presenceDiffs lists the table's columns a file (collected with stamp)
// lacks, then its columns the table lacks.
func (m *merger) presenceDiffs(stamp int, extra []arrow.Field) []ColumnDiff {
	var diffs []ColumnDiff
	for _, c := range m.cols {
		if c.stamp != stamp {
			diffs = append(diffs, ColumnDiff{Column: c.field.Name, Expected: c.field.Type.String(), Found: absent})
		}
	}
	for _, f := range extra {
		diffs = append(diffs, ColumnDiff{Column: f.Name, Expected: absent, Found: f.Type.String()})
	}
	return diffs
}

// mergeConsistent: the set of columns most files have (the earliest on a
// tie) is the table's, in the order of the first file with it; files with
// another set do not fit.
func mergeConsistent(files []FileSchema, p MergePolicy, misfits []*SchemaError) (*merger, error) {
	keys := make([]string, len(files))
	type tally struct{ n, first int }
	counts := map[string]*tally{}
	bySchema := map[*arrow.Schema]int{} // inputs sharing a schema value share its key
	var names []string
	for i, f := range files {
		if j, ok := bySchema[f.Schema]; ok {
			keys[i] = keys[j]
		} else if i > 0 && sameNames(files[i-1].Schema, f.Schema) {
			keys[i] = keys[i-1] // mostly files come alike: no sort
		} else {
			bySchema[f.Schema] = i
			keys[i], names = setKey(f.Schema, names)
		}
		if t, ok := counts[keys[i]]; ok {
			t.n += max(f.Files, 1)
		} else {
			counts[keys[i]] = &tally{n: max(f.Files, 1), first: i}
		}
	}
	best := counts[keys[0]]
	for _, t := range counts {
		if t.n > best.n || t.n == best.n && t.first < best.first {
			best = t
		}
	}
	chosen := keys[best.first]
	first := files[best.first].Schema
	m := newMerger(first.NumFields())
	for i := range first.NumFields() {
		if f := first.Field(i); !m.has(f.Name) {
			m.add(f, p)
		}
	}
	if err := m.checkOverrides(p); err != nil {
		return nil, err
	}
	var fc []fileCol
	for i, f := range files {
		if keys[i] != chosen {
			continue
		}
		fc, _ = m.collect(f.Schema, i+1, fc[:0])
		if cs := m.tryFile(f, fc); cs != nil {
			misfits[i] = conflictError(f, cs)
		}
	}
	for i, f := range files {
		if keys[i] == chosen {
			continue
		}
		var extra []arrow.Field
		fc, extra = m.collect(f.Schema, i+1, fc[:0])
		misfits[i] = &SchemaError{File: f.Name, Diffs: m.presenceDiffs(i+1, extra), Hint: "schema_policy: " + PolicyUnion}
	}
	return m, nil
}

// sameNames says whether a and b have the same column names in order.
func sameNames(a, b *arrow.Schema) bool {
	if a.NumFields() != b.NumFields() {
		return false
	}
	for i := range a.NumFields() {
		if a.Field(i).Name != b.Field(i).Name {
			return false
		}
	}
	return true
}

func (m *merger) has(name string) bool {
	_, ok := m.at[name]
	return ok
}

// setKey names the set of s's columns whatever their order; names is
// scratch space, returned for reuse.
func setKey(s *arrow.Schema, names []string) (string, []string) {
	names = names[:0]
	for i := range s.NumFields() {
		names = append(names, s.Field(i).Name)
	}
	slices.Sort(names)
	names = slices.Compact(names) // a repeated name counts once
	return strings.Join(names, "\x00"), names
}

// mergeUnion: every column of any file, first seen first.
func mergeUnion(files []FileSchema, p MergePolicy, misfits []*SchemaError) (*merger, error) {
	m := newMerger(0)
	var fc []fileCol
	for i, f := range files {
		var extra []arrow.Field
		fc, extra = m.collect(f.Schema, i+1, fc[:0])
		for _, e := range extra {
			m.add(arrow.Field{Name: e.Name, Type: arrow.Null}, p)
			m.cols[len(m.cols)-1].stamp = i + 1
			fc = append(fc, fileCol{col: len(m.cols) - 1, typ: e.Type})
		}
		if cs := m.tryFile(f, fc); cs != nil {
			misfits[i] = conflictError(f, cs)
			m.drop(len(extra))
		}
	}
	// A column only a misfit had is gone; one only ever null stays null
	// until an override says otherwise.
	return m, m.checkOverrides(p)
}

// drop removes the last n columns, which a refused file added.
func (m *merger) drop(n int) {
	for _, c := range m.cols[len(m.cols)-n:] {
		delete(m.at, c.field.Name)
	}
	m.cols = m.cols[:len(m.cols)-n]
}

// mergeDeclared: the declared schema, overrides applied (an override of an
// undeclared column adds it), is the table; each file must have every
// column, of a type that loads without loss, and no other unless extra
// columns are ignored.
func mergeDeclared(files []FileSchema, p MergePolicy, misfits []*SchemaError) (*merger, error) {
	d := p.Declared
	m := newMerger(d.NumFields())
	for i := range d.NumFields() {
		f := d.Field(i)
		if m.has(f.Name) {
			continue
		}
		if o, ok := p.Columns[f.Name]; ok {
			f.Type, f.Metadata = o.Type, o.Metadata
		}
		m.at[f.Name] = len(m.cols)
		m.cols = append(m.cols, mergeCol{field: f, override: true})
	}
	extra := make([]string, 0, len(p.Columns))
	for name := range p.Columns {
		if !m.has(name) {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	for _, name := range extra {
		o := p.Columns[name]
		m.at[name] = len(m.cols)
		m.cols = append(m.cols, mergeCol{field: arrow.Field{Name: name, Type: o.Type, Nullable: true, Metadata: o.Metadata}, override: true})
	}
	var fc []fileCol
	for i, f := range files {
		var extra []arrow.Field
		fc, extra = m.collect(f.Schema, i+1, fc[:0])
		if p.IgnoreExtra {
			extra = nil
		}
		diffs := m.presenceDiffs(i+1, extra)
		var hints []string
		if len(diffs) > len(extra) {
			hints = append(hints, "schema_policy: "+PolicyUnion)
		}
		if len(extra) > 0 {
			hints = append(hints, "extra_columns: ignore")
		}
		cs := m.tryFile(f, fc)
		if h := overrideHint(cs, f.Text); h != "" {
			hints = append(hints, h)
		}
		diffs = append(diffs, conflictDiffs(cs)...)
		if len(diffs) > 0 {
			misfits[i] = &SchemaError{File: f.Name, Diffs: diffs, Hint: strings.Join(hints, "; ")}
		}
	}
	return m, nil
}

// conflictError is the misfit of a file whose columns cs cannot join.
func conflictError(f FileSchema, cs []typeClash) *SchemaError {
	return &SchemaError{File: f.Name, Diffs: conflictDiffs(cs), Hint: overrideHint(cs, f.Text)}
}

func conflictDiffs(cs []typeClash) []ColumnDiff {
	out := make([]ColumnDiff, len(cs))
	for i, c := range cs {
		out[i] = ColumnDiff{Column: c.name, Expected: c.want.String(), Found: c.found.String()}
	}
	return out
}

// overrideHint is the columns override that would load the columns of cs:
// their widened type, or string for scalars nothing else holds. Nested
// values no type holds have no hint.
func overrideHint(cs []typeClash, text bool) string {
	var parts []string
	for _, c := range cs {
		t, ok := widen(c.want, c.found, text)
		if !ok {
			if arrow.IsNested(c.want.ID()) || arrow.IsNested(c.found.ID()) {
				continue
			}
			t = arrow.BinaryTypes.String
		}
		name := t.String()
		if t.ID() == arrow.STRING {
			name = "string"
		}
		parts = append(parts, fmt.Sprintf("%s: %s", c.name, name))
	}
	if len(parts) == 0 {
		return ""
	}
	return "columns: {" + strings.Join(parts, ", ") + "}"
}

// withDialectOf is base plus the CSV dialect recorded in the first text
// file that has one, so files decode with the dialect the table was
// inferred with.
func withDialectOf(base arrow.Metadata, files []FileSchema) arrow.Metadata {
	keys, vals := slices.Clone(base.Keys()), slices.Clone(base.Values())
	for _, f := range files {
		if !f.Text {
			continue
		}
		md := f.Schema.Metadata()
		found := false
		for i, k := range md.Keys() {
			if !strings.HasPrefix(k, "s3load.csv.") {
				continue
			}
			found = true
			if slices.Contains(keys, k) {
				continue
			}
			keys, vals = append(keys, k), append(vals, md.Values()[i])
		}
		if found {
			break
		}
	}
	return arrow.NewMetadata(keys, vals)
}
