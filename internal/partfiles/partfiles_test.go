package partfiles

import (
	"fmt"
	"testing"
)

// A footer's list must add up to the part's rows; each file's span follows
// the ones before it.
func TestDecode(t *testing.T) {
	list := Encode([]File{{ID: "a", Rows: 3}, {ID: "b", Rows: 0}, {ID: "c", Rows: 2}})
	for _, c := range []struct {
		name  string
		desc  string
		total int64
		ok    bool
	}{
		{"adds up", list, 5, true},
		{"fewer rows than listed", list, 4, false},
		{"more rows than listed", list, 6, false},
		{"negative rows", `[{"id":"a","rows":-1},{"id":"b","rows":1}]`, 0, false},
		{"not JSON", `{`, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			files, err := Decode(c.desc, c.total)
			if (err == nil) != c.ok {
				t.Fatalf("err = %v, want ok %t", err, c.ok)
			}
			if c.ok {
				if got := fmt.Sprint(Spans(files)); got != "map[a:{0 3} b:{3 0} c:{3 2}]" {
					t.Errorf("spans %s", got)
				}
			}
		})
	}
}
