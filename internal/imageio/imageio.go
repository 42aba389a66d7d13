// Package imageio decodes and validates the images that clients upload, and
// turns them into the upright 8-bit RGB rasters the face engine works on.
//
// Only JPEG, PNG and WebP are accepted, recognised by their magic bytes and
// never by a claimed content type. Every limit is checked before the pixels
// are decoded: first the encoded size, then the dimensions read from the
// header, so a small file that declares a huge image (a decompression bomb)
// is refused without allocating its pixels. JPEG EXIF orientation is applied,
// every colour model is converted to RGB (alpha composited on white), and
// large photos may be reduced: JPEGs first in the DCT domain while decoding
// (by 2, 4 or 8, see the jpegscale subpackage), then any image by an integer
// box filter in the same pass as the conversion.
//
// Every error returned by this package is a *facereg.Error whose Code is one
// of facereg.ImageEmpty, facereg.ImageInvalid, facereg.UnsupportedFormat or
// facereg.ImageTooLarge, with a message that is safe to show to a client.
package imageio

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/webp"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/imageio/jpegscale"
)

// Default limits, see Limits.
const (
	DefaultMaxBytes  = 15 << 20   // 15 MiB of encoded image
	DefaultMaxPixels = 40_000_000 // 40 megapixels
	// MaxSide is the largest accepted width or height, whatever MaxPixels
	// says: it refuses absurd aspect ratios such as 100000x10.
	MaxSide = 20000
)

// Format names reported in Info.Format.
const (
	FormatJPEG = "jpeg"
	FormatPNG  = "png"
	FormatWebP = "webp"
)

// Limits bound what Decode accepts. A zero or negative MaxBytes or MaxPixels
// means the default.
type Limits struct {
	// MaxBytes is the largest accepted encoded size; default 15 MiB.
	MaxBytes int
	// MaxPixels is the largest accepted width*height, read from the header
	// before decoding; default 40e6.
	MaxPixels int64
	// TargetMaxSide, when > 0, lets Decode reduce an image whose longer side
	// is at least 2*TargetMaxSide by the largest integer factor k that keeps
	// the longer side >= TargetMaxSide (never smaller), so that 12 MP phone
	// photos cost the engine no more than it needs. 0 keeps full resolution.
	//
	// A JPEG is first decoded reduced by the largest d of 8, 4 and 2 that
	// keeps the longer side >= TargetMaxSide, which costs a fraction of a
	// full decode, and then by the largest integer k2 that keeps it so: the
	// total factor, Info.Scale = d*k2, is the largest multiple of d not
	// above k, more than k/2. A 4000x3000 JPEG with TargetMaxSide 1024
	// comes out at 2000x1500 (Scale 2) where the box filter alone would
	// give 1334x1000 (k = 3).
	TargetMaxSide int
}

// DefaultLimits returns the default limits: 15 MiB, 40 megapixels, no
// reduction.
func DefaultLimits() Limits {
	return Limits{MaxBytes: DefaultMaxBytes, MaxPixels: DefaultMaxPixels}
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.TargetMaxSide < 0 {
		l.TargetMaxSide = 0
	}
	return l
}

// Image is an 8-bit RGB image, row-major, 3 bytes per pixel and no padding:
// the pixel (x, y) is Pix[3*(y*W+x) : 3*(y*W+x)+3], and len(Pix) == W*H*3.
type Image struct {
	W, H int
	Pix  []byte
}

// NewImage returns a black w x h image.
func NewImage(w, h int) *Image {
	return &Image{W: w, H: h, Pix: make([]byte, w*h*3)}
}

// Info describes a decoded image.
type Info struct {
	// Format is "jpeg", "png" or "webp".
	Format string
	// Width and Height are the dimensions as stored in the file, before
	// orientation and reduction.
	Width, Height int
	// Orientation is the EXIF orientation (1-8) that was applied; 1 when the
	// file has none, or has a broken EXIF block.
	Orientation int
	// Scale is the reduction factor applied (1 = none): each output pixel is
	// the average of a Scale x Scale block of stored pixels (blocks on the
	// right and bottom edges of the stored image may be partial); a stored
	// point (x, y) is at about (x/Scale, y/Scale) in the decoded image,
	// before orientation. For a JPEG reduced in the DCT domain, the average
	// is that of the block's low frequencies (see jpegscale), which differs
	// from the exact average by about a level on photos, more on fine text.
	Scale int
}

// Decode sniffs, validates and decodes an encoded JPEG, PNG or WebP image
// into an upright RGB image. The checks run in this order, each before any
// pixel is decoded: empty input (IMAGE_EMPTY), encoded size
// (IMAGE_TOO_LARGE), format (UNSUPPORTED_FORMAT), header (IMAGE_INVALID),
// dimensions (IMAGE_TOO_LARGE). Corrupt or truncated data is IMAGE_INVALID.
//
// On error, Info holds whatever was learnt before the failure (the format and
// the stored dimensions once the header has been read). Decode is safe for
// concurrent use.
func Decode(data []byte, lim Limits) (*Image, Info, error) {
	lim = lim.withDefaults()
	var info Info
	if len(data) == 0 {
		return nil, info, facereg.Errorf(facereg.ImageEmpty, "the image is empty (0 bytes)")
	}
	if len(data) > lim.MaxBytes {
		return nil, info, tooLarge(float64(len(data)), float64(lim.MaxBytes), "bytes",
			"the image is %s; the limit is %s", sizeString(int64(len(data))), sizeString(int64(lim.MaxBytes)))
	}
	format, err := sniff(data)
	if err != nil {
		return nil, info, err
	}
	info.Format = format

	cfg, err := decodeConfig(format, data)
	if err != nil {
		return nil, info, err
	}
	info.Width, info.Height = cfg.Width, cfg.Height
	if err := checkDimensions(cfg.Width, cfg.Height, lim); err != nil {
		return nil, info, err
	}

	info.Orientation = 1
	if format == FormatJPEG {
		info.Orientation = jpegOrientation(data)
	}

	// A large JPEG is decoded reduced by denom in the DCT domain, and what
	// is left of the reduction, k, is done by the box filter of the
	// conversion.
	denom, k := 1, reductionFactor(cfg.Width, cfg.Height, lim.TargetMaxSide)
	if format == FormatJPEG {
		denom, k = jpegReduction(cfg.Width, cfg.Height, lim.TargetMaxSide)
	}
	m, err := decodePixels(format, data, denom)
	if err != nil {
		return nil, info, err
	}
	w, h := (cfg.Width+denom-1)/denom, (cfg.Height+denom-1)/denom
	b := m.Bounds()
	if b.Dx() != w || b.Dy() != h {
		// The decoders check this themselves; checked again so that the
		// limits and Info always describe what was decoded.
		return nil, info, invalid(format)
	}

	info.Scale = denom * k
	rng := fullRange
	if format == FormatWebP {
		rng = videoRange // see convert.go
	}
	im, err := convertSafe(m, k, rng, format)
	if err != nil {
		return nil, info, err
	}
	orient(im, info.Orientation)
	return im, info, nil
}

// reductionFactor returns the largest k with longer/k >= target, or 1 when
// target is 0 or the longer side is below 2*target.
func reductionFactor(w, h, target int) int {
	longer := max(w, h)
	if target <= 0 || longer < 2*target {
		return 1
	}
	return longer / target
}

// jpegReduction returns the factors by which a w x h JPEG is reduced for
// target (see Limits.TargetMaxSide): denom, 8, 4, 2 or 1, in the DCT domain
// while decoding, the largest that keeps the longer side >= target (1 when
// target is 0 or the longer side is below 2*target, as for
// reductionFactor); then k by the box filter, the largest that still keeps
// longer/(denom*k) >= target. denom*k is the largest multiple of denom not
// above reductionFactor(w, h, target), and more than half of it.
func jpegReduction(w, h, target int) (denom, k int) {
	longer := max(w, h)
	denom = 1
	if target > 0 {
		for _, d := range []int{8, 4, 2} {
			if longer >= d*target {
				denom = d
				break
			}
		}
	}
	return denom, reductionFactor(w, h, denom*target)
}

// sniff names the format from the magic bytes, or returns UNSUPPORTED_FORMAT
// (naming the format when it is a well-known one) or IMAGE_INVALID for a
// prefix of a supported format's signature.
func sniff(b []byte) (string, error) {
	has := func(off int, magic string) bool {
		return len(b) >= off+len(magic) && string(b[off:off+len(magic)]) == magic
	}
	switch {
	case has(0, "\xff\xd8\xff"):
		return FormatJPEG, nil
	case has(0, "\x89PNG\r\n\x1a\n"):
		return FormatPNG, nil
	case has(0, "RIFF") && has(8, "WEBP"):
		// VP8X with the animation flag: Go decodes no animation, and the
		// first frame alone is not what the client meant to send.
		if has(12, "VP8X") && len(b) > 20 && b[20]&0x02 != 0 {
			return "", unsupported("animated WebP images are not supported")
		}
		return FormatWebP, nil
	}
	// A prefix of a signature is a truncated file, not another format.
	for _, magic := range []string{"\xff\xd8\xff", "\x89PNG\r\n\x1a\n", "RIFF????WEBP"} {
		if len(b) < len(magic) && matchMagic(b, magic[:len(b)]) {
			return "", facereg.Errorf(facereg.ImageInvalid, "the image is truncated (%d bytes)", len(b))
		}
	}
	name := ""
	switch {
	case has(0, "GIF87a"), has(0, "GIF89a"):
		name = "GIF"
	case has(0, "BM"):
		name = "BMP"
	case has(0, "II*\x00"), has(0, "MM\x00*"):
		name = "TIFF"
	case has(0, "%PDF-"):
		name = "PDF"
	case has(0, "\x00\x00\x00\x0cjP  \r\n\x87\n"), has(0, "\xff\x4f\xff\x51"):
		name = "JPEG 2000"
	case has(0, "\xff\x0a"), has(0, "\x00\x00\x00\x0cJXL \r\n\x87\n"):
		name = "JPEG XL"
	case has(0, "\x00\x00\x01\x00"):
		name = "ICO"
	case has(4, "ftyp"):
		if len(b) >= 12 {
			switch string(b[8:12]) {
			case "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1":
				name = "HEIC/HEIF"
			case "avif", "avis":
				name = "AVIF"
			}
		}
	}
	if name != "" {
		return "", unsupported(name + " images are not supported")
	}
	return "", unsupported("the image format is not recognised")
}

// matchMagic reports whether b matches magic, where '?' matches any byte.
func matchMagic(b []byte, magic string) bool {
	if len(b) < len(magic) {
		return false
	}
	for i := range len(magic) {
		if magic[i] != '?' && b[i] != magic[i] {
			return false
		}
	}
	return true
}

func unsupported(what string) error {
	return facereg.Errorf(facereg.UnsupportedFormat, "%s; send a JPEG, PNG or WebP image", what)
}

func formatName(format string) string {
	switch format {
	case FormatJPEG:
		return "JPEG"
	case FormatPNG:
		return "PNG"
	case FormatWebP:
		return "WebP"
	}
	return "image"
}

func invalid(format string) error {
	return facereg.Errorf(facereg.ImageInvalid, "the %s image is corrupt or truncated", formatName(format))
}

// decodeError maps a decoder error to a client-safe *facereg.Error. The
// decoder's own text is not used: it is not part of any API.
func decodeError(format string, err error) error {
	var jpegUnsupported jpeg.UnsupportedError
	var scaledUnsupported jpegscale.UnsupportedError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return facereg.Errorf(facereg.ImageInvalid, "the %s image is truncated", formatName(format))
	case format == FormatJPEG && (errors.As(err, &jpegUnsupported) || errors.As(err, &scaledUnsupported)):
		// Lossless, arithmetic-coded, 12-bit and hierarchical JPEGs: valid
		// JPEG files that the decoder cannot read.
		return facereg.Errorf(facereg.UnsupportedFormat,
			"this kind of JPEG (lossless, arithmetic-coded, 12-bit, unusual subsampling or CMYK without an Adobe marker) is not supported; send a baseline or progressive JPEG, PNG or WebP image")
	}
	return invalid(format)
}

func decodeConfig(format string, data []byte) (cfg image.Config, err error) {
	defer func() {
		if recover() != nil {
			err = invalid(format)
		}
	}()
	r := bytes.NewReader(data)
	switch format {
	case FormatJPEG:
		cfg, err = jpeg.DecodeConfig(r)
	case FormatPNG:
		cfg, err = png.DecodeConfig(r)
	case FormatWebP:
		cfg, err = webp.DecodeConfig(r)
	}
	if err != nil {
		return cfg, decodeError(format, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return cfg, facereg.Errorf(facereg.ImageInvalid, "the %s image has no pixels (%dx%d)", formatName(format), cfg.Width, cfg.Height)
	}
	return cfg, nil
}

func checkDimensions(w, h int, lim Limits) error {
	if w > MaxSide || h > MaxSide {
		return tooLarge(float64(max(w, h)), MaxSide, "px",
			"the image is %dx%d pixels; the limit is %d pixels per side", w, h, MaxSide)
	}
	if n := int64(w) * int64(h); n > lim.MaxPixels {
		return tooLarge(float64(n), float64(lim.MaxPixels), "px",
			"the image is %dx%d pixels (%s); the limit is %s", w, h, megapixels(n), megapixels(lim.MaxPixels))
	}
	return nil
}

// decodePixels runs the full decoder; a JPEG with denom > 1 is decoded
// reduced by denom (2, 4 or 8) by jpegscale, and otherwise by image/jpeg. A
// panic in a decoder is a bug there, but the input is untrusted: it is
// reported as IMAGE_INVALID rather than taking the process down.
func decodePixels(format string, data []byte, denom int) (m image.Image, err error) {
	defer func() {
		if recover() != nil {
			m, err = nil, invalid(format)
		}
	}()
	r := bytes.NewReader(data)
	switch {
	case format == FormatJPEG && denom > 1:
		m, err = jpegscale.DecodeScaled(r, denom)
	case format == FormatJPEG:
		m, err = jpeg.Decode(r)
	case format == FormatPNG:
		m, err = png.Decode(r)
	case format == FormatWebP:
		m, err = webp.Decode(r)
	}
	if err != nil {
		return nil, decodeError(format, err)
	}
	return m, nil
}

// convertSafe is toRGB with the same last line of defence as decodePixels.
func convertSafe(m image.Image, k int, rng yccRange, format string) (im *Image, err error) {
	defer func() {
		if recover() != nil {
			im, err = nil, invalid(format)
		}
	}()
	return toRGB(m, k, rng), nil
}

func tooLarge(value, threshold float64, unit, format string, args ...any) error {
	e := facereg.Errorf(facereg.ImageTooLarge, format, args...)
	e.Measure = &facereg.Measure{Value: value, Threshold: threshold, Unit: unit}
	return e
}

// sizeString prints a byte count for a message: exact bytes, and MiB when
// that helps.
func sizeString(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%d bytes (%.1f MiB)", n, float64(n)/(1<<20))
}

func megapixels(n int64) string {
	return fmt.Sprintf("%.1f megapixels", float64(n)/1e6)
}
