package vision

import (
	"context"
	"testing"

	"github.com/facereg/facereg/internal/imageio"
)

// Benchmarks run one image at a time: ORT uses one intra-op thread per
// session, so each figure is the cost on one core. See docs/PERFORMANCE.md.

type benchImage struct {
	name string
	data []byte
}

func benchImages(b *testing.B) []benchImage {
	selfie := readFace(b, "spoof/real/silentface_image_T1.jpg") // 640x480 phone frame, EXIF-rotated
	return []benchImage{
		{"640x480", selfie},
		{"12MP", upscaleJPEG(b, selfie, 4000, 3000)},
	}
}

func BenchmarkDecode(b *testing.B) {
	e := engine(b)
	for _, im := range benchImages(b) {
		b.Run(im.name, func(b *testing.B) {
			b.SetBytes(int64(len(im.data)))
			for i := 0; i < b.N; i++ {
				if _, _, err := imageio.Decode(im.data, e.Limits()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPipeline is the whole registration pipeline: decode, detect,
// landmarks, align, quality (pose, eyes, photometry), liveness, embedding.
func BenchmarkPipeline(b *testing.B) {
	e := engine(b)
	for _, im := range benchImages(b) {
		b.Run(im.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				a, err := e.AnalyzeBytes(context.Background(), im.data, Options{Liveness: true, Embedding: true})
				if err != nil || len(a.Faces) != 1 {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStages times each stage alone on the decoded 640x480 selfie.
func BenchmarkStages(b *testing.B) {
	e := engine(b)
	img, _, err := imageio.Decode(benchImages(b)[0].data, e.Limits())
	if err != nil {
		b.Fatal(err)
	}
	dets, err := e.Detect(img)
	if err != nil || len(dets) == 0 {
		b.Fatal("no face", err)
	}
	d := dets[0]
	p68, err := e.Landmarks(img, d)
	if err != nil {
		b.Fatal(err)
	}
	m := e.AlignTransform(FivePoints(p68))
	run := func(name string, f func() error) {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := f(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	run("detect", func() error { _, err := e.Detect(img); return err })
	run("landmarks", func() error { _, err := e.Landmarks(img, d); return err })
	run("align", func() error {
		m := e.AlignTransform(FivePoints(p68))
		warpTensor(img, m, specOf(e.man.Models[RoleEmbedder]), nil)
		return nil
	})
	run("pose", func() error { _, err := e.HeadPose(img, d); return err })
	run("eyes", func() error { _, err := e.Eyes(img, p68); return err })
	run("photometry", func() error { e.photometry(img, m); return nil })
	run("liveness", func() error { _, err := e.Liveness(img, d); return err })
	run("embed", func() error { _, err := e.Embed(img, m); return err })
}
