package target

import (
	"path"
	"path/filepath"
)

// Layout is where a table's loads live in the target. The zero Layout is
// plain Parquet: loads staged under .s3load/<table>/ (local) or
// <table>/ (S3), the table a link or a manifest. An Iceberg layout puts
// each load under the table's location, <namespace>/<table>/data/<load>/,
// since an Iceberg table's files live below its location.
type Layout struct {
	// Namespace, when set, makes the layout Iceberg's.
	Namespace []string
}

// WithLayout sets the target's layout (plain Parquet by default).
func WithLayout(l Layout) Option { return func(o *options) { o.layout = l } }

func (l Layout) iceberg() bool { return len(l.Namespace) > 0 }

// dataRel is the table's data directory relative to the target root, in
// an Iceberg layout.
func (l Layout) dataRel(table string) string {
	return path.Join(append(append([]string{}, l.Namespace...), table, "data")...)
}

// TableLocation is the table's location below the target URL root, in an
// Iceberg layout: <root>/<namespace>/<table>.
func (l Layout) TableLocation(root, table string) string {
	return root + "/" + path.Dir(l.dataRel(table))
}

func (l Layout) localTableDir(root, table string) string {
	if l.iceberg() {
		return filepath.Join(root, filepath.FromSlash(l.dataRel(table)))
	}
	return filepath.Join(root, stagingDir, table)
}

func (l Layout) s3TableKey(prefix, table string, rel ...string) string {
	if l.iceberg() {
		return path.Join(append([]string{prefix, l.dataRel(table)}, rel...)...)
	}
	return path.Join(append([]string{prefix, table}, rel...)...)
}

// partPath is a part's path relative to the table: the manifest's parts
// are relative to the table's link (local) or prefix (S3); an Iceberg
// table's, to its location.
func (l Layout) partPath(s3 bool, load, name string) string {
	switch {
	case l.iceberg():
		return path.Join("data", load, name)
	case s3:
		return path.Join(load, name)
	}
	return name
}

// Iceberg reports whether the target holds Iceberg tables: parts then need
// the table's field IDs, so no source file is copied as a part.
func (t *Target) Iceberg() bool { return t.layout.iceberg() }
