package lakecheck

import (
	"fmt"
	"testing"
)

// Position deletes leave the runs of rows between them; a position named
// twice is deleted once, and one outside the file is an error.
func TestLiveRuns(t *testing.T) {
	for _, c := range []struct {
		name    string
		n       int64
		deleted []int64
		want    string
		err     bool
	}{
		{"none", 5, nil, "[[0 5]]", false},
		{"first and last", 5, []int64{0, 4}, "[[1 4]]", false},
		{"a run", 10, []int64{3, 4, 5}, "[[0 3] [6 10]]", false},
		{"twice", 5, []int64{2, 2}, "[[0 2] [3 5]]", false},
		{"all", 3, []int64{0, 1, 2}, "[]", false},
		{"past the end", 3, []int64{3}, "", true},
		{"negative", 3, []int64{-1}, "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			runs, err := liveRuns(c.n, c.deleted)
			if (err != nil) != c.err {
				t.Fatalf("err = %v, want an error: %v", err, c.err)
			}
			if err == nil && fmt.Sprint(runs) != c.want {
				t.Errorf("runs = %v, want %s", runs, c.want)
			}
		})
	}
}
