package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/s3load/s3load/internal/demo"
	"github.com/s3load/s3load/internal/versity"
)

// The reuse case (issue 12: "a repeated full load costs what changed"):
// o.small small CSV files loaded by `s3load run` into an Iceberg table (the
// default format) on a local target, then 1% of them (scattered over the
// key space) overwritten with new rows, so new ETags, then `s3load run`
// again with the same state directory: the second load reads the committed
// table's metadata and should read only the changed files. No DuckDB side.
// Run with batching on (the default batch.files) and off (batch.files: 1):
// today a batch part holding a changed file is loaded again whole, so the
// batched ratio is bounded by the parts the changes touch.

const reusePrefix = "reuse"

type reuseRun struct {
	first, second time.Duration
	gets          int // GetObject of source objects during the second load
	reused        int // the second report's reused count
	loaded        int
}

type reuseResult struct {
	batchFiles int // 0: the default
	runs       []reuseRun
}

// changedKeys are the indices of the files each round overwrites: every
// hundredth, offset so that they fall in different batches.
func changedKeys(files int) []int {
	var out []int
	step := max(files/max(files/100, 1), 1)
	for i := step / 3; i < files; i += step {
		out = append(out, i)
	}
	return out
}

func smallKey(i int) string { return fmt.Sprintf("%s/part-%05d.csv", reusePrefix, i) }

func (b *bench) reuse(ctx context.Context) ([]reuseResult, error) {
	fmt.Fprintf(os.Stderr, "case reuse: uploading %d files\n", b.o.small)
	var ds demo.Dataset
	for i := range b.o.small {
		ds.Objects = append(ds.Objects, demo.Object{Key: smallKey(i), Data: demo.WideCSV(i*smallRows, smallRows)})
		if len(ds.Objects) == 1000 || i == b.o.small-1 {
			if err := demo.Seed(ctx, b.store(), ds); err != nil {
				return nil, err
			}
			ds.Objects = nil
		}
	}
	changed := changedKeys(b.o.small)
	var results []reuseResult
	round := 0
	batches, err := parseBatches(b.o.reuseBatches)
	if err != nil {
		return nil, err
	}
	for _, batch := range batches {
		res := reuseResult{batchFiles: batch}
		for range b.o.reuseRuns {
			round++
			r, err := b.reuseOnce(ctx, batch, changed, round)
			if err != nil {
				return nil, fmt.Errorf("batch.files %d: %w", batch, err)
			}
			fmt.Fprintf(os.Stderr, "  batch.files=%s first %.2f s second %.2f s (%.1f×) GETs %d reused %d/%d\n",
				batchName(batch), r.first.Seconds(), r.second.Seconds(), r.first.Seconds()/r.second.Seconds(), r.gets, r.reused, r.loaded)
			res.runs = append(res.runs, r)
		}
		results = append(results, res)
	}
	return results, nil
}

// parseBatches reads -reuse-batches: "default" is 0 (no batch line in
// the config), anything else a batch.files value.
func parseBatches(list string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f == "default" {
			out = append(out, 0)
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-reuse-batches: %q is neither default nor a file count", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func batchName(n int) string {
	if n == 0 {
		return "default"
	}
	return strconv.Itoa(n)
}

// reuseOnce is one first load into a fresh table and state directory, the
// overwrite of the changed files with round's rows, and the second load.
func (b *bench) reuseOnce(ctx context.Context, batch int, changed []int, round int) (reuseRun, error) {
	var r reuseRun
	target := filepath.Join(b.o.dir, "reuse-out")
	state := filepath.Join(b.o.dir, "reuse-state")
	for _, d := range []string{target, state} {
		if err := os.RemoveAll(d); err != nil {
			return r, err
		}
	}
	batchLine := ""
	if batch > 0 {
		batchLine = fmt.Sprintf("batch: { files: %d }\n", batch)
	}
	cfg := filepath.Join(b.o.dir, "reuse.yaml")
	doc := fmt.Sprintf(`source:
  region: %s
  bucket: %s
  endpoint: %s
  path_style: true
  access_key_id: ${BENCH_S3_KEY}
  secret_access_key: ${BENCH_S3_SECRET}
tables:
  - { name: t, prefix: %s/ }
target: file://%s
%s`, b.srv.Region, bucket, b.srv.Endpoint, reusePrefix, target, batchLine)
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		return r, err
	}
	env := []string{"BENCH_S3_KEY=" + b.srv.AccessKeyID, "BENCH_S3_SECRET=" + b.srv.SecretAccessKey, "GOMAXPROCS=1"}
	load := func(report string) (time.Duration, error) {
		u, err := timed(ctx, env, b.o.s3load, "run", "--config", cfg, "--state-dir", state,
			"--workers", "1", "--log-level", "warn", "--progress", "off", "--report-json", report)
		return u.wall, err
	}
	var err error
	if r.first, err = load(filepath.Join(b.o.dir, "reuse-1.json")); err != nil {
		return r, err
	}
	var ds demo.Dataset
	for _, i := range changed {
		// Rows no round used before: new content, so a new ETag.
		ds.Objects = append(ds.Objects, demo.Object{Key: smallKey(i), Data: demo.WideCSV((b.o.small+round*len(changed)+i)*smallRows, smallRows)})
	}
	if err := demo.Seed(ctx, b.store(), ds); err != nil {
		return r, err
	}
	before, err := accessLines(b.srv.AccessLogPath)
	if err != nil {
		return r, err
	}
	second := filepath.Join(b.o.dir, "reuse-2.json")
	if r.second, err = load(second); err != nil {
		return r, err
	}
	if r.gets, err = sourceGets(b.srv.AccessLogPath, before); err != nil {
		return r, err
	}
	data, err := os.ReadFile(second)
	if err != nil {
		return r, err
	}
	var rep struct {
		Tables []struct {
			Loaded, Reused int
			Rows           int64
			Committed      bool
		}
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		return r, fmt.Errorf("second report: %w", err)
	}
	if len(rep.Tables) != 1 || !rep.Tables[0].Committed || rep.Tables[0].Rows != int64(b.o.small*smallRows) {
		return r, fmt.Errorf("second load did not commit every row: %s", data)
	}
	r.reused, r.loaded = rep.Tables[0].Reused, rep.Tables[0].Loaded
	return r, nil
}

func accessLines(path string) (int, error) {
	n := 0
	err := eachAccessLine(path, func(int, string) error { n++; return nil })
	return n, err
}

// sourceGets counts the GetObject requests for the reuse prefix's objects
// logged after the first skip lines.
func sourceGets(path string, skip int) (int, error) {
	gets := 0
	err := eachAccessLine(path, func(n int, line string) error {
		if n < skip || line == "" || strings.HasPrefix(line, "log starts ") {
			return nil
		}
		m := accessHead.FindStringSubmatch(line)
		if m == nil {
			return fmt.Errorf("access log line %d does not parse: %q", n+1, line)
		}
		if m[2] == "s3_GetObject" && m[1] == bucket && strings.HasPrefix(m[3], reusePrefix+"/") {
			gets++
		}
		return nil
	})
	return gets, err
}

// accessHead is the start of a versitygw access log line (the layout
// internal/testenv/accesslog.go parses in full; its package pulls in the
// AWS SDK, which this module does not need): owner, bucket, [time], ip,
// requester, request id, operation, then the key. Only keys without spaces
// are matched here, as this case's are.
var accessHead = regexp.MustCompile(`^\S+ (\S+) \[[^\]]*\] \S+ \S+ \S+ (\S+) (\S+) `)

func eachAccessLine(path string, f func(n int, line string) error) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 0; sc.Scan(); n++ {
		if err := f(n, sc.Text()); err != nil {
			return err
		}
	}
	return sc.Err()
}

// metadataStore says where the source server keeps object metadata: the
// sidecar makes its listing markedly slower, so a figure names it.
func metadataStore(srv *versity.Server) string {
	if srv.Sidecar != "" {
		return "a sidecar directory"
	}
	return "extended attributes"
}

func printReuse(o options, meta string, changed int, results []reuseResult) {
	fmt.Printf("\nReuse: %d small CSV files into Iceberg (file:// target), %d overwritten (new ETags), second `s3load run` with the same state directory; one core (GOMAXPROCS=1, --workers 1); %d runs, medians; versitygw keeps object metadata in %s\n\n", o.small, changed, o.reuseRuns, meta)
	fmt.Println("| batch.files | first load | second load | first / second: median (min–max) | source GETs in the second load | reused / loaded (second report) |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, res := range results {
		var first, second, ratio []float64
		var gets, reused []int
		for _, r := range res.runs {
			first, second = append(first, r.first.Seconds()), append(second, r.second.Seconds())
			ratio = append(ratio, r.first.Seconds()/r.second.Seconds())
			gets, reused = append(gets, r.gets), append(reused, r.reused)
		}
		fmt.Printf("| %s | %.2f s | %.2f s | **%.1f×** (%.1f–%.1f) | %s | %s / %d |\n", batchName(res.batchFiles),
			median(first), median(second), median(ratio), slices.Min(ratio), slices.Max(ratio),
			intsList(gets), intsList(reused), res.runs[0].loaded)
	}
}

func intsList(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return cmp.Or(strings.Join(s, ", "), "-")
}
