package imageio

import (
	"encoding/binary"
	"image"
	"image/color"
)

// Conversion to RGB, with an optional integer box reduction in the same pass.
//
// Why this is hand-written: before the conversion, a large JPEG is reduced
// by 2, 4 or 8 in the DCT domain while decoding (the jpegscale subpackage,
// as Go's image/jpeg cannot do that), but the factor left over, and any
// PNG or WebP, is reduced here, and that should cost little. On the
// 12 MP benchmark (BenchmarkConvert12MP, 4000x3000 4:2:0 to 1334x1000) this
// package's k=3 box reduction takes about 21 ms, x/image/draw's BiLinear
// about 235 ms and CatmullRom about 430 ms: they go through per-pixel
// interfaces and float kernels. Only draw.ApproxBiLinear is as fast (29 ms),
// because it samples 4 source pixels per output pixel and ignores the rest,
// which aliases on a 3x reduction. Reducing while converting also means the
// full-size RGB copy of the photo (36 MB at 12 MP) is never allocated.
//
// Every source format is read through a rowFunc, which writes one source row
// as three bytes per pixel. For k == 1 the rows are written straight into
// the output. For k > 1 they go to a scratch row and are summed into column
// sums over a band of k rows, and each band's columns are then summed k at a
// time. *image.YCbCr (every colour JPEG, lossy WebP) skips the scratch row:
// its planes are summed directly, chroma at its own resolution, and each
// block's means are converted once: the conversion is affine, so converting
// the mean equals averaging the converted pixels, up to rounding and the
// clamping of out-of-gamut values, at 1/k² of the conversion work.
//
// Lossy WebP (VP8) stores limited-range ("video", BT.601) Y'CbCr, while
// x/image/webp returns it as an *image.YCbCr, whose colour model is JPEG's
// full range: read through image/color, blacks come out at 16 and whites at
// 235 (golang/go#40173). WebP Y'CbCr is converted here with libwebp's own
// integer formulae instead, so the pixels match what libwebp (and browsers)
// show.

// rowFunc writes source row y (0-based from the top of the bounds) into
// dst[:3*width].
type rowFunc func(y int, dst []byte)

// yccRange says how Y'CbCr samples are to be read.
type yccRange int

const (
	fullRange  yccRange = iota // JFIF, what image/color assumes
	videoRange                 // BT.601 limited range, as in VP8 (lossy WebP)
)

// FromImage converts any image.Image to an RGB Image, compositing alpha on
// white. It uses the same fast paths as Decode; Y'CbCr is read as image/color
// reads it (full range).
func FromImage(m image.Image) *Image {
	return toRGB(m, 1, fullRange)
}

// toRGB converts m to RGB, reduced by the integer factor k >= 1. rng says
// how *image.YCbCr and *image.NYCbCrA samples are read.
func toRGB(m image.Image, k int, rng yccRange) *Image {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return &Image{}
	}
	if k < 1 {
		k = 1
	}
	if y, ok := m.(*image.YCbCr); ok && k > 1 && y.Rect.Min == (image.Point{}) {
		return ycbcrBox(y, k, rng)
	}
	rgbRow := rowReader(m, rng)
	if k == 1 {
		out := NewImage(w, h)
		stride := 3 * w
		for y := range h {
			rgbRow(y, out.Pix[y*stride:(y+1)*stride])
		}
		return out
	}
	return boxReduce(w, h, k, rgbRow)
}

// rowReader returns the fastest RGB row reader for m.
func rowReader(m image.Image, rng yccRange) rowFunc {
	switch m := m.(type) {
	case *image.YCbCr:
		if m.Rect.Min == (image.Point{}) {
			return ycbcrRGBRow(m, rng)
		}
		if rng == videoRange {
			return genericRow(videoYCbCr{m})
		}
	case *image.NYCbCrA:
		if m.Rect.Min == (image.Point{}) {
			return nycbcraRow(m, rng)
		}
		if rng == videoRange {
			return genericRow(videoNYCbCrA{m})
		}
	case *image.Gray:
		return grayRow(m)
	case *image.RGBA:
		return rgbaRow(m)
	case *image.NRGBA:
		return nrgbaRow(m)
	case *image.Paletted:
		return palettedRow(m)
	}
	return genericRow(m)
}

// chromaShift returns log2 of the horizontal and vertical chroma subsampling.
func chromaShift(r image.YCbCrSubsampleRatio) (hs, vs uint) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return 1, 0
	case image.YCbCrSubsampleRatio420:
		return 1, 1
	case image.YCbCrSubsampleRatio440:
		return 0, 1
	case image.YCbCrSubsampleRatio411:
		return 2, 0
	case image.YCbCrSubsampleRatio410:
		return 2, 1
	}
	return 0, 0
}

// ycbcrRows returns, for row y of m (Min at the origin), the luma row and the
// chroma rows.
func ycbcrRows(m *image.YCbCr, y int, hs, vs uint) (ys, cb, cr []byte) {
	w := m.Rect.Dx()
	yo := y * m.YStride
	co := (y >> vs) * m.CStride
	cw := (w-1)>>hs + 1
	return m.Y[yo : yo+w], m.Cb[co : co+cw], m.Cr[co : co+cw]
}

func ycbcrRGBRow(m *image.YCbCr, rng yccRange) rowFunc {
	hs, vs := chromaShift(m.SubsampleRatio)
	if rng == videoRange {
		return func(y int, dst []byte) {
			ys, cb, cr := ycbcrRows(m, y, hs, vs)
			dst = dst[:3*len(ys)]
			for x, yy := range ys {
				c := x >> hs
				d := dst[3*x : 3*x+3 : 3*x+3]
				d[0], d[1], d[2] = vp8ToRGB(yy, cb[c], cr[c])
			}
		}
	}
	if hs == 1 { // 4:2:0 and 4:2:2, nearly every JPEG: one chroma sample per pixel pair
		return func(y int, dst []byte) {
			ys, cb, cr := ycbcrRows(m, y, hs, vs)
			n := len(ys)
			dst = dst[:3*n]
			for c := range n / 2 {
				// color.YCbCrToRGB (same arithmetic, same results),
				// inlined by hand with the chroma terms shared by the
				// pair: the function is over the compiler's inlining
				// budget, and this is the hottest loop.
				cb1 := int32(cb[c]) - 128
				cr1 := int32(cr[c]) - 128
				rc, gc, bc := 91881*cr1, -22554*cb1-46802*cr1, 116130*cb1
				p := ys[2*c : 2*c+2 : 2*c+2]
				d := dst[6*c : 6*c+6 : 6*c+6]
				y0 := int32(p[0]) * 0x10101
				y1 := int32(p[1]) * 0x10101
				d[0], d[1], d[2] = clampYCC(y0+rc), clampYCC(y0+gc), clampYCC(y0+bc)
				d[3], d[4], d[5] = clampYCC(y1+rc), clampYCC(y1+gc), clampYCC(y1+bc)
			}
			if n%2 == 1 {
				x := n - 1
				d := dst[3*x : 3*x+3 : 3*x+3]
				d[0], d[1], d[2] = color.YCbCrToRGB(ys[x], cb[x>>1], cr[x>>1])
			}
		}
	}
	return func(y int, dst []byte) {
		ys, cb, cr := ycbcrRows(m, y, hs, vs)
		dst = dst[:3*len(ys)]
		for x, yy := range ys {
			c := x >> hs
			y1 := int32(yy) * 0x10101
			cb1 := int32(cb[c]) - 128
			cr1 := int32(cr[c]) - 128
			d := dst[3*x : 3*x+3 : 3*x+3]
			d[0] = clampYCC(y1 + 91881*cr1)
			d[1] = clampYCC(y1 - 22554*cb1 - 46802*cr1)
			d[2] = clampYCC(y1 + 116130*cb1)
		}
	}
}

// ycbcrBox is boxReduce for *image.YCbCr (Min at the origin), summing
// straight from the planes, the chroma planes at their own resolution.
func ycbcrBox(m *image.YCbCr, k int, rng yccRange) *Image {
	hs, vs := chromaShift(m.SubsampleRatio)
	w, h := m.Rect.Dx(), m.Rect.Dy()
	ow, oh := (w+k-1)/k, (h+k-1)/k
	out := NewImage(ow, oh)
	cw := (w-1)>>hs + 1
	// Column sums over the rows of one band of k rows: k*255 fits easily.
	colY := make([]uint32, w)
	colCb := make([]uint32, cw)
	colCr := make([]uint32, cw)
	swar := k <= maxSWARRows
	sumY, sumCb, sumCr := newColSums(w), newColSums(cw), newColSums(cw)
	for oy := range oh {
		y0 := oy * k
		y1 := min(y0+k, h)
		if !swar {
			clear(colY)
			clear(colCb)
			clear(colCr)
		}
		for y := y0; y < y1; y++ {
			ys, cb, cr := ycbcrRows(m, y, hs, vs)
			if swar {
				sumY.add(ys)
				sumCb.add(cb)
				sumCr.add(cr)
			} else {
				addBytes(colY, ys)
				addBytes(colCb, cb)
				addBytes(colCr, cr)
			}
		}
		if swar {
			sumY.flush(colY)
			sumCb.flush(colCb)
			sumCr.flush(colCr)
		}
		rows := y1 - y0
		scale := 65536 / float64(rows*k) // for every block but the last
		dst := out.Pix[3*oy*ow : 3*(oy+1)*ow]
		x := 0
		for ox := range ow {
			x0, x1 := x, min(x+k, w)
			var sy, scb, scr uint64
			for ; x < x1; x++ {
				c := x >> hs
				sy += uint64(colY[x])
				scb += uint64(colCb[c])
				scr += uint64(colCr[c])
			}
			if x1-x0 < k {
				scale = 65536 / float64(rows*(x1-x0))
			}
			d := dst[3*ox : 3*ox+3 : 3*ox+3]
			d[0], d[1], d[2] = yccMeanToRGB(sy, scb, scr, scale, rng)
		}
	}
	return out
}

// maxSWARRows is the most rows colSums can add up: 257*255 = 65535.
const maxSWARRows = 257

// colSums adds rows of bytes into per-column sums eight columns at a time:
// each uint64 holds four 16-bit sums, even and odd columns apart (SWAR, as
// Go does not vectorise loops). Flush before more than maxSWARRows rows.
type colSums struct {
	even, odd []uint64 // columns 8j+2l and 8j+2l+1 in lane l of word j
	tail      []uint32 // the last n%8 columns
	n         int
}

func newColSums(n int) *colSums {
	return &colSums{even: make([]uint64, n/8), odd: make([]uint64, n/8), tail: make([]uint32, n%8), n: n}
}

func (c *colSums) add(src []byte) {
	src = src[:c.n]
	m := len(c.even)
	e, o := c.even[:m], c.odd[:m]
	for j := range m {
		v := binary.LittleEndian.Uint64(src[8*j : 8*j+8])
		e[j] += v & 0x00ff00ff00ff00ff
		o[j] += v >> 8 & 0x00ff00ff00ff00ff
	}
	addBytes(c.tail, src[8*m:])
}

// flush stores the sums in dst[:n] and clears them.
func (c *colSums) flush(dst []uint32) {
	dst = dst[:c.n]
	for j, e := range c.even {
		o := c.odd[j]
		d := dst[8*j : 8*j+8 : 8*j+8]
		d[0], d[1] = uint32(e&0xffff), uint32(o&0xffff)
		d[2], d[3] = uint32(e>>16&0xffff), uint32(o>>16&0xffff)
		d[4], d[5] = uint32(e>>32&0xffff), uint32(o>>32&0xffff)
		d[6], d[7] = uint32(e>>48), uint32(o>>48)
	}
	copy(dst[8*len(c.even):], c.tail)
	clear(c.even)
	clear(c.odd)
	clear(c.tail)
}

// addBytes adds src[i] to acc[i].
func addBytes(acc []uint32, src []byte) {
	acc = acc[:len(src)]
	for i, v := range src {
		acc[i] += uint32(v)
	}
}

func nycbcraRow(m *image.NYCbCrA, rng yccRange) rowFunc {
	inner := ycbcrRGBRow(&m.YCbCr, rng)
	w := m.Rect.Dx()
	return func(y int, dst []byte) {
		inner(y, dst)
		as := m.A[y*m.AStride : y*m.AStride+w]
		dst = dst[:3*w]
		for x, a := range as {
			if a == 0xff {
				continue
			}
			d := dst[3*x : 3*x+3 : 3*x+3]
			d[0], d[1], d[2] = overWhite(d[0], a), overWhite(d[1], a), overWhite(d[2], a)
		}
	}
}

// clampYCC returns v>>16 clamped to [0, 255].
func clampYCC(v int32) uint8 {
	if uint32(v)&0xff000000 == 0 {
		return uint8(v >> 16)
	}
	return uint8(^(v >> 31))
}

// yccMeanToRGB converts the mean of n Y'CbCr samples, given as sums and
// f = 65536/n, to RGB, once per output pixel. It follows the integer conversions
// (color.YCbCrToRGB, vp8ToRGB) and their rounding, so that the result is
// what averaging the converted pixels would give: exactly for a uniform
// block, and to within rounding otherwise. Rounding the means to 8 bits and
// calling the integer conversion instead would add up to ±1.2 levels of
// error through the conversion's gains.
func yccMeanToRGB(sy, scb, scr uint64, f float64, rng yccRange) (uint8, uint8, uint8) {
	// The means in 16.16 fixed point: f is 65536/n.
	y := int64(float64(sy)*f + 0.5)
	cb := int64(float64(scb)*f + 0.5)
	cr := int64(float64(scr)*f + 0.5)
	if rng == videoRange {
		// (MultHi(y, 19077) + MultHi(v, 26149) - 14234) >> 6 etc.: with
		// a gain of 1.164 on Y the truncated fractions of a block's
		// pixels are spread evenly, and their average rounds to the
		// floor of the mean.
		yy := y * 19077
		return clampInt((yy + cr*26149 - 14234<<24) >> 30),
			clampInt((yy - cb*6419 - cr*13320 + 8708<<24) >> 30),
			clampInt((yy + cb*33050 - 17685<<24) >> 30)
	}
	// (y*0x10101 + 91881*(cr-128)) >> 16 etc. is y + floor(y*257/65536 +
	// chroma term): Y passes through whole and only the rest is truncated,
	// so the mean of Y is rounded, and the rest floored.
	whole := (y + 1<<15) >> 16
	adj := y * 257
	cb -= 128 << 16
	cr -= 128 << 16
	return clampInt(whole + (adj+91881*cr)>>32),
		clampInt(whole + (adj-22554*cb-46802*cr)>>32),
		clampInt(whole + (adj+116130*cb)>>32)
}

func clampInt(v int64) uint8 {
	switch {
	case v < 0:
		return 0
	case v > 255:
		return 255
	}
	return uint8(v)
}

// vp8ToRGB converts limited-range BT.601 Y'CbCr to RGB with libwebp's
// integer arithmetic (VP8YuvToRgb in src/dsp/yuv.h: 14 fractional bits,
// products truncated like _mm_mulhi_epu16), so results are bit-exact with
// libwebp's "simple" (non-fancy) upsampling path.
func vp8ToRGB(y, u, v uint8) (uint8, uint8, uint8) {
	yy := int32(y) * 19077 >> 8
	return vp8Clip(yy + int32(v)*26149>>8 - 14234),
		vp8Clip(yy - int32(u)*6419>>8 - int32(v)*13320>>8 + 8708),
		vp8Clip(yy + int32(u)*33050>>8 - 17685)
}

// vp8Clip returns v>>6 clamped to [0, 255].
func vp8Clip(v int32) uint8 {
	if v&^(256<<6-1) == 0 {
		return uint8(v >> 6)
	}
	if v < 0 {
		return 0
	}
	return 255
}

// videoYCbCr and videoNYCbCrA read limited-range samples through At, for
// the generic path (images not anchored at the origin).
type videoYCbCr struct{ *image.YCbCr }

func (m videoYCbCr) At(x, y int) color.Color {
	c := m.YCbCrAt(x, y)
	r, g, b := vp8ToRGB(c.Y, c.Cb, c.Cr)
	return color.RGBA{r, g, b, 0xff}
}

type videoNYCbCrA struct{ *image.NYCbCrA }

func (m videoNYCbCrA) At(x, y int) color.Color {
	c := m.NYCbCrAAt(x, y)
	r, g, b := vp8ToRGB(c.Y, c.Cb, c.Cr)
	return color.NRGBA{r, g, b, c.A}
}

// overWhite composites a non-premultiplied 8-bit channel value c with alpha a
// on white, rounding to nearest.
func overWhite(c, a uint8) uint8 {
	return uint8((uint32(c)*uint32(a) + 255*(255-uint32(a)) + 127) / 255)
}

func grayRow(m *image.Gray) rowFunc {
	w := m.Rect.Dx()
	return func(y int, dst []byte) {
		o := m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y+y)
		src := m.Pix[o : o+w]
		dst = dst[:3*w]
		for x, v := range src {
			d := dst[3*x : 3*x+3 : 3*x+3]
			d[0], d[1], d[2] = v, v, v
		}
	}
}

func rgbaRow(m *image.RGBA) rowFunc {
	w := m.Rect.Dx()
	return func(y int, dst []byte) {
		o := m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y+y)
		src := m.Pix[o : o+4*w]
		dst = dst[:3*w]
		for x := range w {
			s := src[4*x : 4*x+4 : 4*x+4]
			d := dst[3*x : 3*x+3 : 3*x+3]
			if a := s[3]; a == 0xff {
				d[0], d[1], d[2] = s[0], s[1], s[2]
			} else {
				// Premultiplied: c + (255-a) is c over white. Valid data
				// has c <= a; clamp for data that does not.
				t := 255 - uint32(a)
				d[0], d[1], d[2] = clamp8(uint32(s[0])+t), clamp8(uint32(s[1])+t), clamp8(uint32(s[2])+t)
			}
		}
	}
}

func clamp8(v uint32) uint8 {
	if v > 255 {
		return 255
	}
	return uint8(v)
}

func nrgbaRow(m *image.NRGBA) rowFunc {
	w := m.Rect.Dx()
	return func(y int, dst []byte) {
		o := m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y+y)
		src := m.Pix[o : o+4*w]
		dst = dst[:3*w]
		for x := range w {
			s := src[4*x : 4*x+4 : 4*x+4]
			d := dst[3*x : 3*x+3 : 3*x+3]
			switch a := s[3]; a {
			case 0xff:
				d[0], d[1], d[2] = s[0], s[1], s[2]
			case 0:
				d[0], d[1], d[2] = 0xff, 0xff, 0xff
			default:
				d[0], d[1], d[2] = overWhite(s[0], a), overWhite(s[1], a), overWhite(s[2], a)
			}
		}
	}
}

func palettedRow(m *image.Paletted) rowFunc {
	// Indices beyond the palette read as black, as image/png does.
	var lut [256][3]byte
	for i, c := range m.Palette {
		if i >= len(lut) {
			break
		}
		if c != nil {
			lut[i] = rgbOverWhite(c)
		}
	}
	w := m.Rect.Dx()
	return func(y int, dst []byte) {
		o := m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y+y)
		src := m.Pix[o : o+w]
		dst = dst[:3*w]
		for x, i := range src {
			d := dst[3*x : 3*x+3 : 3*x+3]
			p := &lut[i]
			d[0], d[1], d[2] = p[0], p[1], p[2]
		}
	}
}

// rgbOverWhite returns c composited on white as 8-bit RGB.
func rgbOverWhite(c color.Color) [3]byte {
	r, g, b, a := c.RGBA() // 16-bit, premultiplied
	t := 0xffff - a
	return [3]byte{uint8((r + t) >> 8), uint8((g + t) >> 8), uint8((b + t) >> 8)}
}

// genericRow reads any image through At: CMYK (Adobe JPEGs), 16-bit PNGs,
// images not anchored at the origin. Slow, but these are rare uploads.
func genericRow(m image.Image) rowFunc {
	b := m.Bounds()
	w := b.Dx()
	return func(y int, dst []byte) {
		dst = dst[:3*w]
		for x := range w {
			p := rgbOverWhite(m.At(b.Min.X+x, b.Min.Y+y))
			d := dst[3*x : 3*x+3 : 3*x+3]
			d[0], d[1], d[2] = p[0], p[1], p[2]
		}
	}
}

// boxReduce reads the w x h source row by row, as RGB, and writes the
// average of each k x k block (partial on the right and bottom edges) into a
// ceil(w/k) x ceil(h/k) image: rows are summed into column sums for a band
// of k rows, and each band's columns are then summed k at a time.
func boxReduce(w, h, k int, row rowFunc) *Image {
	ow, oh := (w+k-1)/k, (h+k-1)/k
	out := NewImage(ow, oh)
	scratch := make([]byte, 3*w)
	col := make([]uint32, 3*w) // k*255 fits easily
	swar := k <= maxSWARRows
	sums := newColSums(3 * w)
	for oy := range oh {
		y0 := oy * k
		y1 := min(y0+k, h)
		if !swar {
			clear(col)
		}
		for y := y0; y < y1; y++ {
			row(y, scratch)
			if swar {
				sums.add(scratch)
			} else {
				addBytes(col, scratch)
			}
		}
		if swar {
			sums.flush(col)
		}
		rows := uint64(y1 - y0)
		dst := out.Pix[3*oy*ow : 3*(oy+1)*ow]
		x := 0
		for ox := range ow {
			x0, x1 := x, min(x+k, w)
			var s0, s1, s2 uint64
			for ; x < x1; x++ {
				p := col[3*x : 3*x+3 : 3*x+3]
				s0 += uint64(p[0])
				s1 += uint64(p[1])
				s2 += uint64(p[2])
			}
			n := rows * uint64(x1-x0)
			d := dst[3*ox : 3*ox+3 : 3*ox+3]
			d[0], d[1], d[2] = uint8((s0+n/2)/n), uint8((s1+n/2)/n), uint8((s2+n/2)/n)
		}
	}
	return out
}
