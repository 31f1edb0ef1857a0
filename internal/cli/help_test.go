package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryCommandHasHelpWithExamples: `s3load <command> --help` exits 0
// and shows the synopsis, examples and flags, for every command the usage
// lists (and the usage lists only commands that exist).
func TestEveryCommandHasHelpWithExamples(t *testing.T) {
	for _, h := range helps() {
		if h.name == "version" {
			continue
		}
		t.Run(h.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := Main(context.Background(), []string{h.name, "--help"}, &stdout, &stderr); code != ExitOK {
				t.Fatalf("exit %d:\n%s%s", code, stdout.String(), stderr.String())
			}
			out := stderr.String()
			for _, want := range []string{"usage: s3load " + h.name, "examples:\n  s3load", "flags (each also read from S3LOAD_"} {
				if !strings.Contains(out, want) && !strings.Contains(out, strings.Replace(want, "  s3load", "  source", 1)) {
					t.Errorf("--help lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// TestFlagsFromEnvironment: a flag not given is read from S3LOAD_<NAME>;
// one given on the command line wins; a bad value names the variable.
func TestFlagsFromEnvironment(t *testing.T) {
	env := map[string]string{"S3LOAD_LOG_LEVEL": "debug", "S3LOAD_WORKERS": "4", "S3LOAD_NATS": "nats://env:4222"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	level := fs.String("log-level", "info", "")
	workers := fs.Int("workers", 0, "")
	nats := fs.String("nats", "", "")
	state := fs.String("state-dir", "default", "")
	if err := fs.Parse([]string{"--nats", "nats://flag:4222"}); err != nil {
		t.Fatal(err)
	}
	if err := applyEnv(fs, lookup); err != nil {
		t.Fatal(err)
	}
	if *level != "debug" || *workers != 4 || *nats != "nats://flag:4222" || *state != "default" {
		t.Fatalf("log-level %q workers %d nats %q state-dir %q; want debug, 4, the flag's URL, the default", *level, *workers, *nats, *state)
	}
	env["S3LOAD_WORKERS"] = "many"
	fs = flag.NewFlagSet("run", flag.ContinueOnError)
	fs.Int("workers", 0, "")
	err := applyEnv(fs, lookup)
	if err == nil || !strings.Contains(err.Error(), "S3LOAD_WORKERS (for --workers)") {
		t.Fatalf("err = %v, want it to name S3LOAD_WORKERS", err)
	}
}

// TestFlagsFromEnvironmentThroughMain: the variables reach a real command.
func TestFlagsFromEnvironmentThroughMain(t *testing.T) {
	t.Setenv("S3LOAD_CONCURRENCY", "lots")
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"worker", "--config", filepath.Join(t.TempDir(), "none.yaml")}, &stdout, &stderr)
	if code != ExitUsage || !strings.Contains(stderr.String(), "S3LOAD_CONCURRENCY (for --concurrency)") {
		t.Fatalf("exit %d, %s; want exit 2 naming S3LOAD_CONCURRENCY", code, stderr.String())
	}
}

// TestBashCompletion runs the generated script in bash.
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash is needed to test its completion script:", err)
	}
	var script, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"completion", "bash"}, &script, &stderr); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "s3load.bash")
	if err := os.WriteFile(path, script.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "load.yaml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		words string
		want  string
	}{
		{"s3load ru", "run"},
		{"s3load st", "status"},
		{"s3load run --con", "--config"},
		{"s3load worker --conc", "--concurrency"},
		{"s3load run --config lo", "load.yaml"},
	} {
		words := strings.Fields(c.words)
		cmd := exec.Command(bash, "-c", `source "$1"; COMP_WORDS=(`+c.words+`); COMP_CWORD=`+
			strings.TrimSpace(string(rune('0'+len(words)-1)))+`; _s3load; echo "${COMPREPLY[*]}"`, "bash", path)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", c.words, err, out)
		}
		if got := strings.TrimSpace(string(out)); got != c.want {
			t.Errorf("completing %q: %q, want %q", c.words, got, c.want)
		}
	}
	for _, shell := range []string{"zsh", "fish"} {
		var out bytes.Buffer
		if code := Main(context.Background(), []string{"completion", shell}, &out, &stderr); code != ExitOK || !strings.Contains(out.String(), "config") {
			t.Errorf("completion %s: exit %d, %d bytes", shell, code, out.Len())
		}
	}
}
