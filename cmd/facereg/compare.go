package main

import (
	"context"
	"fmt"
	"os"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/vision"
)

func runCompare(ctx context.Context, args []string) error {
	fs := newFlags("compare")
	var ef engineFlags
	ef.register(fs)
	thr := fs.Float64("threshold", 0, "match threshold (0: the model pack's default)")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: facereg compare [flags] IMAGE_A IMAGE_B\n\nCompares the largest face of each image.")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return errUsage
	}
	eng, err := ef.open()
	if err != nil {
		return err
	}
	defer eng.Close()
	var tpl [2]facereg.Template
	for i, f := range fs.Args() {
		t, err := templateOf(ctx, eng, f)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		tpl[i] = t
	}
	sim, err := vision.Similarity(tpl[0], tpl[1])
	if err != nil {
		return err
	}
	t := *thr
	if t == 0 {
		t = eng.Thresholds().Match
	}
	return printJSON(map[string]any{
		"image_a": fs.Arg(0), "image_b": fs.Arg(1), "model": eng.ModelID(),
		"similarity": sim, "threshold": t, "match": sim >= t,
	})
}

// templateOf returns the template of the largest face in the image file.
func templateOf(ctx context.Context, eng *vision.Engine, path string) (facereg.Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return facereg.Template{}, err
	}
	a, err := eng.AnalyzeBytes(ctx, data, vision.Options{Embedding: true})
	if err != nil {
		return facereg.Template{}, err
	}
	t, ok := eng.Template(a)
	if !ok {
		return facereg.Template{}, facereg.Errorf(facereg.NoFace, "no face found")
	}
	return t, nil
}
