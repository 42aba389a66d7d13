package vision

import (
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
// spec's size, bilinear with edge replication: what OpenCV's resize and
// warpAffine with INTER_LINEAR do, which is how these networks were trained.
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
	plane := s.w * s.h
	gray := s.channels == "GRAY"
	// per-channel scale and offset: (v - mean) / std = v*k + o
	var k, o [3]float32
	for c := range s.mean {
		k[c] = 1 / s.std[c]
		o[c] = -s.mean[c] / s.std[c]
	}
	ri, bi := 0, 2
	if s.channels == "BGR" {
		ri, bi = 2, 0
	}
	maxX, maxY := float32(img.W-1), float32(img.H-1)
	stride := img.W * 3
	pix := img.Pix
	for v := 0; v < s.h; v++ {
		x := float32(m.B*float64(v) + m.C)
		y := float32(m.E*float64(v) + m.F)
		dx, dy := float32(m.A), float32(m.D)
		row := v * s.w
		for u := 0; u < s.w; u, x, y = u+1, x+dx, y+dy {
			cx, cy := x, y
			if cx < 0 {
				cx = 0
			} else if cx > maxX {
				cx = maxX
			}
			if cy < 0 {
				cy = 0
			} else if cy > maxY {
				cy = maxY
			}
			x0, y0 := int(cx), int(cy)
			fx, fy := cx-float32(x0), cy-float32(y0)
			x1, y1 := x0+1, y0+1
			if x1 >= img.W {
				x1 = img.W - 1
			}
			if y1 >= img.H {
				y1 = img.H - 1
			}
			i00, i10 := y0*stride+x0*3, y0*stride+x1*3
			i01, i11 := y1*stride+x0*3, y1*stride+x1*3
			p00, p10, p01, p11 := pix[i00:i00+3:i00+3], pix[i10:i10+3:i10+3], pix[i01:i01+3:i01+3], pix[i11:i11+3:i11+3]
			w00, w10, w01, w11 := (1-fx)*(1-fy), fx*(1-fy), (1-fx)*fy, fx*fy
			r := w00*float32(p00[0]) + w10*float32(p10[0]) + w01*float32(p01[0]) + w11*float32(p11[0])
			g := w00*float32(p00[1]) + w10*float32(p10[1]) + w01*float32(p01[1]) + w11*float32(p11[1])
			b := w00*float32(p00[2]) + w10*float32(p10[2]) + w01*float32(p01[2]) + w11*float32(p11[2])
			if gray {
				// ITU-R BT.601 luma, as OpenCV's BGR2GRAY.
				out[row+u] = (0.299*r+0.587*g+0.114*b)*k[0] + o[0]
				continue
			}
			c := [3]float32{r, g, b}
			out[row+u] = c[ri]*k[0] + o[0]
			out[plane+row+u] = c[1]*k[1] + o[1]
			out[2*plane+row+u] = c[bi]*k[2] + o[2]
		}
	}
	return out
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
