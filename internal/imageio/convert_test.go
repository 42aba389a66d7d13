package imageio

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/imageio/jpegscale"
)

func randBytes(rng *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
}

// testImages returns one image of every colour model the decoders produce,
// with odd sizes and random pixels.
func testImages() map[string]image.Image {
	rng := rand.New(rand.NewPCG(3, 4))
	r := image.Rect(0, 0, 37, 23)
	out := map[string]image.Image{}
	for _, ratio := range []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	} {
		m := image.NewYCbCr(r, ratio)
		randBytes(rng, m.Y)
		randBytes(rng, m.Cb)
		randBytes(rng, m.Cr)
		out["ycbcr-"+ratio.String()] = m
	}
	a := image.NewNYCbCrA(r, image.YCbCrSubsampleRatio420)
	randBytes(rng, a.Y)
	randBytes(rng, a.Cb)
	randBytes(rng, a.Cr)
	randBytes(rng, a.A)
	out["nycbcra"] = a

	g := image.NewGray(r)
	randBytes(rng, g.Pix)
	out["gray"] = g
	g16 := image.NewGray16(r)
	randBytes(rng, g16.Pix)
	out["gray16"] = g16

	rgba := image.NewRGBA(r)
	randBytes(rng, rgba.Pix)
	for i := 0; i < len(rgba.Pix); i += 4 { // valid premultiplied data
		a := rgba.Pix[i+3]
		for c := range 3 {
			rgba.Pix[i+c] = uint8(int(rgba.Pix[i+c]) * int(a) / 255)
		}
	}
	out["rgba"] = rgba
	nrgba := image.NewNRGBA(r)
	randBytes(rng, nrgba.Pix)
	out["nrgba"] = nrgba
	n64 := image.NewNRGBA64(r)
	randBytes(rng, n64.Pix)
	out["nrgba64"] = n64
	r64 := image.NewRGBA64(r)
	for y := range r.Dy() {
		for x := range r.Dx() {
			a := uint16(rng.IntN(1 << 16))
			r64.SetRGBA64(x, y, color.RGBA64{uint16(rng.IntN(int(a) + 1)), uint16(rng.IntN(int(a) + 1)), uint16(rng.IntN(int(a) + 1)), a})
		}
	}
	out["rgba64"] = r64
	cmyk := image.NewCMYK(r)
	randBytes(rng, cmyk.Pix)
	out["cmyk"] = cmyk

	pal := append(color.Palette{}, palette.WebSafe...)
	pal = append(pal, color.NRGBA{10, 200, 30, 128}, color.NRGBA{0, 0, 0, 0})
	p := image.NewPaletted(r, pal)
	for i := range p.Pix {
		p.Pix[i] = byte(rng.IntN(len(pal)))
	}
	out["paletted"] = p
	// Sub-images: not anchored at the origin, stride wider than the row.
	big := image.NewYCbCr(image.Rect(0, 0, 80, 60), image.YCbCrSubsampleRatio420)
	randBytes(rng, big.Y)
	randBytes(rng, big.Cb)
	randBytes(rng, big.Cr)
	out["ycbcr-sub"] = big.SubImage(image.Rect(5, 7, 48, 40))
	out["rgba-sub"] = rgba.SubImage(image.Rect(3, 2, 30, 20))
	out["gray-sub"] = g.SubImage(image.Rect(1, 1, 36, 22))
	return out
}

// Every fast path equals the generic At path, at full size.
func TestConvertFastPaths(t *testing.T) {
	for name, m := range testImages() {
		t.Run(name, func(t *testing.T) {
			got := FromImage(m)
			want := refRGB(m)
			tol := 0
			switch m.(type) {
			case *image.NRGBA, *image.NYCbCrA, *image.Paletted:
				tol = 1 // 8-bit rounding vs the 16-bit reference
			}
			wantSame(t, got, want, tol)
		})
	}
}

func TestConvertPalettedShortPalette(t *testing.T) {
	m := image.NewPaletted(image.Rect(0, 0, 2, 1), color.Palette{color.RGBA{1, 2, 3, 255}})
	m.Pix[1] = 5 // beyond the palette: black, as image/png decodes it
	got := FromImage(m)
	if want := []byte{1, 2, 3, 0, 0, 0}; !bytes.Equal(got.Pix, want) {
		t.Fatalf("%v, want %v", got.Pix, want)
	}
}

// Alpha is composited on white.
func TestConvertAlphaOnWhite(t *testing.T) {
	m := image.NewNRGBA(image.Rect(0, 0, 3, 1))
	m.SetNRGBA(0, 0, color.NRGBA{0, 0, 0, 0})     // transparent: white
	m.SetNRGBA(1, 0, color.NRGBA{0, 0, 0, 255})   // opaque black
	m.SetNRGBA(2, 0, color.NRGBA{255, 0, 0, 128}) // half red: pink
	got := FromImage(m).Pix
	want := []byte{255, 255, 255, 0, 0, 0, 255, 127, 127}
	if !bytes.Equal(got, want) {
		t.Fatalf("%v, want %v", got, want)
	}
}

// The box reduction of every non-Y'CbCr source equals a float box filter
// over the full-size conversion, to rounding.
func TestBoxReduceRGB(t *testing.T) {
	for name, m := range testImages() {
		if y, ok := m.(*image.YCbCr); ok && y.Rect.Min == (image.Point{}) {
			continue // averaged in Y'CbCr: TestBoxReduceYCbCr
		}
		for _, k := range []int{2, 3, 5, 37, 100} {
			t.Run(fmt.Sprintf("%s/k%d", name, k), func(t *testing.T) {
				got := toRGB(m, k, fullRange)
				want := refBox(FromImage(m), k)
				wantSame(t, got, want, 1)
			})
		}
	}
}

// Y'CbCr is averaged before conversion. The conversion is affine, so that
// equals averaging the unclamped RGB values of the pixels, then clamping:
// checked here in floating point on random (often out-of-gamut) data, for
// both the JFIF and the VP8 conversions.
func TestBoxReduceYCbCr(t *testing.T) {
	for name, m := range testImages() {
		y, ok := m.(*image.YCbCr)
		if !ok || y.Rect.Min != (image.Point{}) {
			continue
		}
		for _, rng := range []yccRange{fullRange, videoRange} {
			for _, k := range []int{2, 3, 4, 7} {
				t.Run(fmt.Sprintf("%s/range%d/k%d", name, rng, k), func(t *testing.T) {
					got := toRGB(y, k, rng)
					w, h := y.Rect.Dx(), y.Rect.Dy()
					ow, oh := ceilDiv(w, k), ceilDiv(h, k)
					want := NewImage(ow, oh)
					for oy := range oh {
						for ox := range ow {
							var s [3]float64
							n := 0
							for yy := oy * k; yy < min(oy*k+k, h); yy++ {
								for xx := ox * k; xx < min(ox*k+k, w); xx++ {
									c := y.YCbCrAt(xx, yy)
									l, cb, cr := float64(c.Y), float64(c.Cb)-128, float64(c.Cr)-128
									if rng == videoRange {
										l = 1.16437 * (l - 16)
										s[0] += l + 1.59601*cr
										s[1] += l - 0.39178*cb - 0.81299*cr
										s[2] += l + 2.01721*cb
									} else {
										s[0] += l + 1.40200*cr
										s[1] += l - 0.34414*cb - 0.71414*cr
										s[2] += l + 1.77200*cb
									}
									n++
								}
							}
							for c := range 3 {
								want.Pix[3*(oy*ow+ox)+c] = uint8(min(max(s[c]/float64(n), 0), 255) + 0.5)
							}
						}
					}
					wantSame(t, got, want, 1)
				})
			}
		}
	}
}

// The conversion's box reduction of a decoded photo (*image.YCbCr 4:2:0),
// averaging in Y'CbCr, against averaging in RGB. (Decode reduces a JPEG in
// the DCT domain first, see TestDecodeJPEGReduced; this is the box filter
// alone, at the factors Decode used to apply to obama.jpg before that.)
func TestBoxReducePhoto(t *testing.T) {
	m, err := jpeg.Decode(bytes.NewReader(readFace(t, "identities/fr_obama/obama.jpg")))
	if err != nil {
		t.Fatal(err)
	}
	full := refRGB(m)
	for _, k := range []int{2, 3, 6, 10} {
		im := toRGB(m, k, fullRange)
		d, mean := maxDiff(t, im, refBox(full, k))
		t.Logf("k=%d %dx%d; vs RGB box filter: max diff %d, mean %.3f", k, im.W, im.H, d, mean)
		// The per-pixel integer conversion truncates a fraction that
		// varies with chroma; averaged over a block that is worth up to
		// half a level, which the mean conversion cannot reproduce when
		// chroma varies within the block (k odd, or 4:4:4). Beyond that,
		// only clamped (out-of-gamut) pixels differ noticeably.
		if d > 16 || mean > 0.3 {
			t.Fatalf("averaging in Y'CbCr strays from averaging in RGB: max %d, mean %.3f", d, mean)
		}
	}
}

// Decode reduces a large JPEG in the DCT domain by the largest of 8, 4 and
// 2 that keeps the longer side at or above the target, then by the box
// filter's rule; the result is close to the box filter applied to the full
// decode, and is exactly jpegscale's reduced decode followed by the box
// filter.
func TestDecodeJPEGReduced(t *testing.T) {
	obama := readFace(t, "identities/fr_obama/obama.jpg") // 512x640
	big := make12MP(t)                                    // 4000x3000
	for _, tc := range []struct {
		name           string
		data           []byte
		target         int
		denom, k, w, h int
	}{
		{"obama", obama, 256, 2, 1, 256, 320},
		{"obama", obama, 200, 2, 1, 256, 320},
		{"obama", obama, 100, 4, 1, 128, 160},
		{"obama", obama, 64, 8, 1, 64, 80},
		{"obama", obama, 40, 8, 2, 32, 40},
		{"obama", obama, 33, 8, 2, 32, 40},
		{"obama", obama, 321, 1, 1, 512, 640}, // 640 < 2*321
		{"12MP", big, 1024, 2, 1, 2000, 1500},
		{"12MP", big, 1280, 2, 1, 2000, 1500},
		{"12MP", big, 640, 4, 1, 1000, 750},
		{"12MP", big, 400, 8, 1, 500, 375},
		{"12MP", big, 200, 8, 2, 250, 188},
	} {
		t.Run(fmt.Sprintf("%s/%d", tc.name, tc.target), func(t *testing.T) {
			im, info, err := Decode(tc.data, Limits{TargetMaxSide: tc.target})
			if err != nil {
				t.Fatal(err)
			}
			if info.Scale != tc.denom*tc.k || im.W != tc.w || im.H != tc.h {
				t.Fatalf("scale %d, %dx%d; want %d, %dx%d", info.Scale, im.W, im.H, tc.denom*tc.k, tc.w, tc.h)
			}
			if max(im.W, im.H) < tc.target && max(info.Width, info.Height) >= 2*tc.target {
				t.Fatalf("reduced below the target")
			}
			m, err := jpegscale.DecodeScaled(bytes.NewReader(tc.data), tc.denom)
			if err != nil {
				t.Fatal(err)
			}
			wantSame(t, im, toRGB(m, tc.k, fullRange), 0)
			full, _, err := Decode(tc.data, DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			d, mean := maxDiff(t, im, refBox(full, info.Scale))
			t.Logf("d=%d k=%d %dx%d; vs RGB box filter of the full decode: max diff %d, mean %.3f", tc.denom, tc.k, im.W, im.H, d, mean)
			if mean > 1.5 {
				t.Fatalf("strays from the box filter: max %d, mean %.3f", d, mean)
			}
		})
	}
}

// Errors from the reduced JPEG decoder map to the same codes as
// image/jpeg's.
func TestDecodeJPEGReducedErrors(t *testing.T) {
	obama := readFace(t, "identities/fr_obama/obama.jpg")
	for _, target := range []int{0, 100} { // full decode, and 1/4
		_, _, err := Decode(obama[:len(obama)/2], Limits{TargetMaxSide: target})
		if e := wantCode(t, err, facereg.ImageInvalid); !strings.Contains(e.Message, "truncated") {
			t.Fatalf("target %d: %q", target, e.Message)
		}
	}
	// A CMYK JPEG without its Adobe segment: image/jpeg cannot tell CMYK
	// from YCCK and refuses it, after the header, so it goes through
	// jpegscale when reduced (173/4 >= 40).
	cmyk, err := os.ReadFile("jpegscale/testdata/cmyk444.jpg")
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(cmyk, []byte("Adobe"))
	if i < 0 {
		t.Fatal("no Adobe segment")
	}
	cmyk = bytes.Clone(cmyk)
	cmyk[i] = 'X'
	for _, target := range []int{0, 40} {
		_, _, err := Decode(cmyk, Limits{TargetMaxSide: target})
		wantCode(t, err, facereg.UnsupportedFormat)
	}
}

func TestJPEGReduction(t *testing.T) {
	for _, tc := range []struct{ w, h, target, d, k int }{
		{4000, 3000, 0, 1, 1},
		{4000, 3000, 1024, 2, 1}, // 2000; 1000 would be below
		{4000, 3000, 1000, 4, 1}, // 1000
		{4000, 3000, 500, 8, 1},  // 500
		{4000, 3000, 200, 8, 2},  // 250
		{3000, 4000, 100, 8, 5},  // 100
		{1279, 100, 640, 1, 1},   // below 2*target
		{1280, 100, 640, 2, 1},
		{100, 5120, 640, 8, 1},
		{15, 1, 1, 8, 1}, // not 8*2: ceil(15/8) = 2 > 2*1, but 16 > 15
		{20000, 1, 1, 8, 2500},
	} {
		d, k := jpegReduction(tc.w, tc.h, tc.target)
		if d != tc.d || k != tc.k {
			t.Errorf("%dx%d target %d: denom %d k %d, want %d %d", tc.w, tc.h, tc.target, d, k, tc.d, tc.k)
		}
	}
	// The total factor never exceeds the box filter's alone, and is more
	// than half of it; it never reduces below the target.
	for longer := 1; longer <= 5000; longer += 7 {
		for _, target := range []int{1, 7, 100, 333, 1024} {
			d, k := jpegReduction(longer, 1, target)
			total, box := d*k, reductionFactor(longer, 1, target)
			if total > box || 2*total <= box || (2*target <= longer && ceilDiv(longer, total) < target) {
				t.Fatalf("longer %d target %d: d=%d k=%d, box filter alone %d", longer, target, d, k, box)
			}
		}
	}
}

func TestReductionFactor(t *testing.T) {
	for _, tc := range []struct{ w, h, target, k int }{
		{4000, 3000, 0, 1},
		{4000, 3000, 1280, 3}, // 4000/3 = 1333 >= 1280; /4 = 1000 < 1280
		{4000, 3000, 640, 6},
		{3000, 4000, 640, 6},
		{1279, 100, 640, 1}, // below 2*target
		{1280, 100, 640, 2},
		{1919, 100, 640, 2},
		{1920, 100, 640, 3},
		{640, 480, 640, 1},
		{20000, 1, 1, 20000},
	} {
		k := reductionFactor(tc.w, tc.h, tc.target)
		if k != tc.k {
			t.Errorf("%dx%d target %d: k=%d, want %d", tc.w, tc.h, tc.target, k, tc.k)
		}
		if tc.target > 0 && max(tc.w, tc.h) >= 2*tc.target && ceilDiv(max(tc.w, tc.h), k) < tc.target {
			t.Errorf("%dx%d target %d: k=%d reduces below the target", tc.w, tc.h, tc.target, k)
		}
	}
}

// Decode with reduction gives the same as converting at full size, then
// reducing: for PNG exactly, through the same integer arithmetic.
func TestDecodeReducedPNG(t *testing.T) {
	data := readFace(t, "identities/fr_alex_lacamoire/alex-lacamoire.png")
	full, _, err := Decode(data, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	im, info, err := Decode(data, Limits{TargetMaxSide: 100})
	if err != nil {
		t.Fatal(err)
	}
	if info.Scale != 4 {
		t.Fatalf("scale %d", info.Scale)
	}
	wantSame(t, im, refBox(full, info.Scale), 1)
}
