package decode

// Fuzz targets for the text decoders. Run one for a while with e.g.
//
//	go test -run '^$' -fuzz '^FuzzCSV$' -fuzztime 60s ./internal/decode/
//
// Without -fuzz they run their seeds as ordinary tests.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// decodeDirect decodes data without Decode's recover, so a panic fails
// the fuzz target instead of becoming a DataError, and renders the rows.
func decodeDirect(t *testing.T, name string, data []byte, opts Options, generalOnly bool) ([]string, error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	opts.Mem = mem
	s, err := resolve(name, opts)
	if err != nil {
		return nil, err
	}
	s.generalOnly = generalOnly
	var rows []string
	emit := func(rec arrow.RecordBatch) error {
		if opts.Schema != nil && !rec.Schema().Equal(opts.Schema) {
			t.Errorf("batch schema %v, want %v", rec.Schema(), opts.Schema)
		}
		if err := array.ValidateRecordFull(rec); err != nil {
			t.Errorf("invalid batch: %v", err)
		}
		rows = append(rows, renderRows(rec)...)
		return nil
	}
	ctx := context.Background()
	obj := &memObject{name: name, data: data}
	err = run(ctx, obj, &s, &ioErrors{name: name}, func(*pqFile) error {
		return errors.New("parquet")
	}, func(cr *csvReader) error {
		_, err := decodeCSV(ctx, cr, &s, emit)
		return err
	}, func(jr *jsonReader) error {
		_, err := decodeJSON(ctx, jr, &s, emit)
		return err
	})
	return rows, err
}

// checkFileErr fails unless err is nil or a clean per-file error.
func checkFileErr(t *testing.T, name string, err error) {
	t.Helper()
	if err == nil || err.Error() == "parquet" {
		return
	}
	if !IsPermanent(err) || !strings.HasPrefix(err.Error(), name+":") {
		t.Fatalf("not a clean per-file error: %v (%T)", err, err)
	}
	var de *DataError
	if errors.As(err, &de) && (de.File != name || de.RowGroup != -1) {
		t.Fatalf("DataError %+v", de)
	}
}

func FuzzCSV(f *testing.F) {
	seeds := []string{
		"id,name,amount,ok,day,at\n1,alice,1.5,true,2024-01-02,2024-01-02 03:04:05\n2,bob,2,FALSE,2024-02-03,2024-02-03T04:05:06.5Z\n",
		"a,b\n\"x, y\",\"say \"\"hi\"\"\"\n\"line1\nline2\",plain\n",
		"\xEF\xBB\xBFid,v\r\n1,a\r\n2,\"b\r\nc\"\r\n",
		"a,b\nNA,\"\"\n1,x\n,\n",
		"a,b\n1,2\n3\n",
		"a\n\"open\n1\n",
		"a,b\n\"x\"y,1\n",
		"zip\n00501\n\n10001",
		"a,b,c\n-1,-0.5,x\n9223372036854775807,1e5,\n",
		string(wideCSV(wideGen{rows: 40, nulls: true, quotes: true})),
		string(wideCSV(wideGen{rows: 40, nulls: true, quotes: true, crlf: true})),
	}
	for i, s := range seeds {
		f.Add([]byte(s), byte(i))
	}
	wide := wideSchema()
	f.Fuzz(func(t *testing.T, data []byte, flags byte) {
		opts := Options{BatchRows: 1 + int(flags>>5), CSV: CSVOptions{Header: flags&1 == 0}}
		opts.CSV.Delimiter = [...]rune{',', ';', '\t', ','}[flags>>1&3]
		switch flags >> 3 & 3 {
		case 1:
			opts.CSV.NullValues = []string{"", "NA"}
		case 2:
			opts.CSV.NullValues = []string{"1", "true"}
		}
		if flags&0x80 != 0 {
			opts.Schema = wide
		}
		const name = "s3://b/fuzz.csv"
		fast, ferr := decodeDirect(t, name, data, opts, false)
		checkFileErr(t, name, ferr)
		general, gerr := decodeDirect(t, name, data, opts, true)
		if (ferr == nil) != (gerr == nil) || ferr != nil && ferr.Error() != gerr.Error() {
			t.Fatalf("fast path error %v, general path %v", ferr, gerr)
		}
		if strings.Join(fast, "\n") != strings.Join(general, "\n") {
			t.Fatalf("fast path rows\n%q\ngeneral path rows\n%q", fast, general)
		}
		// Skipping bad rows: both paths skip the same rows, and keep the same.
		fastRows, fastRejects, ferr := fuzzRejecting(t, name, data, opts, false)
		genRows, genRejects, gerr := fuzzRejecting(t, name, data, opts, true)
		if (ferr == nil) != (gerr == nil) || fastRows != genRows || fastRejects != genRejects {
			t.Fatalf("skipping rows: fast path %v %q %q, general path %v %q %q", ferr, fastRows, fastRejects, gerr, genRows, genRejects)
		}
	})
}

// fuzzRejecting decodes with bad rows skipped and returns the rows kept
// and the rejects, each as text, checking what every Reject must be.
func fuzzRejecting(t *testing.T, name string, data []byte, opts Options, generalOnly bool) (rows, rejects string, err error) {
	var rej strings.Builder
	opts.OnReject = func(r Reject) error {
		if r.Line < 1 || len(r.Raw) > MaxRejectRawBytes || r.Class == "" || r.Err == nil {
			t.Fatalf("reject %+v", r)
		}
		fmt.Fprintf(&rej, "%d %s %s %q\n", r.Line, r.Column, r.Class, r.Raw)
		return nil
	}
	kept, err := decodeDirect(t, name, data, opts, generalOnly)
	checkFileErr(t, name, err)
	return strings.Join(kept, "\n"), rej.String(), err
}

func FuzzJSON(f *testing.F) {
	seeds := []string{
		`{"id":1,"name":"a","score":1.5,"ok":true}` + "\n" + `{"id":2,"name":"b\u00e9\n","score":2,"ok":false}` + "\n",
		"\xEF\xBB\xBF \r\n[ {\"id\": 1},\r\n {\"id\": 2, \"extra\": null} ]\r\n",
		`{"o":{"k": [1, 2]},"l":[{"x":null}]}`,
		`{"a\"b":"\ud83d\ude00\t\/"}`,
		"{\"v\":1}\n\n{\"v\":}\n",
		`{"v":1,"v":2}`,
		`[{"v":1}] x`,
		string(wideJSON(wideGen{rows: 30, nulls: true, quotes: true})),
	}
	for i, s := range seeds {
		f.Add([]byte(s), byte(i))
	}
	wide := wideSchema()
	f.Fuzz(func(t *testing.T, data []byte, flags byte) {
		opts := Options{BatchRows: 1 + int(flags>>4)}
		if flags&1 != 0 {
			opts.Schema = wide
		}
		const name = "s3://b/fuzz.jsonl"
		_, err := decodeDirect(t, name, data, opts, false)
		checkFileErr(t, name, err)
		fuzzRejecting(t, name, data, opts, false) // skipping bad rows never panics or leaks
	})
}

// FuzzJSONValid checks the parser against encoding/json: the same inputs
// are valid, and strings unescape the same.
func FuzzJSONValid(f *testing.F) {
	for _, s := range []string{`{"a":[1,-0.5e+3,true,false,null,{"b":"\u00e9\ud83d\ude00"}]}`, `"\ud800x"`, `01`, `1.`, `-`, `[1,]`, `{"a" 1}`, `"\u12"`, "\"\x01\"", `1e5`, ` [ ] `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !utf8.Valid(b) {
			return // encoding/json does not check UTF-8; we do
		}
		pad := append(append([]byte(nil), b...), make([]byte, jsonPad)...)
		p := skipSpace(pad[:len(b)], 0)
		end, fail := skipValue(pad, p, 0)
		ours := fail == jsonOK && skipSpace(pad[:len(b)], end) == len(b)
		if ours != json.Valid(b) {
			t.Fatalf("valid: ours %v, encoding/json %v (stopped at %d)", ours, !ours, end)
		}
		if ours && b[p] == '"' {
			var want string
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			if got := string(appendUnescaped(nil, b[p+1:end-1])); got != want {
				t.Fatalf("unescaped %q, want %q", got, want)
			}
		}
		if ours && (b[p] == '-' || b[p] >= '0' && b[p] <= '9') {
			_, v, isInt, _ := scanNumber(pad, p)
			if isInt {
				if w, err := strconv.ParseInt(string(b[p:end]), 10, 64); err != nil || w != v {
					t.Fatalf("integer %q: %d, want %d (%v)", b[p:end], v, w, err)
				}
			}
		}
	})
}

// FuzzScanners checks that the fast path's scanners agree with the
// general parsers wherever they accept a value.
func FuzzScanners(f *testing.F) {
	for _, s := range []string{"123", "-0", "0.5", "-12.25", "1.", ".5", "123456789012345", "1e5",
		"01.5", "0.25e3", "-", "1.2.3", "12345.67,", "1234567890123456",
		"2024-01-02T03:04:05Z", "2024-01-02 03:04:05.123456+02:00", "1969-12-31T23:59:59.999999999-01:30",
		"2024-02-30", "true", "false", "city, x", "caf\xc3\xa9,", "abcdefghijklmnop\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, q, ok := scanInt(b, 0); ok {
			if w, err := parseInt(b[:q], 64); err != nil || w != v {
				t.Fatalf("scanInt(%q) = %d, parseInt %d %v", b[:q], v, w, err)
			}
		}
		if v, q, ok := scanFloat(b, 0); ok {
			w, err := strconv.ParseFloat(string(b[:q]), 64)
			if err != nil || math.Float64bits(w) != math.Float64bits(v) {
				t.Fatalf("scanFloat(%q) = %v, strconv %v %v", b[:q], v, w, err)
			}
		}
		if v, end, ok := scanJSONFloat(b, 0); ok {
			// The one-pass path of a JSON float column agrees with the
			// two-pass one it stands in for: scanNumber's end, scanFloat's value.
			nEnd, _, _, fail := scanNumber(b, 0)
			w, q, wok := scanFloat(b, 0)
			if fail != jsonOK || nEnd != end || !wok || q != end || math.Float64bits(w) != math.Float64bits(v) {
				t.Fatalf("scanJSONFloat(%q) = %v ending at %d; scanNumber ends at %d (%v), scanFloat %v at %d (%v)", b, v, end, nEnd, fail, w, q, wok)
			}
		}
		var dc dateCache
		if sec, nsec, q, ok := scanTimestamp(b, 0, &dc); ok {
			ws, wn, err := parseTimestamp(b[:q])
			if err != nil || ws != sec || wn != nsec {
				t.Fatalf("scanTimestamp(%q) = %d %d, parseTimestamp %d %d %v", b[:q], sec, nsec, ws, wn, err)
			}
			// Again through the cache.
			if s2, n2, q2, ok2 := scanTimestamp(b, 0, &dc); !ok2 || s2 != sec || n2 != nsec || q2 != q {
				t.Fatalf("cached scanTimestamp(%q) differs", b[:q])
			}
		}
		if v, q, ok := scanDate(b, 0, &dateCache{}); ok && (q >= len(b) || b[q]-'0' > 9) {
			if w, err := parseDate(b[:q]); err != nil || w != v {
				t.Fatalf("scanDate(%q) = %d, parseDate %d %v", b[:q], v, w, err)
			}
		}
		if v, q, ok := scanBool(b, 0); ok {
			if w, err := parseBool(b[:q]); err != nil || w != v {
				t.Fatalf("scanBool(%q) = %v, parseBool %v %v", b[:q], v, w, err)
			}
		}
		for _, delim := range []byte{',', '\t'} {
			end, ascii := scanText(b, 0, swarLo*uint64(delim))
			want := len(b)
			if i := bytes.IndexAny(b, string([]byte{delim, '\n'})); i >= 0 {
				want = i
			}
			wantASCII := true
			for _, c := range b[:want] {
				wantASCII = wantASCII && c < 0x80
			}
			if end != want || ascii != wantASCII {
				t.Fatalf("scanText(%q, %q) = %d %v, want %d %v", b, delim, end, ascii, want, wantASCII)
			}
		}
	})
}
