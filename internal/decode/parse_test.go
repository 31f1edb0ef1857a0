package decode

import (
	"math"
	"testing"
	"time"
)

func TestParseInt(t *testing.T) {
	tests := []struct {
		in   string
		bits int
		want int64
		err  error
	}{
		{"0", 64, 0, nil},
		{"-9223372036854775808", 64, math.MinInt64, nil},
		{"9223372036854775807", 64, math.MaxInt64, nil},
		{"9223372036854775808", 64, 0, errRange},
		{"-9223372036854775809", 64, 0, errRange},
		{"18446744073709551616", 64, 0, errRange},
		{"+12", 8, 12, nil},
		{"-128", 8, -128, nil},
		{"128", 8, 0, errRange},
		{"", 64, 0, errSyntax},
		{"-", 64, 0, errSyntax},
		{"1.0", 64, 0, errSyntax},
		{"1_000", 64, 0, errSyntax},
	}
	for _, tc := range tests {
		got, err := parseInt([]byte(tc.in), tc.bits)
		if got != tc.want || err != tc.err {
			t.Errorf("parseInt(%q, %d) = %d, %v; want %d, %v", tc.in, tc.bits, got, err, tc.want, tc.err)
		}
	}
	if v, err := parseUint([]byte("18446744073709551615"), 64); v != math.MaxUint64 || err != nil {
		t.Errorf("parseUint max: %d %v", v, err)
	}
	if _, err := parseUint([]byte("-1"), 64); err == nil {
		t.Error("parseUint(-1) did not fail")
	}
}

func TestParseTimestamp(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC 3339 with nanoseconds, "" for an error
	}{
		{"2024-01-02 03:04:05", "2024-01-02T03:04:05Z"},
		{"2024-01-02T03:04:05.123456789Z", "2024-01-02T03:04:05.123456789Z"},
		{"2024-01-02T03:04:05,5", "2024-01-02T03:04:05.5Z"},
		{"2024-01-02T03:04:05+01:30", "2024-01-02T01:34:05Z"},
		{"2024-01-02T03:04:05-0100", "2024-01-02T04:04:05Z"},
		{"2024-01-02t03:04:05-01", "2024-01-02T04:04:05Z"},
		{"2024-01-02 03:04", "2024-01-02T03:04:00Z"},
		{"1969-12-31 23:59:59.5", "1969-12-31T23:59:59.5Z"},
		{"0001-01-01 00:00:00", "0001-01-01T00:00:00Z"},
		{"2024-02-29 00:00:00", "2024-02-29T00:00:00Z"},
		{"2023-02-29 00:00:00", ""},
		{"2024-01-02 24:00:00", ""},
		{"2024-01-02 03:04:05 UTC", ""},
		{"2024-01-02 03:04:05+1", ""},
		{"2024-01-02X03:04:05", ""},
		{"2024-01-02", ""},
	}
	for _, tc := range tests {
		sec, nsec, err := parseTimestamp([]byte(tc.in))
		if tc.want == "" {
			if err == nil {
				t.Errorf("parseTimestamp(%q) did not fail", tc.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseTimestamp(%q): %v", tc.in, err)
			continue
		}
		if got := time.Unix(sec, nsec).UTC().Format(time.RFC3339Nano); got != tc.want {
			t.Errorf("parseTimestamp(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	if _, err := timestampIn(math.MaxInt64/1000, 0, 3); err != errRange {
		t.Error("nanosecond overflow not caught")
	}
	if d, err := parseDate([]byte("1970-01-01")); d != 0 || err != nil {
		t.Errorf("epoch date %d %v", d, err)
	}
	if d, err := parseDate([]byte("1900-03-01")); d != -25508 || err != nil {
		t.Errorf("1900-03-01 = %d %v", d, err)
	}
}

func TestClassify(t *testing.T) {
	tests := map[string]uint8{
		"12": kindInt, "-3": kindInt, "007": kindString, "0": kindInt, "1.5": kindFloat, "1e3": kindFloat,
		"-0.5": kindFloat, ".5": kindFloat, "00.5": kindString, "NaN": kindString, "inf": kindString,
		"true": kindBool, "FALSE": kindBool, "t": kindString, "2024-01-02": kindDate,
		"2024-01-02 10:00:00": kindTimestamp, "2024-13-02": kindString, "abc": kindString, " 42 ": kindInt,
		"99999999999999999999": kindFloat,
	}
	for in, want := range tests {
		if got := classify([]byte(in)); got != want {
			t.Errorf("classify(%q) = %d, want %d", in, got, want)
		}
	}
}
