package imageio

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"

	"github.com/facereg/facereg"
)

func TestEncodeJPEGRoundTrip(t *testing.T) {
	data := readFace(t, "spoof/real/trickyf0x_13.png")
	im, _, err := Decode(data, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	enc, err := EncodeJPEG(im, 95)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(enc))
	if err != nil || cfg.Width != im.W || cfg.Height != im.H {
		t.Fatalf("config %+v, %v", cfg, err)
	}
	back, info, err := Decode(enc, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if info.Format != "jpeg" {
		t.Fatal(info.Format)
	}
	if _, mean := maxDiff(t, back, im); mean > 3 {
		t.Fatalf("quality 95 round trip: mean difference %.2f", mean)
	}
	// Quality is clamped, not refused.
	for _, q := range []int{-5, 0, 1, 100, 1000} {
		if _, err := EncodeJPEG(im, q); err != nil {
			t.Fatalf("quality %d: %v", q, err)
		}
	}
}

func TestEncodeJPEGErrors(t *testing.T) {
	_, err := EncodeJPEG(nil, 90)
	wantCode(t, err, facereg.ImageEmpty)
	_, err = EncodeJPEG(&Image{}, 90)
	wantCode(t, err, facereg.ImageEmpty)
	_, err = EncodeJPEG(&Image{W: 2, H: 2, Pix: make([]byte, 11)}, 90)
	wantCode(t, err, facereg.ImageInvalid)
	_, err = EncodeJPEG(&Image{W: 70000, H: 1, Pix: make([]byte, 70000*3)}, 90)
	wantCode(t, err, facereg.ImageTooLarge)
}

func TestCrop(t *testing.T) {
	src := FromImage(gradient(40, 30))
	c := Crop(src, image.Rect(5, 6, 15, 26))
	if c.W != 10 || c.H != 20 || len(c.Pix) != 600 {
		t.Fatalf("%dx%d", c.W, c.H)
	}
	for y := range c.H {
		for x := range c.W {
			got := c.Pix[3*(y*c.W+x):][:3]
			want := src.Pix[3*((y+6)*src.W+x+5):][:3]
			if !bytes.Equal(got, want) {
				t.Fatalf("(%d,%d): %v, want %v", x, y, got, want)
			}
		}
	}
	// Clipped to the image.
	c = Crop(src, image.Rect(-10, -10, 5, 100))
	if c.W != 5 || c.H != 30 {
		t.Fatalf("clipped crop %dx%d", c.W, c.H)
	}
	// No overlap: no pixels.
	c = Crop(src, image.Rect(100, 100, 120, 120))
	if c.W != 0 || c.H != 0 || len(c.Pix) != 0 {
		t.Fatalf("empty crop %dx%d", c.W, c.H)
	}
}

func TestToRGBA(t *testing.T) {
	g := gradient(13, 7)
	im := FromImage(g)
	back := im.ToRGBA()
	if !bytes.Equal(back.Pix, g.Pix) || back.Bounds() != g.Bounds() || im.Bounds() != g.Bounds() {
		t.Fatal("ToRGBA does not give the original opaque image back")
	}
}
