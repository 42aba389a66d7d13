package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/evaluate"
	"github.com/facereg/facereg/internal/vision"
)

func runEval(ctx context.Context, args []string) error {
	fs := newFlags("eval")
	var ef engineFlags
	ef.register(fs)
	pairs := fs.String("pairs", "", "CSV of verification pairs: img_a,img_b,same (a header row is allowed)")
	root := fs.String("root", "", "directory the pair paths are relative to (default: the CSV's directory)")
	live := fs.String("liveness", "", "directory with real/ and fake/ subfolders of images")
	thr := fs.Float64("threshold", 0, "threshold to report FMR/FNMR or APCER/BPCER at (0: the pack's default)")
	progress := fs.Bool("progress", false, "show a progress bar on stderr")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: facereg eval --pairs CSV [--root DIR] | --liveness DIR [flags]")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if (*pairs == "") == (*live == "") {
		fs.Usage()
		return errUsage
	}
	eng, err := ef.open()
	if err != nil {
		return err
	}
	defer eng.Close()
	if *pairs != "" {
		if *root == "" {
			*root = filepath.Dir(*pairs)
		}
		t := *thr
		if t == 0 {
			t = eng.Thresholds().Match
		}
		rep, err := evalPairs(ctx, eng, *pairs, *root, t, *progress)
		if err != nil {
			return err
		}
		return printJSON(rep)
	}
	t := *thr
	if t == 0 {
		t = eng.Thresholds().Liveness
	}
	rep, err := evalLiveness(ctx, eng, *live, t, *progress)
	if err != nil {
		return err
	}
	return printJSON(rep)
}

type pairsReport struct {
	Model string `json:"model"`
	evaluate.Verification
	NoFace []string `json:"no_face"`
}

func evalPairs(ctx context.Context, eng *vision.Engine, csvPath, root string, thr float64, progress bool) (*pairsReport, error) {
	f, err := os.Open(csvPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = 3
	var rows [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", csvPath, err)
		}
		if len(rows) == 0 && strings.EqualFold(strings.TrimSpace(rec[2]), "same") {
			continue
		}
		rows = append(rows, rec)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no pairs", csvPath)
	}
	cache := map[string]*facereg.Template{}
	noFace := map[string]bool{}
	get := func(p string) (*facereg.Template, error) {
		if t, ok := cache[p]; ok {
			return t, nil
		}
		t, err := templateOf(ctx, eng, filepath.Join(root, p))
		var fe *facereg.Error
		if errors.As(err, &fe) && fe.Code == facereg.NoFace {
			noFace[p] = true
			cache[p] = nil
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		cache[p] = &t
		return &t, nil
	}
	bar := newBar(progress, len(rows))
	var ps []evaluate.Pair
	for _, rec := range rows {
		a, err := get(strings.TrimSpace(rec[0]))
		if err != nil {
			return nil, err
		}
		b, err := get(strings.TrimSpace(rec[1]))
		if err != nil {
			return nil, err
		}
		same := strings.TrimSpace(rec[2]) == "1" || strings.EqualFold(strings.TrimSpace(rec[2]), "true")
		// A pair with no face counts as a non-match (score -1): it is an
		// error of the system, not a pair to drop.
		score := -1.0
		if a != nil && b != nil {
			if score, err = vision.Similarity(*a, *b); err != nil {
				return nil, err
			}
		}
		ps = append(ps, evaluate.Pair{Score: score, Same: same})
		bar.step()
	}
	bar.done()
	rep := &pairsReport{Model: eng.ModelID(), Verification: evaluate.Verify(ps, thr), NoFace: []string{}}
	for p := range noFace {
		rep.NoFace = append(rep.NoFace, p)
	}
	sort.Strings(rep.NoFace)
	return rep, nil
}

type livenessReport struct {
	Model string `json:"model"`
	evaluate.Liveness
	Scores map[string]float64 `json:"scores"`
	NoFace []string           `json:"no_face"`
}

func evalLiveness(ctx context.Context, eng *vision.Engine, dir string, thr float64, progress bool) (*livenessReport, error) {
	var files [2][]string
	for i, sub := range []string{"real", "fake"} {
		es, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			return nil, fmt.Errorf("liveness set: %w (want real/ and fake/ subfolders)", err)
		}
		for _, e := range es {
			if !e.IsDir() {
				files[i] = append(files[i], filepath.Join(sub, e.Name()))
			}
		}
	}
	rep := &livenessReport{Model: eng.Manifest().Models[vision.RoleLiveness].ID, Scores: map[string]float64{}, NoFace: []string{}}
	bar := newBar(progress, len(files[0])+len(files[1]))
	var scores [2][]float64
	for i := range files {
		for _, f := range files[i] {
			data, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				return nil, err
			}
			a, err := eng.AnalyzeBytes(ctx, data, vision.Options{Liveness: true})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			bar.step()
			if len(a.Faces) == 0 {
				rep.NoFace = append(rep.NoFace, f)
				continue
			}
			s := *a.Faces[0].Liveness
			rep.Scores[f] = s
			scores[i] = append(scores[i], s)
		}
	}
	bar.done()
	rep.Liveness = evaluate.Live(scores[0], scores[1], thr)
	return rep, nil
}

// bar is a one-line progress bar on stderr.
type bar struct {
	on     bool
	n, max int
}

func newBar(on bool, max int) *bar { return &bar{on: on, max: max} }

func (b *bar) step() {
	b.n++
	if !b.on {
		return
	}
	const w = 40
	fill := w * b.n / b.max
	fmt.Fprintf(os.Stderr, "\r[%s%s] %d/%d", strings.Repeat("#", fill), strings.Repeat(".", w-fill), b.n, b.max)
}

func (b *bar) done() {
	if b.on {
		fmt.Fprintln(os.Stderr)
	}
}
