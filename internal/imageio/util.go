package imageio

import (
	"bytes"
	"image"
	"image/jpeg"

	"github.com/facereg/facereg"
)

// ToRGBA returns a copy of im as an opaque *image.RGBA, for the image
// packages of the standard library and x/image.
func (im *Image) ToRGBA() *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, im.W, im.H))
	n := im.W * im.H
	src, dst := im.Pix[:3*n], out.Pix[:4*n]
	for i := range n {
		s := src[3*i : 3*i+3 : 3*i+3]
		d := dst[4*i : 4*i+4 : 4*i+4]
		d[0], d[1], d[2], d[3] = s[0], s[1], s[2], 0xff
	}
	return out
}

// Bounds returns the rectangle (0, 0)-(W, H).
func (im *Image) Bounds() image.Rectangle {
	return image.Rect(0, 0, im.W, im.H)
}

// valid reports whether im is a well-formed non-empty image.
func (im *Image) valid() error {
	switch {
	case im == nil || im.W <= 0 || im.H <= 0:
		return facereg.Errorf(facereg.ImageEmpty, "the image is empty (no pixels)")
	case len(im.Pix) != 3*im.W*im.H:
		return facereg.Errorf(facereg.ImageInvalid, "the image buffer holds %d bytes, not %dx%dx3", len(im.Pix), im.W, im.H)
	}
	return nil
}

// EncodeJPEG encodes im as a baseline JPEG with 4:2:0 chroma subsampling.
// quality is clamped to 1-100. It fails with IMAGE_EMPTY for an image with
// no pixels, IMAGE_INVALID for a malformed one, and IMAGE_TOO_LARGE above
// the 65535 pixels per side that JPEG can hold.
func EncodeJPEG(im *Image, quality int) ([]byte, error) {
	if err := im.valid(); err != nil {
		return nil, err
	}
	if im.W > 65535 || im.H > 65535 {
		return nil, tooLarge(float64(max(im.W, im.H)), 65535, "px",
			"the image is %dx%d pixels; JPEG holds at most 65535 pixels per side", im.W, im.H)
	}
	quality = min(max(quality, 1), 100)
	var buf bytes.Buffer
	buf.Grow(im.W * im.H / 4)
	// image/jpeg has a fast path for *image.RGBA.
	if err := jpeg.Encode(&buf, im.ToRGBA(), &jpeg.Options{Quality: quality}); err != nil {
		return nil, facereg.Errorf(facereg.ImageInvalid, "the image could not be encoded as JPEG")
	}
	return buf.Bytes(), nil
}

// Crop returns a copy of the part of im inside r, clipped to im's bounds.
// The result has no pixels (W == H == 0) when r does not overlap im.
func Crop(im *Image, r image.Rectangle) *Image {
	r = r.Intersect(im.Bounds())
	if r.Empty() {
		return &Image{}
	}
	out := NewImage(r.Dx(), r.Dy())
	row := 3 * r.Dx()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		o := 3 * (y*im.W + r.Min.X)
		copy(out.Pix[(y-r.Min.Y)*row:], im.Pix[o:o+row])
	}
	return out
}
