package cli

import (
	"fmt"
	"os"
	"slices"
	"testing"
)

// Under run, each small file the pre-flight reads whole loads from its
// spool on the temporary disk: one GET a file, and the spool gone when the
// load ends. With no room on the temporary disk, each file is read again
// for its load, and the table holds the same rows.
func TestRunSpoolsProbedFiles(t *testing.T) {
	e := newLoadEnv(t)
	const files, rows = 12, 10
	e.putCSVs("s/", files, rows)
	var tables [][]string
	for _, tc := range []struct {
		name, limits string
		getsPerFile  int
	}{
		{"spooled", "", 1},
		{"no room to spool", ", max_temp_bytes: 1", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			temp := t.TempDir()
			cfg := e.writeConfig("  - { name: s, prefix: s/ }", fmt.Sprintf("limits: { temp_dir: %s%s }", temp, tc.limits))
			_, loaded, reads := e.runReport(t, cfg, "--full-reload")
			if loaded != files {
				t.Errorf("%d files loaded, want %d", loaded, files)
			}
			for _, k := range keysOf(reads) {
				if reads[k] != tc.getsPerFile {
					t.Errorf("%s read %d times, want %d", k, reads[k], tc.getsPerFile)
				}
			}
			if len(reads) != files {
				t.Errorf("%d files read, want %d", len(reads), files)
			}
			if left, err := os.ReadDir(temp); err != nil || len(left) != 0 {
				t.Errorf("the temporary directory holds %v (%v) after the load", left, err)
			}
			tables = append(tables, plainSorted(t, e.out, "s", files*rows, files))
		})
	}
	if len(tables) == 2 && !slices.Equal(tables[0], tables[1]) {
		t.Errorf("the table loaded from the spool (%d rows) differs from the one read twice (%d rows)", len(tables[0]), len(tables[1]))
	}
}
