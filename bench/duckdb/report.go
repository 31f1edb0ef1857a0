package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

func median[T float64 | time.Duration](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func walls(ss []sample) []time.Duration {
	out := make([]time.Duration, len(ss))
	for i, s := range ss {
		out[i] = s.wall
	}
	return out
}

func peak(ss []sample) int64 {
	var p int64
	for _, s := range ss {
		p = max(p, s.peakKB)
	}
	return p
}

func mb(b int64) string { return fmt.Sprintf("%.1f", float64(b)/1e6) }

// row is one line of the markdown table.
func (r result) row() string {
	cores := "1"
	if r.cores == "all" {
		cores = fmt.Sprintf("all (%d)", runtime.NumCPU())
	}
	d, s := median(walls(r.duck)), median(walls(r.s3l))
	ratio := median(r.ratios)
	dOut, sOut := r.duck[len(r.duck)-1].outB, r.s3l[len(r.s3l)-1].outB
	return fmt.Sprintf("| %s | %s | %d × %s MB | %.2f s | %.2f s | **%.2f×** (%.2f–%.2f) | %s MB | %s MB (%+.0f%%) | %d MB | %d MB |",
		r.name, cores, r.in.files, mb(r.in.bytes/int64(r.in.files)), d.Seconds(), s.Seconds(),
		ratio, slices.Min(r.ratios), slices.Max(r.ratios), mb(dOut), mb(sOut), 100*(float64(sOut)/float64(dOut)-1),
		peak(r.s3l)>>10, peak(r.duck)>>10)
}

func printReport(o options, results []result) {
	host, _ := os.Hostname()
	fmt.Printf("\n%s, %s, %d cores (%s), %d pairs per row after one warm-up pair\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), host, runtime.NumCPU(), cpuModel(), o.pairs)
	fmt.Println("| case | cores | input | DuckDB median | s3load median | DuckDB time / s3load time: median (min–max) | DuckDB out | s3load out (vs DuckDB) | s3load peak RSS | DuckDB peak RSS |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range results {
		fmt.Println(r.row())
	}
	for _, r := range results {
		if r.name == "small" {
			fmt.Printf("\nsmall files, %s core(s): s3load %.0f files/s, DuckDB %.0f files/s (medians)\n",
				r.cores, float64(r.in.files)/median(walls(r.s3l)).Seconds(), float64(r.in.files)/median(walls(r.duck)).Seconds())
		}
	}
	fmt.Printf("\ncommand: %s\n", strings.Join(os.Args, " "))
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return "unknown CPU"
}
