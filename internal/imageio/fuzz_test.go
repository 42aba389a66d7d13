package imageio

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The committed seeds in testdata/fuzz/FuzzDecode were made with
// ImageMagick 6.9 from the 24x16 pattern of webpPattern (alpha version for
// the alpha PNGs): variants the Go encoders cannot write. They are read here
// as test inputs too.
func readSeed(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzDecode", name))
	if err != nil {
		t.Fatal(err)
	}
	head, lit, ok := strings.Cut(string(b), "\n")
	if !ok || head != "go test fuzz v1" {
		t.Fatalf("%s: not a fuzz corpus file", name)
	}
	lit = strings.TrimSpace(lit)
	lit = strings.TrimSuffix(strings.TrimPrefix(lit, "[]byte("), ")")
	s, err := strconv.Unquote(lit)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return []byte(s)
}

func TestDecodeSeedVariants(t *testing.T) {
	opaque := refRGB(webpPattern(false))
	for _, tc := range []struct {
		name string
		want *Image // nil: only sanity checks
		tol  float64
	}{
		{"jpeg-progressive", opaque, 6},
		{"jpeg-cmyk-adobe", opaque, 8},
		{"jpeg-444", opaque, 4},
		{"jpeg-422", opaque, 6},
		{"jpeg-gray", nil, 0},
		{"png-interlaced", opaque, 0},
		{"png-rgb16", opaque, 0},
		{"png-gray-alpha", nil, 0},
		{"png-palette-trns", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := readSeed(t, tc.name)
			im, info, err := Decode(data, DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			if im.W != 24 || im.H != 16 || info.Width != 24 || info.Height != 16 {
				t.Fatalf("%dx%d, info %+v", im.W, im.H, info)
			}
			wantSame(t, im, decodeRef(t, data), 1)
			if tc.want != nil {
				if _, mean := maxDiff(t, im, tc.want); mean > tc.tol {
					t.Fatalf("mean difference from the source pattern %.2f > %.2f", mean, tc.tol)
				}
			}
			if strings.Contains(tc.name, "gray") {
				for i := 0; i < len(im.Pix); i += 3 {
					if im.Pix[i] != im.Pix[i+1] || im.Pix[i] != im.Pix[i+2] {
						t.Fatalf("gray image has colour at %d: %v", i/3, im.Pix[i:i+3])
					}
				}
			}
		})
	}
}

// fuzzSeeds are small valid images of every kind the decoders take, made in
// code; the committed corpus adds the variants Go cannot encode.
func fuzzSeeds(t testing.TB) [][]byte {
	g := gradient(12, 8)
	gray := image.NewGray(image.Rect(0, 0, 9, 7))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i * 5)
	}
	nrgba := image.NewNRGBA(image.Rect(0, 0, 6, 5))
	for i := range nrgba.Pix {
		nrgba.Pix[i] = uint8(i * 7)
	}
	g16 := image.NewGray16(image.Rect(0, 0, 5, 3))
	for i := range g16.Pix {
		g16.Pix[i] = uint8(i * 11)
	}
	pal := image.NewPaletted(image.Rect(0, 0, 7, 4), color.Palette{color.White, color.Black, color.NRGBA{200, 10, 10, 100}})
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i % 3)
	}
	plain := encodeJPEG(t, g, 80)
	return [][]byte{
		plain,
		encodeJPEG(t, gray, 80),
		withAPP1(plain, tiffWithOrientation(6, binary.LittleEndian)),
		withAPP1(plain, tiffWithOrientation(3, binary.BigEndian)),
		withAPP1(plain, fullTIFF(binary.LittleEndian, 8)),
		encodePNG(t, g),
		encodePNG(t, gray),
		encodePNG(t, nrgba),
		encodePNG(t, g16),
		encodePNG(t, pal),
		webpLossless,
		webpLossy,
		webpLossyAlpha,
		webpLosslessAlpha,
		pngHeader(30000, 30000),
	}
}

// FuzzDecode: no input panics, every error is one of the four image codes,
// and every image returned is well formed and agrees with its Info.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Small limits keep each run fast; the last byte picks whether
		// to reduce, so both conversion paths are fuzzed.
		lim := Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 20}
		if len(data) > 0 && data[len(data)-1]&1 == 1 {
			lim.TargetMaxSide = 7
		}
		im, info, err := Decode(data, lim)
		if err != nil {
			checkErr(t, err)
			if im != nil {
				t.Fatal("an image and an error")
			}
			return
		}
		switch info.Format {
		case "jpeg", "png", "webp":
		default:
			t.Fatalf("format %q", info.Format)
		}
		if info.Orientation < 1 || info.Orientation > 8 || info.Scale < 1 {
			t.Fatalf("info %+v", info)
		}
		if int64(info.Width)*int64(info.Height) > lim.MaxPixels {
			t.Fatalf("decoded %dx%d above the pixel limit", info.Width, info.Height)
		}
		w, h := ceilDiv(info.Width, info.Scale), ceilDiv(info.Height, info.Scale)
		if info.Orientation >= 5 {
			w, h = h, w
		}
		if im.W != w || im.H != h || len(im.Pix) != w*h*3 {
			t.Fatalf("image %dx%d with %d bytes, info %+v", im.W, im.H, len(im.Pix), info)
		}
	})
}

// FuzzEXIF feeds arbitrary TIFF structures to the EXIF path: safeTIFF must
// keep goexif from allocating without bound or looping, and the result is
// always an orientation in 1-8.
func FuzzEXIF(f *testing.F) {
	f.Add(tiffWithOrientation(6, binary.LittleEndian))
	f.Add(tiffWithOrientation(8, binary.BigEndian))
	f.Add(fullTIFF(binary.LittleEndian, 5))
	f.Add(fullTIFF(binary.BigEndian, 2))
	f.Add(cycleTIFF())
	f.Fuzz(func(t *testing.T, tiff []byte) {
		if len(tiff) > 65000 {
			return // an APP1 segment holds at most 65533 bytes
		}
		data := withAPP1([]byte{0xff, 0xd8, 0xff, 0xd9}, tiff)
		if o := jpegOrientation(data); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
		if !bytes.HasPrefix(exifSegment(data), []byte("Exif\x00\x00")) {
			t.Fatal("segment not found")
		}
	})
}

// FuzzDecodeBase64 checks DecodeBase64Limit against encoding/base64 on
// what both accept.
func FuzzDecodeBase64(f *testing.F) {
	f.Add("QUJD", 100)
	f.Add("data:image/png;base64,QUJD\n", 100)
	f.Add("QQ==", 0)
	f.Add("-_-_", 3)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		got, err := DecodeBase64Limit(s, limit)
		if err != nil {
			checkErr(t, err)
			return
		}
		if limit <= 0 {
			limit = DefaultMaxBytes
		}
		if len(got) > limit || len(got) == 0 {
			t.Fatalf("%d bytes with limit %d", len(got), limit)
		}
		// What was accepted is what encoding/base64 makes of the
		// payload without its whitespace and padding.
		payload := s
		if i := strings.IndexByte(s, ','); i >= 0 && strings.HasPrefix(strings.ToLower(strings.TrimLeft(s, " \t\r\n\f\v")), "data:") {
			payload = s[i+1:]
		}
		clean := strings.Map(func(r rune) rune {
			if strings.ContainsRune(" \t\r\n\f\v=", r) {
				return -1
			}
			return r
		}, payload)
		want, err := base64.RawStdEncoding.DecodeString(clean)
		if err != nil {
			want, err = base64.RawURLEncoding.DecodeString(clean)
		}
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%q decoded to %x; encoding/base64 gives %x, %v", clean, got, want, err)
		}
	})
}
