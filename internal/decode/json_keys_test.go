package decode

import (
	"fmt"
	"strings"
	"testing"
)

// TestKeyMatch holds keyMatch.at to the plain comparison (expectKey) for
// names of every length around the word's eight bytes, keys that differ
// at each byte, keys that are a prefix or an extension of the name, and
// keys ending where the buffer does.
func TestKeyMatch(t *testing.T) {
	for n := 0; n <= 18; n++ {
		name := "abcdefghijklmnopqrstuvwxyz"[:n]
		k := newKeyMatch(name)
		keys := []string{name, name + "x", "x" + name}
		if n > 0 {
			keys = append(keys, name[:n-1])
		}
		for i := range n {
			keys = append(keys, name[:i]+"?"+name[i+1:])
		}
		for _, key := range keys {
			for _, tail := range []string{"", ":1}", `:"0123456789abcdef"}`} {
				b := []byte(`"` + key + `"` + tail)
				want := key == name
				if got := k.at(b, 0); got != want {
					t.Errorf("name %q, input %q: at = %v, want %v", name, b, got, want)
				}
				if got := expectKey(b, 0, name); got != want {
					t.Errorf("name %q, input %q: expectKey = %v, want %v", name, b, got, want)
				}
			}
		}
		// The key's closing quote missing at the end of the buffer.
		if k.at([]byte(`"`+name), 0) {
			t.Errorf("name %q matched a key without its closing quote", name)
		}
	}
	for _, name := range []string{`a"b`, `back\slash`, "tab\there", "bad\xffutf8"} {
		k := newKeyMatch(name)
		b := []byte(fmt.Sprintf("%q:1}", name))
		if k.plain || k.at(b, 0) {
			t.Errorf("name %q needs escaping in JSON: it must be scanned, not matched", name)
		}
	}
}

// TestScanJSONFloat: the one-pass float takes the common numbers and
// leaves every other to the two-pass path (FuzzScanners holds the two to
// the same result where it takes one).
func TestScanJSONFloat(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"12345.67,", 12345.67, true},
		{"-0.5}", -0.5, true},
		{"0", 0, true},
		{"7 ", 7, true},
		{"123456789012345", 123456789012345, true},
		{"1234567890123456", 0, false}, // 16 digits
		{"1e5", 0, false},
		{"2.5E-1", 0, false},
		{"01", 0, false},
		{"1.", 0, false},
		{".5", 0, false},
		{"-", 0, false},
		{"1.2.3", 0, false},
		{"x", 0, false},
	} {
		got, end, ok := scanJSONFloat([]byte(c.in), 0)
		if ok != c.ok || ok && (got != c.want || end != len(strings.TrimRight(c.in, ",} "))) {
			t.Errorf("scanJSONFloat(%q) = %v, %d, %v; want %v, %v", c.in, got, end, ok, c.want, c.ok)
		}
	}
}
