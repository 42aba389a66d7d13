package jpegscale

import (
	"bytes"
	"image/jpeg"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkDecode12MP decodes the 4000x3000 JPEG of synthetic12MP with
// image/jpeg and with DecodeScaled at each scale.
func BenchmarkDecode12MP(b *testing.B) {
	benchDecoders(b, synthetic12MP(b))
}

// BenchmarkDecodeProgressive is BenchmarkDecode12MP for a progressive JPEG:
// dlib_dogs.jpg (900x916), the largest progressive photo of the shared set
// (Go cannot write progressive JPEGs), or the file named by
// $JPEGSCALE_BENCH_PROGRESSIVE, such as a 12 MP one made with
// "convert in.jpg -interlace JPEG out.jpg".
func BenchmarkDecodeProgressive(b *testing.B) {
	path := os.Getenv("JPEGSCALE_BENCH_PROGRESSIVE")
	if path == "" {
		path = filepath.Join(facesDir, "hard_cases/no_face/dlib_dogs.jpg")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	if !isProgressive(data) {
		b.Fatalf("%s is not progressive", path)
	}
	benchDecoders(b, data)
}

func benchDecoders(b *testing.B, data []byte) {
	b.Run("image-jpeg", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, denom := range []int{1, 2, 4, 8} {
		b.Run("DecodeScaled-"+strconv.Itoa(denom), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeScaled(bytes.NewReader(data), denom); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
