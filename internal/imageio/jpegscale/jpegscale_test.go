package jpegscale

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/image/draw"
)

// facesDir is /work/shared/faces, the shared test photos, read in place; a
// missing directory fails the tests that need it.
const facesDir = "../../../../shared/faces"

// input is one test JPEG.
type input struct {
	name string
	data []byte
}

// sharedJPEGs returns every JPEG under facesDir.
func sharedJPEGs(t testing.TB) []input {
	t.Helper()
	var in []input
	err := filepath.WalkDir(facesDir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := strings.ToLower(filepath.Ext(path)); e.IsDir() || (ext != ".jpg" && ext != ".jpeg") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(facesDir, path)
		in = append(in, input{rel, b})
		return nil
	})
	if err != nil || len(in) < 100 {
		t.Fatalf("the shared faces directory is required: %d JPEGs under %s (%v)", len(in), facesDir, err)
	}
	return in
}

// variantJPEGs returns the files of testdata, made with ImageMagick 6.9
// (libjpeg-turbo 2.1.5) in every layout image/jpeg reads: 4:2:0, 4:2:2,
// 4:4:4, 4:4:0, 4:1:1, 4:1:0, gray and Adobe YCCK, baseline and
// progressive, at quality 80, from a synthetic 157x173 picture (no photo
// of the shared set is copied into the repository):
//
//	convert -size 157x173 -seed 7 plasma:fractal -blur 0x0.7 -strip src.png
//	convert src.png -strip -quality 80 -sampling-factor 2x2 ycc420.jpg
//	convert src.png -strip -quality 80 -colorspace CMYK -interlace JPEG progcmyk.jpg
//	...
//
// and also the JPEG seeds of imageio's
// FuzzDecode corpus (24x16), and two variants patched here: an RGB JPEG and
// an Adobe CMYK (transform 0) one, which ImageMagick does not write.
func variantJPEGs(t testing.TB) []input {
	t.Helper()
	var in []input
	files, _ := filepath.Glob("testdata/*.jpg")
	if len(files) < 13 {
		t.Fatalf("testdata: %d JPEG files", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		in = append(in, input{filepath.Base(f), b})
	}
	seeds, _ := filepath.Glob("../testdata/fuzz/FuzzDecode/jpeg-*")
	if len(seeds) < 5 {
		t.Fatalf("imageio seeds: %d JPEG files", len(seeds))
	}
	for _, f := range seeds {
		in = append(in, input{"seed-" + filepath.Base(f), readCorpusBytes(t, f)})
	}
	byName := map[string][]byte{}
	for _, i := range in {
		byName[i.name] = i.data
	}
	in = append(in,
		input{"rgb444 (patched)", patchRGB(t, byName["ycc444.jpg"])},
		input{"rgb420 (patched)", patchRGB(t, byName["ycc420.jpg"])},
		input{"cmyk-transform0 (patched)", patchAdobeTransform(t, byName["cmyk.jpg"], 0)},
		input{"cmyk444-transform0 (patched)", patchAdobeTransform(t, byName["cmyk444.jpg"], 0)},
	)
	return in
}

// readCorpusBytes reads a "go test fuzz v1" file holding one []byte.
func readCorpusBytes(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	head, lit, ok := strings.Cut(string(b), "\n")
	if !ok || head != "go test fuzz v1" {
		t.Fatalf("%s: not a fuzz corpus file", path)
	}
	lit = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(lit), "[]byte("), ")")
	s, err := strconv.Unquote(lit)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return []byte(s)
}

// segments calls f with the marker and the offset of the payload of each
// marker segment before the first scan's data.
func segments(data []byte, f func(marker byte, off, n int)) {
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xff {
			return
		}
		m := data[i+1]
		n := int(data[i+2])<<8 | int(data[i+3])
		f(m, i+4, n-2)
		if m == sosMarker {
			return
		}
		i += 2 + n
	}
}

// patchRGB turns a JFIF Y'CbCr JPEG into one image/jpeg reads as RGB: the
// JFIF APP0 renamed, and the component identifiers 'R', 'G', 'B'. The
// colours are wrong but the code path is image/jpeg's convertToRGB.
func patchRGB(t testing.TB, data []byte) []byte {
	t.Helper()
	b := bytes.Clone(data)
	ids := map[byte]byte{}
	segments(b, func(m byte, off, n int) {
		switch m {
		case app0Marker:
			if bytes.HasPrefix(b[off:], []byte("JFIF")) {
				b[off+3] = 'X'
			}
		case sof0Marker, sof2Marker:
			for c := range int(b[off+5]) {
				ids[b[off+6+3*c]] = "RGB"[c]
				b[off+6+3*c] = "RGB"[c]
			}
		case sosMarker:
			for c := range int(b[off]) {
				b[off+1+2*c] = ids[b[off+1+2*c]]
			}
		}
	})
	if len(ids) != 3 {
		t.Fatal("patchRGB: no 3-component SOF")
	}
	return b
}

// patchAdobeTransform sets the colour transform of the Adobe APP14 segment.
func patchAdobeTransform(t testing.TB, data []byte, transform byte) []byte {
	t.Helper()
	b := bytes.Clone(data)
	found := false
	segments(b, func(m byte, off, n int) {
		if m == app14Marker && n >= 12 && bytes.HasPrefix(b[off:], []byte("Adobe")) {
			b[off+11] = transform
			found = true
		}
	})
	if !found {
		t.Fatal("no Adobe segment")
	}
	return b
}

func isProgressive(data []byte) bool {
	p := false
	segments(data, func(m byte, _, _ int) { p = p || m == sof2Marker })
	return p
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// rgbOf returns the 8-bit RGB pixels of m, 3 bytes per pixel.
func rgbOf(m image.Image) []byte {
	b := m.Bounds()
	out := make([]byte, 0, 3*b.Dx()*b.Dy())
	if y, ok := m.(*image.YCbCr); ok {
		for py := b.Min.Y; py < b.Max.Y; py++ {
			for px := b.Min.X; px < b.Max.X; px++ {
				yi, ci := y.YOffset(px, py), y.COffset(px, py)
				r, g, bb := color.YCbCrToRGB(y.Y[yi], y.Cb[ci], y.Cr[ci])
				out = append(out, r, g, bb)
			}
		}
		return out
	}
	for py := b.Min.Y; py < b.Max.Y; py++ {
		for px := b.Min.X; px < b.Max.X; px++ {
			r, g, bb, _ := m.At(px, py).RGBA()
			out = append(out, uint8(r>>8), uint8(g>>8), uint8(bb>>8))
		}
	}
	return out
}

// boxRGB averages the k x k blocks of a w x h RGB image (partial blocks on
// the right and bottom edges), rounding to nearest.
func boxRGB(pix []byte, w, h, k int) []byte {
	ow, oh := ceilDiv(w, k), ceilDiv(h, k)
	out := make([]byte, 3*ow*oh)
	for oy := range oh {
		for ox := range ow {
			var s [3]int
			n := 0
			for y := oy * k; y < min(oy*k+k, h); y++ {
				for x := ox * k; x < min(ox*k+k, w); x++ {
					p := pix[3*(y*w+x):]
					s[0], s[1], s[2] = s[0]+int(p[0]), s[1]+int(p[1]), s[2]+int(p[2])
					n++
				}
			}
			for c := range 3 {
				out[3*(oy*ow+ox)+c] = uint8((2*s[c] + n) / (2 * n))
			}
		}
	}
	return out
}

// diffStats is the mean absolute difference of each RGB channel, and the
// largest difference.
type diffStats struct {
	mean [3]float64
	max  int
}

func (d diffStats) worst() float64 { return max(d.mean[0], d.mean[1], d.mean[2]) }

func (d diffStats) String() string {
	return fmt.Sprintf("mean |diff| R %.2f G %.2f B %.2f, max %d", d.mean[0], d.mean[1], d.mean[2], d.max)
}

func compareRGB(a, b []byte) diffStats {
	var s [3]int
	var d diffStats
	for i := range a {
		v := int(a[i]) - int(b[i])
		if v < 0 {
			v = -v
		}
		s[i%3] += v
		d.max = max(d.max, v)
	}
	n := float64(len(a) / 3)
	for c := range 3 {
		d.mean[c] = float64(s[c]) / n
	}
	return d
}

// reducedRatio is the chroma subsampling of a decode at 1/denom: chroma
// blocks are decoded at min(8/denom*h, 8) pixels across, so what is left
// of a subsampling by h is h/denom, at least 1 (and likewise vertically).
func reducedRatio(r image.YCbCrSubsampleRatio, denom int) image.YCbCrSubsampleRatio {
	type hv struct{ h, v int }
	ratios := map[image.YCbCrSubsampleRatio]hv{
		image.YCbCrSubsampleRatio444: {1, 1}, image.YCbCrSubsampleRatio422: {2, 1},
		image.YCbCrSubsampleRatio420: {2, 2}, image.YCbCrSubsampleRatio440: {1, 2},
		image.YCbCrSubsampleRatio411: {4, 1}, image.YCbCrSubsampleRatio410: {4, 2},
	}
	f := ratios[r]
	want := hv{max(f.h/denom, 1), max(f.v/denom, 1)}
	for k, v := range ratios {
		if v == want {
			return k
		}
	}
	panic("unreachable")
}

// scaledVsBox decodes data at 1/denom and compares it, as RGB, with a full
// decode by image/jpeg reduced by a denom x denom box filter.
func scaledVsBox(t testing.TB, data []byte, full image.Image, denom int) diffStats {
	t.Helper()
	m, err := DecodeScaled(bytes.NewReader(data), denom)
	if err != nil {
		t.Fatalf("denom %d: %v", denom, err)
	}
	fb := full.Bounds()
	w, h := ceilDiv(fb.Dx(), denom), ceilDiv(fb.Dy(), denom)
	if m.Bounds() != image.Rect(0, 0, w, h) {
		t.Fatalf("denom %d: bounds %v, want %dx%d", denom, m.Bounds(), w, h)
	}
	if reflect.TypeOf(m) != reflect.TypeOf(full) {
		t.Fatalf("denom %d: %T, image/jpeg gives %T", denom, m, full)
	}
	if y, ok := m.(*image.YCbCr); ok {
		if want := reducedRatio(full.(*image.YCbCr).SubsampleRatio, denom); y.SubsampleRatio != want {
			t.Fatalf("denom %d: subsampling %v, want %v", denom, y.SubsampleRatio, want)
		}
	}
	return compareRGB(rgbOf(m), boxRGB(rgbOf(full), fb.Dx(), fb.Dy(), denom))
}

// At scale 1 the decoder is image/jpeg's: the same image, pixel for pixel,
// for every JPEG of the shared set and every variant.
func TestScale1MatchesImageJPEG(t *testing.T) {
	all := append(sharedJPEGs(t), variantJPEGs(t)...)
	progressive := 0
	for _, in := range all {
		want, err := jpeg.Decode(bytes.NewReader(in.data))
		if err != nil {
			t.Fatalf("%s: image/jpeg: %v", in.name, err)
		}
		for name, dec := range map[string]func() (image.Image, error){
			"Decode":         func() (image.Image, error) { return Decode(bytes.NewReader(in.data)) },
			"DecodeScaled/1": func() (image.Image, error) { return DecodeScaled(bytes.NewReader(in.data), 1) },
		} {
			got, err := dec()
			if err != nil {
				t.Fatalf("%s: %s: %v", in.name, name, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: %s differs from image/jpeg (%T %v vs %T %v)", in.name, name, got, got.Bounds(), want, want.Bounds())
			}
		}
		wantCfg, err := jpeg.DecodeConfig(bytes.NewReader(in.data))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := DecodeConfig(bytes.NewReader(in.data))
		if err != nil || cfg != wantCfg {
			t.Fatalf("%s: DecodeConfig %+v, %v; image/jpeg gives %+v", in.name, cfg, err, wantCfg)
		}
		if isProgressive(in.data) {
			progressive++
		}
	}
	if progressive < 8 {
		t.Fatalf("only %d progressive JPEGs among the inputs", progressive)
	}
	t.Logf("%d JPEGs (%d progressive) identical to image/jpeg", len(all), progressive)
}

// The limits on the mean absolute difference per RGB channel between a
// scaled decode and a full decode reduced by a box filter. The reduced IDCT
// averages the low-pass part of each block (its 4x4 or 2x2 lowest
// frequencies) over each output pixel, while the box filter also averages
// the high frequencies, which do not cancel exactly within a cell; the
// colour conversion and rounding add a little. TestDecodeScaledSharedPhotos
// logs what they are.
var meanLimit = map[int]float64{2: 3, 4: 4, 8: 3}

// Every JPEG of the shared set at 1/2, 1/4 and 1/8: the right size and type,
// and close to a box-filtered full decode.
func TestDecodeScaledSharedPhotos(t *testing.T) {
	type agg struct {
		sum      [3]float64
		worst    diffStats
		worstFor string
		n        int
	}
	res := map[int]*agg{2: {}, 4: {}, 8: {}}
	for _, in := range sharedJPEGs(t) {
		full, err := jpeg.Decode(bytes.NewReader(in.data))
		if err != nil {
			t.Fatal(err)
		}
		for denom, a := range res {
			d := scaledVsBox(t, in.data, full, denom)
			if d.worst() > meanLimit[denom] {
				t.Errorf("%s at 1/%d: %v", in.name, denom, d)
			}
			for c := range 3 {
				a.sum[c] += d.mean[c]
			}
			if d.worst() >= a.worst.worst() {
				a.worst, a.worstFor = d, in.name
			}
			a.n++
		}
	}
	for _, denom := range []int{2, 4, 8} {
		a := res[denom]
		t.Logf("1/%d over %d photos: average mean |diff| R %.2f G %.2f B %.2f; worst %s: %v",
			denom, a.n, a.sum[0]/float64(a.n), a.sum[1]/float64(a.n), a.sum[2]/float64(a.n), a.worstFor, a.worst)
	}
}

// Every layout image/jpeg reads, baseline and progressive, at every scale.
func TestDecodeScaledVariants(t *testing.T) {
	for _, in := range variantJPEGs(t) {
		full, err := jpeg.Decode(bytes.NewReader(in.data))
		if err != nil {
			t.Fatalf("%s: %v", in.name, err)
		}
		var line []string
		for _, denom := range []int{2, 4, 8} {
			d := scaledVsBox(t, in.data, full, denom)
			// The 24x16 seeds are a sharp synthetic pattern on 3 blocks:
			// only their size and type are checked.
			if !strings.HasPrefix(in.name, "seed-") && d.worst() > meanLimit[denom] {
				t.Errorf("%s at 1/%d: %v", in.name, denom, d)
			}
			line = append(line, fmt.Sprintf("1/%d %.2f/%.2f/%.2f", denom, d.mean[0], d.mean[1], d.mean[2]))
		}
		t.Logf("%-30s %T  %s", in.name, full, strings.Join(line, "  "))
	}
}

var (
	synthOnce sync.Once
	synth12MP []byte
)

// synthetic12MP returns a 4000x3000 JPEG (4:2:0, quality 90) made from
// obama.jpg with x/image/draw's Catmull-Rom, as a phone would send.
func synthetic12MP(t testing.TB) []byte {
	t.Helper()
	synthOnce.Do(func() {
		b, err := os.ReadFile(filepath.Join(facesDir, "identities/fr_obama/obama.jpg"))
		if err != nil {
			return
		}
		src, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			return
		}
		big := image.NewRGBA(image.Rect(0, 0, 4000, 3000))
		draw.CatmullRom.Scale(big, big.Bounds(), src, src.Bounds(), draw.Src, nil)
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, big, &jpeg.Options{Quality: 90}); err != nil {
			return
		}
		synth12MP = buf.Bytes()
	})
	if synth12MP == nil {
		t.Fatal("could not make the 12 MP JPEG from obama.jpg")
	}
	return synth12MP
}

func TestDecodeScaled12MP(t *testing.T) {
	data := synthetic12MP(t)
	full, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeScaled(bytes.NewReader(data), 1)
	if err != nil || !reflect.DeepEqual(got, full) {
		t.Fatalf("scale 1 differs from image/jpeg (%v)", err)
	}
	for _, denom := range []int{2, 4, 8} {
		d := scaledVsBox(t, data, full, denom)
		t.Logf("4000x3000 at 1/%d: %v", denom, d)
		// An upscaled photo has little detail at the top of each block's
		// spectrum: the difference is mostly rounding.
		if d.worst() > 1 {
			t.Errorf("1/%d: %v", denom, d)
		}
	}
}

// The reduced IDCTs against what they are meant to compute, in float64, on
// random coefficients in the range of 8-bit JPEGs: the average over each
// output pixel's cell of the 8x8 IDCT of the block's low-pass part.
func TestReducedIDCT(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var qt block
	for i := range qt {
		qt[i] = int32(1 + rng.IntN(12))
	}
	sizes := []int{1, 2, 4, 8}
	worst := map[[2]int]float64{}
	for iter := range 5000 {
		var b block
		// Mostly small coefficients, like real blocks, sometimes large ones.
		amp := 64
		if iter%4 == 0 {
			amp = 1024
		}
		for i := range b {
			b[i] = int32(rng.IntN(2*amp+1)-amp) / qt[zigOf[i]]
		}
		b[0] = int32(rng.IntN(2048)-1024) / qt[0]
		// idct8x8Low, on the block's 4x4 lowest frequencies.
		low := b
		for i := range low {
			if i%8 >= 4 || i/8 >= 4 {
				low[i] = 0
			}
		}
		if lowOnly(&b) || !lowOnly(&low) {
			t.Fatal("lowOnly")
		}
		dst := make([]byte, 64)
		idct8x8Low(&low, &qt, dst, 8)
		for i, want := range refReducedIDCT(&low, &qt, 8, 8) {
			d := math.Abs(float64(dst[i]) - want)
			worst[[2]int{8, 8}] = max(worst[[2]int{8, 8}], d)
			if d > 0.75 {
				t.Fatalf("idct8x8Low pixel %d: got %d, want %.3f", i, dst[i], want)
			}
		}
		for _, w := range sizes {
			for _, h := range sizes {
				if w == 8 && h == 8 {
					continue // image/jpeg's IDCT
				}
				dst := make([]byte, w*h)
				switch {
				case w == 4 && h == 4:
					idct4x4(&b, &qt, dst, w)
				case w == 2 && h == 2:
					idct2x2(&b, &qt, dst, w)
				case w == 1 && h == 1:
					dst[0] = idct1x1(&b, &qt)
				}
				rect := make([]byte, w*h)
				idctRect(&b, &qt, w, h, rect, w)
				if w != h || w == 8 {
					dst = rect
				} else if !bytes.Equal(dst, rect) {
					// The fast kernels and the matrices differ only by
					// the rounding of their constants.
					for i := range dst {
						if d := int(dst[i]) - int(rect[i]); d < -1 || d > 1 {
							t.Fatalf("%dx%d: fast kernel %v, matrix %v", w, h, dst, rect)
						}
					}
				}
				want := refReducedIDCT(&b, &qt, w, h)
				for i := range dst {
					d := math.Abs(float64(dst[i]) - want[i])
					worst[[2]int{w, h}] = max(worst[[2]int{w, h}], d)
					if d > 0.75 {
						t.Fatalf("%dx%d pixel %d: got %d, want %.3f", w, h, i, dst[i], want[i])
					}
				}
			}
		}
	}
	t.Logf("largest differences from the float reference: %v", worst)
}

// refReducedIDCT returns the w x h pixels of a block reduced by the
// definition: the 8x8 IDCT of the coefficients with u < w and v < h,
// averaged over cells of 8/w x 8/h pixels, level-shifted and clamped.
func refReducedIDCT(b, qt *block, w, h int) []float64 {
	c := func(k int) float64 {
		if k == 0 {
			return 1 / math.Sqrt2
		}
		return 1
	}
	var full [8][8]float64
	for y := range 8 {
		for x := range 8 {
			s := 0.0
			for v := range h {
				for u := range w {
					f := float64(b[v*8+u] * qt[zigOf[v*8+u]])
					s += c(u) * c(v) * f * math.Cos(float64((2*x+1)*u)*math.Pi/16) * math.Cos(float64((2*y+1)*v)*math.Pi/16)
				}
			}
			full[y][x] = s / 4
		}
	}
	mw, mh := 8/w, 8/h
	out := make([]float64, w*h)
	for y := range h {
		for x := range w {
			s := 0.0
			for j := range mh {
				for i := range mw {
					s += full[y*mh+j][x*mw+i]
				}
			}
			out[y*w+x] = min(max(s/float64(mw*mh)+128, 0), 255)
		}
	}
	return out
}

func TestDecodeScaledBadDenom(t *testing.T) {
	data, err := os.ReadFile("testdata/ycc420.jpg")
	if err != nil {
		t.Fatal(err)
	}
	for _, denom := range []int{-8, 0, 3, 5, 16} {
		if m, err := DecodeScaled(bytes.NewReader(data), denom); err == nil || m != nil {
			t.Errorf("denom %d: %v, %v", denom, m, err)
		}
	}
}

// checkAgainstStdlib decodes data at every scale and checks that it fails
// exactly when image/jpeg fails, with the same message (the parsing is
// image/jpeg's at every scale), and otherwise has the right size, and at
// scale 1 the same pixels.
func checkAgainstStdlib(t testing.TB, data []byte) {
	t.Helper()
	want, wantErr := jpeg.Decode(bytes.NewReader(data))
	for _, denom := range []int{1, 2, 4, 8} {
		m, err := DecodeScaled(bytes.NewReader(data), denom)
		if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
			t.Fatalf("denom %d: error %v; image/jpeg: %v", denom, err, wantErr)
		}
		if err != nil {
			if m != nil {
				t.Fatalf("denom %d: an image and an error", denom)
			}
			continue
		}
		wb := want.Bounds()
		if m.Bounds() != image.Rect(0, 0, ceilDiv(wb.Dx(), denom), ceilDiv(wb.Dy(), denom)) {
			t.Fatalf("denom %d: bounds %v for %v", denom, m.Bounds(), wb)
		}
		if denom == 1 && !reflect.DeepEqual(m, want) {
			t.Fatal("denom 1: differs from image/jpeg")
		}
	}
}

// Truncated and corrupted inputs give errors (or, where image/jpeg accepts
// them, images), never panics.
func TestDecodeScaledDamaged(t *testing.T) {
	var inputs []input
	for _, in := range variantJPEGs(t) {
		if !strings.HasPrefix(in.name, "seed-") {
			inputs = append(inputs, in)
		}
	}
	for _, name := range []string{"identities/fr_obama/obama.jpg", "id_docs/us_dl_front/Florida.jpg"} {
		b, err := os.ReadFile(filepath.Join(facesDir, name))
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, input{name, b})
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			n := len(in.data)
			for _, cut := range []int{0, 1, 2, 3, 20, 100, n / 8, n / 3, n / 2, n - 100, n - 3, n - 2, n - 1} {
				if cut >= 0 && cut < n {
					checkAgainstStdlib(t, in.data[:cut])
				}
			}
			for range 40 {
				b := bytes.Clone(in.data)
				for range 1 + rng.IntN(4) {
					b[rng.IntN(n)] = byte(rng.Uint32())
				}
				checkAgainstStdlib(t, b)
			}
		})
	}
}

// FuzzDecodeScaled: no input panics, and at every scale the decoder fails
// exactly when image/jpeg does, returns the right size, and at scale 1 the
// same pixels.
func FuzzDecodeScaled(f *testing.F) {
	// Small seeds only: the fuzzer minimizes every new interesting input,
	// which takes minutes for inputs of several KB.
	for _, name := range []string{"jpeg-progressive", "jpeg-cmyk-adobe", "jpeg-gray", "jpeg-422", "jpeg-444"} {
		f.Add(readCorpusBytes(f, filepath.Join("../testdata/fuzz/FuzzDecode", name)))
	}
	rgb := image.NewRGBA(image.Rect(0, 0, 19, 11))
	for i := range rgb.Pix {
		rgb.Pix[i] = uint8(i * 7)
	}
	gray := image.NewGray(image.Rect(0, 0, 9, 17))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i * 5)
	}
	for _, m := range []image.Image{rgb, gray} {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 75}); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := DecodeConfig(bytes.NewReader(data))
		if err == nil && cfg.Width*cfg.Height > 1<<16 {
			// Big images are slow, not interesting: a few KB of scan
			// headers can make a decoder visit every block of a
			// megapixel image thousands of times.
			return
		}
		checkAgainstStdlib(t, data)
	})
}
