package vision

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"image"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"golang.org/x/image/draw"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/evaluate"
	"github.com/facereg/facereg/internal/imageio"
)

// faces is the shared labelled image set (../shared/faces beside the checkout).
var faces = filepath.Join("..", "..", "..", "shared", "faces")

var (
	engOnce sync.Once
	eng     *Engine
	engErr  error
)

// engine opens the default pack once for all tests. It fails (never skips)
// when the runtime or the models are missing: run 'make setup'.
func engine(t testing.TB) *Engine {
	t.Helper()
	engOnce.Do(func() { eng, engErr = Open(DefaultConfig()) })
	if engErr != nil {
		t.Fatalf("open engine (run 'make setup' to fetch ONNX Runtime and the models): %v", engErr)
	}
	return eng
}

func readFace(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(faces, rel))
	if err != nil {
		t.Fatalf("test image missing (the shared faces set must sit at %s): %v", faces, err)
	}
	return b
}

func analyze(t testing.TB, data []byte, o Options) *Analysis {
	t.Helper()
	a, err := engine(t).AnalyzeBytes(context.Background(), data, o)
	if err != nil {
		t.Fatalf("analyze: %v", err)
	}
	return a
}

func glob(t testing.TB, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(faces, pattern))
	if err != nil || len(m) == 0 {
		t.Fatalf("no test images match %s under %s", pattern, faces)
	}
	return m
}

func hasReason(a *Analysis, code string) bool {
	for _, r := range a.Reasons {
		if r == code {
			return true
		}
	}
	return false
}

func TestHardCases(t *testing.T) {
	for _, tc := range []struct {
		dir, code string
	}{
		{"hard_cases/no_face/*", facereg.NoFace},
		{"hard_cases/multi_face/*", facereg.MultipleFaces},
		{"hard_cases/tiny_face/*", facereg.FaceTooSmall},
		{"hard_cases/partial_face/*", facereg.FaceCropped},
	} {
		for _, f := range glob(t, tc.dir) {
			data, _ := os.ReadFile(f)
			a := analyze(t, data, Options{Liveness: true})
			if !hasReason(a, tc.code) || a.Accepted {
				t.Errorf("%s: reasons %v, want %s", filepath.Base(f), a.Reasons, tc.code)
			}
		}
	}
}

func TestGoodPhotosAccepted(t *testing.T) {
	for _, f := range []string{
		"identities/fr_obama/obama.jpg", "hard_cases/low_res/fr_obama_small.jpg",
		"hard_cases/format/fr_32bit_rgba.jpg", "hard_cases/illumination_greyscale/yale_subject02_glasses.png",
		"spoof/real/silentface_image_T1.jpg",
	} {
		a := analyze(t, readFace(t, f), Options{Liveness: true, Embedding: true})
		if !a.Accepted || len(a.Faces) != 1 {
			t.Errorf("%s: accepted=%v reasons=%v faces=%d", f, a.Accepted, a.Reasons, len(a.Faces))
			continue
		}
		fc := a.Faces[0]
		if len(fc.Embedding) != 512 || fc.Liveness == nil || fc.IPD <= 0 {
			t.Errorf("%s: incomplete face %+v", f, fc)
		}
		for _, c := range fc.Checks {
			if c.Code == "" || c.Unit == "" || c.Message == "" {
				t.Errorf("%s: check without code, unit or message: %+v", f, c)
			}
		}
	}
}

// The Silent-Face set: one live full frame and a print and a screen replay of
// the same scene. Frames are stored sideways with EXIF orientation 6.
func TestSilentFaceLiveness(t *testing.T) {
	live := analyze(t, readFace(t, "spoof/real/silentface_image_T1.jpg"), Options{Liveness: true})
	if !live.Accepted {
		t.Errorf("live frame refused: %v (liveness %.3f)", live.Reasons, *live.Faces[0].Liveness)
	}
	if live.Orientation != 6 || live.Width >= live.Height {
		t.Errorf("EXIF orientation not applied: orientation %d, %dx%d", live.Orientation, live.Width, live.Height)
	}
	for _, f := range []string{"spoof/fake/silentface_image_F1.jpg", "spoof/fake/silentface_image_F2.jpg"} {
		a := analyze(t, readFace(t, f), Options{Liveness: true})
		if !hasReason(a, facereg.LivenessFailed) {
			t.Errorf("%s: spoof not refused: %v", f, a.Reasons)
		}
		for _, c := range a.Faces[0].Checks {
			if c.Code == facereg.LivenessFailed && (c.Passed || c.Threshold != engine(t).Thresholds().Liveness) {
				t.Errorf("%s: liveness check %+v", f, c)
			}
		}
	}
}

func TestExifRotationFindsUprightFace(t *testing.T) {
	data := readFace(t, "spoof/real/silentface_image_T1.jpg")
	a := analyze(t, data, Options{})
	if len(a.Faces) != 1 {
		t.Fatalf("faces %d", len(a.Faces))
	}
	// Upright: the eyes are above the mouth and roughly level.
	l := a.Faces[0].Landmarks
	if !(l[0].Y < l[3].Y && l[1].Y < l[4].Y) || math.Abs(a.Faces[0].Pose.Roll) > 20 {
		t.Errorf("face not upright: landmarks %v roll %.1f", l, a.Faces[0].Pose.Roll)
	}
}

func TestLFWPairsAccuracy(t *testing.T) {
	f, err := os.Open(filepath.Join(faces, "verification_lfw", "pairs.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	tpl := map[string][]float32{}
	get := func(p string) []float32 {
		if v, ok := tpl[p]; ok {
			return v
		}
		a := analyze(t, readFace(t, filepath.Join("verification_lfw", p)), Options{Embedding: true})
		var v []float32
		if len(a.Faces) > 0 {
			v = a.Faces[0].Embedding
		}
		tpl[p] = v
		return v
	}
	var ps []evaluate.Pair
	for _, r := range rows[1:] {
		a, b := get(r[0]), get(r[1])
		s := -1.0
		if a != nil && b != nil {
			s = dot(a, b)
		}
		ps = append(ps, evaluate.Pair{Score: s, Same: r[2] == "1"})
	}
	rep := evaluate.Verify(ps, engine(t).Thresholds().Match)
	t.Logf("LFW 100 pairs: accuracy %.3f (10-fold), FMR %.3f FNMR %.3f at %.2f, genuine min %.3f impostor max %.3f",
		rep.Accuracy, rep.FMR, rep.FNMR, rep.Threshold, rep.GenuineMin, rep.ImpostorMax)
	if rep.Accuracy < 0.97 {
		t.Errorf("LFW accuracy %.3f < 0.97", rep.Accuracy)
	}
	if rep.FMR > 0 {
		t.Errorf("false matches at the default threshold: FMR %.3f", rep.FMR)
	}
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// Every photo of a person matches every other photo of that person, and no
// photo matches another person, at the default threshold; except the pairs
// listed here with their measured similarity.
func TestIdentitiesMatrix(t *testing.T) {
	knownMisses := map[string]float64{ // genuine pairs below the threshold
		"bbt_stuart/stuart4.png|bbt_stuart/stuart5.png": 0.313,
		"bbt_stuart/stuart1.png|bbt_stuart/stuart5.png": 0.354,
		"bbt_stuart/stuart3.png|bbt_stuart/stuart5.png": 0.358,
		"bbt_stuart/stuart2.png|bbt_stuart/stuart5.png": 0.372,
	}
	noFace := map[string]bool{"bbt_leonard/leonard5.png": true} // profile-ish crop, detector misses it
	type item struct {
		name, person string
		v            []float32
	}
	var items []item
	for _, f := range glob(t, "identities/*/*") {
		rel, _ := filepath.Rel(filepath.Join(faces, "identities"), f)
		data, _ := os.ReadFile(f)
		a := analyze(t, data, Options{Embedding: true})
		if len(a.Faces) == 0 {
			if !noFace[rel] {
				t.Errorf("%s: no face", rel)
			}
			continue
		}
		items = append(items, item{rel, filepath.Dir(rel), a.Faces[0].Embedding})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].name < items[j].name })
	thr := engine(t).Thresholds().Match
	for i := range items {
		for j := i + 1; j < len(items); j++ {
			s := dot(items[i].v, items[j].v)
			key := items[i].name + "|" + items[j].name
			same := items[i].person == items[j].person
			switch {
			case same && s < thr:
				if want, ok := knownMisses[key]; !ok || math.Abs(want-s) > 0.03 {
					t.Errorf("genuine pair below threshold: %s %.3f", key, s)
				}
			case !same && s >= thr:
				t.Errorf("impostor pair matches: %s %.3f", key, s)
			}
		}
	}
}

// Synthetic degradations of one good photo give the matching reason codes.
func TestQualityCodesOnDegradedPhoto(t *testing.T) {
	src, _, err := imageio.Decode(readFace(t, "identities/fr_obama/obama.jpg"), imageio.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	mod := func(f func(v float64) float64) *imageio.Image {
		out := &imageio.Image{W: src.W, H: src.H, Pix: make([]byte, len(src.Pix))}
		for i, p := range src.Pix {
			out.Pix[i] = byte(math.Max(0, math.Min(255, f(float64(p)))))
		}
		return out
	}
	check := func(name string, img *imageio.Image, code string) {
		a, err := engine(t).Analyze(context.Background(), img, 1, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !hasReason(a, code) {
			var got []Check
			if len(a.Faces) > 0 {
				got = a.Faces[0].Checks
			}
			t.Errorf("%s: reasons %v, want %s; checks %+v", name, a.Reasons, code, got)
		}
	}
	check("dark", mod(func(v float64) float64 { return v * 0.25 }), facereg.TooDark)
	check("bright", mod(func(v float64) float64 { return 120 + v }), facereg.TooBright)
	check("blur", boxBlur(src, 6), facereg.Blurry)
	check("rolled", rotate(src, 50), facereg.PoseTooLarge)
}

func boxBlur(src *imageio.Image, r int) *imageio.Image {
	out := &imageio.Image{W: src.W, H: src.H, Pix: make([]byte, len(src.Pix))}
	for y := 0; y < src.H; y++ {
		for x := 0; x < src.W; x++ {
			for c := 0; c < 3; c++ {
				var s, n int
				for dy := -r; dy <= r; dy++ {
					for dx := -r; dx <= r; dx++ {
						xx, yy := x+dx, y+dy
						if xx >= 0 && yy >= 0 && xx < src.W && yy < src.H {
							s += int(src.Pix[(yy*src.W+xx)*3+c])
							n++
						}
					}
				}
				out.Pix[(y*src.W+x)*3+c] = byte(s / n)
			}
		}
	}
	return out
}

func rotate(src *imageio.Image, deg float64) *imageio.Image {
	a := deg * math.Pi / 180
	cx, cy := float64(src.W)/2, float64(src.H)/2
	m := Affine{A: math.Cos(a), B: -math.Sin(a), D: math.Sin(a), E: math.Cos(a)}
	m.C = cx - m.A*cx - m.B*cy
	m.F = cy - m.D*cx - m.E*cy
	return warpRGB(src, m, src.W, src.H)
}

func TestBadImagesRefusedWithCodes(t *testing.T) {
	good := readFace(t, "identities/fr_obama/obama.jpg")
	bomb := pngBomb(50000, 50000)
	for _, tc := range []struct {
		name string
		data []byte
		code string
	}{
		{"empty", nil, facereg.ImageEmpty},
		{"truncated", good[:len(good)/2], facereg.ImageInvalid},
		{"corrupt", append(append([]byte{}, good[:600]...), bytes.Repeat([]byte{0x55}, 4000)...), facereg.ImageInvalid},
		{"text", []byte("hello, this is not an image"), facereg.UnsupportedFormat},
		{"gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), facereg.UnsupportedFormat},
		{"oversized", append(append([]byte{}, good...), make([]byte, 16<<20)...), facereg.ImageTooLarge},
		{"bomb", bomb, facereg.ImageTooLarge},
	} {
		_, err := engine(t).AnalyzeBytes(context.Background(), tc.data, Options{})
		var fe *facereg.Error
		if !errors.As(err, &fe) || fe.Code != tc.code {
			t.Errorf("%s: got %v, want %s", tc.name, err, tc.code)
		}
	}
}

func TestTemplatesOfDifferentModelsRefused(t *testing.T) {
	_, err := Similarity(facereg.Template{Model: "a", Vector: []float32{1}}, facereg.Template{Model: "b", Vector: []float32{1}})
	if facereg.ErrorCode(err) != facereg.EMODELMISMATCH {
		t.Fatalf("got %v", err)
	}
	a := analyze(t, readFace(t, "identities/fr_obama/obama.jpg"), Options{Embedding: true})
	tp, ok := engine(t).Template(a)
	if !ok || tp.Model != engine(t).ModelID() || !strings.HasPrefix(tp.Model, "fr_feature@") {
		t.Fatalf("template %v %q", ok, tp.Model)
	}
	if s, err := Similarity(tp, tp); err != nil || math.Abs(s-1) > 1e-5 {
		t.Fatalf("self similarity %v %v", s, err)
	}
}

func TestManifestChecksumMismatch(t *testing.T) {
	dir := t.TempDir()
	def := DefaultConfig()
	m := DefaultManifest()
	md := m.Models[RoleEyes]
	md.SHA256 = strings.Repeat("0", 64)
	m.Models[RoleEyes] = md
	for role, x := range m.Models {
		x.File = filepath.Join(def.Models, x.File)
		m.Models[role] = x
	}
	writeJSON(t, filepath.Join(dir, "manifest.json"), m)
	_, err := Open(Config{Lib: def.Lib, Models: dir})
	if err == nil || !strings.Contains(err.Error(), "fr_eye.onnx") || !strings.Contains(err.Error(), "sha256") {
		t.Fatalf("want checksum error naming fr_eye.onnx, got %v", err)
	}
	md.Output = "something-else"
	m.Models[RoleEyes] = md
	if err := m.Validate(); err == nil {
		t.Fatal("unknown decoder accepted")
	}
}

// The engine gives the same answer from many goroutines at once.
func TestConcurrentAnalyze(t *testing.T) {
	data := readFace(t, "identities/fr_obama/obama.jpg")
	want := analyze(t, data, Options{Embedding: true, Liveness: true}).Faces[0]
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 3; k++ {
				a, err := engine(t).AnalyzeBytes(context.Background(), data, Options{Embedding: true, Liveness: true})
				if err != nil {
					errs <- err.Error()
					return
				}
				if d := dot(a.Faces[0].Embedding, want.Embedding); d < 0.9999 || *a.Faces[0].Liveness != *want.Liveness {
					errs <- "results differ under concurrency"
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// A 12 MP photo is reduced while decoding and still analysed in original
// pixel units.
func TestLargePhotoReducedDecode(t *testing.T) {
	big := upscaleJPEG(t, readFace(t, "identities/fr_obama/obama.jpg"), 4000, 3000)
	small := analyze(t, readFace(t, "identities/fr_obama/obama.jpg"), Options{Embedding: true})
	a := analyze(t, big, Options{Embedding: true})
	if a.Width != 4000 || a.Height != 3000 || len(a.Faces) != 1 {
		t.Fatalf("big photo: %dx%d, %d faces", a.Width, a.Height, len(a.Faces))
	}
	// obama.jpg is 512x640, stretched to 4000x3000: IPD grows ~7.8x in x.
	if a.Faces[0].IPD < 5*small.Faces[0].IPD {
		t.Errorf("IPD %.1f not in original pixels (small %.1f)", a.Faces[0].IPD, small.Faces[0].IPD)
	}
}

func upscaleJPEG(t testing.TB, data []byte, w, h int) []byte {
	t.Helper()
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.BiLinear.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
