// Command table summarises raw `go test -bench` output as a Markdown
// table: the median of each benchmark's repetitions for every unit it
// reports (MB/s, rows/s, allocs/row, and whatever end-to-end benchmarks
// add: files/s, peak-RSS-MB, ...), and, for a sub-benchmark impl=s3load
// with a sibling impl=<baseline> measured in the same run, the ratio of
// their MB/s (or rows/s, files/s). benchstat remains the tool for
// comparing runs; this is the one-screen view.
//
//	go run ./bench/table bench/out/<commit>.txt
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// preferred is the column order for units that are known; others follow
// in the order first seen.
var preferred = []string{"MB/s", "cpu-MB/s", "rows/s", "files/s", "peak-RSS-MB", "allocs/row", "allocs/op", "B/op"}

// procSuffix is the -GOMAXPROCS suffix go test adds to names.
var procSuffix = regexp.MustCompile(`-\d+$`)

type bench struct {
	name   string
	values map[string][]float64
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: table FILE...")
		os.Exit(2)
	}
	var order []string
	byName := map[string]*bench{}
	var units []string
	for _, path := range os.Args[1:] {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
				continue
			}
			if _, err := strconv.Atoi(fields[1]); err != nil {
				continue
			}
			name := procSuffix.ReplaceAllString(strings.TrimPrefix(fields[0], "Benchmark"), "")
			b := byName[name]
			if b == nil {
				b = &bench{name: name, values: map[string][]float64{}}
				byName[name] = b
				order = append(order, name)
			}
			for i := 2; i+1 < len(fields); i += 2 {
				v, err := strconv.ParseFloat(fields[i], 64)
				if err != nil {
					continue
				}
				unit := fields[i+1]
				if unit == "ns/op" {
					continue
				}
				b.values[unit] = append(b.values[unit], v)
				if !slices.Contains(units, unit) {
					units = append(units, unit)
				}
			}
		}
		f.Close()
	}
	sort.SliceStable(units, func(i, j int) bool { return rank(units[i]) < rank(units[j]) })

	header := append([]string{"benchmark", "runs"}, units...)
	header = append(header, "vs baseline: median of back-to-back ratios (range)")
	fmt.Println("| " + strings.Join(header, " | ") + " |")
	fmt.Println("|" + strings.Repeat("---|", len(header)))
	for _, name := range order {
		b := byName[name]
		row := []string{name, strconv.Itoa(runs(b))}
		for _, u := range units {
			if vs := b.values[u]; len(vs) > 0 {
				row = append(row, format(median(vs)))
			} else {
				row = append(row, "")
			}
		}
		row = append(row, ratio(b, byName))
		fmt.Println("| " + strings.Join(row, " | ") + " |")
	}
}

func rank(u string) int {
	if i := slices.Index(preferred, u); i >= 0 {
		return i
	}
	return len(preferred)
}

func runs(b *bench) int {
	n := 0
	for _, vs := range b.values {
		n = max(n, len(vs))
	}
	return n
}

// ratio compares an impl=s3load benchmark with its baselines, the other
// impl= siblings under the same parent: the median of the ratios of runs
// measured back to back (the i-th of each), with their range.
func ratio(b *bench, byName map[string]*bench) string {
	const ours = "impl=s3load"
	if !strings.HasSuffix(b.name, ours) {
		return ""
	}
	parent := strings.TrimSuffix(b.name, ours)
	var parts []string
	for name, other := range byName {
		if name == b.name || !strings.HasPrefix(name, parent+"impl=") || strings.Contains(name[len(parent):], "/") {
			continue
		}
		base := strings.TrimPrefix(name[len(parent):], "impl=")
		for _, u := range []string{"MB/s", "cpu-MB/s", "rows/s", "files/s"} {
			a, o := b.values[u], other.values[u]
			var rs []float64
			for i := range min(len(a), len(o)) {
				if o[i] > 0 {
					rs = append(rs, a[i]/o[i])
				}
			}
			if len(rs) == 0 {
				continue
			}
			parts = append(parts, fmt.Sprintf("%.1f× %s by %s (%.1f–%.1f)", median(rs), base, u, slices.Min(rs), slices.Max(rs)))
			if u == "cpu-MB/s" || !slices.Contains(units(b), "cpu-MB/s") {
				break
			}
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

func units(b *bench) []string {
	var us []string
	for u := range b.values {
		us = append(us, u)
	}
	return us
}

func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func format(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 2, 64) + " M"
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
