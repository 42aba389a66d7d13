package imageio

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"golang.org/x/image/webp"

	"github.com/facereg/facereg"
)

// decodeRef decodes with the standard decoders and converts through refRGB.
func decodeRef(t testing.TB, data []byte) *Image {
	t.Helper()
	m, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("reference decode: %v", err)
	}
	return refRGB(m)
}

func TestDecodeJPEGPhoto(t *testing.T) {
	for _, name := range []string{
		"identities/fr_obama/obama.jpg",              // baseline 4:2:0
		"identities/fr_biden/biden2.jpg",             // baseline
		"id_docs/us_dl_front/Florida.jpg",            // progressive
		"hard_cases/no_face/dlib_dogs.jpg",           // progressive, 180 dpi
		"hard_cases/non_real_face/clm_skullmask.jpg", // progressive with EXIF, no orientation
	} {
		t.Run(filepath.Base(name), func(t *testing.T) {
			data := readFace(t, name)
			im, info, err := Decode(data, DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			want := Info{Format: "jpeg", Width: cfg.Width, Height: cfg.Height, Orientation: 1, Scale: 1}
			if info != want {
				t.Fatalf("info %+v, want %+v", info, want)
			}
			if len(im.Pix) != im.W*im.H*3 {
				t.Fatalf("len(Pix) = %d for %dx%d", len(im.Pix), im.W, im.H)
			}
			// The Y'CbCr fast path gives exactly what image/color gives.
			wantSame(t, im, decodeRef(t, data), 0)
		})
	}
}

// The file is named 32bit_rgba but is an ordinary 3-component JFIF JPEG;
// it must decode like any other.
func TestDecode32BitRGBAJPEG(t *testing.T) {
	data := readFace(t, "hard_cases/format/fr_32bit_rgba.jpg")
	im, info, err := Decode(data, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if info.Format != "jpeg" || im.W != info.Width || im.H != info.Height || im.W != 534 || im.H != 1024 {
		t.Fatalf("info %+v, image %dx%d", info, im.W, im.H)
	}
	wantSame(t, im, decodeRef(t, data), 0)
}

func TestDecodePNG(t *testing.T) {
	for _, name := range []string{
		"spoof/real/trickyf0x_1.png",                      // 8-bit RGB
		"identities/fr_alex_lacamoire/alex-lacamoire.png", // 8-bit RGBA
		"id_docs/pdf417_zxing/pdf417-1/14.png",            // RGBA
		"id_docs/pdf417_zxing/pdf417-1/01.png",            // 2-bit palette
		"id_docs/pdf417_zxing/pdf417-1/08.png",            // 1-bit palette
		"id_docs/pdf417_zxing/pdf417-1/04.png",            // 8-bit palette
	} {
		t.Run(filepath.Base(name), func(t *testing.T) {
			data := readFace(t, name)
			im, info, err := Decode(data, DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			if info.Format != "png" || info.Orientation != 1 || info.Scale != 1 || im.W != info.Width || im.H != info.Height {
				t.Fatalf("info %+v, image %dx%d", info, im.W, im.H)
			}
			// NRGBA over white rounds to nearest here and truncates in
			// the 16-bit reference: allow 1.
			wantSame(t, im, decodeRef(t, data), 1)
		})
	}
}

func TestDecodeGrayscalePNG(t *testing.T) {
	for _, path := range globFaces(t, "hard_cases/illumination_greyscale/*.png") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			m, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			g, ok := m.(*image.Gray)
			if !ok {
				t.Fatalf("%s decodes to %T, expected a grayscale PNG", path, m)
			}
			im, _, err := Decode(data, DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			for y := range im.H {
				for x := range im.W {
					p := im.Pix[3*(y*im.W+x):]
					v := g.GrayAt(x, y).Y
					if p[0] != v || p[1] != v || p[2] != v {
						t.Fatalf("(%d,%d) = %v, want gray %d", x, y, p[:3], v)
					}
				}
			}
		})
	}
}

// libwebp's own decode of webpLossy (dwebp -nofancy -ppm, libwebp 1.2.4):
// x/image/webp upsamples chroma the simple way, so with libwebp's
// conversion the result must be bit-exact.
var webpLossyDwebp = mustB64("AAXyAAfzEQXrEwbsKQPdLAbfOwTWPAXXTgTKUAfNXwXBYAfCdwO1eQa4igSsiwWtoASmogaosQSeswagywGTzAKU3AKL3gSNBQz5Bw76GAzyGg3zMArkMw3mQgvdQwzeVQvRVw7UZgzIZw7Jfgq8gA2/kQqzkgy0pwutqQ2vuAulug2n0Qia0wmb4wmS5QuUAyHvBCLxEyHlFiPnLCHYLyPbPyDRQCHSUSLFUyTIZCG+ZSK/fCCxfiKzjSCpjiGqoyKZpSWbtCORtyWUziCGzyGH3yCA4SKDCij2Cyn4GyntHSruMyjfNiriRifYRyjZWCnMWivPayjFbCnGgye4hSm6lCewlSixqimgrCyiuyqYviyb1SeN1iiO5ieH6CmKAEHhAULjE0HYFELZKz/MLULPPEDDPkHET0C6UkO8YUGwYkKxeUCje0KlikCbi0Gcn0CQoUKSsECIs0OLyj59yz9+2z513UB4B0joCEnqGkjfG0ngMkbTNEnWQ0fKRUjLVkfBWUrDaEi3aUm4gEeqgkmskUeikkijpkeXqEmZt0ePuUqS0UWE0kaF4kV85Ed/BV3dBl/eFV3UF1/WLlzIMF/KQVzAQl3BU121VWC3Zl2tZ16vfVyggF6ij1yYkF2ao16DpmCFtV57t2B+zltwz11x4Ftr4l5tDGTkDWblHWXcHmbdNWPPN2bRSGPHSWTIWmS8XGe+bWS0bmW2hGOnh2WplmOfl2ShqmWKrWeMvGWCvmeF1WJ31mR452Jx6WV0AH7MAH/NEX7EEn/FKXy3K3+5On2vO36wT32gUYCiYn2YY36ZeXuLfH6Ni3yDjH2Ennx4oH96sXxys351yXpnynto2npf3H1iBYXTB4jVGIXLGYbMMIO+MobAQYS2QoW3VoSnWIepaYSfaoWggIKSg4WUkoOKk4SLpYN/p4aBuIN5uoV80IFu0YJv4YFm44RpAprJBJvKFJu/FZzBLJmyLpy0P5mqQJqsU5mdVpyfZZqTZpuVfJiIf5qKkJh/kZmAo5ptpZxvtppmuJxozZhaz5lb35hV4ZpXCaHQC6LRG6LGHKPIM6C5NaO7RqCxR6GzWqCkXaOmbKGabaKcg5+PhqGRl5+GmKCHqqF0rKN2vaFtv6Nv1J9h1qBi5p9c6KFeALi5ALq7D7mvELqwJrekKbmmObeaO7ibULmPU7uRYrqIY7uJerh6fLp8jbhxjrlyn7dooblqsrZhtLljy7ZWzLdX3LZP3rhRBL/AB8HCFsC2F8G3Lb6rMMCtQL6hQr+iV8CWWsKYacGPasKQgb+Bg8GDlL94lcB5pr5vqMBxub1ou8Bq0r1d075e471W5b9YAtS0A9W1E9WsFNauK9OfLdWhPdOXPtWZVdWKV9iNZ9aDaNeEftR1gdd4kNVukdZvotVdpNdgtdRYt9daztNNz9VP39RG4dZICdu7C929GtyzG921MtqmNNyoRNqeRdygXNyRXt+Ubt2Kb96Lhdt8iN5/l9x1mN12qdxkq95nvNtfvt5h1dpU1txW5ttN6N1P")

// refVideoRGB converts limited-range Y'CbCr (VP8) with the BT.601 formulae
// in floating point, compositing alpha on white.
func refVideoRGB(m image.Image) *Image {
	b := m.Bounds()
	out := NewImage(b.Dx(), b.Dy())
	clamp := func(v float64) float64 { return min(max(v, 0), 255) }
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			var c color.YCbCr
			a := 255.0
			switch m := m.(type) {
			case *image.YCbCr:
				c = m.YCbCrAt(x, y)
			case *image.NYCbCrA:
				n := m.NYCbCrAAt(x, y)
				c, a = n.YCbCr, float64(n.A)
			}
			Y, U, V := 1.164*(float64(c.Y)-16), float64(c.Cb)-128, float64(c.Cr)-128
			for j, v := range []float64{Y + 1.596*V, Y - 0.391*U - 0.813*V, Y + 2.018*U} {
				out.Pix[i+j] = uint8((clamp(v)*a+255*(255-a))/255 + 0.5)
			}
			i += 3
		}
	}
	return out
}

func TestDecodeWebP(t *testing.T) {
	opaque := refRGB(webpPattern(false))
	overWhite := refRGB(webpPattern(true))
	for _, tc := range []struct {
		name string
		data []byte
		want *Image // the pattern the file was made from
		tol  int
		mean float64
	}{
		{"lossless", webpLossless, opaque, 0, 0},
		{"lossless-alpha", webpLosslessAlpha, overWhite, 1, 0.5},
		{"lossy", webpLossy, opaque, 30, 6},
		{"lossy-alpha", webpLossyAlpha, overWhite, 30, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			im, info, err := Decode(tc.data, DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			if want := (Info{Format: "webp", Width: 24, Height: 16, Orientation: 1, Scale: 1}); info != want {
				t.Fatalf("info %+v, want %+v", info, want)
			}
			d, mean := maxDiff(t, im, tc.want)
			t.Logf("vs the source pattern: max %d, mean %.2f", d, mean)
			if d > tc.tol || mean > tc.mean+0.0001 {
				t.Fatalf("differs from the pattern by up to %d (mean %.2f); tolerance %d (mean %.2f)", d, mean, tc.tol, tc.mean)
			}
			m, err := webp.Decode(bytes.NewReader(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			switch m.(type) {
			case *image.YCbCr, *image.NYCbCrA: // lossy: limited range
				wantSame(t, im, refVideoRGB(m), 1)
			default:
				wantSame(t, im, refRGB(m), 1)
			}
			if tc.name == "lossy" {
				wantSame(t, im, &Image{W: 24, H: 16, Pix: webpLossyDwebp}, 0)
			}
		})
	}
}

// Reduced lossy WebP goes through the Y'CbCr box path with the VP8
// conversion.
func TestDecodeWebPReduced(t *testing.T) {
	full, _, err := Decode(webpLossy, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	im, info, err := Decode(webpLossy, Limits{TargetMaxSide: 8})
	if err != nil {
		t.Fatal(err)
	}
	if info.Scale != 3 || im.W != 8 || im.H != 6 {
		t.Fatalf("scale %d, %dx%d", info.Scale, im.W, im.H)
	}
	wantSame(t, im, refBox(full, 3), 3)
}

// Every photo of the shared set decodes, at full size and reduced, and
// agrees with its header.
func TestDecodeAllSharedPhotos(t *testing.T) {
	var paths []string
	for _, p := range []string{"*/*/*", "*/*/*/*", "*/*/*/*/*"} {
		m, _ := filepath.Glob(filepath.Join(facesDir, p))
		paths = append(paths, m...)
	}
	n := 0
	for _, path := range paths {
		ext := strings.ToLower(filepath.Ext(path))
		if ext != ".jpg" && ext != ".jpeg" && ext != ".png" && ext != ".webp" {
			continue
		}
		n++
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, target := range []int{0, 100} {
			im, info, err := Decode(data, Limits{TargetMaxSide: target})
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if info.Width != cfg.Width || info.Height != cfg.Height {
				t.Fatalf("%s: info %+v, header %dx%d", path, info, cfg.Width, cfg.Height)
			}
			w, h := ceilDiv(cfg.Width, info.Scale), ceilDiv(cfg.Height, info.Scale)
			if info.Orientation >= 5 {
				w, h = h, w
			}
			if im.W != w || im.H != h || len(im.Pix) != w*h*3 {
				t.Fatalf("%s: %dx%d (%d bytes), want %dx%d (info %+v)", path, im.W, im.H, len(im.Pix), w, h, info)
			}
			if target > 0 && max(cfg.Width, cfg.Height) >= 2*target && max(im.W, im.H) < target {
				t.Fatalf("%s: reduced below the target: %dx%d", path, im.W, im.H)
			}
		}
	}
	if n < 100 {
		t.Fatalf("only %d photos found under %s", n, facesDir)
	}
	t.Logf("%d photos decoded", n)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func TestDecodeEmpty(t *testing.T) {
	for _, data := range [][]byte{nil, {}} {
		_, _, err := Decode(data, DefaultLimits())
		wantCode(t, err, facereg.ImageEmpty)
	}
}

func TestDecodeTruncated(t *testing.T) {
	for _, name := range []string{
		"identities/fr_obama/obama.jpg",
		"id_docs/us_dl_front/Florida.jpg", // progressive
		"spoof/real/trickyf0x_1.png",
		"hard_cases/illumination_greyscale/yale_subject02_glasses.png",
	} {
		data := readFace(t, name)
		for _, cut := range []int{len(data) / 2, len(data) / 8, 40, 3} {
			_, _, err := Decode(data[:cut], DefaultLimits())
			e := wantCode(t, err, facereg.ImageInvalid)
			if cut == len(data)/2 {
				t.Logf("%s cut at %d: %s", name, cut, e.Message)
			}
		}
	}
	for _, data := range [][]byte{webpLossless, webpLossy, webpLossyAlpha} {
		_, _, err := Decode(data[:len(data)/2], DefaultLimits())
		wantCode(t, err, facereg.ImageInvalid)
	}
	// A signature alone, or part of one.
	for _, s := range []string{"\xff", "\xff\xd8", "\xff\xd8\xff", "\x89PNG", "\x89PNG\r\n\x1a\n", "RIFF", "RIFF\x10\x00\x00\x00WEBP"} {
		_, _, err := Decode([]byte(s), DefaultLimits())
		wantCode(t, err, facereg.ImageInvalid)
	}
}

func TestDecodeCorrupt(t *testing.T) {
	data := bytes.Clone(readFace(t, "identities/fr_obama/obama.jpg"))
	// Garbage over the entropy-coded data, past the headers.
	rng := rand.New(rand.NewPCG(1, 2))
	for i := len(data) / 3; i < len(data)/3+2000; i++ {
		data[i] = byte(rng.IntN(256))
	}
	if _, _, err := Decode(data, DefaultLimits()); err != nil {
		// Go's JPEG decoder may or may not notice; when it does, the
		// error must be IMAGE_INVALID.
		wantCode(t, err, facereg.ImageInvalid)
	}

	// A PNG whose IDAT checksum is wrong.
	p := bytes.Clone(readFace(t, "spoof/real/trickyf0x_1.png"))
	i := bytes.Index(p, []byte("IDAT"))
	p[i+10] ^= 0xff
	_, _, err := Decode(p, DefaultLimits())
	wantCode(t, err, facereg.ImageInvalid)
}

func TestDecodeUnsupported(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(rng.IntN(256))
	}
	random[0] = 0x42 // 'B', not the start of any signature
	random[1] = 0x00

	var g bytes.Buffer
	pm := image.NewPaletted(image.Rect(0, 0, 16, 16), palette.Plan9)
	if err := gif.Encode(&g, pm, nil); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, data, in string
	}{
		{"random", string(random), "not recognised"},
		{"gif", g.String(), "GIF"},
		{"bmp", "BM\x36\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00", "BMP"},
		{"tiff-le", "II*\x00\x08\x00\x00\x00", "TIFF"},
		{"tiff-be", "MM\x00*\x00\x00\x00\x08", "TIFF"},
		{"heic", "\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "HEIC"},
		{"avif", "\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "AVIF"},
		{"pdf", "%PDF-1.7\n", "PDF"},
		{"riff-wave", "RIFF\x24\x00\x00\x00WAVEfmt ", "not recognised"},
		{"text", "hello, world", "not recognised"},
		{"animated-webp", "RIFF\x24\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x02\x00\x00\x00\x0f\x00\x00\x0f\x00\x00", "animated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Decode([]byte(tc.data), DefaultLimits())
			e := wantCode(t, err, facereg.UnsupportedFormat)
			if !strings.Contains(e.Message, tc.in) || !strings.Contains(e.Message, "JPEG, PNG or WebP") {
				t.Fatalf("message %q should mention %q and the accepted formats", e.Message, tc.in)
			}
		})
	}
}

// JPEG variants Go cannot decode are valid files of a format we do not
// support: UNSUPPORTED_FORMAT, not IMAGE_INVALID.
func TestDecodeUnsupportedJPEGVariants(t *testing.T) {
	base := encodeJPEG(t, gradient(32, 32), 90)
	sof := bytes.Index(base, []byte{0xff, 0xc0})
	if sof < 0 {
		t.Fatal("no SOF0 in the encoded JPEG")
	}
	for _, tc := range []struct {
		name  string
		patch func(b []byte)
	}{
		{"arithmetic", func(b []byte) { b[sof+1] = 0xc9 }},
		{"lossless", func(b []byte) { b[sof+1] = 0xc3 }},
		{"12-bit", func(b []byte) { b[sof+4] = 12 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := bytes.Clone(base)
			tc.patch(b)
			_, _, err := Decode(b, DefaultLimits())
			wantCode(t, err, facereg.UnsupportedFormat)
		})
	}
}

func TestDecodeMaxBytes(t *testing.T) {
	data := readFace(t, "identities/fr_obama/obama.jpg")
	_, _, err := Decode(data, Limits{MaxBytes: len(data) - 1})
	e := wantCode(t, err, facereg.ImageTooLarge)
	if e.Measure == nil || e.Measure.Value != float64(len(data)) || e.Measure.Threshold != float64(len(data)-1) || e.Measure.Unit != "bytes" {
		t.Fatalf("measure %+v", e.Measure)
	}
	if _, _, err := Decode(data, Limits{MaxBytes: len(data)}); err != nil {
		t.Fatalf("at exactly the limit: %v", err)
	}
	// Size is checked before the format: a big GIF is too large.
	big := append([]byte("GIF89a"), make([]byte, DefaultMaxBytes)...)
	_, _, err = Decode(big, DefaultLimits())
	wantCode(t, err, facereg.ImageTooLarge)
}

// pngHeader returns a PNG signature and a valid IHDR for w x h 8-bit RGB,
// followed by an empty IDAT and IEND: a few dozen bytes claiming any size.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit truecolour
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

// allocated returns the bytes allocated by f.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

func TestDecompressionBombs(t *testing.T) {
	// A JPEG whose SOF claims 65000x65000.
	j := bytes.Clone(encodeJPEG(t, gradient(16, 16), 80))
	sof := bytes.Index(j, []byte{0xff, 0xc0})
	binary.BigEndian.PutUint16(j[sof+5:], 65000)
	binary.BigEndian.PutUint16(j[sof+7:], 65000)
	// A lossless WebP whose VP8L header claims 16384x16384 (268 MP).
	w := bytes.Clone(webpLossless)
	bits := binary.LittleEndian.Uint32(w[21:])
	bits = bits&^(1<<28-1) | 16383 | 16383<<14
	binary.LittleEndian.PutUint32(w[21:], bits)

	for _, tc := range []struct {
		name string
		data []byte
		lim  Limits
		unit string
	}{
		{"png-50000x50000", pngHeader(50000, 50000), DefaultLimits(), "px"},
		{"png-side", pngHeader(20001, 10), DefaultLimits(), "px"},
		{"png-19000x19000", pngHeader(19000, 19000), DefaultLimits(), "px"},
		{"png-1x2^31", pngHeader(1, 1<<31-1), DefaultLimits(), "px"},
		{"png-small-limit", pngHeader(1001, 1000), Limits{MaxPixels: 1_000_000}, "px"},
		{"jpeg-65000x65000", j, DefaultLimits(), "px"},
		{"webp-16384x16384", w, DefaultLimits(), "px"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			n := allocated(func() { _, _, err = Decode(tc.data, tc.lim) })
			e := wantCode(t, err, facereg.ImageTooLarge)
			if e.Measure == nil || e.Measure.Unit != tc.unit || e.Measure.Value <= e.Measure.Threshold {
				t.Fatalf("measure %+v", e.Measure)
			}
			if n > 1<<20 {
				t.Fatalf("refusing the bomb allocated %d bytes", n)
			}
			t.Logf("%s (allocated %d bytes)", e.Message, n)
		})
	}
	// Exactly at the pixel limit is accepted (and then found corrupt: the
	// IDAT is empty).
	_, _, err := Decode(pngHeader(1000, 1000), Limits{MaxPixels: 1_000_000})
	wantCode(t, err, facereg.ImageInvalid)
}

func TestDecodeZeroSize(t *testing.T) {
	_, _, err := Decode(pngHeader(0, 10), DefaultLimits())
	wantCode(t, err, facereg.ImageInvalid)
}

// A panic while converting (a decoder bug, or a malformed image.Image) is
// IMAGE_INVALID, not a crash.
type panicImage struct{ image.Image }

func (panicImage) At(x, y int) color.Color { panic("boom") }

func TestConvertRecovers(t *testing.T) {
	m := panicImage{image.NewGray(image.Rect(0, 0, 4, 4))}
	_, err := convertSafe(m, 1, fullRange, "png")
	wantCode(t, err, facereg.ImageInvalid)
}

func TestDecodeConcurrent(t *testing.T) {
	inputs := [][]byte{
		readFace(t, "identities/fr_obama/obama1.jpg"),
		readFace(t, "spoof/fake/silentface_image_F1.jpg"),
		readFace(t, "spoof/real/trickyf0x_4.png"),
		webpLossyAlpha,
	}
	want := make([]*Image, len(inputs))
	for i, in := range inputs {
		im, _, err := Decode(in, Limits{TargetMaxSide: 100})
		if err != nil {
			t.Fatal(err)
		}
		want[i] = im
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 6 {
				k := (g + i) % len(inputs)
				im, _, err := Decode(inputs[k], Limits{TargetMaxSide: 100})
				if err != nil {
					t.Error(err)
					return
				}
				if !bytes.Equal(im.Pix, want[k].Pix) {
					t.Error("concurrent decode differs")
					return
				}
			}
		})
	}
	wg.Wait()
}
