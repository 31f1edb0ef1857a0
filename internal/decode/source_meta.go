package decode

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// MetaSourceFormat records in an inferred schema's metadata the format the
// file was read as: merging treats a column read from text (CSV, JSON)
// more leniently than a typed Parquet column.
const MetaSourceFormat = "s3load.source.format"

// withSourceFormat returns schema with f recorded in its metadata.
func withSourceFormat(schema *arrow.Schema, f Format) *arrow.Schema {
	md := schema.Metadata()
	keys, vals := []string{MetaSourceFormat}, []string{string(f)}
	for i, k := range md.Keys() {
		if k != MetaSourceFormat {
			keys, vals = append(keys, k), append(vals, md.Values()[i])
		}
	}
	meta := arrow.NewMetadata(keys, vals)
	return arrow.NewSchema(schema.Fields(), &meta)
}

// SourceFormat is the format Infer read the schema's file as ("" if the
// schema did not come from Infer).
func SourceFormat(schema *arrow.Schema) Format {
	v, _ := schema.Metadata().GetValue(MetaSourceFormat)
	return Format(v)
}

// WithoutSourceFormat drops the source format from a schema's metadata: a
// table's schema is no one file's.
func WithoutSourceFormat(schema *arrow.Schema) *arrow.Schema {
	md := schema.Metadata()
	if md.FindKey(MetaSourceFormat) < 0 {
		return schema
	}
	var keys, vals []string
	for i, k := range md.Keys() {
		if k != MetaSourceFormat {
			keys, vals = append(keys, k), append(vals, md.Values()[i])
		}
	}
	if len(keys) == 0 {
		return arrow.NewSchema(schema.Fields(), nil)
	}
	meta := arrow.NewMetadata(keys, vals)
	return arrow.NewSchema(schema.Fields(), &meta)
}

// DialectOf describes the CSV dialect detected for the schema's file, for
// people: `delimiter ";", quote '"', header`; "" when none was detected.
func DialectOf(schema *arrow.Schema) string {
	d, ok := dialectFromSchema(schema)
	if !ok {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "delimiter %q, ", string(rune(d.delim)))
	if d.quote < 0 {
		b.WriteString("no quoting, ")
	} else {
		fmt.Fprintf(&b, "quote %q, ", string(rune(d.quote)))
	}
	if d.header {
		b.WriteString("header")
	} else {
		b.WriteString("no header")
	}
	return b.String()
}
