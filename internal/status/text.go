package status

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/s3load/s3load/messages"
)

// WriteJSON writes the snapshot as one line of JSON.
func (s Snapshot) WriteJSON(w io.Writer) error {
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encoding the status: %w", err)
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// WriteText prints the snapshot for a person: the load, a table of its
// tables' figures, their failures, the workers alive with what each holds,
// and the coordinator.
func (s Snapshot) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	s.writeLoad(ew)
	s.writeWorkers(ew)
	s.writeCoordinator(ew)
	return ew.err
}

func (s Snapshot) writeLoad(w *errWriter) {
	p := s.Progress
	if p == nil {
		w.printf("job %s: no load has ever run (no load record in the state store)\n", s.Job)
		return
	}
	w.printf("job %s: load %s %s", s.Job, p.LoadID, p.State)
	if !p.Started.IsZero() {
		w.printf(", started %s", stamp(p.Started))
	}
	if !p.Ended.IsZero() {
		w.printf(", ended %s (took %s)", stamp(p.Ended), round(p.Ended.Sub(p.Started)))
	} else if p.State == messages.LoadRunning && !p.Started.IsZero() {
		w.printf(" (%s ago)", round(s.At.Sub(p.Started)))
	}
	w.printf("\n")
	switch s.From {
	case FromProgress:
		if !s.Stale {
			w.printf("progress by coordinator %s, updated %s ago\n", p.Coordinator, round(s.At.Sub(p.Updated)))
		}
	case FromLoad:
		w.printf("no progress record: the figures are the load record's summaries\n")
	}
	if s.Stale {
		w.printf("STALE: coordinator not seen for %s (%s last wrote this progress at %s): the load is open but no coordinator carries it; start one to resume it\n",
			round(time.Duration(s.StaleSeconds*float64(time.Second))), p.Coordinator, stamp(p.Updated))
	}
	if len(p.Tables) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "table\tphase\tlisted\tin flight\tloaded\tfailed\tchanged\treused\trows\tMB\tMB/s\tETA\t\n")
	for _, t := range p.Tables {
		listed := fmt.Sprint(t.Files)
		if !t.Listed {
			listed += "+" // the listing still runs
		}
		mb := fmt.Sprintf("%.1f", float64(t.DoneBytes)/1e6)
		if t.SourceBytes > 0 {
			mb += fmt.Sprintf("/%.1f", float64(t.SourceBytes)/1e6)
		}
		rate, eta := "-", "-"
		if t.BytesPerSecond > 0 {
			rate = fmt.Sprintf("%.1f", t.BytesPerSecond/1e6)
		}
		if t.ETASeconds > 0 && t.Phase == messages.PhaseLoading {
			eta = round(time.Duration(t.ETASeconds * float64(time.Second)))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t\n",
			t.Table, t.Phase, listed, t.InFlight, t.Loaded, t.Failed, t.Changed, t.Reused, t.Rows, mb, rate, eta)
	}
	if err := tw.Flush(); err != nil && w.err == nil {
		w.err = err
	}
	for _, t := range p.Tables {
		if t.Error != "" {
			w.printf("%s: %s\n", t.Table, t.Error)
		}
		for _, f := range t.Failures {
			tries := ""
			if f.Attempts > 0 { // 0: failed before any worker tried it (pre-flight)
				tries = fmt.Sprintf(" after %d attempt(s)", f.Attempts)
			}
			w.printf("%s: %s %s%s: %s\n", t.Table, f.Source.Key, f.State, tries, f.Error)
		}
		if more := t.Failed + t.Changed - len(t.Failures); len(t.Failures) > 0 && more > 0 {
			w.printf("%s: ... and %d more failed or changed files (the report names them all)\n", t.Table, more)
		}
	}
}

func (s Snapshot) writeWorkers(w *errWriter) {
	w.printf("workers: %d alive", len(s.Workers))
	if s.WorkersGone > 0 {
		w.printf(" (%d gone: not seen within the ack wait)", s.WorkersGone)
	}
	w.printf("\n")
	for _, wk := range s.Workers {
		w.printf("  %s on %s (pid %d, %d slots), seen %s ago", wk.ID, wk.Host, wk.PID, wk.Slots, round(s.At.Sub(wk.Updated)))
		switch {
		case wk.Paused != "":
			w.printf(", PAUSED: %s", wk.Paused)
		case len(wk.Holding) == 0:
			w.printf(", idle")
		}
		w.printf("\n")
		for _, h := range wk.Holding {
			w.printf("    %s %s: %.1f MB, %d rows so far, for %s\n", h.Table, h.Key, float64(h.Bytes)/1e6, h.Rows,
				round(time.Duration(h.ForSeconds*float64(time.Second))))
		}
	}
}

func (s Snapshot) writeCoordinator(w *errWriter) {
	c := s.Coordinator
	if c == nil {
		w.printf("coordinator: none holds the job's lease\n")
		return
	}
	w.printf("coordinator: %s on %s (pid %d), lease held since %s, renewed %s ago\n", c.Holder, c.Host, c.PID,
		stamp(c.Acquired), round(time.Duration(c.RenewedSecondsAgo*float64(time.Second))))
}

// stamp is a time as people read it in a status line.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

// round is a duration to the second (tenths under ten seconds).
func round(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// errWriter keeps the first write error, so rendering reads straight.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}
