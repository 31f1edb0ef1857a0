package worker

import (
	"time"

	"github.com/s3load/s3load/messages"
)

// Observer is told what the worker does, for metrics. Its methods are
// called from the worker's slots at once and must be quick and safe for
// concurrent use. Config.Observer nil observes nothing.
type Observer interface {
	// TaskStarted and TaskEnded bracket the handling of every task.
	TaskStarted()
	TaskEnded()
	// Redelivered: a task came again (its earlier delivery was not acked:
	// a worker died, stalled or handed it back).
	Redelivered(table string)
	// FileSettled: a file's outcome was recorded as a final state (loaded,
	// failed, changed); rows and sourceBytes are what it loaded (a split
	// file's range: that range's bytes).
	FileSettled(table string, state messages.FileState, rows, sourceBytes int64)
	// PartWritten: a part was written for the table: decode is the time
	// spent fetching and decoding its files into it, write the time spent
	// finishing and storing it, partBytes its size.
	PartWritten(table string, partBytes int64, decode, write time.Duration)
}

type noObserver struct{}

func (noObserver) TaskStarted()                                            {}
func (noObserver) TaskEnded()                                              {}
func (noObserver) Redelivered(string)                                      {}
func (noObserver) FileSettled(string, messages.FileState, int64, int64)    {}
func (noObserver) PartWritten(string, int64, time.Duration, time.Duration) {}

// observePart tells the observer of the part a load wrote, if it wrote
// one: an adopted part (written by an earlier delivery) carries no
// timings and is not counted again.
func (w *Worker) observePart(table string, outs []Outcome) {
	for _, o := range outs {
		if o.Kind == Loaded && o.Part != "" && (o.Decode > 0 || o.Write > 0) {
			w.cfg.Observer.PartWritten(table, o.Bytes, o.Decode, o.Write)
			return
		}
	}
}

// sourceBytes is how much of its object a task file covers.
func sourceBytes(f messages.FileRecord) int64 {
	if f.Range != nil {
		return f.Range.End - f.Range.Start
	}
	return f.Source.Size
}
