package vision

import (
	"math"

	"github.com/facereg/facereg/internal/imageio"
)

// Affine maps a destination pixel (u, v) to the source point
// (A*u + B*v + C, D*u + E*v + F). Every crop, resize and alignment in the
// pipeline is one Affine, so one sampler serves all stages.
type Affine struct{ A, B, C, D, E, F float64 }

// rectAffine maps a w x h destination onto the source rectangle (x, y, rw, rh),
// pixel centres to pixel centres.
func rectAffine(x, y, rw, rh float64, w, h int) Affine {
	sx, sy := rw/float64(w), rh/float64(h)
	return Affine{A: sx, C: x + 0.5*sx - 0.5, E: sy, F: y + 0.5*sy - 0.5}
}

func (m Affine) apply(u, v float64) (float64, float64) {
	return m.A*u + m.B*v + m.C, m.D*u + m.E*v + m.F
}

// scale returns how many source pixels one destination pixel spans.
func (m Affine) scale() float64 {
	return math.Sqrt(math.Abs(m.A*m.E - m.B*m.D))
}

// tensorSpec says how to turn sampled pixels into a model input.
type tensorSpec struct {
	w, h     int
	channels string // RGB, BGR or GRAY
	mean     []float32
	std      []float32
}

func specOf(md Model) tensorSpec {
	return tensorSpec{w: md.Input[1], h: md.Input[0], channels: md.Channels, mean: md.Mean, std: md.Std}
}

func (s tensorSpec) size() int {
	if s.channels == "GRAY" {
		return s.w * s.h
	}
	return 3 * s.w * s.h
}

// warpTensor samples img through m into a planar (NCHW) float32 tensor of
// spec's size. Sampling is bilinear with edge replication; when one output
// pixel covers more than 2 source pixels, an n x n grid of bilinear
// samples is averaged so that strong reductions do not alias.
//
// Hand-written because it fuses crop, resize, rotation, colour order and
// normalisation in one pass into the tensor layout ORT wants; going through
// image/draw would cost two extra full-size copies per stage.
func warpTensor(img *imageio.Image, m Affine, s tensorSpec, out []float32) []float32 {
	n := s.size()
	if cap(out) < n {
		out = make([]float32, n)
	}
	out = out[:n]
	ss := int(math.Ceil(m.scale() / 2))
	if ss < 1 {
		ss = 1
	}
	if ss > 4 {
		ss = 4
	}
	plane := s.w * s.h
	gray := s.channels == "GRAY"
	bgr := s.channels == "BGR"
	inv := 1 / float64(ss*ss)
	for v := 0; v < s.h; v++ {
		for u := 0; u < s.w; u++ {
			var r, g, b float64
			for j := 0; j < ss; j++ {
				for i := 0; i < ss; i++ {
					fu := float64(u) + (float64(i)+0.5)/float64(ss) - 0.5
					fv := float64(v) + (float64(j)+0.5)/float64(ss) - 0.5
					x, y := m.apply(fu, fv)
					pr, pg, pb := bilinear(img, x, y)
					r += pr
					g += pg
					b += pb
				}
			}
			r, g, b = r*inv, g*inv, b*inv
			o := v*s.w + u
			if gray {
				// ITU-R BT.601 luma, as OpenCV's BGR2GRAY.
				l := 0.299*r + 0.587*g + 0.114*b
				out[o] = (float32(l) - s.mean[0]) / s.std[0]
				continue
			}
			if bgr {
				r, b = b, r
			}
			out[o] = (float32(r) - s.mean[0]) / s.std[0]
			out[plane+o] = (float32(g) - s.mean[1]) / s.std[1]
			out[2*plane+o] = (float32(b) - s.mean[2]) / s.std[2]
		}
	}
	return out
}

// bilinear samples img at (x, y) (pixel-centre coordinates), replicating the
// edge outside the image.
func bilinear(img *imageio.Image, x, y float64) (r, g, b float64) {
	maxX, maxY := float64(img.W-1), float64(img.H-1)
	if x < 0 {
		x = 0
	} else if x > maxX {
		x = maxX
	}
	if y < 0 {
		y = 0
	} else if y > maxY {
		y = maxY
	}
	x0, y0 := int(x), int(y)
	fx, fy := x-float64(x0), y-float64(y0)
	x1, y1 := x0+1, y0+1
	if x1 > img.W-1 {
		x1 = img.W - 1
	}
	if y1 > img.H-1 {
		y1 = img.H - 1
	}
	stride := img.W * 3
	p00 := img.Pix[y0*stride+x0*3:]
	p10 := img.Pix[y0*stride+x1*3:]
	p01 := img.Pix[y1*stride+x0*3:]
	p11 := img.Pix[y1*stride+x1*3:]
	w00 := (1 - fx) * (1 - fy)
	w10 := fx * (1 - fy)
	w01 := (1 - fx) * fy
	w11 := fx * fy
	r = w00*float64(p00[0]) + w10*float64(p10[0]) + w01*float64(p01[0]) + w11*float64(p11[0])
	g = w00*float64(p00[1]) + w10*float64(p10[1]) + w01*float64(p01[1]) + w11*float64(p11[1])
	b = w00*float64(p00[2]) + w10*float64(p10[2]) + w01*float64(p01[2]) + w11*float64(p11[2])
	return r, g, b
}

// warpGray samples img through m into a w x h 0..255 luminance buffer (for
// sharpness and brightness measurements).
func warpGray(img *imageio.Image, m Affine, w, h int) []float32 {
	return warpTensor(img, m, tensorSpec{w: w, h: h, channels: "GRAY", mean: []float32{0}, std: []float32{1}}, nil)
}

// warpRGB samples img through m into a new w x h RGB image (for the stored
// face crop).
func warpRGB(img *imageio.Image, m Affine, w, h int) *imageio.Image {
	t := warpTensor(img, m, tensorSpec{w: w, h: h, channels: "RGB", mean: []float32{0, 0, 0}, std: []float32{1, 1, 1}}, nil)
	out := &imageio.Image{W: w, H: h, Pix: make([]byte, w*h*3)}
	plane := w * h
	for i := 0; i < plane; i++ {
		out.Pix[3*i] = clamp8(t[i])
		out.Pix[3*i+1] = clamp8(t[plane+i])
		out.Pix[3*i+2] = clamp8(t[2*plane+i])
	}
	return out
}

func clamp8(v float32) byte {
	if v <= 0 {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return byte(v + 0.5)
}

// similarity estimates the least-squares similarity transform (scale,
// rotation, translation) taking the points src onto dst (Umeyama's method in
// 2D, closed form).
func similarity(src, dst []Point) Affine {
	n := float64(len(src))
	var msx, msy, mdx, mdy float64
	for i := range src {
		msx += src[i].X
		msy += src[i].Y
		mdx += dst[i].X
		mdy += dst[i].Y
	}
	msx, msy, mdx, mdy = msx/n, msy/n, mdx/n, mdy/n
	var a, b, norm float64
	for i := range src {
		sx, sy := src[i].X-msx, src[i].Y-msy
		dx, dy := dst[i].X-mdx, dst[i].Y-mdy
		a += sx*dx + sy*dy
		b += sx*dy - sy*dx
		norm += sx*sx + sy*sy
	}
	if norm == 0 {
		return Affine{A: 1, E: 1}
	}
	p, q := a/norm, b/norm
	return Affine{A: p, B: -q, C: mdx - (p*msx - q*msy), D: q, E: p, F: mdy - (q*msx + p*msy)}
}
