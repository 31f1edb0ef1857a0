package flatparquet

import "io"

// sink counts what is written to the file: arrow-go's page writers and
// footer ask the position (Tell) to record offsets.
type sink struct {
	w io.Writer
	n int64
}

func (s *sink) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	s.n += int64(n)
	if err == nil && n != len(p) {
		err = io.ErrShortWrite
	}
	return n, err
}

func (s *sink) Tell() int64 { return s.n }
