package tempspace

import (
	"errors"
	"io"
	"os"
	"testing"
)

func TestBudget(t *testing.T) {
	b := New(t.TempDir(), 10)
	f1, err := b.Create("a-*.tmp")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f1.Write([]byte("123456")); err != nil {
		t.Fatal(err)
	}
	f2, err := b.Create("b-")
	if err != nil {
		t.Fatal(err)
	}
	_, err = f2.Write([]byte("12345"))
	var full *FullError
	if !errors.As(err, &full) || !errors.Is(err, ErrFull) || full.Alone {
		t.Fatalf("write over a shared budget: %v, want a FullError, not alone", err)
	}
	if _, err := f2.Write([]byte("1234")); err != nil {
		t.Fatalf("write within the budget: %v", err)
	}
	if _, err := f1.Write([]byte("12345678901")); !errors.As(err, &full) || !full.Alone {
		t.Fatalf("write no budget could hold: %v, want Alone", err)
	}
	if b.Used() != 10 {
		t.Fatalf("used %d, want 10", b.Used())
	}
	got := make([]byte, 6)
	if _, err := f1.ReadAt(got, 0); err != nil && err != io.EOF || string(got) != "123456" {
		t.Fatalf("read back %q, %v", got, err)
	}
	name := f1.Name()
	if err := f1.Remove(); err != nil {
		t.Fatal(err)
	}
	if err := f1.Remove(); err != nil {
		t.Fatalf("second Remove: %v", err)
	}
	if _, err := os.Stat(name); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("removed file still there: %v", err)
	}
	if b.Used() != 4 {
		t.Fatalf("used %d after removing 6 bytes, want 4", b.Used())
	}
	_ = f2.Remove()
}

func TestUnlimited(t *testing.T) {
	b := New(t.TempDir(), 0)
	f, err := b.Create("x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	if _, err := f.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
}
