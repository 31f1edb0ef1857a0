package decode

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
)

// Schema metadata keys that carry a table's detected CSV dialect from the
// file Infer sampled to every file Decode reads, so all of them are read
// alike.
const (
	MetaCSVDelimiter = "s3load.csv.delimiter"
	MetaCSVQuote     = "s3load.csv.quote" // "" means quoting off
	MetaCSVHeader    = "s3load.csv.header"
)

const (
	// The detector reads no more than this of a file's start.
	detectBytes = 64 << 10
	detectRows  = 100
)

// ErrDialectMismatch marks a CSV file whose own dialect clearly differs
// from the one detected for its table.
var ErrDialectMismatch = errors.New("CSV dialect mismatch")

// detectDelimiters are the candidates, in the order ties are broken.
var detectDelimiters = []byte{',', ';', '\t', '|'}

// csvDialectChoice is a detected (or recorded) dialect.
type csvDialectChoice struct {
	delim  byte
	quote  int // -1: none
	header bool
}

func (d csvDialectChoice) String() string {
	q := "none"
	if d.quote >= 0 {
		q = strconv.QuoteRune(rune(d.quote))
	}
	return fmt.Sprintf("delimiter %s, quote %s, header %t", strconv.QuoteRune(rune(d.delim)), q, d.header)
}

// candidateScore is how well one delimiter and quote split a sample.
type candidateScore struct {
	d          csvDialectChoice
	cols       int // the most common field count
	consistent int // records with that count
	records    []csvRecord
}

// scoreMode says how much of a split scoreCandidate keeps or reads.
type scoreMode int

const (
	// scoreCount counts how many records agree on the most common field
	// count.
	scoreCount scoreMode = iota
	// scoreKeep counts and keeps the records too (header detection reads
	// them): only the winner's are needed, and copying every candidate's
	// records was most of a small file's detection.
	scoreKeep
	// scoreSettle stops once a field count over one holds a majority of
	// detectRows records: cols is final then (consistent is not), for a
	// caller that asks only whether the sample splits into columns.
	scoreSettle
)

// scoreCandidate splits sample with delim and quote and scores the split
// as mode says. scratch, when not nil, is the reader's buffer, kept for the
// next candidate: a small file's detection was mostly allocating one per
// split.
func scoreCandidate(sample []byte, atEOF bool, s *settings, delim byte, quote int, mode scoreMode, scratch *[]byte) candidateScore {
	keep, settled := mode == scoreKeep, mode == scoreSettle
	d := csvDialect{quote: quote, escape: -1, comment: s.quote.comment, skip: s.quote.skip}
	if quote >= 0 {
		d.escape = s.quote.escape
	}
	cr := newCSVReader(ended{}, "", delim, d)
	if scratch != nil {
		cr.buf = *scratch
		defer func() { *scratch = cr.buf }()
	}
	cr.prime(sample) // the sample is all this reader reads
	sc := candidateScore{d: csvDialectChoice{delim: delim, quote: quote}}
	var arena recordArena
	if keep {
		sc.records = make([]csvRecord, 0, detectRows)
		arena.buf = make([]byte, 0, len(sample))
	}
	var lens [detectRows]int
	counts := map[int]int{}
	n, eof := 0, false
	for n < detectRows {
		rec, err := cr.next()
		if err == io.EOF {
			eof = true
			break
		}
		if err != nil {
			break // an unclosed quote at the sample's end, or a bad dialect
		}
		l := rec.len()
		lens[n] = l
		n++
		counts[l]++
		if keep {
			sc.records = append(sc.records, arena.clone(rec))
		}
		if settled && l > 1 && counts[l] > detectRows/2 {
			break // no other count can catch up, even if the last is dropped
		}
	}
	if eof && !atEOF && n > 1 {
		// The sample's last record may be cut short.
		n--
		counts[lens[n]]--
		if keep {
			sc.records = sc.records[:n]
		}
	}
	for cols, c := range counts {
		if c > sc.consistent || c == sc.consistent && cols > sc.cols {
			sc.cols, sc.consistent = cols, c
		}
	}
	return sc
}

// recordArena copies records into slices they share: detection keeps up
// to detectRows records of a sample, and three allocations for each were
// most of inferring a small file's schema.
type recordArena struct {
	buf    []byte
	ends   []int
	quoted []bool
}

func (a *recordArena) clone(r *csvRecord) csvRecord {
	if a.ends == nil {
		a.ends = make([]int, 0, r.len()*detectRows)
		a.quoted = make([]bool, 0, r.len()*detectRows)
	}
	b, e, q := len(a.buf), len(a.ends), len(a.quoted)
	a.buf = append(a.buf, r.buf...)
	a.ends = append(a.ends, r.ends...)
	a.quoted = append(a.quoted, r.quoted...)
	// Full slice expressions: a record never grows into the next one's.
	return csvRecord{buf: a.buf[b:len(a.buf):len(a.buf)], ends: a.ends[e:len(a.ends):len(a.ends)],
		quoted: a.quoted[q:len(a.quoted):len(a.quoted)], line: r.line}
}

// better ranks candidates as DuckDB's sniffer does: more records agreeing
// first, then more columns; a split into one column never wins.
func (a candidateScore) better(b candidateScore) bool {
	if (a.cols > 1) != (b.cols > 1) {
		return a.cols > 1
	}
	if a.consistent != b.consistent {
		return a.consistent > b.consistent
	}
	return a.cols > b.cols
}

// detectDialect picks the dialect of sample (the start of a file; atEOF
// when it is the whole file) for the settings s leaves to detection, and
// returns the best candidate's score too. scratch is a reader buffer its
// splits share (see scoreCandidate).
func detectDialect(sample []byte, atEOF bool, s *settings, scratch *[]byte) candidateScore {
	delims := []byte{s.delimiter}
	if s.detect.Delimiter {
		delims = detectDelimiters
	}
	quotes := []int{s.quote.quote}
	if s.detect.Quote {
		quotes = []int{'"', -1} // '"' first: it wins ties
	}
	if s.detect.Quote && bytes.IndexByte(sample, '"') < 0 {
		// With no quote byte in the sample, quoting on and off split it
		// alike, and '"' wins the tie: one split instead of two.
		quotes = quotes[:1]
	}
	type candidate struct {
		delim byte
		quote int
	}
	var cands []candidate
	for _, dl := range delims {
		if dl == ',' && s.detect.Delimiter && s.text.decimal == ',' {
			continue // a decimal comma is no delimiter
		}
		if s.detect.Delimiter && bytes.IndexByte(sample, dl) < 0 {
			// It splits nothing: one column, which never wins (and a sample
			// of one column whatever the delimiter gets ',' below).
			continue
		}
		for _, q := range quotes {
			if int(dl) != q {
				cands = append(cands, candidate{dl, q})
			}
		}
	}
	// A lone candidate keeps its records for the header detection below
	// rather than splitting the sample again.
	keep := len(cands) == 1 && s.detect.Header
	mode := scoreCount
	if keep {
		mode = scoreKeep
	}
	var best candidateScore
	for i, c := range cands {
		sc := scoreCandidate(sample, atEOF, s, c.delim, c.quote, mode, scratch)
		if i == 0 || sc.better(best) {
			best = sc
		}
	}
	if best.cols <= 1 && s.detect.Delimiter {
		// One column whatever the delimiter: keep the default.
		best = scoreCandidate(sample, atEOF, s, ',', quotes[0], scoreCount, scratch)
		keep = false
	}
	best.d.header = s.header
	if s.detect.Header {
		if !keep {
			best = scoreCandidate(sample, atEOF, s, best.d.delim, best.d.quote, scoreKeep, scratch)
		}
		best.d.header = detectHeader(best.records, s.nulls)
	}
	return best
}

// detectHeader says whether the first record names columns: it does when
// one of its values does not fit the type the later records give its
// column, or when every column is text (nothing tells a header from data
// then, and a header is the common case).
//
// It goes column by column, reads a column only until it is text
// (kindString absorbs every other kind), and returns at the first column
// that tells, usually the first typed one: classifying every value of the
// sample first was a third of a small file's detection.
func detectHeader(recs []csvRecord, nulls []string) bool {
	if len(recs) < 2 {
		return true
	}
	first := recs[0]
	typed := false
	for i := range first.len() {
		var k uint8
		for j := 1; j < len(recs) && k&kindString == 0; j++ {
			r := &recs[j]
			if i >= r.len() {
				continue
			}
			if f := r.field(i); r.quoted[i] || !isNull(f, nulls) {
				k |= classify(f)
			}
		}
		t := typeOfKinds(k)
		if k == 0 || arrow.TypeEqual(t, arrow.BinaryTypes.String) {
			continue
		}
		typed = true
		f := first.field(i)
		if !first.quoted[i] && isNull(f, nulls) {
			continue
		}
		if first.quoted[i] || !arrow.TypeEqual(typeOfKinds(k|classify(f)), t) {
			return true
		}
	}
	return !typed
}

// peekSample is the start of st for detection (as much of detectBytes as
// the stream's buffer holds), and whether it is all of the file.
func peekSample(st *stream) ([]byte, bool) {
	b, err := st.Peek(detectBytes)
	// Peek stops short of a full buffer only at the stream's end.
	return b, err == io.EOF || len(b) < st.Size() && len(b) < detectBytes
}

// dialectFromSchema reads a dialect Infer recorded in schema's metadata.
func dialectFromSchema(schema *arrow.Schema) (csvDialectChoice, bool) {
	if schema == nil {
		return csvDialectChoice{}, false
	}
	md := schema.Metadata()
	dl, ok1 := md.GetValue(MetaCSVDelimiter)
	q, ok2 := md.GetValue(MetaCSVQuote)
	h, ok3 := md.GetValue(MetaCSVHeader)
	if !ok1 || !ok2 || !ok3 || len(dl) != 1 || len(q) > 1 {
		return csvDialectChoice{}, false
	}
	d := csvDialectChoice{delim: dl[0], quote: -1, header: h == "true"}
	if q != "" {
		d.quote = int(q[0])
	}
	return d, true
}

// withDialect returns schema with d recorded in its metadata.
func withDialect(schema *arrow.Schema, d csvDialectChoice) *arrow.Schema {
	q := ""
	if d.quote >= 0 {
		q = string(rune(d.quote))
	}
	keys := []string{MetaCSVDelimiter, MetaCSVQuote, MetaCSVHeader}
	vals := []string{string(rune(d.delim)), q, strconv.FormatBool(d.header)}
	md := schema.Metadata()
	for i, k := range md.Keys() {
		if k != MetaCSVDelimiter && k != MetaCSVQuote && k != MetaCSVHeader {
			keys, vals = append(keys, k), append(vals, md.Values()[i])
		}
	}
	meta := arrow.NewMetadata(keys, vals)
	return arrow.NewSchema(schema.Fields(), &meta)
}

// detecting says whether s leaves any of the dialect to detection.
func (s *settings) detecting() bool {
	return s.detect.Delimiter || s.detect.Quote || s.detect.Header
}

func (s *settings) apply(d csvDialectChoice) {
	s.delimiter, s.header = d.delim, d.header
	s.quote.quote = d.quote
	if d.quote < 0 {
		s.quote.escape = -1
	}
}

// settleDialect fixes s's CSV dialect before the file called name is read
// from st: detected from the file's start when nothing recorded one (and
// recorded for Infer's schema), or the recorded one, which the file must
// not clearly contradict. The buffer its splits read is left in
// s.readerBuf, and the sample's length in s.sampled, for the file's
// reader (csvFileReader).
func (s *settings) settleDialect(name string, st *stream) error {
	if !s.detecting() {
		return nil
	}
	sample, atEOF := peekSample(st)
	s.sampled = len(sample)
	if s.recorded == nil {
		best := detectDialect(sample, atEOF, s, &s.readerBuf)
		s.apply(best.d)
		s.detected = &best.d
		return nil
	}
	// Decoding in the table's dialect: refuse a file whose own start
	// splits into one column that way but into several another way.
	table := *s.recorded
	s.apply(table)
	if !s.detect.Delimiter {
		return nil
	}
	// A file the table's dialect splits into columns is never refused, so
	// that one split is tried first: the full detection (eight splits) is
	// then needed only for suspect files, not for every file of a load.
	if mine := scoreCandidate(sample, atEOF, s, table.delim, table.quote, scoreSettle, &s.readerBuf); mine.cols > 1 {
		return nil
	}
	own := detectDialect(sample, atEOF, s.freeDelimiter(), &s.readerBuf)
	if own.d.delim != table.delim && own.cols > 1 {
		own.d.header = table.header
		return dataErrf(name, 0, "", "%w: the file's CSV dialect (%s) differs from the table's detected dialect (%s); set csv.delimiter if the table's files really differ",
			ErrDialectMismatch, own.d, table)
	}
	return nil
}

// csvFileReader is the CSV reader of the file st in s's settled dialect.
// It starts from the sample detection read (still in st's buffer) and the
// buffer detection read it with, so neither is read nor allocated again.
func (s *settings) csvFileReader(name string, st *stream) *csvReader {
	cr := newCSVReader(st.Reader, name, s.delimiter, s.quote)
	cr.buf, s.readerBuf = s.readerBuf, nil
	cr.expect(st.size)
	if n := s.sampled; n > 0 {
		if b, err := st.Peek(n); err == nil { // buffered: no read
			cr.prime(b) // the stream tells its end on the next read
			_, _ = st.Discard(n)
		}
	}
	return cr
}

// freeDelimiter is a copy of s that detects the delimiter and quote only.
func (s *settings) freeDelimiter() *settings {
	c := *s
	c.detect = CSVDetect{Delimiter: true, Quote: s.detect.Quote}
	return &c
}
