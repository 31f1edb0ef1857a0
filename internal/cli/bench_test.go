package cli

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
)

// End-to-end benchmarks: `s3load run` (embedded NATS, in-process workers)
// against a real versitygw, timed from start to committed tables. Run them
// with -benchtime=1x: one iteration is one full load. Sizes can be raised
// with S3LOAD_BENCH_* variables; `make bench` runs them.

func benchEnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// wideCSV is the 7-column shape of the performance issue: int, string,
// float, int, string, timestamp, bool.
func wideCSV(first, n int) []byte {
	var b strings.Builder
	b.Grow(n * 72)
	b.WriteString("id,customer,amount,quantity,city,ordered_at,paid\n")
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := first; i < first+n; i++ {
		fmt.Fprintf(&b, "%d,customer-%07d,%d.%02d,%d,city number %d,%s,%t\n",
			i, i*7919%1000000, i%100000, i%100, i%50, i%1000,
			base.Add(time.Duration(i)*time.Second).Format(time.RFC3339), i%3 == 0)
	}
	return []byte(b.String())
}

func benchLoad(b *testing.B, e *loadEnv, cfg string, workers int) {
	b.Helper()
	for b.Loop() {
		code, stdout, stderr := runCLI(b, "run", "--config", cfg, "--workers", strconv.Itoa(workers), "--log-level", "warn")
		if code != ExitOK {
			b.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
	}
}

// BenchmarkLoadSmallFiles: many ~10 KB CSV files, 2 workers.
func BenchmarkLoadSmallFiles(b *testing.B) {
	files := benchEnvInt("S3LOAD_BENCH_SMALL_FILES", 2000)
	e := newLoadEnv(b)
	body := wideCSV(0, 140) // ~10 KB
	var g errgroup.Group
	g.SetLimit(16)
	var mu sync.Mutex
	for i := range files {
		g.Go(func() error {
			src := e.put(fmt.Sprintf("small/%05d.csv", i), body)
			mu.Lock()
			defer mu.Unlock()
			_ = src
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	cfg := e.writeConfig("  - { name: small, prefix: small/ }", "")
	b.ResetTimer()
	start := time.Now()
	benchLoad(b, e, cfg, benchEnvInt("S3LOAD_BENCH_SLOTS", 2))
	b.ReportMetric(float64(files*b.N)/time.Since(start).Seconds(), "files/s")
}

// BenchmarkLoadCSV: one large CSV, one worker: CSV MB/s per worker core.
func BenchmarkLoadCSV(b *testing.B) {
	rows := benchEnvInt("S3LOAD_BENCH_CSV_ROWS", 1_000_000)
	e := newLoadEnv(b)
	data := wideCSV(0, rows)
	e.put("big/data.csv", data)
	cfg := e.writeConfig("  - { name: big, prefix: big/ }", "")
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	benchLoad(b, e, cfg, 1)
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
