package cli

import (
	"fmt"
	"strings"
	"testing"
)

// TestCSVDetectedDialectLoad: a folder of semicolon files, with no csv
// options at all, loads into its real columns rather than one wide one.
func TestCSVDetectedDialectLoad(t *testing.T) {
	e := newLoadEnv(t)
	e.put("semi/a.csv", []byte("id;name;price\n1;\"x;y\";1,5\n2;b;2,5\n"))
	e.put("semi/b.csv", []byte("id;name;price\n3;c;3\n4;d;4,25\n5;e;5\n"))
	cfg := e.writeConfig("  - { name: semi, prefix: semi/ }", "")
	code, stdout, stderr := runCLI(t, "run", "--config", cfg)
	if code != ExitOK {
		t.Fatalf("s3load run exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	m := verifyTable(t, e.out, "semi", 5, 2)
	var cols []string
	for _, f := range m.Schema {
		cols = append(cols, fmt.Sprintf("%s:%s", f.Name, f.Type))
	}
	if got := strings.Join(cols, ","); got != "id:int64,name:utf8,price:utf8" {
		t.Errorf("columns = %s, want id:int64,name:utf8,price:utf8", got)
	}
}
