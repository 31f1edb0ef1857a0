package cli

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// randomCSV is n rows of incompressible text: its parts take about the
// space of its data.
func randomCSV(first, n int) []byte {
	var b bytes.Buffer
	b.WriteString("id,blob\n")
	buf := make([]byte, 24)
	for i := range n {
		_, _ = rand.Read(buf)
		fmt.Fprintf(&b, "%d,%s\n", first+i, hex.EncodeToString(buf))
	}
	return b.Bytes()
}

// dirBytes sums the sizes of the files below dir.
func dirBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The target's disk full mid-load: a clear error and exit 1; the failed
// load's parts do not hold the space forever: the next load of the table
// removes them first, so a disk big enough for one load then succeeds. The
// target is a small tmpfs, mounted in a user and mount namespace of the
// s3load process (unshare), so the test needs no privileges.
func TestTargetDiskFull(t *testing.T) {
	bin := s3loadBinary(t)
	e := newLoadEnv(t)
	const files = 24
	for i := range files {
		e.put(fmt.Sprintf("t/f%02d.csv", i), randomCSV(i*2000, 2000))
	}
	// The space one load's parts take, measured on a plain directory.
	measure := e.writeConfig("  - { name: t, prefix: t/ }", "batch: { files: 1 }")
	if code, stdout, stderr := runCLI(t, "run", "--config", measure); code != ExitOK {
		t.Fatalf("measuring load: exit %d\n%s\n%s", code, stdout, stderr)
	}
	load := dirBytes(t, filepath.Join(e.out, ".s3load"))
	t.Logf("one load's parts take %d bytes", load)

	full := t.TempDir() // the tmpfs's mount point
	e.out = full
	cfg := e.writeConfig("  - { name: t, prefix: t/ }", "batch: { files: 1 }")
	copyOut, logs := t.TempDir(), t.TempDir()
	small, big := load*6/10, load*14/10
	script := fmt.Sprintf(`
mount -t tmpfs -o size=%d tmpfs %[2]s || exit 90
%[3]s run --config %[4]s --log-level info > %[5]s/first.out 2>&1; echo $? > %[5]s/first.code
mount -o remount,size=%[6]d %[2]s || exit 91
%[3]s run --config %[4]s --full-reload --log-level info > %[5]s/second.out 2>&1; echo $? > %[5]s/second.code
cp -a %[2]s/. %[7]s/
`, small, full, bin, cfg, logs, big, copyOut)
	cmd := exec.Command("unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script)
	cmd.Env = os.Environ()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("running s3load on a small tmpfs: %v\n%s", err, out)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(logs, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if code := strings.TrimSpace(read("first.code")); code != "1" {
		t.Fatalf("full disk: exit %s, want 1\n%s", code, read("first.out"))
	}
	mustContain(t, "full disk report", read("first.out"), "NOT every table committed", "no space left", "free space")
	if code := strings.TrimSpace(read("second.code")); code != "0" {
		t.Fatalf("a disk for one load, after the failed one: exit %s, want 0 (the failed load's parts should have been removed)\n%s",
			code, read("second.out"))
	}
	verifyTable(t, copyOut, "t", files*2000, files)
}
