package worker

import "sync/atomic"

// Progress counts what loading a task has read and decoded so far. The
// loader adds to it as it goes; the worker reads it to tell a long file
// that keeps moving from a stuck one, and announces it. A nil *Progress
// counts nothing.
type Progress struct {
	bytes, rows atomic.Int64
}

// AddBytes counts n more bytes read from the source.
func (p *Progress) AddBytes(n int64) {
	if p != nil {
		p.bytes.Add(n)
	}
}

// AddRows counts n more rows decoded.
func (p *Progress) AddRows(n int64) {
	if p != nil {
		p.rows.Add(n)
	}
}

// Bytes read so far.
func (p *Progress) Bytes() int64 {
	if p == nil {
		return 0
	}
	return p.bytes.Load()
}

// Rows decoded so far.
func (p *Progress) Rows() int64 {
	if p == nil {
		return 0
	}
	return p.rows.Load()
}

// mark is a point of progress, to compare with a later one.
func (p *Progress) mark() [2]int64 { return [2]int64{p.Bytes(), p.Rows()} }
