package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestProfilesWritten checks that each profile the environment names is
// written when the command stops, and that one that cannot be written is
// said on stderr without stopping the others.
func TestProfilesWritten(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{CPUProfileEnv: "cpu.prof", TraceEnv: "trace.out", AllocsProfileEnv: "allocs.prof"}
	for env, name := range files {
		t.Setenv(env, filepath.Join(dir, name))
	}
	var stderr bytes.Buffer
	stop := startProfiles(&stderr)
	_ = bytes.Repeat([]byte("garbage "), 1<<16) // something allocated
	stop()
	if stderr.Len() > 0 {
		t.Fatalf("stderr: %s", stderr.String())
	}
	for env, name := range files {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %d bytes, %v", env, len(b), err)
		}
		// Profiles are gzip'd protocol buffers; a trace starts with its header.
		if env != TraceEnv && !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
			t.Errorf("%s: not a gzip'd profile: % x", env, b[:min(len(b), 8)])
		}
	}

	t.Setenv(AllocsProfileEnv, filepath.Join(dir, "missing", "allocs.prof"))
	t.Setenv(CPUProfileEnv, "")
	t.Setenv(TraceEnv, "")
	stderr.Reset()
	startProfiles(io.Writer(&stderr))()
	if !bytes.Contains(stderr.Bytes(), []byte(AllocsProfileEnv)) {
		t.Errorf("an unwritable allocation profile said nothing: %q", stderr.String())
	}
}
