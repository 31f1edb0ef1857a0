package messages

import (
	"sort"
	"strings"
)

// JobSpec is what a config says about a job, flattened to key paths such as
// "tables[0].prefix" and their values: everything that decides what is
// loaded and how (source, target, tables, dialects, schemas), and nothing
// secret. Its ID is the job's ID, so processes whose configs differ in any
// of it work on different jobs, and Diff names the difference.
type JobSpec map[string]string

// ID names the job: a hash of every key and value.
func (s JobSpec) ID() string {
	keys := s.keys()
	parts := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		parts = append(parts, k, s[k])
	}
	return hashHex(16, parts...)
}

func (s JobSpec) keys() []string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// SpecDiff is one key whose value differs between two specs; "" stands for
// a key one side does not have.
type SpecDiff struct {
	Key, A, B string
}

// Diff lists the keys whose values differ, in key order.
func Diff(a, b JobSpec) []SpecDiff {
	var out []SpecDiff
	seen := map[string]bool{}
	for _, spec := range []JobSpec{a, b} {
		for _, k := range spec.keys() {
			if seen[k] {
				continue
			}
			seen[k] = true
			if a[k] != b[k] {
				out = append(out, SpecDiff{Key: k, A: a[k], B: b[k]})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// DescribeDiff writes the differences for people, naming each side:
// `tables[0].prefix: "orders/" (coordinator) vs "order/" (this worker)`.
func DescribeDiff(diffs []SpecDiff, nameA, nameB string, max int) string {
	var b strings.Builder
	for i, d := range diffs {
		if i == max {
			b.WriteString("; and more")
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(d.Key + ": " + quoteOrAbsent(d.A) + " (" + nameA + ") vs " + quoteOrAbsent(d.B) + " (" + nameB + ")")
	}
	return b.String()
}

func quoteOrAbsent(v string) string {
	if v == "" {
		return "(absent)"
	}
	return `"` + v + `"`
}
