package coordinator

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/s3load/s3load/messages"
)

// S3 Standard request prices in us-east-1 as https://aws.amazon.com/s3/pricing/
// has listed them for years: $0.005 per 1,000 LIST (and PUT, COPY, POST)
// requests, $0.0004 per 1,000 GET requests. Not checked against the page
// on the day this was written (no internet here); other regions and
// S3-compatible stores price differently, so the plan says which it used.
const (
	ListPriceUSD = 0.005 / 1000
	GetPriceUSD  = 0.0004 / 1000
)

// ListPageKeys is how many keys one ListObjectsV2 request returns at most
// (S3's maximum and default; s3load asks for no fewer).
const ListPageKeys = 1000

// TablePlan is what a load would make of one table, decided from every
// file's footer, header or sample before any file is read in full.
type TablePlan struct {
	Table string `json:"table"`
	// Schema is the table's schema as it would be loaded (nil when none
	// could be decided: Error says why).
	Schema    []byte              `json:"-"`
	Preflight *messages.Preflight `json:"preflight,omitempty"`
	// Failures are the files that would fail, each with its reason, when
	// the table would not load at all.
	Failures []messages.ManifestFailure `json:"failures,omitempty"`
	Error    string                     `json:"error,omitempty"`

	// Listed counts every object under the prefix; Files and Bytes are
	// the ones the load takes (as its report counts them).
	Listed int   `json:"listed"`
	Files  int   `json:"files"`
	Bytes  int64 `json:"bytes"`
	// Skipped counts the objects passed over, by reason. SkippedReported
	// is the part the load's report counts as skipped: every reason but
	// the glob's (markers count even where the glob would not match).
	Skipped         map[string]int `json:"skipped,omitempty"`
	SkippedReported int            `json:"skipped_reported"`
	// Formats counts the files by format and codec, from their names and
	// the table's config.
	Formats []FormatCount `json:"formats,omitempty"`
	// Ranges counts the tasks' byte ranges of the files split by
	// Config.SplitBytes (0: none split).
	Ranges     int `json:"ranges,omitempty"`
	SplitFiles int `json:"split_files,omitempty"`
	// Reusable counts the files a repeated load would not read again;
	// nil when it cannot be known (ReuseBasis says why, and what it is
	// based on otherwise).
	Reusable   *int   `json:"reusable"`
	ReuseBasis string `json:"reuse_basis"`
	// Requests estimates the S3 requests of a load of the table.
	Requests RequestEstimate `json:"requests"`
	// Estimate is how long decoding the table would take here.
	Estimate *TimeEstimate `json:"estimate,omitempty"`
}

// FormatCount is the files of one format and codec.
type FormatCount struct {
	Format string `json:"format"`
	Codec  string `json:"codec,omitempty"`
	Files  int    `json:"files"`
	Bytes  int64  `json:"bytes"`
}

func (f FormatCount) String() string {
	if f.Codec == "" {
		return fmt.Sprintf("%s: %d files", f.Format, f.Files)
	}
	return fmt.Sprintf("%s: %d files", f.Label(), f.Files)
}

// Label is "csv+gzip" for a compressed text file, "parquet (zstd)" for
// Parquet's pages.
func (f FormatCount) Label() string {
	switch {
	case f.Codec == "":
		return f.Format
	case f.Format == "parquet" && !isWholeFileCodec(f.Codec):
		return fmt.Sprintf("parquet (%s)", f.Codec)
	}
	return f.Format + "+" + f.Codec
}

func isWholeFileCodec(c string) bool { return c == "gzip" || c == "bzip2" || c == "zstd whole-file" }

// FileKind is what a file is read as.
type FileKind struct {
	Format string // csv, json, parquet; "" when only its content will tell
	Codec  string // gzip, zstd, bzip2 (the whole file); snappy, zstd... (Parquet's pages); "" for none or unknown
	// WholeCompressed: the file is compressed as a whole (a .csv.gz, a
	// .parquet.gz), so it is streamed from its start.
	WholeCompressed bool
	// Header: a CSV file's first line is a header (a range re-reads it).
	Header bool
}

// RequestEstimate is a load's S3 requests, and their cost at S3
// Standard's list prices.
type RequestEstimate struct {
	List      int     `json:"list"`
	ProbeGets int     `json:"probe_gets"`
	LoadGets  int     `json:"load_gets"`
	Gets      int     `json:"gets"`
	CostUSD   float64 `json:"cost_usd"`
	Basis     string  `json:"basis"`
}

// TimeEstimate is the time decoding the table's bytes takes at a
// throughput measured on this machine.
type TimeEstimate struct {
	Seconds     float64 `json:"seconds"`
	BytesPerSec float64 `json:"bytes_per_sec"`
	Basis       string  `json:"basis"`
}

// Throughput is a measured decoding rate, with how it was measured.
type Throughput struct {
	BytesPerSec float64
	Basis       string
}

// PlanState is the part of the state store a plan reads: the job's open
// load and its files.
type PlanState interface {
	Load(ctx context.Context, job string) (messages.LoadRecord, uint64, error)
	Files(ctx context.Context, load, table string) ([]messages.FileRecord, error)
}

// PlanPorts are what a plan reads through: no queue, no target, and no
// state but what a repeated load would reuse.
type PlanPorts struct {
	Lister Lister
	Prober Prober
	Merger SchemaMerger
	// Kind says what a table's file is read as; nil: formats are not
	// shown and every file is costed as uncompressed CSV.
	Kind func(table string, src messages.Source) FileKind
	// State, if set, is read for the files an open load of the job already
	// loaded; NoState says why it is not (shown as the reuse basis).
	State   PlanState
	NoState string
	// Committed, if set, reads the table's committed load: with no open
	// load, the files it holds unchanged are counted as reusable.
	Committed CommittedLoads
	// Calibrate measures, on the given files of the table (each small
	// enough to read whole), how fast this machine decodes and writes
	// them; nil: no time estimate.
	Calibrate func(ctx context.Context, table string, files []messages.Source) (Throughput, error)
	// ProbeKeepsSmallFiles: the load's pre-flight reads a small file whole
	// and its load takes those bytes (s3load run), so such a file costs
	// one GET in all.
	ProbeKeepsSmallFiles bool
	// Columns counts an encoded schema's columns (a floor for a Parquet
	// file's reads); nil: 1.
	Columns func(schema []byte) int
}

// Plan runs every table's pre-flight in this process and loads nothing:
// the schema each table would get, and the files that would not fit it,
// with what the listing passed over, the requests a load makes and how
// long it would take here.
func Plan(ctx context.Context, cfg Config, p PlanPorts) ([]TablePlan, error) {
	if p.Lister == nil || p.Prober == nil || p.Merger == nil {
		return nil, errors.New("coordinator: a plan needs a Lister, a Prober and a Merger")
	}
	cfg = cfg.withDefaults()
	cfg.ProbeLocalMax = math.MaxInt // no workers to spread probes over
	rec := &recordingLister{Lister: p.Lister}
	c := &Coordinator{cfg: cfg, Ports: Ports{Lister: rec, Prober: p.Prober, Merger: p.Merger}}
	plans := make([]TablePlan, len(cfg.Tables))
	for i, t := range cfg.Tables {
		rec.listed = nil
		ru, err := c.planReuse(ctx, p, i, t)
		if err != nil {
			return plans, err
		}
		// Like the load's, the plan's pre-flight does not read the files
		// the committed load knows unchanged.
		schema, pf, failures, err := c.preflight(ctx, "plan", t, cfg.Logger.With("table", t.Name), ru.known)
		plans[i] = TablePlan{Table: t.Name, Schema: schema, Preflight: pf, Failures: failures}
		if err != nil {
			if ctx.Err() != nil {
				return plans, ctx.Err()
			}
			plans[i].Error = err.Error()
		}
		if err := c.describe(ctx, p, t, rec.listed, ru, &plans[i]); err != nil {
			return plans, err
		}
	}
	return plans, nil
}

// recordingLister keeps every object a listing handed over: the plan
// accounts for each from the pre-flight's own listing, without a second.
type recordingLister struct {
	Lister
	listed []messages.Source
}

func (r *recordingLister) List(ctx context.Context, bucket, prefix, startAfter string, fn func([]messages.Source) error) error {
	return r.Lister.List(ctx, bucket, prefix, startAfter, func(page []messages.Source) error {
		r.listed = append(r.listed, page...)
		return fn(page)
	})
}

// globSkip is the reason of an object the table's glob does not match.
const globSkip = "not matching the glob"

// describe fills in what the plan says beyond the pre-flight: the listing's
// accounting, formats, ranges, reuse, requests and time.
func (c *Coordinator) describe(ctx context.Context, p PlanPorts, t Table, listed []messages.Source, ru planReuse, tp *TablePlan) error {
	tp.Listed = len(listed)
	rejected := rejectedFiles(tp.Preflight)
	kind := func(src messages.Source) FileKind {
		if p.Kind == nil {
			return FileKind{Format: "csv"}
		}
		return p.Kind(t.Name, src)
	}
	formats := map[FormatCount]int{}
	var files []messages.Source
	for _, src := range listed {
		// The same order as the load's listing: a marker is skipped (and
		// reported) before the glob is asked.
		if why := c.cfg.SkipReason(src.Key, src.Size); why != "" {
			tp.skip(why)
			tp.SkippedReported++
			continue
		}
		if t.Match != nil && !t.Match(relKey(t.Prefix, src.Key)) {
			tp.skip(globSkip)
			continue
		}
		tp.Files++
		tp.Bytes += src.Size
		files = append(files, src)
		k := kind(src)
		f := FormatCount{Format: k.Format, Codec: k.Codec}
		if f.Format == "" {
			f.Format = "unknown (by content)"
		}
		at, ok := formats[f]
		if !ok {
			at = len(tp.Formats)
			formats[f] = at
			tp.Formats = append(tp.Formats, f)
		}
		tp.Formats[at].Files++
		tp.Formats[at].Bytes += src.Size
	}
	sort.SliceStable(tp.Formats, func(i, j int) bool { return tp.Formats[i].Files > tp.Formats[j].Files })
	columns := 0
	if p.Columns != nil {
		columns = p.Columns(tp.Schema)
	}
	reused := ru.count(files, tp)
	splits := ru.known.splits()
	keys := make([]string, len(listed))
	for i, src := range listed {
		keys[i] = src.Key
	}
	tp.estimateRequests(ctx, c, t, files, rejected, reused, kind, columns, p.ProbeKeepsSmallFiles, listRequests(keys, splits, ListPageKeys), len(splits)+1)
	if p.Calibrate == nil || len(files) == 0 || len(tp.Schema) == 0 {
		return nil
	}
	// The time is the files the load reads: measured on them, for their
	// bytes (a reused file costs neither).
	var read []messages.Source
	var bytes int64
	for _, f := range files {
		if _, bad := rejected[f.Identity()]; !bad && !reused[f.Identity()] {
			read = append(read, f)
			bytes += f.Size
		}
	}
	if len(read) == 0 {
		tp.Estimate = &TimeEstimate{Basis: "nothing to read: every file that fits is reused"}
		return nil
	}
	th, err := p.Calibrate(ctx, t.Name, read)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		tp.Estimate = &TimeEstimate{Basis: "not measured: " + err.Error()}
	case th.BytesPerSec > 0:
		tp.Estimate = &TimeEstimate{Seconds: float64(bytes) / th.BytesPerSec, BytesPerSec: th.BytesPerSec, Basis: th.Basis}
	}
	return nil
}

func (tp *TablePlan) skip(why string) {
	if tp.Skipped == nil {
		tp.Skipped = map[string]int{}
	}
	tp.Skipped[why]++
}

// Sizes that decide how s3load reads a file; they mirror the adapters'
// (internal/pipeline probedFileMax and probedSpoolMax, internal/decode
// footerGuessBytes and the Parquet reader's buffer) and are only used to
// estimate. A spool full of limits.max_temp_bytes keeps fewer.
const (
	planProbedFileMax  = 256 << 10
	planProbedBytesMax = 1 << 30
	planParquetBuffer  = 1 << 20
)

// estimateRequests counts the requests a load of the table makes, read
// the way s3load reads:
//   - LIST: the pre-flight lists the prefix once, and the load records and
//     publishes those same pages: 1 listing of ceil(objects/1000) pages
//     (at least 1). A resumed load lists again.
//   - pre-flight GETs, one probe per file: a CSV or JSON file's sample is
//     one streamed GET (closed early); a small file (≤256 KiB) is read
//     whole in that GET, and under s3load run its load takes those bytes;
//     a Parquet file's first 4 bytes and then its last 64 KiB (the
//     footer) are 2 ranged GETs; a whole-file compressed Parquet is
//     decompressed in 1 GET.
//   - load GETs, files the pre-flight rejected excepted: a file loaded
//     whole is 1 streamed GET; a split text file is 1 GET per range, plus
//     1 per range after the first for a CSV header; Parquet is read by
//     ranged GETs of the 1 MiB reader buffer per column chunk, plus its
//     head and footer (2), per range: ~2 + max(columns, size/1 MiB).
//
// Retries, a footer over 64 KiB and objects changed mid-load add GETs; the
// Parquet count is an estimate (row groups are not known before reading).
func (tp *TablePlan) estimateRequests(ctx context.Context, c *Coordinator, t Table, files []messages.Source, rejected map[string]string, reused map[string]bool, kind func(messages.Source) FileKind, columns int, keeps bool, pages, ranges int) {
	columns = max(1, columns)
	r := &tp.Requests
	r.List = pages
	var kept int64
	parquet := false
	for _, src := range files {
		if reused[src.Identity()] {
			continue // neither probed nor fetched: its rows are kept
		}
		k := kind(src)
		small := src.Size <= planProbedFileMax
		cached := false
		switch {
		case small && keeps:
			r.ProbeGets++
			if kept+src.Size <= planProbedBytesMax {
				kept += src.Size
				cached = true
			}
		case k.Format == "parquet" && !k.WholeCompressed:
			r.ProbeGets += 2
		default:
			r.ProbeGets++
		}
		if _, bad := rejected[src.Identity()]; bad || cached {
			continue
		}
		ranges := 1
		if rs := c.ranges(ctx, t.Name, tp.Schema, src); rs != nil {
			ranges = len(rs)
			tp.Ranges += ranges
			tp.SplitFiles++
		}
		switch {
		case k.Format == "parquet" && !k.WholeCompressed:
			parquet = true
			per := (src.Size/int64(ranges) + planParquetBuffer - 1) / planParquetBuffer
			r.LoadGets += ranges * (2 + max(columns, int(per)))
		case k.WholeCompressed:
			r.LoadGets++
		case ranges > 1 && k.Format == "csv" && k.Header:
			r.LoadGets += 2*ranges - 1
		default:
			r.LoadGets += ranges
		}
	}
	r.Gets = r.ProbeGets + r.LoadGets
	r.CostUSD = float64(r.List)*ListPriceUSD + float64(r.Gets)*GetPriceUSD
	r.Basis = fmt.Sprintf("1 listing (the pre-flight's, which the load records) of %d page(s) of up to %d keys", pages, ListPageKeys)
	if ranges > 1 {
		r.Basis += fmt.Sprintf(" in %d key ranges", ranges)
	}
	r.Basis += "; 1 probe GET per file (2 for Parquet: head and footer)"
	if keeps {
		r.Basis += ", small files (≤256 KiB) read once for probe and load"
	}
	r.Basis += "; 1 load GET per file or byte range"
	if len(reused) > 0 {
		r.Basis += "; none for the reusable files"
	}
	if parquet {
		r.Basis += "; Parquet: head, footer and 1 MiB column-chunk reads, estimated"
	}
	r.Basis += "; S3 Standard us-east-1 list prices, no retries"
}

// planReuse is what a run now would keep instead of reading, decided
// before the plan's pre-flight: the files an open load of the job already
// loaded, or, with no open load, the files the table's committed load
// holds unchanged under the same settings (see tableRun.previous).
type planReuse struct {
	// basis says what Reusable rests on, or why it is unknown (with
	// unknown set: Reusable stays nil).
	basis   string
	unknown bool
	// loaded is the identities of the files an open load of the job
	// loaded.
	loaded map[string]bool
	// known is the committed load's files, which a load keeps, and the
	// plan's pre-flight (as the load's) counts with its schema instead of
	// reading; nil without one.
	known *knownFiles
}

// count sets tp's Reusable and ReuseBasis for the listed files and returns
// the reusable ones' identities.
func (ru planReuse) count(files []messages.Source, tp *TablePlan) map[string]bool {
	tp.ReuseBasis = ru.basis
	if ru.unknown {
		return nil
	}
	held := func(src messages.Source) bool { return ru.loaded[src.Identity()] }
	if ru.known != nil {
		held = func(src messages.Source) bool { return ru.known.ids[versionOf(src)] }
	}
	reused := map[string]bool{}
	for _, src := range files {
		if held(src) {
			reused[src.Identity()] = true
		}
	}
	n := len(reused)
	tp.Reusable = &n
	return reused
}

// planReuse reads what a run now would reuse (see planReuse).
func (c *Coordinator) planReuse(ctx context.Context, p PlanPorts, i int, t Table) (planReuse, error) {
	var ru planReuse
	switch {
	case p.State == nil:
		ru.basis, ru.unknown = "unknown: no NATS", true
		if p.NoState != "" {
			ru.basis = "unknown: " + p.NoState
		}
	default:
		load, _, err := p.State.Load(ctx, c.cfg.Job)
		switch {
		case errors.Is(err, messages.ErrNotFound) || (err == nil && !load.State.Open()):
			ru.basis = "no open load of this job in NATS: a load reads every file"
		case err != nil:
			if ctx.Err() != nil {
				return ru, ctx.Err()
			}
			ru.basis, ru.unknown = "unknown: reading the job's load from NATS: "+err.Error(), true
			return ru, nil
		default:
			recs, err := p.State.Files(ctx, load.LoadID, t.Name)
			if err != nil {
				if ctx.Err() != nil {
					return ru, ctx.Err()
				}
				ru.basis, ru.unknown = "unknown: reading the open load's files from NATS: "+err.Error(), true
				return ru, nil
			}
			ru.loaded = map[string]bool{}
			for _, r := range recs {
				done := r.State == messages.StateLoaded || r.State == messages.StateMerged
				id := r.Source.Identity()
				if was, ok := ru.loaded[id]; ok {
					ru.loaded[id] = was && done
					continue
				}
				ru.loaded[id] = done
			}
			ru.basis = fmt.Sprintf("open load %s (started %s) already loaded these files; running the load again keeps them, unchanged, without reading them",
				load.LoadID, load.Started.Format(time.RFC3339))
			return ru, nil
		}
	}
	return ru, c.committedReuse(ctx, p, i, t, &ru)
}

// committedReuse sets ru from the table's committed load, when no open
// load says more: the listed files it holds with the same identity (key
// and ETag) under the same settings are kept without reading them,
// provided the schema the load decides is the committed one (the plan's
// pre-flight decides it the same way). Without a Committed port, or a
// committed load to read, ru stays as it is.
func (c *Coordinator) committedReuse(ctx context.Context, p PlanPorts, i int, t Table, ru *planReuse) error {
	if p.Committed == nil {
		return nil
	}
	if len(t.RejectsSchema) > 0 {
		ru.basis, ru.unknown = "a table with a reject table reads every file: a reused file's rejected rows would be missing from it", false
		return nil
	}
	var prev PreviousLoad
	err := c.retry(ctx, "reading the committed load of "+t.Name, func() (err error) {
		prev, err = p.Committed.PreviousLoad(ctx, t.Name)
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		ru.basis += "; reading the table's committed load: " + err.Error()
		return nil
	}
	switch cfg, _, _ := strings.Cut(prev.Fingerprint, "."); {
	case prev.LoadID == "":
		ru.basis, ru.unknown = "the table has no committed load to reuse: a load reads every file", false
	case cfg != c.configFingerprint(i):
		ru.basis, ru.unknown = fmt.Sprintf("the table's settings (or s3load's decoders) changed since its committed load %s: a load reads every file", prev.LoadID), false
	default:
		ru.known, ru.unknown = knownFrom(&prev), false
		ru.basis = fmt.Sprintf("committed load %s holds these files unchanged (same key and ETag); a load keeps their rows without reading them while the schema it decides is the same", prev.LoadID)
	}
	return nil
}
