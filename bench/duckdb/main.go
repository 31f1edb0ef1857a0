// Command bench-duckdb is `make bench-duckdb`: DuckDB and `s3load run`
// converting the same generated files to Parquet in the same run,
// alternating, and the median ratio of their wall times with its spread
// (issue 12). DuckDB reads the files from local disk; s3load reads them from
// a local versitygw (uploaded once) and writes plain Parquet to a local
// directory. Both on one core, then both on all cores.
//
// It lives in its own module because DuckDB needs cgo: the main module stays
// free of it. The generated data and the outputs go to a temporary directory
// that is removed at the end (-keep keeps it).
package main

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/s3load/s3load/internal/demo"
	"github.com/s3load/s3load/internal/versity"
)

func main() {
	// The child mode: one DuckDB COPY in its own process, so that its memory
	// is measured on its own and never inflates the harness or s3load.
	if len(os.Args) > 1 && os.Args[1] == "duckdb-copy" {
		os.Exit(duckdbChild(os.Args[2:]))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-duckdb:", err)
		os.Exit(1)
	}
}

type options struct {
	s3load, versitygw, dir string
	csvFiles, rows, small  int
	pairs, reuseRuns       int
	reuseBatches           string
	duckdbParquetVersion   string
	s3loadEncodings        string
	cases, cores           []string
	keep                   bool
}

func run(ctx context.Context) error {
	var o options
	var cases, cores string
	flag.StringVar(&o.s3load, "s3load", "bin/s3load", "the s3load binary")
	flag.StringVar(&o.versitygw, "versitygw", "bin/versitygw", "the versitygw binary")
	flag.StringVar(&o.dir, "dir", "", "work directory for data and outputs (default: a new temporary directory, removed at the end)")
	flag.IntVar(&o.csvFiles, "files", 4, "files per big case (CSV, gzip'd CSV, JSON lines, Parquet)")
	flag.IntVar(&o.rows, "rows", 1_000_000, "rows per big file (7 columns, ~72 bytes a row as CSV)")
	flag.IntVar(&o.small, "small-files", 10_000, "files of the small-files case (140 rows, ~10 KB each)")
	flag.IntVar(&o.pairs, "pairs", 5, "alternating DuckDB/s3load pairs per case, after one warm-up pair")
	flag.StringVar(&cases, "cases", "csv,csv.gz,jsonl,parquet,small", "cases to run, comma-separated; reuse (not a default: no DuckDB side) is a first load of -small-files files, 1% overwritten, and a second load")
	flag.IntVar(&o.reuseRuns, "reuse-runs", 3, "runs of the reuse case per batch setting")
	flag.StringVar(&o.reuseBatches, "reuse-batches", "default,1", "batch.files settings of the reuse case, comma-separated (default: the config's default)")
	flag.StringVar(&cores, "cores", "1,all", "core settings to run: 1 (DuckDB threads=1, s3load GOMAXPROCS=1 and one worker), all")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory")
	flag.StringVar(&o.s3loadEncodings, "s3load-encodings", "", "s3load's parquet_encodings: delta, plain or compact (default: the config's default)")
	flag.StringVar(&o.duckdbParquetVersion, "duckdb-parquet-version", "V1", "DuckDB's PARQUET_VERSION: V1 (its default: dictionary and PLAIN encodings) or V2 (DELTA encodings, like s3load's default parquet_encodings: delta)")
	flag.Parse()
	o.cases, o.cores = strings.Split(cases, ","), strings.Split(cores, ",")
	for _, c := range o.cases {
		if _, ok := caseSpecs[c]; !ok && c != "reuse" {
			return fmt.Errorf("unknown case %q", c)
		}
	}
	for _, c := range o.cores {
		if c != "1" && c != "all" {
			return fmt.Errorf("unknown -cores value %q: 1 or all", c)
		}
	}
	var err error
	if o.s3load, err = filepath.Abs(o.s3load); err != nil {
		return err
	}
	if _, err := exec.LookPath("/usr/bin/time"); err != nil {
		return fmt.Errorf("/usr/bin/time (Debian package: time) measures peak RSS: %w", err)
	}
	if o.dir == "" {
		if o.dir, err = os.MkdirTemp("", "bench-duckdb-"); err != nil {
			return err
		}
		if !o.keep {
			defer os.RemoveAll(o.dir)
		}
	}
	srv, err := versity.Start(ctx, versity.Options{Binary: o.versitygw, Dir: filepath.Join(o.dir, "s3")})
	if err != nil {
		return err
	}
	defer srv.Stop()
	b := &bench{o: o, srv: srv}
	fmt.Fprintf(os.Stderr, "versitygw keeps object metadata in %s\n", metadataStore(srv))

	var results []result
	var reused []reuseResult
	for _, name := range o.cases {
		if name == "reuse" {
			if reused, err = b.reuse(ctx); err != nil {
				return fmt.Errorf("case reuse: %w", err)
			}
			continue
		}
		spec := caseSpecs[name]
		fmt.Fprintf(os.Stderr, "case %s: generating and uploading\n", name)
		in, err := b.prepare(ctx, name, spec)
		if err != nil {
			return fmt.Errorf("case %s: %w", name, err)
		}
		for _, cores := range o.cores {
			r, err := b.measure(ctx, name, spec, in, cores)
			if err != nil {
				return fmt.Errorf("case %s, cores %s: %w", name, cores, err)
			}
			fmt.Fprintf(os.Stderr, "  %s\n", r.row())
			results = append(results, r)
		}
		// The next case's data replaces this one's on disk.
		if err := os.RemoveAll(filepath.Join(o.dir, "data", name)); err != nil {
			return err
		}
	}
	if len(results) > 0 {
		printReport(o, results)
	}
	if reused != nil {
		printReuse(o, metadataStore(srv), len(changedKeys(o.small)), reused)
	}
	return nil
}

// caseSpec is one input format: how its files are named and made, and how
// DuckDB reads them.
type caseSpec struct {
	ext    string
	reader string // DuckDB table function, %s is the glob
	// sel is DuckDB's select list ("*" if empty); columns is the s3load
	// table's columns: override (YAML flow map, "" for none). A case that
	// declares types the files lack has both do the same conversion.
	sel, columns string
	// make writes file i of the case (rows first..first+n).
	make func(first, n int) ([]byte, error)
	big  bool // o.files × o.rows; else the small-files shape
}

var caseSpecs = map[string]caseSpec{
	"csv":    {ext: ".csv", reader: "read_csv('%s')", big: true, make: func(f, n int) ([]byte, error) { return demo.WideCSV(f, n), nil }},
	"csv.gz": {ext: ".csv.gz", reader: "read_csv('%s')", big: true, make: gzCSV},
	"jsonl":  {ext: ".jsonl", reader: "read_json('%s', format='newline_delimited')", big: true, make: func(f, n int) ([]byte, error) { return demo.WideJSONLines(f, n), nil }},
	// Snappy, small row groups, and id and quantity written as int32 while
	// the table declares them int64 (a user widening an export's columns):
	// s3load copies a file whose columns are the table's byte for byte
	// (decode.ParquetCopyable), so without the override this case measured
	// a copy. With it both sides decode, convert and re-encode; DuckDB casts
	// in its SELECT.
	"parquet": {ext: ".parquet", reader: "read_parquet('%s')", big: true, make: demo.WideSnappyParquet,
		sel:     "* REPLACE (CAST(id AS BIGINT) AS id, CAST(quantity AS BIGINT) AS quantity)",
		columns: "{ id: int64, quantity: int64 }"},
	// DuckDB is given the columns here: with auto-detection it sniffs every
	// one of the 10,000 files and spends ~98% of its time doing so (~75
	// files/s on one core); declared, it is the stronger baseline.
	"small": {ext: ".csv", reader: "read_csv('%s', auto_detect=false, header=true, columns=" + wideColumns + ")", make: func(f, n int) ([]byte, error) { return demo.WideCSV(f, n), nil }},
}

// wideColumns is demo.WideSchema in DuckDB's terms: the types DuckDB's own
// detection gives the big CSV files.
const wideColumns = "{'id': 'BIGINT', 'customer': 'VARCHAR', 'amount': 'DOUBLE', 'quantity': 'BIGINT', 'city': 'VARCHAR', 'ordered_at': 'TIMESTAMPTZ', 'paid': 'BOOLEAN'}"

const smallRows = 140 // ~10 KB of CSV

type input struct {
	files int
	bytes int64
	glob  string // local files, for DuckDB
	rows  int64
}

type bench struct {
	o   options
	srv *versity.Server
}

// prepare writes the case's files to local disk and uploads them to the
// bucket under the case's prefix.
func (b *bench) prepare(ctx context.Context, name string, spec caseSpec) (input, error) {
	dir := filepath.Join(b.o.dir, "data", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return input{}, err
	}
	files, rows := b.o.small, smallRows
	if spec.big {
		files, rows = b.o.csvFiles, b.o.rows
	}
	var ds demo.Dataset
	var size int64
	for i := range files {
		data, err := spec.make(i*rows, rows)
		if err != nil {
			return input{}, err
		}
		base := fmt.Sprintf("part-%05d%s", i, spec.ext)
		if err := os.WriteFile(filepath.Join(dir, base), data, 0o644); err != nil {
			return input{}, err
		}
		ds.Objects = append(ds.Objects, demo.Object{Key: name + "/" + base, Data: data})
		size += int64(len(data))
		// Upload big files as they come, so that at most one is held.
		if spec.big || len(ds.Objects) == 1000 || i == files-1 {
			if err := demo.Seed(ctx, b.store(), ds); err != nil {
				return input{}, err
			}
			ds.Objects = nil
		}
	}
	return input{files: files, bytes: size, glob: filepath.Join(dir, "*"+spec.ext), rows: int64(files * rows)}, nil
}

func (b *bench) store() demo.Store {
	return demo.Store{Endpoint: b.srv.Endpoint, Region: b.srv.Region, AccessKeyID: b.srv.AccessKeyID, SecretKey: b.srv.SecretAccessKey, Bucket: bucket}
}

const bucket = "bench"

func gzCSV(first, n int) ([]byte, error) {
	var out bytes.Buffer
	w := gzip.NewWriter(&out) // the default level, as exports usually are
	if _, err := w.Write(demo.WideCSV(first, n)); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// sample is one timed run of one side.
type sample struct {
	wall   time.Duration
	outB   int64
	peakKB int64
	// cpu is the process's user and system time; server is versitygw's
	// during an s3load run (it serves from the same cores).
	cpu, server time.Duration
}

type result struct {
	name, cores       string
	in                input
	duck, s3l         []sample
	ratios            []float64 // per pair: DuckDB time / s3load time
	threads, workers  int
	duckRows, s3lRows int64
}

// measure runs one warm-up pair (page cache, the server's caches; not
// counted) and then o.pairs pairs, alternating which side goes first.
func (b *bench) measure(ctx context.Context, name string, spec caseSpec, in input, cores string) (result, error) {
	r := result{name: name, cores: cores, in: in, threads: 1, workers: 1}
	if cores == "all" {
		r.threads, r.workers = 0, runtime.NumCPU()
	}
	query := fmt.Sprintf("SELECT %s FROM %s", cmp.Or(spec.sel, "*"), fmt.Sprintf(spec.reader, in.glob))
	for i := -1; i < b.o.pairs; i++ {
		var d, s sample
		var err error
		duckFirst := i%2 == 0
		for _, side := range []bool{duckFirst, !duckFirst} {
			if side {
				d, err = b.runDuckDB(ctx, query, r.threads)
			} else {
				s, err = b.runS3load(ctx, name, spec.columns, cores, r.workers)
			}
			if err != nil {
				return r, err
			}
		}
		if i < 0 {
			continue
		}
		r.duck, r.s3l = append(r.duck, d), append(r.s3l, s)
		r.ratios = append(r.ratios, d.wall.Seconds()/s.wall.Seconds())
	}
	// Both outputs hold every row: a fast load that loses rows is no win.
	var err error
	if r.duckRows, err = countRows(ctx, filepath.Join(b.o.dir, "duck.parquet")); err != nil {
		return r, err
	}
	if r.s3lRows, err = countRows(ctx, filepath.Join(b.o.dir, "s3load-out", "**", "*.parquet")); err != nil {
		return r, err
	}
	if r.duckRows != in.rows || r.s3lRows != in.rows {
		return r, fmt.Errorf("rows: want %d, DuckDB wrote %d, s3load wrote %d", in.rows, r.duckRows, r.s3lRows)
	}
	// And the same values, as DuckDB reads them back from each side's
	// files: s3load's pages (its own writer, DELTA encodings) decode in
	// DuckDB to exactly what DuckDB wrote itself.
	duckSum, err := contentHash(ctx, filepath.Join(b.o.dir, "duck.parquet"))
	if err != nil {
		return r, err
	}
	s3lSum, err := contentHash(ctx, filepath.Join(b.o.dir, "s3load-out", "**", "*.parquet"))
	if err != nil {
		return r, err
	}
	if duckSum != s3lSum {
		return r, fmt.Errorf("values: DuckDB reads a content hash of %s from its output and %s from s3load's", duckSum, s3lSum)
	}
	if spec.columns != "" {
		// The conversion happened on both sides: id and quantity are int64
		// in both outputs, and s3load's output is no copy of its input.
		for _, glob := range []string{filepath.Join(b.o.dir, "duck.parquet"), filepath.Join(b.o.dir, "s3load-out", "**", "*.parquet")} {
			if types, err := columnTypes(ctx, glob); err != nil {
				return r, err
			} else if types != "BIGINT,BIGINT" {
				return r, fmt.Errorf("%s: id, quantity are %s, want BIGINT,BIGINT", glob, types)
			}
		}
		if last := r.s3l[len(r.s3l)-1]; last.outB == in.bytes {
			return r, fmt.Errorf("s3load wrote %d bytes, its input's size: copied, not converted", last.outB)
		}
	}
	return r, nil
}

// runDuckDB runs this program's duckdb-copy mode under /usr/bin/time -v:
// the wall time is the COPY statement's alone, as the child measures it
// (opening DuckDB and starting the process are not counted, in DuckDB's
// favour).
func (b *bench) runDuckDB(ctx context.Context, query string, threads int) (sample, error) {
	self, err := os.Executable()
	if err != nil {
		return sample{}, err
	}
	out := filepath.Join(b.o.dir, "duck.parquet")
	if err := os.RemoveAll(out); err != nil {
		return sample{}, err
	}
	u, err := timed(ctx, nil, self, "duckdb-copy", "-threads", strconv.Itoa(threads), "-parquet-version", b.o.duckdbParquetVersion, "-query", query, "-out", out)
	if err != nil {
		return sample{}, err
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(u.stdout), 10, 64)
	if err != nil {
		return sample{}, fmt.Errorf("duckdb-copy printed %q: %w", u.stdout, err)
	}
	fi, err := os.Stat(out)
	if err != nil {
		return sample{}, err
	}
	return sample{wall: time.Duration(ns), outB: fi.Size(), peakKB: u.peakKB, cpu: u.cpu}, nil
}

// runS3load runs `s3load run` under /usr/bin/time -v with a fresh state
// directory (embedded NATS) and a fresh target: every run is a first load.
// The wall time is the whole process's, start-up and commit included.
func (b *bench) runS3load(ctx context.Context, name, columns, cores string, workers int) (sample, error) {
	target := filepath.Join(b.o.dir, "s3load-out")
	state := filepath.Join(b.o.dir, "s3load-state")
	for _, d := range []string{target, state} {
		if err := os.RemoveAll(d); err != nil {
			return sample{}, err
		}
	}
	table := fmt.Sprintf("{ name: t, prefix: %s/ }", name)
	if columns != "" {
		table = fmt.Sprintf("{ name: t, prefix: %s/, columns: %s }", name, columns)
	}
	cfg := filepath.Join(b.o.dir, "load.yaml")
	doc := fmt.Sprintf(`source:
  region: %s
  bucket: %s
  endpoint: %s
  path_style: true
  access_key_id: ${BENCH_S3_KEY}
  secret_access_key: ${BENCH_S3_SECRET}
tables:
  - %s
target: file://%s
table_format: parquet
`, b.srv.Region, bucket, b.srv.Endpoint, table, target)
	if b.o.s3loadEncodings != "" {
		doc += "parquet_encodings: " + b.o.s3loadEncodings + "\n"
	}
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		return sample{}, err
	}
	env := []string{"BENCH_S3_KEY=" + b.srv.AccessKeyID, "BENCH_S3_SECRET=" + b.srv.SecretAccessKey}
	if cores == "1" {
		env = append(env, "GOMAXPROCS=1")
	}
	served, err := b.srv.CPU()
	if err != nil {
		return sample{}, err
	}
	u, err := timed(ctx, env, b.o.s3load, "run", "--config", cfg, "--state-dir", state,
		"--workers", strconv.Itoa(workers), "--log-level", "warn", "--progress", "off")
	if err != nil {
		return sample{}, err
	}
	servedAfter, err := b.srv.CPU()
	if err != nil {
		return sample{}, err
	}
	size, err := dirParquetBytes(target)
	return sample{wall: u.wall, outB: size, peakKB: u.peakKB, cpu: u.cpu, server: servedAfter - served}, err
}

// usage is what timed measured of one process.
type usage struct {
	stdout    string
	peakKB    int64         // peak RSS
	wall, cpu time.Duration // cpu: user and system time
}

// timed runs bin under /usr/bin/time -v. (The rusage of a child exec'd
// from this process would carry this process's own peak, hence time -v,
// which forks from a small process.)
func timed(ctx context.Context, env []string, bin string, args ...string) (usage, error) {
	rep, err := os.CreateTemp("", "time-v-")
	if err != nil {
		return usage{}, err
	}
	rep.Close()
	defer os.Remove(rep.Name())
	cmd := exec.CommandContext(ctx, "/usr/bin/time", append([]string{"-v", "-o", rep.Name(), bin}, args...)...)
	cmd.Env = append(withoutGOMAXPROCS(os.Environ()), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	u := usage{stdout: stdout.String(), wall: time.Since(start)}
	if err != nil {
		return usage{}, fmt.Errorf("%s %s: %w\n%s%s", filepath.Base(bin), args[0], err, stdout.String(), stderr.String())
	}
	tv, err := os.ReadFile(rep.Name())
	if err != nil {
		return usage{}, err
	}
	if u.peakKB, err = timeField(tv, "Maximum resident set size (kbytes):"); err != nil {
		return usage{}, err
	}
	for _, label := range []string{"User time (seconds):", "System time (seconds):"} {
		v, err := timeSeconds(tv, label)
		if err != nil {
			return usage{}, err
		}
		u.cpu += v
	}
	return u, nil
}

func withoutGOMAXPROCS(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(s string) bool { return strings.HasPrefix(s, "GOMAXPROCS=") })
}

// timeSeconds reads a field of seconds ("12.34") of time -v's report.
func timeSeconds(out []byte, label string) (time.Duration, error) {
	for line := range strings.SplitSeq(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), label); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return time.Duration(f * float64(time.Second)), err
		}
	}
	return 0, fmt.Errorf("no %q in /usr/bin/time -v output:\n%s", label, out)
}

func timeField(out []byte, label string) (int64, error) {
	for line := range strings.SplitSeq(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), label); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %q in /usr/bin/time -v output:\n%s", label, out)
}

func dirParquetBytes(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".parquet") {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			n += fi.Size()
		}
		return err
	})
	return n, err
}

func countRows(ctx context.Context, glob string) (int64, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int64
	err = db.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM read_parquet('%s')", glob)).Scan(&n)
	return n, err
}

// contentHash is the sum of a hash of every row of the files at glob,
// each column cast to one type (a time stamp as microseconds since the
// epoch, so that either side's choice of time zone type does not count).
func contentHash(ctx context.Context, glob string) (string, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return "", err
	}
	defer db.Close()
	var sum string
	err = db.QueryRowContext(ctx, fmt.Sprintf(`SELECT sum(hash(id::BIGINT, customer::VARCHAR, amount::DOUBLE, quantity::BIGINT,
		city::VARCHAR, epoch_us(ordered_at), paid::BOOLEAN))::VARCHAR FROM read_parquet('%s')`, glob)).Scan(&sum)
	return sum, err
}

// columnTypes is "<type of id>,<type of quantity>" in the files at glob.
func columnTypes(ctx context.Context, glob string) (string, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return "", err
	}
	defer db.Close()
	var id, qty string
	err = db.QueryRowContext(ctx, fmt.Sprintf("SELECT typeof(id), typeof(quantity) FROM read_parquet('%s') LIMIT 1", glob)).Scan(&id, &qty)
	return id + "," + qty, err
}

// duckdbChild is `bench-duckdb duckdb-copy -threads N -query Q -out F`: it
// opens an in-memory DuckDB, runs COPY (Q) TO F as zstd
// Parquet and prints the COPY's duration in nanoseconds.
func duckdbChild(args []string) int {
	fset := flag.NewFlagSet("duckdb-copy", flag.ContinueOnError)
	threads := fset.Int("threads", 0, "DuckDB threads (0: its default, all cores)")
	query := fset.String("query", "", "SELECT reading the input")
	out := fset.String("out", "", "output Parquet file")
	version := fset.String("parquet-version", "V1", "PARQUET_VERSION of the COPY")
	if err := fset.Parse(args); err != nil {
		return 2
	}
	d, err := duckdbCopy(*threads, *version, *query, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "duckdb-copy:", err)
		return 1
	}
	fmt.Println(d.Nanoseconds())
	return 0
}

func duckdbCopy(threads int, version, query, out string) (time.Duration, error) {
	if version != "V1" && version != "V2" {
		return 0, fmt.Errorf("parquet version %q: want V1 or V2", version)
	}
	ctx := context.Background()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	// One connection: SET threads is per database, but keep every statement
	// on the same one anyway.
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if threads > 0 {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("SET threads=%d", threads)); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	_, err = conn.ExecContext(ctx, fmt.Sprintf("COPY (%s) TO '%s' (FORMAT parquet, COMPRESSION zstd, PARQUET_VERSION %s)", query, out, version))
	if err != nil {
		return 0, fmt.Errorf("COPY: %w", err)
	}
	return time.Since(start), nil
}
