package coordinator

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/s3load/s3load/messages"
)

// Report is the outcome of one load, per table.
type Report struct {
	LoadID string        `json:"load_id"`
	Tables []TableReport `json:"tables"`
	// Interrupted: the load stopped before its end (a signal, the lease
	// lost); the tables' figures are what was known then, and running
	// again resumes it.
	Interrupted bool `json:"interrupted,omitempty"`
	// Elsewhere: another coordinator carried this load to its end while
	// this one waited as a standby; the figures are that coordinator's.
	Elsewhere bool `json:"elsewhere,omitempty"`
}

// OK reports whether every table committed, with its rejected rows.
func (r Report) OK() bool {
	for _, t := range r.Tables {
		if !t.Committed || t.RejectsError != "" {
			return false
		}
	}
	return true
}

// TableReport is one table's outcome.
type TableReport struct {
	Name      string        `json:"name"`
	Files     int           `json:"files"`
	Skipped   int           `json:"skipped"`
	Loaded    int           `json:"loaded"`
	Failed    int           `json:"failed"`
	Changed   int           `json:"changed"`
	Bytes     int64         `json:"bytes"`
	Rows      int64         `json:"rows"`
	Duration  time.Duration `json:"duration_ns"`
	Committed bool          `json:"committed"`
	// Empty counts the loaded files that held no row (an empty JSON array,
	// a blank file): loaded, into the table's schema, with 0 rows.
	Empty int `json:"empty,omitempty"`
	// Reused counts files not loaded again: kept from an earlier run of a
	// load finished later, or unchanged since the table's committed load,
	// whose parts the new load keeps (see Reuser). Loaded includes them.
	Reused int `json:"reused,omitempty"`
	// Snapshot and MetadataLocation name the table format's snapshot the
	// commit made (Iceberg: what Snowflake's REFRESH and PyIceberg take).
	Snapshot         string `json:"snapshot,omitempty"`
	MetadataLocation string `json:"metadata_location,omitempty"`
	// SchemaChanges say how the load changed the table's schema.
	SchemaChanges []string `json:"schema_changes,omitempty"`
	// Preflight says how the table's schema was decided from its files.
	Preflight *messages.Preflight `json:"preflight,omitempty"`
	// Rejected counts the rows skipped (on_error: skip_row) into
	// RejectsTable, committed as RejectsSnapshot; RejectsError says why
	// they did not reach it.
	Rejected        int64  `json:"rejected,omitempty"`
	RejectsTable    string `json:"rejects_table,omitempty"`
	RejectsSnapshot string `json:"rejects_snapshot,omitempty"`
	RejectsError    string `json:"rejects_error,omitempty"`
	Error           string `json:"error,omitempty"`
	// Failures names every file that did not load, and why.
	Failures []messages.ManifestFailure `json:"failures,omitempty"`

	loaded, failed []messages.FileRecord
	// copied counts loaded files whose rows were copied from a committed
	// part (FileRecord.From).
	copied int
}

// FailedFiles counts files that failed or changed.
func (t TableReport) FailedFiles() int { return t.Failed + t.Changed }

// MBPerSecond is source bytes loaded per second of the table's wall time.
func (t TableReport) MBPerSecond() float64 {
	if t.Duration <= 0 {
		return 0
	}
	return float64(t.Bytes) / 1e6 / t.Duration.Seconds()
}

func summarize(name string, trec messages.TableRecord, files []messages.FileRecord) TableReport {
	// Sorted by pointer: a record is ~400 bytes, and swapping 10,000 of
	// them was most of a commit's report (BenchmarkSummarize).
	byKey := make([]*messages.FileRecord, len(files))
	for i := range files {
		byKey[i] = &files[i]
	}
	slices.SortFunc(byKey, func(a, b *messages.FileRecord) int {
		if c := strings.Compare(a.Source.Key, b.Source.Key); c != 0 {
			return c
		}
		return cmp.Compare(rangeIndex(a), rangeIndex(b))
	})
	r := TableReport{Name: name, Files: trec.Files, Skipped: trec.Skipped, Preflight: trec.Preflight,
		loaded: make([]messages.FileRecord, 0, len(files))}
	// A split file's records are consecutive after the sort: the file is
	// loaded when every range is; one range that did not load fails the
	// whole file, and its loaded ranges are not committed.
	for i := 0; i < len(byKey); {
		j := i + 1
		for j < len(byKey) && byKey[j].Range != nil && byKey[j].Source.Key == byKey[i].Source.Key {
			j++
		}
		start := len(r.loaded)
		var bad *messages.FileRecord
		for _, f := range byKey[i:j] {
			switch f.State {
			case messages.StateLoaded:
				r.loaded = append(r.loaded, *f)
			case messages.StateMerged:
			default:
				if bad == nil {
					bad = f
				}
			}
		}
		i = j
		if loaded := r.loaded[start:]; bad == nil && len(loaded) > 0 {
			r.Loaded++
			if loaded[0].From != "" {
				r.copied++
			}
			r.Bytes += loaded[0].Source.Size
			var rows int64
			for _, f := range loaded {
				rows += f.Rows
			}
			r.Rows += rows
			if rows == 0 {
				r.Empty++
			}
			r.Rejected += rejectedRows(loaded)
			continue
		}
		r.loaded = r.loaded[:start] // not committed
		if bad == nil {
			continue
		}
		f := *bad
		if f.State == messages.StateChanged {
			r.Changed++
		} else {
			r.Failed++
		}
		r.failed = append(r.failed, f)
		r.Failures = append(r.Failures, messages.ManifestFailure{Source: f.Source, State: f.State, Error: f.Error, Attempts: f.Attempts})
	}
	return r
}

func rangeIndex(f *messages.FileRecord) int {
	if f.Range == nil {
		return -1
	}
	return f.Range.Index
}

// summaries sum each table up for the load record.
func (r Report) summaries() []messages.TableSummary {
	out := make([]messages.TableSummary, len(r.Tables))
	for i, t := range r.Tables {
		out[i] = messages.TableSummary{Table: t.Name, Committed: t.Committed, Files: t.Files, Loaded: t.Loaded,
			Failed: t.Failed, Changed: t.Changed, Rows: t.Rows, Bytes: t.Bytes, Error: t.Error,
			Reused: t.Reused, Rejected: t.Rejected, Snapshot: t.Snapshot}
	}
	return out
}

// reportFromSummaries is the report of a load another coordinator ended.
func reportFromSummaries(rec messages.LoadRecord) Report {
	r := Report{LoadID: rec.LoadID, Elsewhere: true}
	for _, t := range rec.Tables {
		r.Tables = append(r.Tables, TableReport{Name: t.Table, Committed: t.Committed, Files: t.Files, Loaded: t.Loaded,
			Failed: t.Failed, Changed: t.Changed, Rows: t.Rows, Bytes: t.Bytes, Error: t.Error,
			Reused: t.Reused, Rejected: t.Rejected, Snapshot: t.Snapshot})
	}
	return r
}

// WriteText prints the report as a table followed by every failure.
func (r Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "table\tfiles\tskipped\tloaded\treused\tfailed\tchanged\tMB\trows\tseconds\tMB/s\tcommitted\t\n")
	for _, t := range r.Tables {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f\t%d\t%.2f\t%.1f\t%v\t\n",
			t.Name, t.Files, t.Skipped, t.Loaded, t.Reused, t.Failed, t.Changed, float64(t.Bytes)/1e6, t.Rows,
			t.Duration.Seconds(), t.MBPerSecond(), t.Committed)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "load %s: ", r.LoadID)
	switch {
	case r.Interrupted:
		fmt.Fprintln(w, "INTERRUPTED before its end (figures so far)")
	case r.OK() && r.Elsewhere:
		fmt.Fprintln(w, "every table committed (by another coordinator, while this one waited as a standby)")
	case r.OK():
		fmt.Fprintln(w, "every table committed")
	default:
		fmt.Fprintln(w, "NOT every table committed")
	}
	for _, t := range r.Tables {
		if pf := t.Preflight; pf != nil {
			where := "by the coordinator"
			if pf.Distributed {
				where = "on the workers"
			}
			fmt.Fprintf(w, "%s: schema decided from %d files (%d distinct schemas; probed %s)\n", t.Name, pf.Files, pf.Schemas, where)
			if pf.Dialect != "" {
				fmt.Fprintf(w, "%s: csv dialect: %s\n", t.Name, pf.Dialect)
			}
			for _, wd := range pf.Widened {
				fmt.Fprintf(w, "%s: widened: %s\n", t.Name, wd)
			}
		}
		for _, ch := range t.SchemaChanges {
			fmt.Fprintf(w, "%s: schema: %s\n", t.Name, ch)
		}
		if t.Empty > 0 {
			fmt.Fprintf(w, "%s: %d of the loaded files held no row (empty)\n", t.Name, t.Empty)
		}
		if t.Snapshot != "" {
			fmt.Fprintf(w, "%s: snapshot %s, metadata %s\n", t.Name, t.Snapshot, t.MetadataLocation)
		}
		if t.Rejected > 0 || t.RejectsTable != "" {
			fmt.Fprintf(w, "%s: %d rows rejected (on_error: skip_row), in %s\n", t.Name, t.Rejected, cmp.Or(t.RejectsTable, messages.RejectsTable(t.Name)))
		}
		if t.RejectsError != "" {
			fmt.Fprintf(w, "%s: REJECTED ROWS NOT COMMITTED: %s\n", t.Name, t.RejectsError)
		}
		if t.Error != "" {
			fmt.Fprintf(w, "%s: %s\n", t.Name, t.Error)
		}
		for _, f := range t.Failures {
			fmt.Fprintf(w, "%s: %s %s after %d attempt(s): %s\n", t.Name, f.State, f.Source, f.Attempts, f.Error)
		}
	}
	return nil
}
