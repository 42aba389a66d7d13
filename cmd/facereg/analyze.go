package main

import (
	"context"
	"fmt"
	"os"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/vision"
)

type analyzeResult struct {
	File             string     `json:"file"`
	Error            *errorJSON `json:"error,omitempty"`
	Model            string     `json:"model,omitempty"`
	*vision.Analysis `json:",omitempty"`
}

type errorJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func runAnalyze(ctx context.Context, args []string) error {
	fs := newFlags("analyze")
	var ef engineFlags
	ef.register(fs)
	emb := fs.Bool("embedding", false, "include the face embedding vector")
	all := fs.Bool("all-faces", true, "analyse every face, not only the largest")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: facereg analyze [flags] FILE...\n\nPrints one JSON object per image: faces, measurements, checks and the verdict.")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	eng, err := ef.open()
	if err != nil {
		return err
	}
	defer eng.Close()
	var out []analyzeResult
	failed := 0
	for _, f := range fs.Args() {
		r := analyzeResult{File: f}
		data, err := os.ReadFile(f)
		if err == nil {
			r.Analysis, err = eng.AnalyzeBytes(ctx, data, vision.Options{Liveness: true, Embedding: *emb, AllFaces: *all})
		}
		if err != nil {
			failed++
			r.Error = &errorJSON{Code: facereg.ErrorCode(err), Message: err.Error()}
			fmt.Fprintf(os.Stderr, "%s: %v\n", f, err)
		} else {
			r.Model = eng.ModelID()
		}
		out = append(out, r)
	}
	if err := printJSON(out); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d images could not be analysed", failed, len(out))
	}
	return nil
}
