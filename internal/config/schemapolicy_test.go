package config

import (
	"fmt"
	"strings"
	"testing"
)

// withOrders replaces the orders table's csv line of the valid config with
// lines of the table (indented like it).
func withOrders(lines string) string {
	return strings.Replace(valid, `    csv: { delimiter: "\t", quote: "\"", header: true, null_values: ["", "NULL"] }`, lines, 1)
}

func TestSchemaPolicyParse(t *testing.T) {
	vars := env(map[string]string{"S3_KEY": "k", "S3_SECRET": "s"})
	c, err := Parse([]byte(withOrders(`    schema_policy: union
    columns:
      amount: "decimal(18,2)"
      day: { type: date, format: "%d.%m.%Y" }
    csv:
      delimiter: ";"
      decimal_separator: ","
      timezone: Europe/Berlin`)), vars)
	if err != nil {
		t.Fatal(err)
	}
	orders, events := c.Tables[0], c.Tables[1]
	if orders.Policy() != PolicyUnion || events.Policy() != PolicyDeclared {
		t.Errorf("policies %q and %q, want union and declared (events declares a schema)", orders.Policy(), events.Policy())
	}
	got := fmt.Sprintf("%v %+v %+v", orders.ColumnNames(), orders.Columns["amount"], orders.Columns["day"])
	if want := "[amount day] {Type:decimal(18,2) Format:} {Type:date Format:%d.%m.%Y}"; got != want {
		t.Errorf("columns %s, want %s", got, want)
	}
	if orders.CSV.DecimalSeparator != "," || orders.CSV.Timezone != "Europe/Berlin" {
		t.Errorf("csv %+v", orders.CSV)
	}
}

func TestSchemaPolicyRejects(t *testing.T) {
	vars := env(map[string]string{"S3_KEY": "k", "S3_SECRET": "s"})
	tests := []struct{ name, lines, want string }{
		{"unknown policy", `    schema_policy: loose`, "tables[0].schema_policy: must be consistent, union or declared"},
		{"declared without a schema", `    schema_policy: declared`, "tables[0].schema_policy: declared needs the table's schema:"},
		{"extra_columns without declared", `    extra_columns: ignore`, "tables[0].extra_columns: applies only to a declared schema"},
		{"unknown extra_columns", `    extra_columns: drop`, "tables[0].extra_columns: must be ignore or fail"},
		{"override without a type", "    columns:\n      day: { format: \"%d\" }", "tables[0].columns.day.type: is required"},
		{"unknown override key", "    columns:\n      day: { typ: date }", `unknown key "typ" in a column override`},
		{"unknown on_error", `    on_error: ignore`, "tables[0].on_error: must be fail_file or skip_row"},
		{"max_rejected_rows without skip_row", `    max_rejected_rows: 10`, "applies only with on_error: skip_row"},
		{"max_rejected_rows not a number", "    on_error: skip_row\n    max_rejected_rows: lots", `want a count of rows`},
		{"max_rejected_rows over 100%", "    on_error: skip_row\n    max_rejected_rows: 120%", `percentage above 0 and up to 100`},
		{"decimal comma with a comma delimiter", "    csv: { delimiter: \",\", decimal_separator: \",\" }", "needs another delimiter"},
		{"odd decimal separator", "    csv: { delimiter: \";\", decimal_separator: \"'\" }", `must be "." or ","`},
		{"unknown time zone", "    csv: { timezone: Mars/Olympus }", `unknown time zone "Mars/Olympus"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(withOrders(tt.lines)), vars)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to say %q", err, tt.want)
			}
		})
	}
}
