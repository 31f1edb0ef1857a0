package decode

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// TestWindowSizedReads checks that a window primed with a stream's start,
// or told the stream's size, hands over the stream byte for byte, and that
// a small file's buffer does not grow after its first fill to learn that
// its stream ended.
func TestWindowSizedReads(t *testing.T) {
	tests := []struct {
		name         string
		primed, rest string
		eof          bool  // the primed bytes are all of the stream (it reads nothing)
		expect       int64 // the stream's size as told to the window; -1: not told
		noGrowth     bool
	}{
		{"all of a small file primed", "a,b\n1,2\n", "", false, -1, true},
		{"a sample short of the end", strings.Repeat("a,b\n", 100), "1,2\n", false, -1, false},
		{"the start of a large file", strings.Repeat("x\n", 500), strings.Repeat("yyyyyyy\n", 3*fullRead/8+7), false, -1, false},
		{"a sample read alone", "a,b\n1,2", "", true, -1, true},
		{"nothing primed", "", "a,b\n", false, -1, false},
		{"a small file of told size", "", strings.Repeat("a,b\n", 2500), false, 10_000, true},
		{"a file larger than told", "", strings.Repeat("a,b\n", 25_000), false, 10, false},
		{"a file smaller than told", "", "a,b\n", false, 10_000, true},
		{"a small file of told size without a last line end", "", strings.Repeat("a,b\n", 2500) + "1,2", false, 10_003, true},
		{"a primed small file without a last line end", strings.Repeat("a,b\n", 2500) + "1,2", "", false, -1, true},
		{"a large file of told size", "", strings.Repeat("yyyyyyy\n", 3*fullRead/8+7), false, 3*fullRead + 56, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := window{pad: csvPad}
			w.src = strings.NewReader(tc.rest)
			if tc.eof {
				w.src = ended{}
			}
			if tc.primed != "" || tc.eof {
				w.prime([]byte(tc.primed))
			}
			w.expect(tc.expect)
			firstCap := -1
			var got bytes.Buffer
			for !w.eof || w.pos < w.end {
				if err := w.fill(func() error { return io.ErrShortBuffer }); err != nil {
					t.Fatal(err)
				}
				if firstCap < 0 {
					firstCap = cap(w.buf)
				}
				if pad := w.buf[w.end : w.end+w.pad]; !bytes.Equal(pad, make([]byte, w.pad)) {
					t.Fatalf("pad after the data is %q", pad)
				}
				// As a parser does: whole lines only, until the stream ends.
				upTo := w.end
				if !w.eof {
					upTo = w.pos + bytes.LastIndexByte(w.buf[w.pos:w.end], '\n') + 1
				}
				got.Write(w.buf[w.pos:upTo])
				w.pos = upTo
			}
			if want := tc.primed + tc.rest; got.String() != want {
				t.Fatalf("read %d bytes, want %d (%q...)", got.Len(), len(want), got.Bytes()[:min(got.Len(), 20)])
			}
			if tc.noGrowth && cap(w.buf) != firstCap {
				t.Errorf("the buffer grew from %d to %d bytes", firstCap, cap(w.buf))
			}
			if tc.expect >= 0 && tc.expect < firstRead && firstCap > int(tc.expect)+1+w.pad {
				t.Errorf("a buffer of %d bytes for a stream of %d", firstCap, tc.expect)
			}
		})
	}
}
