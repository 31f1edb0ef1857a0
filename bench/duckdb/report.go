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

// durations is one measure of each sample.
func durations(ss []sample, of func(sample) time.Duration) []time.Duration {
	out := make([]time.Duration, len(ss))
	for i, s := range ss {
		out[i] = of(s)
	}
	return out
}

func walls(ss []sample) []time.Duration {
	return durations(ss, func(s sample) time.Duration { return s.wall })
}
func cpus(ss []sample) []time.Duration {
	return durations(ss, func(s sample) time.Duration { return s.cpu })
}
func servers(ss []sample) []time.Duration {
	return durations(ss, func(s sample) time.Duration { return s.server })
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
	printScaling(results)
	fmt.Printf("\ncommand: %s\n", strings.Join(os.Args, " "))
}

// printScaling says, for each case run on one core and on all, how much
// faster all cores were, and how close s3load came to what the cores
// could give: its CPU time and versitygw's (which serves from the same
// cores) spread over all of them is the least wall time they allow.
func printScaling(results []result) {
	for _, one := range results {
		if one.cores != "1" {
			continue
		}
		i := slices.IndexFunc(results, func(r result) bool { return r.name == one.name && r.cores == "all" })
		if i < 0 {
			continue
		}
		all := results[i]
		s1, sa := median(walls(one.s3l)), median(walls(all.s3l))
		d1, da := median(walls(one.duck)), median(walls(all.duck))
		cpu, server := median(cpus(all.s3l)), median(servers(all.s3l))
		floor := (cpu + server) / time.Duration(runtime.NumCPU())
		fmt.Printf("\n%s, all cores against one (medians): s3load %.2f× (%.2f → %.2f s), DuckDB %.2f× (%.2f → %.2f s); "+
			"s3load CPU %.2f → %.2f s, versitygw CPU %.2f → %.2f s; on all cores the two need at least %.2f s of wall time, s3load took %.2f× that\n",
			one.name, s1.Seconds()/sa.Seconds(), s1.Seconds(), sa.Seconds(), d1.Seconds()/da.Seconds(), d1.Seconds(), da.Seconds(),
			median(cpus(one.s3l)).Seconds(), cpu.Seconds(), median(servers(one.s3l)).Seconds(), server.Seconds(),
			floor.Seconds(), sa.Seconds()/floor.Seconds())
	}
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
