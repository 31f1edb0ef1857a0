package decode

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// TestPrimedWindow checks that a window primed with a stream's start hands
// over those bytes and then the rest of the stream, byte for byte, and
// that a small file's buffer does not grow to learn that its stream ended.
func TestPrimedWindow(t *testing.T) {
	tests := []struct {
		name         string
		primed, rest string
		eof          bool // the primed bytes are all of the stream, said up front
		noGrowth     bool
	}{
		{"all of a small file", "a,b\n1,2\n", "", false, true},
		{"a sample short of the end", strings.Repeat("a,b\n", 100), "1,2\n", false, false},
		{"the start of a large file", strings.Repeat("x", 1000), strings.Repeat("y", 3*fullRead+7), false, false},
		{"a sample read alone", "a,b\n1,2", "", true, true},
		{"nothing primed", "", "a,b\n", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := window{pad: csvPad}
			if !tc.eof {
				w.src = strings.NewReader(tc.rest) // with eof, a read would panic
			}
			w.prime([]byte(tc.primed), tc.eof)
			primedCap := cap(w.buf)
			var got bytes.Buffer
			for !w.eof || w.pos < w.end {
				if err := w.fill(func() error { return io.ErrShortBuffer }); err != nil {
					t.Fatal(err)
				}
				if pad := w.buf[w.end : w.end+w.pad]; !bytes.Equal(pad, make([]byte, w.pad)) {
					t.Fatalf("pad after the data is %q", pad)
				}
				got.Write(w.buf[w.pos:w.end])
				w.pos = w.end
			}
			if want := tc.primed + tc.rest; got.String() != want {
				t.Fatalf("read %d bytes, want %d (%q...)", got.Len(), len(want), got.Bytes()[:min(got.Len(), 20)])
			}
			if tc.noGrowth && cap(w.buf) != primedCap {
				t.Errorf("the buffer grew from %d to %d bytes", primedCap, cap(w.buf))
			}
		})
	}
}
