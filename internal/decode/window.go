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
	if w.pos > 0 {
		copy(w.buf, w.buf[w.pos:w.end])
		w.end -= w.pos
		w.pos = 0
	}
	if w.ask == 0 {
		w.ask = firstRead
	}
	if len(w.buf)-w.pad-w.end < w.ask {
		if w.end > maxRecordBytes {
			return tooLong()
		}
		nb := make([]byte, max(2*len(w.buf), w.end+w.ask+w.pad))
		copy(nb, w.buf[:w.end])
		w.buf = nb
	}
	for {
		n, err := w.src.Read(w.buf[w.end : len(w.buf)-w.pad])
		w.end += n
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
