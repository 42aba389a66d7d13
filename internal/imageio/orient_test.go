package imageio

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rwcarlsen/goexif/exif"
)

// tiffWithOrientation returns a TIFF structure whose IFD0 holds only the
// Orientation tag (SHORT).
func tiffWithOrientation(o uint16, bo binary.ByteOrder) []byte {
	b := make([]byte, 8+2+12+4)
	if bo == binary.LittleEndian {
		copy(b, "II*\x00")
	} else {
		copy(b, "MM\x00*")
	}
	bo.PutUint32(b[4:], 8)
	bo.PutUint16(b[8:], 1)
	e := b[10:]
	bo.PutUint16(e, 0x0112)
	bo.PutUint16(e[2:], 3)
	bo.PutUint32(e[4:], 1)
	bo.PutUint16(e[8:], o)
	return b
}

// withAPP1 inserts an APP1 EXIF segment holding tiff right after the SOI of
// a JPEG.
func withAPP1(jpg, tiff []byte) []byte {
	seg := append([]byte("Exif\x00\x00"), tiff...)
	out := []byte{0xff, 0xd8, 0xff, 0xe1, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)}
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// quadrants is a 64x32 stored image: red, green over blue, white.
func quadrants() *image.RGBA {
	const w, h = 64, 32
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{255, 255, 255, 255}
			switch {
			case x < w/2 && y < h/2:
				c = color.RGBA{255, 0, 0, 255}
			case y < h/2:
				c = color.RGBA{0, 255, 0, 255}
			case x < w/2:
				c = color.RGBA{0, 0, 255, 255}
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

// colourName classifies a decoded pixel of the quadrants image.
func colourName(p []byte) string {
	hi := func(v byte) bool { return v > 200 }
	lo := func(v byte) bool { return v < 60 }
	switch {
	case hi(p[0]) && lo(p[1]) && lo(p[2]):
		return "red"
	case lo(p[0]) && hi(p[1]) && lo(p[2]):
		return "green"
	case lo(p[0]) && lo(p[1]) && hi(p[2]):
		return "blue"
	case hi(p[0]) && hi(p[1]) && hi(p[2]):
		return "white"
	}
	return "?"
}

// corners samples the four quadrants of im, away from the edges and the
// chroma-smeared boundaries: top-left, top-right, bottom-left, bottom-right.
func corners(im *Image) [4]string {
	at := func(fx, fy float64) string {
		x, y := int(fx*float64(im.W)), int(fy*float64(im.H))
		return colourName(im.Pix[3*(y*im.W+x):])
	}
	return [4]string{at(0.25, 0.25), at(0.75, 0.25), at(0.25, 0.75), at(0.75, 0.75)}
}

// What a viewer shows for each EXIF orientation of the stored quadrants
// image (TL red, TR green, BL blue, BR white), read off the definitions of
// the Orientation tag in the EXIF 2.32 specification ("0th row is at the
// visual top / left-hand side...") and not from the code under test.
var uprightCorners = map[int][4]string{
	1: {"red", "green", "blue", "white"},
	2: {"green", "red", "white", "blue"}, // 0th row top, 0th column right
	3: {"white", "blue", "green", "red"}, // 0th row bottom, 0th column right
	4: {"blue", "white", "red", "green"}, // 0th row bottom, 0th column left
	5: {"red", "blue", "green", "white"}, // 0th row left, 0th column top
	6: {"blue", "red", "white", "green"}, // 0th row right, 0th column top
	7: {"white", "green", "blue", "red"}, // 0th row right, 0th column bottom
	8: {"green", "white", "red", "blue"}, // 0th row left, 0th column bottom
}

func TestOrientationSynthetic(t *testing.T) {
	plain := encodeJPEG(t, quadrants(), 95)
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		for o := 1; o <= 8; o++ {
			t.Run(bo.String()+"/"+string(rune('0'+o)), func(t *testing.T) {
				data := withAPP1(plain, tiffWithOrientation(uint16(o), bo))
				for _, target := range []int{0, 16} {
					im, info, err := Decode(data, Limits{TargetMaxSide: target})
					if err != nil {
						t.Fatal(err)
					}
					if info.Orientation != o || info.Width != 64 || info.Height != 32 {
						t.Fatalf("info %+v", info)
					}
					w, h := ceilDiv(64, info.Scale), ceilDiv(32, info.Scale)
					if o >= 5 {
						w, h = h, w
					}
					if im.W != w || im.H != h {
						t.Fatalf("orientation %d scale %d: %dx%d, want %dx%d", o, info.Scale, im.W, im.H, w, h)
					}
					if got := corners(im); got != uprightCorners[o] {
						t.Fatalf("orientation %d scale %d: corners %v, want %v", o, info.Scale, got, uprightCorners[o])
					}
				}
			})
		}
	}
}

// orient on a tiny image, pixel by pixel, against the EXIF definitions.
func TestOrientExact(t *testing.T) {
	// Stored 3x2, pixel value = index: 0 1 2 / 3 4 5.
	src := &Image{W: 3, H: 2, Pix: make([]byte, 18)}
	for i := range 6 {
		src.Pix[3*i], src.Pix[3*i+1], src.Pix[3*i+2] = byte(i), byte(i), byte(i)
	}
	want := map[int][]byte{
		1: {0, 1, 2, 3, 4, 5},
		2: {2, 1, 0, 5, 4, 3},
		3: {5, 4, 3, 2, 1, 0},
		4: {3, 4, 5, 0, 1, 2},
		5: {0, 3, 1, 4, 2, 5}, // 2 wide, 3 high
		6: {3, 0, 4, 1, 5, 2},
		7: {5, 2, 4, 1, 3, 0},
		8: {2, 5, 1, 4, 0, 3},
	}
	for o := 1; o <= 8; o++ {
		im := &Image{W: src.W, H: src.H, Pix: bytes.Clone(src.Pix)}
		orient(im, o)
		var got []byte
		for i := 0; i < len(im.Pix); i += 3 {
			got = append(got, im.Pix[i])
		}
		if !bytes.Equal(got, want[o]) {
			t.Errorf("orientation %d: %v, want %v", o, got, want[o])
		}
		if (o >= 5) != (im.W == 2 && im.H == 3) {
			t.Errorf("orientation %d: %dx%d", o, im.W, im.H)
		}
	}
}

// The EXIF-rotated frames of the spoof set. Each file's tag is read with
// goexif directly, independently of the package's segment walk; 5-8 swap the
// dimensions, and any orientation other than 1 must change the pixels
// exactly as orient says relative to a plain decode.
func TestOrientationSpoofFrames(t *testing.T) {
	paths := append(globFaces(t, "spoof/real/*.jpg"), globFaces(t, "spoof/fake/*.jpg")...)
	rotated := 0
	for _, path := range paths {
		t.Run(filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := 1
			if x, err := exif.Decode(bytes.NewReader(data)); err == nil {
				if tag, err := x.Get(exif.Orientation); err == nil {
					want, _ = tag.Int(0)
				}
			}
			im, info, err := Decode(data, DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			if info.Orientation != want {
				t.Fatalf("orientation %d, goexif says %d", info.Orientation, want)
			}
			if want != 1 {
				rotated++
			}
			if want >= 5 {
				if im.W != info.Height || im.H != info.Width {
					t.Fatalf("orientation %d: %dx%d, stored %dx%d: not swapped", want, im.W, im.H, info.Width, info.Height)
				}
			} else if im.W != info.Width || im.H != info.Height {
				t.Fatalf("orientation %d: %dx%d, stored %dx%d", want, im.W, im.H, info.Width, info.Height)
			}
			m, err := jpeg.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			stored := refRGB(m)
			orient(stored, want)
			wantSame(t, im, stored, 0)
			t.Logf("orientation %d, stored %dx%d, upright %dx%d", want, info.Width, info.Height, im.W, im.H)
		})
	}
	if rotated == 0 {
		t.Fatal("no frame of the spoof set has an EXIF orientation other than 1; the test lost its subject")
	}
}

// Broken EXIF blocks never fail the decode: orientation 1. Several would
// make goexif allocate gigabytes or loop forever if passed to it.
func TestOrientationBrokenEXIF(t *testing.T) {
	plain := encodeJPEG(t, quadrants(), 90)
	le := binary.LittleEndian
	mk := func(f func(b []byte)) []byte {
		b := tiffWithOrientation(6, le)
		f(b)
		return b
	}
	for _, tc := range []struct {
		name string
		tiff []byte
	}{
		{"garbage", []byte("this is not a TIFF structure at all")},
		{"empty", nil},
		{"header-only", []byte("II*\x00")},
		{"bad-magic", mk(func(b []byte) { b[2] = 43 })},
		{"ifd-out-of-range", mk(func(b []byte) { le.PutUint32(b[4:], 5000) })},
		{"ifd-count-too-big", mk(func(b []byte) { le.PutUint16(b[8:], 400) })},
		{"negative-count", mk(func(b []byte) { le.PutUint16(b[8:], 0xffff) })},
		{"unknown-type", mk(func(b []byte) { le.PutUint16(b[12:], 99) })},
		{"zero-count", mk(func(b []byte) { le.PutUint32(b[14:], 0) })},
		// RATIONAL x 0x20000001: 8*count wraps to 8 in 32 bits, and
		// goexif would then make([][]int64, 0x20000001).
		{"count-overflow", mk(func(b []byte) { le.PutUint16(b[12:], 5); le.PutUint32(b[14:], 0x20000001); le.PutUint32(b[18:], 8) })},
		{"max-count", mk(func(b []byte) { le.PutUint32(b[14:], 0xffffffff) })},
		{"value-out-of-range", mk(func(b []byte) { le.PutUint32(b[14:], 40); le.PutUint32(b[18:], 8) })},
		{"self-loop", mk(func(b []byte) { le.PutUint32(b[22:], 8) })},
		{"two-ifd-cycle", cycleTIFF()},
		{"bad-exif-pointer", mk(func(b []byte) { le.PutUint16(b[10:], 0x8769); le.PutUint16(b[12:], 4); le.PutUint32(b[18:], 9999) })},
		{"orientation-9", tiffWithOrientation(9, le)},
		{"orientation-0", tiffWithOrientation(0, le)},
		{"orientation-as-ascii", mk(func(b []byte) { le.PutUint16(b[12:], 2) })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := withAPP1(plain, tc.tiff)
			im, info, err := Decode(data, DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			if info.Orientation != 1 || im.W != 64 || im.H != 32 {
				t.Fatalf("info %+v, %dx%d", info, im.W, im.H)
			}
		})
	}
	// A truncated APP1 length.
	bad := withAPP1(plain, tiffWithOrientation(6, le))
	bad[4] = 0xff
	if o := jpegOrientation(bad); o != 1 {
		t.Fatalf("orientation %d from a segment longer than the file", o)
	}
}

// cycleTIFF has IFD0 -> IFD1 -> IFD0: goexif only catches direct self-loops.
func cycleTIFF() []byte {
	le := binary.LittleEndian
	b := make([]byte, 8+2*18)
	copy(b, "II*\x00")
	le.PutUint32(b[4:], 8)
	for i, off := range []int{8, 26} {
		le.PutUint16(b[off:], 1)
		le.PutUint16(b[off+2:], 0x0112)
		le.PutUint16(b[off+4:], 3)
		le.PutUint32(b[off+6:], 1)
		le.PutUint16(b[off+10:], 6)
		next := []uint32{26, 8}[i]
		le.PutUint32(b[off+14:], next)
	}
	return b
}

// A fuller EXIF block, as cameras write it: IFD0 with an Exif sub-IFD (with
// an Interop sub-IFD inside), a GPS sub-IFD and a thumbnail IFD1, with
// values stored out of line. Orientation must still be found.
func TestOrientationFullEXIF(t *testing.T) {
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		tiff := fullTIFF(bo, 8)
		if !safeTIFF(tiff) {
			t.Fatal("safeTIFF refuses a well-formed EXIF block")
		}
		data := withAPP1(encodeJPEG(t, quadrants(), 90), tiff)
		_, info, err := Decode(data, DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		if info.Orientation != 8 {
			t.Fatalf("%v: orientation %d, want 8", bo, info.Orientation)
		}
	}
}

type ifdEntry struct {
	tag, typ uint16
	count    uint32
	value    []byte // inline when <= 4 bytes
}

// fullTIFF lays out IFD0, Exif IFD, Interop IFD, GPS IFD and IFD1.
func fullTIFF(bo binary.ByteOrder, orientation uint16) []byte {
	u16 := func(v uint16) []byte { b := make([]byte, 2); bo.PutUint16(b, v); return b }
	u32 := func(v uint32) []byte { b := make([]byte, 4); bo.PutUint32(b, v); return b }
	rat := func(n, d uint32) []byte { return append(u32(n), u32(d)...) }
	// Offsets are fixed up as IFDs are laid out.
	const (
		ifd0At    = 8
		exifAt    = 200
		interopAt = 300
		gpsAt     = 400
		ifd1At    = 500
		dataAt    = 600
	)
	out := make([]byte, 900)
	if bo == binary.LittleEndian {
		copy(out, "II*\x00")
	} else {
		copy(out, "MM\x00*")
	}
	bo.PutUint32(out[4:], ifd0At)
	data := dataAt
	write := func(at int, entries []ifdEntry, next uint32) {
		bo.PutUint16(out[at:], uint16(len(entries)))
		for i, e := range entries {
			p := out[at+2+12*i:]
			bo.PutUint16(p, e.tag)
			bo.PutUint16(p[2:], e.typ)
			bo.PutUint32(p[4:], e.count)
			if len(e.value) <= 4 {
				copy(p[8:], e.value)
			} else {
				bo.PutUint32(p[8:], uint32(data))
				copy(out[data:], e.value)
				data += len(e.value)
			}
		}
		bo.PutUint32(out[at+2+12*len(entries):], next)
	}
	write(ifd0At, []ifdEntry{
		{0x010f, 2, 6, []byte("Canon\x00")},
		{0x0110, 2, 10, []byte("EOS 5D II\x00")},
		{0x0112, 3, 1, u16(orientation)},
		{0x011a, 5, 1, rat(72, 1)},
		{0x011b, 5, 1, rat(72, 1)},
		{0x0132, 2, 20, []byte("2024:01:02 03:04:05\x00")},
		{0x8769, 4, 1, u32(exifAt)},
		{0x8825, 4, 1, u32(gpsAt)},
	}, ifd1At)
	write(exifAt, []ifdEntry{
		{0x829a, 5, 1, rat(1, 200)},
		{0x9003, 2, 20, []byte("2024:01:02 03:04:05\x00")},
		{0x927c, 7, 16, bytes.Repeat([]byte{0xaa}, 16)}, // MakerNote
		{0xa005, 4, 1, u32(interopAt)},
	}, 0)
	write(interopAt, []ifdEntry{{0x0001, 2, 4, []byte("R98\x00")}}, 0)
	write(gpsAt, []ifdEntry{{0x0002, 5, 3, append(append(rat(48, 1), rat(51, 1)...), rat(0, 1)...)}}, 0)
	write(ifd1At, []ifdEntry{{0x0103, 3, 1, u16(6)}, {0x0201, 4, 1, u32(0)}, {0x0202, 4, 1, u32(0)}}, 0)
	return out[:data]
}

// goexif's own test images: real camera EXIF blocks from many makers, and
// three corrupt ones (huge tag, infinite loop, max uint32). For the real
// ones, the package must find what goexif finds on its own; the corrupt ones
// must be refused quickly. The files come with the module (in the module
// cache once the build has fetched it); their absence fails the test.
func TestOrientationGoexifSamples(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/rwcarlsen/goexif").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Fatalf("goexif module source not available (go list -m): %v", err)
	}
	samples, _ := filepath.Glob(filepath.Join(dir, "exif", "samples", "*.jpg"))
	samples = append(samples, filepath.Join(dir, "exif", "sample1.jpg"))
	if len(samples) < 10 {
		t.Fatalf("goexif samples not found in %s", dir)
	}
	checked := 0
	for _, path := range samples {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want := 1
		if x, err := exif.Decode(bytes.NewReader(data)); x != nil {
			if tag, err2 := x.Get(exif.Orientation); err2 == nil {
				if v, err3 := tag.Int(0); err3 == nil && v >= 1 && v <= 8 {
					want = v
				}
			}
		} else {
			t.Logf("%s: goexif: %v", filepath.Base(path), err)
		}
		if got := jpegOrientation(data); got != want {
			seg := exifSegment(data)
			t.Errorf("%s: orientation %d, goexif alone finds %d (segment %d bytes, safe %v)",
				filepath.Base(path), got, want, len(seg), seg != nil && safeTIFF(seg[6:]))
		}
		checked++
	}
	for _, name := range []string{"huge_tag_exif.jpg", "infinite_loop_exif.jpg", "max_uint32_exif.jpg"} {
		data, err := os.ReadFile(filepath.Join(dir, "exif", "corrupt", name))
		if err != nil {
			t.Fatal(err)
		}
		o := jpegOrientation(data)
		t.Logf("corrupt %s: orientation %d", name, o)
	}
	t.Logf("%d camera samples agree with goexif", checked)
}

// orient on an image larger than one tile, with partial tiles, against a
// per-pixel mapping written from the table of TestOrientExact.
func TestOrientTiles(t *testing.T) {
	const w, h = 131, 70
	src := NewImage(w, h)
	for i := range src.Pix {
		src.Pix[i] = byte(i*7 + i/3)
	}
	// upright (x', y') reads stored (sx, sy); W', H' are the upright size.
	from := map[int]func(x, y int) (int, int){
		1: func(x, y int) (int, int) { return x, y },
		2: func(x, y int) (int, int) { return w - 1 - x, y },
		3: func(x, y int) (int, int) { return w - 1 - x, h - 1 - y },
		4: func(x, y int) (int, int) { return x, h - 1 - y },
		5: func(x, y int) (int, int) { return y, x },
		6: func(x, y int) (int, int) { return y, h - 1 - x },
		7: func(x, y int) (int, int) { return w - 1 - y, h - 1 - x },
		8: func(x, y int) (int, int) { return w - 1 - y, x },
	}
	for o := 1; o <= 8; o++ {
		im := &Image{W: w, H: h, Pix: bytes.Clone(src.Pix)}
		orient(im, o)
		for y := range im.H {
			for x := range im.W {
				sx, sy := from[o](x, y)
				got := im.Pix[3*(y*im.W+x):][:3]
				want := src.Pix[3*(sy*w+sx):][:3]
				if !bytes.Equal(got, want) {
					t.Fatalf("orientation %d: (%d,%d) = %v, want stored (%d,%d) = %v", o, x, y, got, sx, sy, want)
				}
			}
		}
	}
}
