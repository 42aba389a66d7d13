package ort

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// cache finds the .cache directory that make setup fills.
func cache(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("FACEREG_CACHE"); d != "" {
		return d
	}
	wd, _ := os.Getwd()
	for d := wd; filepath.Dir(d) != d; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".cache", "lib")); err == nil {
			return filepath.Join(d, ".cache")
		}
	}
	t.Fatal("no .cache with the ONNX Runtime library above the test directory: run 'make setup'")
	return ""
}

func TestSessionRunsConcurrentlyAndCloses(t *testing.T) {
	c := cache(t)
	if err := Init(filepath.Join(c, "lib", "libonnxruntime.so")); err != nil {
		t.Fatal(err)
	}
	if err := Init("/elsewhere/libonnxruntime.so"); err == nil || !strings.Contains(err.Error(), "already loaded") {
		t.Fatalf("second Init with another path: %v", err)
	}
	if _, err := NewSession(filepath.Join(c, "models", "default", "missing.onnx"), 1, ""); err == nil {
		t.Fatal("missing model accepted")
	}
	if _, err := NewSession(filepath.Join(c, "models", "default", "fr_eye.onnx"), 1, "turbo"); err == nil {
		t.Fatal("unknown optimisation level accepted")
	}
	s, err := NewSession(filepath.Join(c, "models", "default", "fr_eye.onnx"), 2, "")
	if err != nil {
		t.Fatal(err)
	}
	in := make([]float32, 24*24)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := s.Run(in, 1, 1, 24, 24)
			if err != nil || len(out) != 1 || len(out[0]) != 2 {
				t.Errorf("run: %v %v", err, out)
			}
		}()
	}
	wg.Wait()
	if _, err := s.Run(make([]float32, 3), 1, 1, 24, 24); err == nil {
		t.Error("wrong input size accepted")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
