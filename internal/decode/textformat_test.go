package decode

import (
	"context"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones, wherever the tests run

	"github.com/apache/arrow-go/v18/arrow"
)

// withFormat returns s with column name carrying format.
func withFormat(s *arrow.Schema, name, format string) *arrow.Schema {
	fs := s.Fields()
	for i := range fs {
		if fs[i].Name == name {
			fs[i].Metadata = arrow.NewMetadata([]string{FormatMetaKey}, []string{format})
		}
	}
	return arrow.NewSchema(fs, nil)
}

// decodeBothPaths decodes text (with a header row) with the fast path on
// and off, many times over so most rows take the fast path, and checks
// the two agree; it returns the rows of one copy of text, or the error.
func decodeBothPaths(t *testing.T, text string, opts Options) ([]string, error) {
	t.Helper()
	header, body, _ := strings.Cut(text, "\n")
	const copies = 300
	data := header + "\n" + strings.Repeat(body, copies)
	var got [2][]string
	var errs [2]error
	for i, general := range []bool{false, true} {
		got[i], errs[i] = decodeDirect(t, "s3://b/t.csv", []byte(data), opts, general)
	}
	if (errs[0] == nil) != (errs[1] == nil) || errs[0] != nil && errs[0].Error() != errs[1].Error() {
		t.Fatalf("fast path error %v, general path %v", errs[0], errs[1])
	}
	if errs[0] != nil {
		return nil, errs[0]
	}
	if strings.Join(got[0], "\n") != strings.Join(got[1], "\n") {
		t.Fatalf("fast path and general path differ:\n%q\n%q", got[0][:3], got[1][:3])
	}
	n := len(got[0]) / copies
	return got[0][:n], nil
}

func TestCSVDecimalComma(t *testing.T) {
	comma := CSVOptions{Header: true, Delimiter: ';', DecimalSeparator: ','}
	tests := []struct {
		name, text string
		types      []string      // name, type, name, type...
		schema     *arrow.Schema // instead of types
		csv        CSVOptions
		rows       []string
		err        string
	}{
		{
			name:  "float64 and decimal",
			text:  "f;d;i\n30,5;10,20;7\n-1,5e3;-0,05;-2\n1;3;0\n1e3;1e1;5\n;;\n",
			types: []string{"f", "float64", "d", "decimal(18,2)", "i", "int64"}, csv: comma,
			rows: []string{"30.5|10.2|7", "-1500|-0.05|-2", "1|3|0", "1000|10|5", "null|null|null"},
		},
		{
			name: "float32 and decimal256",
			text: "f;d\n0,25;123456,789\n",
			schema: arrow.NewSchema([]arrow.Field{
				{Name: "f", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
				{Name: "d", Type: &arrow.Decimal256Type{Precision: 40, Scale: 3}, Nullable: true},
			}, nil),
			csv:  comma,
			rows: []string{"0.25|123456.789"},
		},
		{
			name: "a dot is not a number", text: "f\n30.5\n", types: []string{"f", "float64"}, csv: comma,
			err: `parsing "30.5" as float64: '.' in a number whose decimal separator is ','`,
		},
		{
			name: "no thousands separator", text: "d\n-1.234,5\n", types: []string{"d", "decimal(18,2)"}, csv: comma,
			err: `parsing "-1.234,5" as decimal(18, 2): '.' in a number`,
		},
		{
			name: "two commas", text: "f\n1,2,3\n", types: []string{"f", "float64"}, csv: comma,
			err: `parsing "1,2,3" as float64: invalid syntax`,
		},
		{
			name: "default separator unchanged", text: "f;d\n30.5;10.20\n", types: []string{"f", "float64", "d", "decimal(18,2)"},
			csv: CSVOptions{Header: true, Delimiter: ';'}, rows: []string{"30.5|10.2"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{CSV: tc.csv, Schema: tc.schema}
			if opts.Schema == nil {
				opts.Schema = schemaOf(t, tc.types...)
			}
			rows, err := decodeBothPaths(t, tc.text, opts)
			checkRows(t, rows, err, tc.rows, tc.err)
		})
	}
}

func TestCSVDecimalSeparatorRefused(t *testing.T) {
	for _, c := range []CSVOptions{{DecimalSeparator: ','}, {Delimiter: ';', DecimalSeparator: ' '}} {
		if _, err := resolve("t.csv", Options{CSV: c}); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

func TestClassifyDecimalComma(t *testing.T) {
	comma := textOptions{decimal: ','}
	tests := map[string]uint8{
		"30,5": kindFloat, "-0,5": kindFloat, ",5": kindFloat, "1,5e3": kindFloat, "12": kindInt,
		"30.5": kindString, "1.234,5": kindString, "1,2,3": kindString, "00,5": kindString,
		"2024-01-02": kindDate, "true": kindBool, " 3,25 ": kindFloat,
	}
	for in, want := range tests {
		if got := comma.classify([]byte(in)); got != want {
			t.Errorf("classify(%q) with ',' = %d, want %d", in, got, want)
		}
	}
	if got := (textOptions{decimal: '.'}).classify([]byte("30,5")); got != kindString {
		t.Errorf("classify(30,5) with '.' = %d", got)
	}
}

func TestInferDecimalComma(t *testing.T) {
	text := "a;b;c\n30,5;1;x\n2;2,25;y\n"
	opts := Options{CSV: CSVOptions{Header: true, Delimiter: ';', DecimalSeparator: ','}}
	s, err := Infer(context.Background(), csvObj("s3://b/t.csv", text), opts)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := typesOf(s), "a:float64,b:float64,c:utf8"; got != want {
		t.Fatalf("types %s, want %s", got, want)
	}
	opts.Schema = s
	rows, err := decodeBothPaths(t, text, opts)
	if err != nil || strings.Join(rows, "\n") != "30.5|1|x\n2|2.25|y" {
		t.Fatalf("rows %q, err %v", rows, err)
	}
}

func TestCSVTimeFormats(t *testing.T) {
	tests := []struct {
		name, text, ty, format string
		rows                   []string
		err                    string
	}{
		{
			name: "date", text: "d\n31.12.2024\n1.2.1999\n\n", ty: "date32", format: "%d.%m.%Y",
			rows: []string{"2024-12-31", "1999-02-01"},
		},
		{
			name: "date mismatch", text: "d\n2024-31-12\n", ty: "date32", format: "%d.%m.%Y",
			err: `parsing "2024-31-12" as date32 with format "%d.%m.%Y": expected "." at offset 2`,
		},
		{
			name: "impossible day", text: "d\n31.02.2024\n", ty: "date32", format: "%d.%m.%Y",
			err: `parsing "31.02.2024" as date32 with format "%d.%m.%Y": day 31 is not in 2024-02`,
		},
		{
			name: "month names and two-digit year", text: "d\n05-Mar-24\n5-DECEMBER-99\n", ty: "date32", format: "%d-%B-%y",
			err: `%B does not match`,
		},
		{
			name: "abbreviated month", text: "d\n05-Mar-24\n5-dec-99\n", ty: "date32", format: "%-d-%b-%y",
			rows: []string{"2024-03-05", "1999-12-05"},
		},
		{
			name: "day of year", text: "d\n2024/060\n", ty: "date32", format: "%Y/%j",
			rows: []string{"2024-02-29"},
		},
		{
			name: "timestamp 12-hour clock and fraction", text: "t\n12/31/2024 01:02:03.5 PM\n01/01/2024 12:00:00.000123 am\n",
			ty: "timestamp[us, tz=UTC]", format: "%m/%d/%Y %I:%M:%S.%f %p",
			rows: []string{"2024-12-31T13:02:03.5Z", "2024-01-01T00:00:00.000123Z"},
		},
		{
			name: "timestamp with offset", text: "t\n31.12.2024 10:00 +0130\n31.12.2024 10:00 Z\n",
			ty: "timestamp[s, tz=UTC]", format: "%d.%m.%Y %H:%M %z",
			rows: []string{"2024-12-31T08:30:00Z", "2024-12-31T10:00:00Z"},
		},
		{
			name: "timestamp expansions", text: "t\n2024-12-31T23:59:58\n", ty: "timestamp[ms, tz=UTC]", format: "%FT%T",
			rows: []string{"2024-12-31T23:59:58Z"},
		},
		{
			name: "timestamp mismatch", text: "t\n2024-12-31 10:00:00\n", ty: "timestamp[us, tz=UTC]", format: "%d.%m.%Y %H:%M",
			err: `parsing "2024-12-31 10:00:00" as timestamp[us, tz=UTC] with format "%d.%m.%Y %H:%M": expected "." at offset 2`,
		},
		{
			name: "trailing text", text: "t\n31.12.2024 10:00:00\n", ty: "timestamp[us, tz=UTC]", format: "%d.%m.%Y %H:%M",
			err: `unexpected ":00" at offset 16`,
		},
		{
			name: "hour out of range", text: "t\n31.12.2024 24:00\n", ty: "timestamp[us, tz=UTC]", format: "%d.%m.%Y %H:%M",
			err: `%H does not match at offset 13`,
		},
		{
			name: "unknown directive", text: "d\n1\n", ty: "date32", format: "%Q",
			err: `unsupported directive %Q`,
		},
		{
			name: "format on an int column", text: "d\n1\n", ty: "int64", format: "%Y",
			err: `a format ("%Y") applies to date and timestamp columns, not int64`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{CSV: CSVOptions{Header: true}, Schema: withFormat(schemaOf(t, "d", tc.ty), "d", tc.format)}
			if strings.HasPrefix(tc.ty, "timestamp") {
				opts.Schema = withFormat(schemaOf(t, "t", tc.ty), "t", tc.format)
			}
			rows, err := decodeBothPaths(t, tc.text, opts)
			checkRows(t, rows, err, tc.rows, tc.err)
		})
	}
}

func TestCSVTimezone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatalf("no zone data (time/tzdata is imported): %v", err)
	}
	tests := []struct {
		name, text, format string
		rows               []string
	}{
		{
			name: "naive winter, summer, offsets and a bare date",
			text: "t\n2024-01-15 10:00:00\n2024-07-15T10:00:00.25\n2024-07-15 10:00:00Z\n2024-07-15 10:00:00+05:00\n2024-01-15\n",
			rows: []string{"2024-01-15T09:00:00Z", "2024-07-15T08:00:00.25Z", "2024-07-15T10:00:00Z", "2024-07-15T05:00:00Z", "2024-01-14T23:00:00Z"},
		},
		{
			// 02:30 does not exist on 31 March 2024 in Berlin: Go reads it
			// with the winter offset (03:30 summer time); 02:30 on 27
			// October occurs twice: Go takes the second, winter-time, one.
			name: "DST gap and overlap",
			text: "t\n2024-03-31 01:59:59\n2024-03-31 02:30:00\n2024-03-31 03:00:00\n2024-10-27 02:30:00\n2024-10-27 03:00:00\n",
			rows: []string{"2024-03-31T00:59:59Z", "2024-03-31T01:30:00Z", "2024-03-31T01:00:00Z", "2024-10-27T01:30:00Z", "2024-10-27T02:00:00Z"},
		},
		{
			name: "with a format", format: "%d.%m.%Y %H:%M",
			text: "t\n15.07.2024 10:00\n15.01.2024 10:00\n",
			rows: []string{"2024-07-15T08:00:00Z", "2024-01-15T09:00:00Z"},
		},
		{
			name: "with a format and an offset", format: "%d.%m.%Y %H:%M%z",
			text: "t\n15.07.2024 10:00+0000\n",
			rows: []string{"2024-07-15T10:00:00Z"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			schema := schemaOf(t, "t", "timestamp[us, tz=UTC]")
			if tc.format != "" {
				schema = withFormat(schema, "t", tc.format)
			}
			opts := Options{CSV: CSVOptions{Header: true, Location: berlin}, Schema: schema}
			rows, err := decodeBothPaths(t, tc.text, opts)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(rows, "\n") != strings.Join(tc.rows, "\n") {
				t.Errorf("rows\n got %q\nwant %q", rows, tc.rows)
			}
		})
	}
}

// TestCSVDate64Format: a builder column takes the format too.
func TestCSVDate64Format(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "d", Type: arrow.FixedWidthTypes.Date64, Nullable: true,
		Metadata: arrow.NewMetadata([]string{FormatMetaKey}, []string{"%d.%m.%Y"})}}, nil)
	rows, err := decodeBothPaths(t, "d\n31.12.2024\n\n", Options{CSV: CSVOptions{Header: true}, Schema: schema})
	if err != nil || strings.Join(rows, ",") != "2024-12-31" {
		t.Fatalf("rows %q, err %v", rows, err)
	}
	if _, err := decodeBothPaths(t, "d\n2024-12-31\n", Options{CSV: CSVOptions{Header: true}, Schema: schema}); err == nil ||
		!strings.Contains(err.Error(), `parsing "2024-12-31" as date64 with format "%d.%m.%Y": expected "." at offset 2`) {
		t.Fatalf("error %v", err)
	}
}

// TestJSONTimeFormats: JSON string values going into a date or timestamp
// column take its format, through the same parser.
func TestJSONTimeFormats(t *testing.T) {
	schema := withFormat(withFormat(schemaOf(t, "d", "date32", "t", "timestamp[ms, tz=UTC]"), "d", "%d.%m.%Y"), "t", "%d.%m.%Y %H:%M")
	text := `{"d":"31.12.2024","t":"31.12.2024 10:30"}` + "\n" + `{"d":null,"t":null}` + "\n"
	res := decodeAll(t, jsonObj(text), Options{Schema: schema})
	if res.err != nil || strings.Join(res.rows, "\n") != "2024-12-31|2024-12-31T10:30:00Z\nnull|null" {
		t.Fatalf("rows %q, err %v", res.rows, res.err)
	}
	res = decodeAll(t, jsonObj(`{"d":"2024-12-31","t":null}`), Options{Schema: schema})
	if res.err == nil || !strings.Contains(res.err.Error(), `parsing "2024-12-31" as date32 with format "%d.%m.%Y"`) {
		t.Fatalf("error %v", res.err)
	}
}

func TestCheckTimeFormat(t *testing.T) {
	for f, ok := range map[string]bool{"%d.%m.%Y": true, "%FT%T%z": true, "%Y-%m-%d %H:%M:%S.%f": true, "%Q": false, "abc": false, "%": false} {
		if err := CheckTimeFormat(f); (err == nil) != ok {
			t.Errorf("CheckTimeFormat(%q) = %v", f, err)
		}
	}
}

func BenchmarkDateFormat(b *testing.B) {
	l, err := compileLayout("%d.%m.%Y %H:%M:%S")
	if err != nil {
		b.Fatal(err)
	}
	v := []byte("31.12.2024 10:11:12")
	for b.Loop() {
		if _, _, _, err := l.parse(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDateFormatZone(b *testing.B) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		b.Skip(err)
	}
	st := styleFor(arrow.Field{Type: timestampType, Metadata: arrow.NewMetadata([]string{FormatMetaKey}, []string{"%d.%m.%Y %H:%M:%S"})},
		textOptions{loc: berlin})
	v := []byte("31.12.2024 10:11:12")
	for b.Loop() {
		if _, err := st.timestamp(v, 2); err != nil {
			b.Fatal(err)
		}
	}
}

// checkRows compares a decode's rows with want, or its error with wantErr
// when that is set.
func checkRows(t *testing.T, rows []string, err error, want []string, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("error %v, want one with %q", err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows\n got %q\nwant %q", rows, want)
	}
}
