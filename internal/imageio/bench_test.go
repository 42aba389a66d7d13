package imageio

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"sync"
	"testing"

	"golang.org/x/image/draw"

	"github.com/facereg/facereg/internal/imageio/jpegscale"
)

// The benchmark inputs: a 640x480 camera frame from the shared set, and a
// 4000x3000 (12 MP) JPEG made from it, as a phone would send.
var (
	benchOnce  sync.Once
	bench640   []byte
	bench12MP  []byte
	bench12YCC *image.YCbCr
)

func benchInputs(b testing.TB) {
	b.Helper()
	benchOnce.Do(func() {
		bench640 = readFace(b, "spoof/real/silentface_image_T1.jpg") // 640x480
		src, err := jpeg.Decode(bytes.NewReader(bench640))
		if err != nil {
			b.Fatal(err)
		}
		big := image.NewRGBA(image.Rect(0, 0, 4000, 3000))
		draw.CatmullRom.Scale(big, big.Bounds(), src, src.Bounds(), draw.Src, nil)
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, big, &jpeg.Options{Quality: 90}); err != nil {
			b.Fatal(err)
		}
		bench12MP = buf.Bytes()
		m, err := jpeg.Decode(bytes.NewReader(bench12MP))
		if err != nil {
			b.Fatal(err)
		}
		bench12YCC = m.(*image.YCbCr)
	})
	if bench640 == nil || bench12MP == nil {
		b.Fatal("benchmark inputs not available")
	}
}

// make12MP returns the 4000x3000 JPEG of the benchmarks.
func make12MP(t testing.TB) []byte {
	benchInputs(t)
	return bench12MP
}

func BenchmarkDecode(b *testing.B) {
	benchInputs(b)
	for _, bc := range []struct {
		name   string
		data   func() []byte
		target int
	}{
		{"640x480", func() []byte { return bench640 }, 0},
		{"12MP/full", func() []byte { return bench12MP }, 0},
		{"12MP/target1280", func() []byte { return bench12MP }, 1280}, // d=2: 2000x1500 (box alone: k=3, 1334x1000)
		{"12MP/target1024", func() []byte { return bench12MP }, 1024}, // d=2: 2000x1500 (box alone: k=3, 1334x1000)
		{"12MP/target640", func() []byte { return bench12MP }, 640},   // d=4: 1000x750 (box alone: k=6, 667x500)
	} {
		b.Run(bc.name, func(b *testing.B) {
			data := bc.data()
			lim := Limits{TargetMaxSide: bc.target}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Decode(data, lim); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecode12MPRotated adds EXIF orientation 6 (portrait phone photo)
// to the 12 MP JPEG.
func BenchmarkDecode12MPRotated(b *testing.B) {
	benchInputs(b)
	data := withAPP1(bench12MP, tiffWithOrientation(6, binary.LittleEndian))
	for _, target := range []int{0, 1280} {
		b.Run(map[int]string{0: "full", 1280: "target1280"}[target], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, info, err := Decode(data, Limits{TargetMaxSide: target}); err != nil || info.Orientation != 6 {
					b.Fatal(err, info)
				}
			}
		})
	}
}

// BenchmarkStdlibJPEG is image/jpeg alone: the floor under Decode.
func BenchmarkStdlibJPEG(b *testing.B) {
	benchInputs(b)
	for name, data := range map[string][]byte{"640x480": bench640, "12MP": bench12MP} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkConvert12MP compares ways of getting RGB out of the decoded
// 12 MP *image.YCbCr: this package's conversion at full size and with a
// 3x3 box reduction, a per-pixel At() loop, and x/image/draw reducing to the
// same 1334x1000.
func BenchmarkConvert12MP(b *testing.B) {
	benchInputs(b)
	m := bench12YCC
	b.Run("ours/full", func(b *testing.B) {
		for b.Loop() {
			toRGB(m, 1, fullRange)
		}
	})
	b.Run("ours/box3", func(b *testing.B) {
		for b.Loop() {
			toRGB(m, 3, fullRange)
		}
	})
	b.Run("At/full", func(b *testing.B) {
		for b.Loop() {
			refRGB(m)
		}
	})
	dst := image.NewRGBA(image.Rect(0, 0, 1334, 1000))
	for name, k := range map[string]draw.Scaler{
		"xdraw-ApproxBiLinear/box3": draw.ApproxBiLinear,
		"xdraw-BiLinear/box3":       draw.BiLinear,
		"xdraw-CatmullRom/box3":     draw.CatmullRom,
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				k.Scale(dst, dst.Bounds(), m, m.Bounds(), draw.Src, nil)
			}
		})
	}
}

// BenchmarkDecode12MP: the 12 MP JPEG decoded by image/jpeg, by jpegscale at
// each scale, and by Decode with TargetMaxSide 1024 as the engine calls it,
// now ("after": jpegscale at 1/2, 2000x1500) and as it was before the DCT
// scaling ("before": image/jpeg, then the k=3 box filter, 1334x1000).
func BenchmarkDecode12MP(b *testing.B) {
	benchInputs(b)
	data := bench12MP
	b.Run("image-jpeg", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, denom := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("DecodeScaled-%d", denom), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := jpegscale.DecodeScaled(bytes.NewReader(data), denom); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	lim := Limits{TargetMaxSide: 1024}
	b.Run("Decode-target1024-before", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if im, info, err := decodeBeforeDCTScaling(data, lim); err != nil || info.Scale != 3 || im.W != 1334 {
				b.Fatal(err, info)
			}
		}
	})
	b.Run("Decode-target1024-after", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if im, info, err := Decode(data, lim); err != nil || info.Scale != 2 || im.W != 2000 {
				b.Fatal(err, info)
			}
		}
	})
}

// decodeBeforeDCTScaling is Decode's JPEG path as it was before the DCT
// scaling: a full decode by image/jpeg, then the conversion's box filter by
// the factor of reductionFactor. Only for the benchmark.
func decodeBeforeDCTScaling(data []byte, lim Limits) (*Image, Info, error) {
	lim = lim.withDefaults()
	info := Info{Format: FormatJPEG}
	cfg, err := decodeConfig(FormatJPEG, data)
	if err != nil {
		return nil, info, err
	}
	info.Width, info.Height = cfg.Width, cfg.Height
	if err := checkDimensions(cfg.Width, cfg.Height, lim); err != nil {
		return nil, info, err
	}
	info.Orientation = jpegOrientation(data)
	m, err := decodePixels(FormatJPEG, data, 1)
	if err != nil {
		return nil, info, err
	}
	info.Scale = reductionFactor(cfg.Width, cfg.Height, lim.TargetMaxSide)
	im, err := convertSafe(m, info.Scale, fullRange, FormatJPEG)
	if err != nil {
		return nil, info, err
	}
	orient(im, info.Orientation)
	return im, info, nil
}
