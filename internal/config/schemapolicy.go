package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	// csv.timezone names an IANA zone: the binary carries their data, since
	// its images are FROM scratch, without /usr/share/zoneinfo.
	_ "time/tzdata"

	"gopkg.in/yaml.v3"
)

// Schema policies: how a table's files' schemas become the table's.
const (
	// PolicyConsistent: every file has the same columns (any order);
	// their types are widened across files. The default without schema:.
	PolicyConsistent = "consistent"
	// PolicyUnion: the union of the files' columns by name; a file
	// lacking one loads nulls there.
	PolicyUnion = "union"
	// PolicyDeclared: schema: is the contract. The default with schema:.
	PolicyDeclared = "declared"
)

// What a declared table does with a file's columns it does not declare.
const (
	ExtraColumnsFail   = "fail"
	ExtraColumnsIgnore = "ignore"
)

// What a table does with a row that cannot be read.
const (
	OnErrorFailFile = "fail_file"
	OnErrorSkipRow  = "skip_row"
)

// ColumnOverride sets one column's type (and, for dates and timestamps
// read from text, its format), whatever the files say: `amount:
// "decimal(18,2)"` or `day: { type: date, format: "%d.%m.%Y" }`.
type ColumnOverride struct {
	Type   string `yaml:"type"`
	Format string `yaml:"format"`
}

// UnmarshalYAML takes a type alone, or a mapping of type and format.
func (o *ColumnOverride) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		o.Type = n.Value
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a column override is a type, or { type: ..., format: ... }", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch k := n.Content[i].Value; k {
		case "type", "format":
		default:
			return fmt.Errorf("line %d: unknown key %q in a column override (want type, format)", n.Content[i].Line, k)
		}
	}
	type plain ColumnOverride
	return n.Decode((*plain)(o))
}

// Policy is the table's schema policy with its default applied.
func (t Table) Policy() string {
	switch {
	case t.SchemaPolicy != "":
		return t.SchemaPolicy
	case len(t.Schema) > 0:
		return PolicyDeclared
	}
	return PolicyConsistent
}

// ColumnNames are the overridden columns, sorted, so that everything built
// from them is built the same way every time.
func (t Table) ColumnNames() []string {
	names := make([]string, 0, len(t.Columns))
	for n := range t.Columns {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func validateSchemaPolicy(t Table, key string, bad func(key, format string, args ...any)) {
	switch t.SchemaPolicy {
	case "", PolicyConsistent, PolicyUnion:
	case PolicyDeclared:
		if len(t.Schema) == 0 {
			bad(key+".schema_policy", "declared needs the table's schema: (or use columns: to set single columns' types with consistent or union)")
		}
	default:
		bad(key+".schema_policy", "must be consistent, union or declared (got %q)", t.SchemaPolicy)
	}
	if len(t.Schema) > 0 && t.SchemaPolicy != "" && t.SchemaPolicy != PolicyDeclared {
		bad(key+".schema_policy", "%s does not go with schema: (a declared schema is the contract; to override single columns, use columns:)", t.SchemaPolicy)
	}
	switch t.ExtraColumns {
	case "", ExtraColumnsFail:
	case ExtraColumnsIgnore:
		if t.Policy() != PolicyDeclared {
			bad(key+".extra_columns", "applies only to a declared schema (schema_policy: declared); union keeps every column")
		}
	default:
		bad(key+".extra_columns", "must be ignore or fail (got %q)", t.ExtraColumns)
	}
	for _, name := range t.ColumnNames() {
		o := t.Columns[name]
		if name == "" {
			bad(key+".columns", "a column name is empty")
		}
		if o.Type == "" {
			bad(key+".columns."+name+".type", "is required")
		}
	}
	switch t.OnError {
	case "", OnErrorFailFile, OnErrorSkipRow:
	default:
		bad(key+".on_error", "must be fail_file or skip_row (got %q)", t.OnError)
	}
	if t.MaxRejectedRows != "" {
		if t.OnError != OnErrorSkipRow {
			bad(key+".max_rejected_rows", "applies only with on_error: skip_row")
		}
		if _, _, err := t.RejectLimit(); err != nil {
			bad(key+".max_rejected_rows", "%v", err)
		}
	}
	if strings.HasSuffix(t.Name, "__rejects") {
		bad(key+".name", "names ending in __rejects are reserved for reject tables (on_error: skip_row)")
	}
	if d := t.CSV.DecimalSeparator; d != "" && d != "." && d != "," {
		bad(key+".csv.decimal_separator", "must be \".\" or \",\" (got %q)", d)
	}
	if d := t.CSV.DecimalSeparator; d == "," && t.CSV.Delimiter == "," && !t.CSV.Detect.Delimiter {
		bad(key+".csv.decimal_separator", "\",\" needs another delimiter than \",\" (e.g. delimiter: \";\")")
	}
	if tz := t.CSV.Timezone; tz != "" {
		if _, err := time.LoadLocation(tz); err != nil {
			bad(key+".csv.timezone", "unknown time zone %q (want an IANA name such as Europe/Berlin, or UTC)", tz)
		}
	}
}

// RejectLimit parses max_rejected_rows: a count of rows ("10") or a
// percentage of the rows read ("1%"); both 0 when unset (no limit).
func (t Table) RejectLimit() (rows int64, percent float64, err error) {
	v := strings.TrimSpace(t.MaxRejectedRows)
	if v == "" {
		return 0, 0, nil
	}
	if p, ok := strings.CutSuffix(v, "%"); ok {
		percent, err = strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || percent <= 0 || percent > 100 {
			return 0, 0, fmt.Errorf("want a count of rows (10) or a percentage above 0 and up to 100 (1%%), got %q", t.MaxRejectedRows)
		}
		return 0, percent, nil
	}
	rows, err = strconv.ParseInt(v, 10, 64)
	if err != nil || rows < 1 {
		return 0, 0, fmt.Errorf("want a count of rows of at least 1 (10) or a percentage (1%%), got %q", t.MaxRejectedRows)
	}
	return rows, 0, nil
}
