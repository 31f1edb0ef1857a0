package decode

import "io"

const (
	// firstRead is what a text reader asks its stream for first: small
	// files (the many-small-files case) never need more memory. With a
	// reader's pad it stays within 32 KiB, the largest of Go's small
	// allocations: one byte more takes the slower large-object path, for
	// every file.
	firstRead = 32<<10 - maxPad
	// maxPad bounds the readers' pads (csvPad, jsonPad).
	maxPad = 64
	// fullRead is the most it asks for at once once the stream has shown
	// it is larger: as large as the stream's bufio buffer, so that bufio
	// hands reads through instead of copying them (see openStream).
	fullRead = streamBuffer
)

// window is a text reader's view of its stream: buf[pos:end] is read and
// not yet consumed, followed by pad zero bytes so scanners may look a few
// bytes past the data. Unconsumed bytes are moved to the front before
// reading more, and the buffer grows for a record longer than it (up to
// maxRecordBytes, which bounds a file's memory).
type window struct {
	src   io.Reader
	buf   []byte
	pos   int
	end   int
	pad   int
	eof   bool // src has no more
	fills int  // reads into buf, so a caller can tell buf changed
	ask   int  // the next read's size
	// primed: prime put primedLen bytes at buf's start, which the first
	// fill hands over instead of reading.
	primed    bool
	primedLen int
	// short: the last read, or the primed bytes, left room in the
	// buffer, so the stream may be at its end: the next read goes into
	// the room there is, and only a read that fills its room makes the
	// buffer grow. A small file so learns of its end without a buffer
	// twice its size.
	short bool
}

// expect sizes the first read for a stream that will give n bytes, when n
// is known and smaller than firstRead: a small file's reader then holds a
// buffer of its size, not firstRead and then twice that to read its end.
// A wrong n costs only the buffer growing.
func (w *window) expect(n int64) {
	if n >= 0 && n < firstRead && w.ask == 0 {
		w.ask = int(n) + 1 // one byte of room left tells the end on the next read
	}
}

// prime makes b (copied into buf, which grows only if it is too short)
// what the first fill reads; the stream goes on after it. Dialect
// detection has read a file's start already: its splits and the file's
// own reader start from that copy rather than reading it again, and a
// small file then needs no buffer of firstRead or more (two of them were
// a third of the bytes a 10,000-file load allocated).
func (w *window) prime(b []byte) {
	if cap(w.buf) < len(b)+w.pad {
		w.buf = make([]byte, len(b)+w.pad)
	}
	w.buf = w.buf[:cap(w.buf)]
	copy(w.buf, b)
	w.pos, w.end = 0, 0
	w.primed, w.primedLen = true, len(b)
}

// fill reads more of the stream after the unconsumed bytes. At the end of
// the stream it sets eof and returns nil; tooLong is the error for a
// record that would outgrow maxRecordBytes; other read errors are
// returned as they are.
func (w *window) fill(tooLong func() error) error {
	if w.eof {
		return nil
	}
	w.fills++
	if w.primed {
		w.primed = false
		w.end = w.primedLen
		w.short = true // the primed bytes may be all there is
		clear(w.buf[w.end : w.end+w.pad])
		return nil
	}
	if w.pos > 0 {
		copy(w.buf, w.buf[w.pos:w.end])
		w.end -= w.pos
		w.pos = 0
	}
	if w.ask == 0 {
		w.ask = firstRead
	}
	if room := len(w.buf) - w.pad - w.end; room <= 0 || room < w.ask && !w.short {
		if w.end > maxRecordBytes {
			return tooLong()
		}
		nb := make([]byte, max(2*len(w.buf), w.end+w.ask+w.pad))
		copy(nb, w.buf[:w.end])
		w.buf = nb
	}
	for {
		room := len(w.buf) - w.pad - w.end
		n, err := w.src.Read(w.buf[w.end : len(w.buf)-w.pad])
		w.end += n
		w.short = n < room
		if err == io.EOF {
			w.eof = true
			break
		}
		if err != nil {
			return err
		}
		if n > 0 {
			if w.end == len(w.buf)-w.pad {
				w.ask = min(2*w.ask, fullRead) // more is coming: read larger
			}
			break
		}
	}
	clear(w.buf[w.end : w.end+w.pad])
	return nil
}

// The readers' pads must fit in maxPad (a negative constant does not compile).
const (
	_ = uint(maxPad - csvPad)
	_ = uint(maxPad - jsonPad)
)

// ended is a stream with nothing in it: what a window primed with all
// there is reads after.
type ended struct{}

func (ended) Read([]byte) (int, error) { return 0, io.EOF }
