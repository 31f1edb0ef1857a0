package partstats

import (
	"bytes"
	"math"
	"testing"
)

func TestMinimalTwos(t *testing.T) {
	cases := []struct {
		v    int64
		want []byte
	}{
		{0, []byte{0x00}},
		{1, []byte{0x01}},
		{-1, []byte{0xff}},
		{127, []byte{0x7f}},
		{128, []byte{0x00, 0x80}},
		{-128, []byte{0x80}},
		{-129, []byte{0xff, 0x7f}},
		{255, []byte{0x00, 0xff}},
		{-256, []byte{0xff, 0x00}},
		{32767, []byte{0x7f, 0xff}},
		{-32768, []byte{0x80, 0x00}},
		{math.MaxInt64, []byte{0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{math.MinInt64, []byte{0x80, 0, 0, 0, 0, 0, 0, 0}},
	}
	for _, tc := range cases {
		if got := minimalTwos(tc.v); !bytes.Equal(got, tc.want) {
			t.Errorf("minimalTwos(%d) = %x, want %x", tc.v, got, tc.want)
		}
	}
}

func TestCompareTwos(t *testing.T) {
	cases := []struct {
		a, b []byte
		want int
	}{
		{[]byte{0x01}, []byte{0x00, 0x01}, 0},
		{[]byte{0xff}, []byte{0xff, 0xff}, 0},
		{[]byte{0xff}, []byte{0x00}, -1},
		{[]byte{0x80}, []byte{0xff, 0x7f}, 1},  // -128 > -129
		{[]byte{0x00, 0x80}, []byte{0x7f}, 1},  // 128 > 127
		{[]byte{0xff, 0x00}, []byte{0x80}, -1}, // -256 < -128
		{[]byte{0x01, 0x00, 0x00}, []byte{0x7f, 0xff}, 1},
	}
	for _, tc := range cases {
		if got := compareTwos(tc.a, tc.b); got != tc.want {
			t.Errorf("compareTwos(%x, %x) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := compareTwos(tc.b, tc.a); got != -tc.want {
			t.Errorf("compareTwos(%x, %x) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
}

func TestTruncateString(t *testing.T) {
	cases := []struct {
		name, in     string
		lower, upper string
		noUpper      bool
	}{
		{name: "short", in: "abc", lower: "abc", upper: "abc"},
		{name: "exactly 16", in: "0123456789abcdef", lower: "0123456789abcdef", upper: "0123456789abcdef"},
		{name: "long", in: "0123456789abcdefXYZ", lower: "0123456789abcdef", upper: "0123456789abcdeg"},
		{name: "counts code points", in: "ééééééééééééééééé", lower: "éééééééééééééééé", upper: "éééééééééééééééê"},
		{name: "max code point carries", in: "0123456789abcde\U0010FFFFz", lower: "0123456789abcde\U0010FFFF", upper: "0123456789abcdf"},
		{name: "skips surrogates", in: "0123456789abcde\uD7FFz", lower: "0123456789abcde\uD7FF", upper: "0123456789abcde\uE000"},
		{name: "all max", in: "\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF",
			lower: "\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF", noUpper: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := truncateStringLower([]byte(tc.in)); string(got) != tc.lower {
				t.Errorf("lower %q, want %q", got, tc.lower)
			}
			got := truncateStringUpper([]byte(tc.in))
			if tc.noUpper {
				if got != nil {
					t.Errorf("upper %q, want none", got)
				}
				return
			}
			if string(got) != tc.upper {
				t.Errorf("upper %q, want %q", got, tc.upper)
			}
			if !(tc.lower <= tc.in && tc.in <= string(got)) {
				t.Errorf("%q not within [%q, %q]", tc.in, tc.lower, got)
			}
		})
	}
}

func TestTruncateBinary(t *testing.T) {
	ff := bytes.Repeat([]byte{0xff}, 17)
	cases := []struct {
		name         string
		in           []byte
		lower, upper []byte
	}{
		{"short", []byte{1, 2, 0xff}, []byte{1, 2, 0xff}, []byte{1, 2, 0xff}},
		{"long", append(bytes.Repeat([]byte{1}, 16), 9), bytes.Repeat([]byte{1}, 16), append(bytes.Repeat([]byte{1}, 15), 2)},
		{"carry", append(append(bytes.Repeat([]byte{1}, 14), 0xff, 0xff), 0), append(bytes.Repeat([]byte{1}, 14), 0xff, 0xff), append(bytes.Repeat([]byte{1}, 13), 2)},
		{"all 0xff", ff, ff[:16], nil},
	}
	for _, tc := range cases {
		if got := truncateBinaryLower(tc.in); !bytes.Equal(got, tc.lower) {
			t.Errorf("%s: lower %x, want %x", tc.name, got, tc.lower)
		}
		if got := truncateBinaryUpper(tc.in); !bytes.Equal(got, tc.upper) || (got == nil) != (tc.upper == nil) {
			t.Errorf("%s: upper %x, want %x", tc.name, got, tc.upper)
		}
	}
}
