package imageio

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/facereg/facereg"
)

// facesDir is /work/shared/faces, the shared test photos. They are read in
// place, never copied into the repository; a missing file fails the test.
const facesDir = "../../../shared/faces"

func readFace(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(facesDir, rel))
	if err != nil {
		t.Fatalf("test photo missing (the shared faces directory is required): %v", err)
	}
	return b
}

func globFaces(t testing.TB, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(facesDir, pattern))
	if err != nil || len(m) == 0 {
		t.Fatalf("no test photos match %s under %s (the shared faces directory is required)", pattern, facesDir)
	}
	return m
}

var imageCodes = map[string]bool{
	facereg.ImageEmpty:        true,
	facereg.ImageInvalid:      true,
	facereg.UnsupportedFormat: true,
	facereg.ImageTooLarge:     true,
}

// checkErr fails unless err is a *facereg.Error with one of the four image
// codes and a message.
func checkErr(t testing.TB, err error) *facereg.Error {
	t.Helper()
	var e *facereg.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *facereg.Error", err, err)
	}
	if !imageCodes[e.Code] {
		t.Fatalf("error code %q is not an image code (%v)", e.Code, err)
	}
	if e.Message == "" {
		t.Fatalf("error %q has no message", e.Code)
	}
	return e
}

func wantCode(t testing.TB, err error, code string) *facereg.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	e := checkErr(t, err)
	if e.Code != code {
		t.Fatalf("got %s (%s), want %s", e.Code, e.Message, code)
	}
	return e
}

// refRGB converts m through the generic At path with straightforward
// arithmetic: the reference the fast paths are checked against.
func refRGB(m image.Image) *Image {
	b := m.Bounds()
	out := NewImage(b.Dx(), b.Dy())
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bb, a := m.At(x, y).RGBA()
			out.Pix[i] = uint8((r + 0xffff - a) >> 8)
			out.Pix[i+1] = uint8((g + 0xffff - a) >> 8)
			out.Pix[i+2] = uint8((bb + 0xffff - a) >> 8)
			i += 3
		}
	}
	return out
}

// refBox averages k x k blocks of an RGB image in float, rounding to nearest.
func refBox(im *Image, k int) *Image {
	ow, oh := (im.W+k-1)/k, (im.H+k-1)/k
	out := NewImage(ow, oh)
	for oy := range oh {
		for ox := range ow {
			var s [3]float64
			n := 0
			for y := oy * k; y < min(oy*k+k, im.H); y++ {
				for x := ox * k; x < min(ox*k+k, im.W); x++ {
					for c := range 3 {
						s[c] += float64(im.Pix[3*(y*im.W+x)+c])
					}
					n++
				}
			}
			for c := range 3 {
				out.Pix[3*(oy*ow+ox)+c] = uint8(s[c]/float64(n) + 0.5)
			}
		}
	}
	return out
}

// maxDiff returns the largest per-channel difference and the mean absolute
// difference of two images of the same size.
func maxDiff(t testing.TB, a, b *Image) (int, float64) {
	t.Helper()
	if a.W != b.W || a.H != b.H || len(a.Pix) != len(b.Pix) {
		t.Fatalf("size %dx%d (%d bytes) vs %dx%d (%d bytes)", a.W, a.H, len(a.Pix), b.W, b.H, len(b.Pix))
	}
	worst, sum := 0, 0
	for i := range a.Pix {
		d := int(a.Pix[i]) - int(b.Pix[i])
		if d < 0 {
			d = -d
		}
		worst = max(worst, d)
		sum += d
	}
	return worst, float64(sum) / float64(max(len(a.Pix), 1))
}

func wantSame(t testing.TB, got, want *Image, tol int) {
	t.Helper()
	if d, mean := maxDiff(t, got, want); d > tol {
		t.Fatalf("images differ by up to %d (mean %.3f), tolerance %d", d, mean, tol)
	}
}

func encodeJPEG(t testing.TB, m image.Image, q int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gradient returns a w x h opaque test pattern with no symmetry.
func gradient(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetRGBA(x, y, color.RGBA{uint8(x * 255 / max(w-1, 1)), uint8(y * 255 / max(h-1, 1)), uint8((x + 2*y) % 256), 255})
		}
	}
	return m
}

// Small WebP files made with libwebp's cwebp 1.2.4 from the 24x16 pattern
// of webpPattern: lossless (VP8L), lossy (VP8), lossy with an alpha channel
// (VP8X + ALPH + VP8) and lossless with alpha (cwebp -exact). x/image has
// no WebP encoder, so they are kept here as literals.
var (
	webpLossless      = mustB64("UklGRjwAAABXRUJQVlA4TDAAAAAvF8ADAAmASNofe4mI/qcWAEH43zYR0f8UhASEB/4/FsVRIJC06Z952x8TgJNabAY=")
	webpLossy         = mustB64("UklGRo4AAABXRUJQVlA4IIIAAADQBQCdASoYABAAPjEYiUKiIaEYBAAgAwS2AE6ZQjgbwD8APyA3wGSh8gXgCs/wHj9yROaAEGIAAP7+1OwaMm3QyrSqh79z1fOjCq//pb3n/dLiRmbZM/+MTzJSxojxWBXGKWCUSlh9vvS1dKP9eh6ZYivnvVwHHZ4kknYDZ/5uAAAA")
	webpLossyAlpha    = mustB64("UklGRsoAAABXRUJQVlA4WAoAAAAQAAAAFwAADwAAQUxQSBgAAAABmQpE9D9ApG0zvvmXfHwYMQFJrWgENwNWUDggjAAAANAFAJ0BKhgAEAA+MRSJQqIhIRgEACADBLYATplCOBvAPwA/IDfAZKHyBeAKz/AeSZSv6nHo6WAA/v6SrSqu1B2aHClNIIq0+a5AEcy/iyJ0iFD/+lvef90uJGRxC3/w1WFNGNEPMK4HNiOw7eUqsUuKNO0M1Cm7cq6xFzy9oemDbPm8FKm7uz/zwgAA")
	webpLosslessAlpha = mustB64("UklGRkQAAABXRUJQVlA4TDgAAAAvF8ADEAmASGp/6yUi+p9aAAThf9tERP9TINK2qYP7Nzx8OAoEkjb9M2/7hQQkJpNcqWQp5IGbAQ==")
)

func mustB64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// webpPattern is the image the WebP literals were made from; with alpha,
// alpha rises from 0 on the left to 255 on the right.
func webpPattern(alpha bool) *image.NRGBA {
	const w, h = 24, 16
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.NRGBA{uint8(x * 10), uint8(y * 15), uint8(255 - x*5 - y*5), 255}
			if alpha {
				c.A = uint8(x * 255 / (w - 1))
			}
			m.SetNRGBA(x, y, c)
		}
	}
	return m
}
