package cli

import (
	"regexp"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
)

// preflightTook finds the pre-flight's duration in a run's log.
var preflightTook = regexp.MustCompile(`msg="pre-flight done".* took=([0-9.]+[a-zµ]+)`)

// benchPreflight runs full loads and reports, from the same runs, the
// pre-flight's files per second and its share of the load's wall time:
// the probe must stay a small fraction of what it protects.
func benchPreflight(b *testing.B, cfg string, files int) {
	b.Helper()
	var pre, total time.Duration
	for b.Loop() {
		start := time.Now()
		code, stdout, stderr := runCLI(b, "run", "--config", cfg, "--full-reload", "--log-level", "info")
		total += time.Since(start)
		if code != ExitOK {
			b.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		m := preflightTook.FindStringSubmatch(stderr)
		if m == nil {
			b.Fatalf("no pre-flight in the log:\n%s", stderr)
		}
		d, err := time.ParseDuration(m[1])
		if err != nil {
			b.Fatal(err)
		}
		pre += d
	}
	b.ReportMetric(float64(files*b.N)/pre.Seconds(), "probed-files/s")
	b.ReportMetric(100*pre.Seconds()/total.Seconds(), "%-of-load")
	b.ReportMetric(float64(files*b.N)/total.Seconds(), "loaded-files/s")
}

// BenchmarkPreflightSmallFiles: 10,000 CSV files of ~10 KB, probed on two
// in-process workers, then loaded.
func BenchmarkPreflightSmallFiles(b *testing.B) {
	e, files := newLoadEnv(b), benchEnvInt("S3LOAD_BENCH_SMALL_FILES", 10000)
	putSmallFiles(b, e, files)
	cfg := e.writeConfig("  - { name: small, prefix: small/ }", "")
	b.ResetTimer()
	benchPreflight(b, cfg, files)
}

// BenchmarkPreflightParquetFooters: 1,000 Parquet files of 20,000 rows in
// three row groups: the pre-flight reads only their footers.
func BenchmarkPreflightParquetFooters(b *testing.B) {
	files := benchEnvInt("S3LOAD_BENCH_PARQUET_FILES", 1000)
	e := newLoadEnv(b)
	body := parquetRows(b, 0, 20_000)
	var g errgroup.Group
	g.SetLimit(16)
	for i := range files {
		g.Go(func() error {
			e.put("pq/"+strconv.Itoa(100000+i)+".parquet", body)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	cfg := e.writeConfig("  - { name: pq, prefix: pq/ }", "")
	b.ResetTimer()
	benchPreflight(b, cfg, files)
}
