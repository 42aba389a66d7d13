package vision

import (
	"fmt"
	"math"
	"sort"

	"github.com/facereg/facereg/internal/imageio"
)

// Point is a position in image pixels.
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Detection is one face found by the detector, in image pixels.
type Detection struct {
	X1, Y1, X2, Y2 float64
	Score          float64
}

// W and H are the detection's width and height.
func (d Detection) W() float64 { return d.X2 - d.X1 }

// H is the detection's height.
func (d Detection) H() float64 { return d.Y2 - d.Y1 }

// square returns the square box with side = height, same centre (the
// landmark, liveness and pose stages were trained on such crops).
func (d Detection) square() (x, y, side float64) {
	side = d.H()
	if w := d.W(); w > side {
		side = w
	}
	cx, cy := (d.X1+d.X2)/2, (d.Y1+d.Y2)/2
	return cx - side/2, cy - side/2, side
}

// Detect finds faces in img, best first, after non-maximum suppression.
func (e *Engine) Detect(img *imageio.Image) ([]Detection, error) {
	md := e.man.Models[RoleDetector]
	spec := specOf(md)
	in := warpTensor(img, rectAffine(0, 0, float64(img.W), float64(img.H), spec.w, spec.h), spec, nil)
	out, err := e.det.Run(in, 1, 3, int64(spec.h), int64(spec.w))
	if err != nil {
		return nil, err
	}
	scores, boxes := out[0], out[1]
	if len(scores)*2 != len(boxes) {
		return nil, fmt.Errorf("detector: %d scores for %d box values", len(scores), len(boxes))
	}
	thr := e.th.Detection
	var cand []Detection
	for i := 0; i < len(scores)/2; i++ {
		s := float64(scores[2*i+1])
		if s < thr {
			continue
		}
		b := boxes[4*i : 4*i+4]
		cand = append(cand, Detection{
			X1: float64(b[0]) * float64(img.W), Y1: float64(b[1]) * float64(img.H),
			X2: float64(b[2]) * float64(img.W), Y2: float64(b[3]) * float64(img.H), Score: s,
		})
	}
	return nms(cand, e.th.NMSIoU), nil
}

func nms(c []Detection, iou float64) []Detection {
	sort.SliceStable(c, func(i, j int) bool { return c[i].Score > c[j].Score })
	var keep []Detection
	for _, d := range c {
		ok := true
		cx, cy := (d.X1+d.X2)/2, (d.Y1+d.Y2)/2
		for _, k := range keep {
			// A box overlapping a stronger one, or centred inside it, is
			// the same face seen twice (a part of it, or a shifted box).
			if overlap(d, k) > iou || (cx > k.X1 && cx < k.X2 && cy > k.Y1 && cy < k.Y2) {
				ok = false
				break
			}
		}
		if ok && d.W() > 0 && d.H() > 0 {
			keep = append(keep, d)
		}
	}
	return keep
}

func overlap(a, b Detection) float64 {
	ix := math.Min(a.X2, b.X2) - math.Max(a.X1, b.X1)
	iy := math.Min(a.Y2, b.Y2) - math.Max(a.Y1, b.Y1)
	if ix <= 0 || iy <= 0 {
		return 0
	}
	inter := ix * iy
	return inter / (a.W()*a.H() + b.W()*b.H() - inter)
}

// Landmarks returns the 68 facial landmarks of a detected face, in image pixels.
func (e *Engine) Landmarks(img *imageio.Image, d Detection) ([]Point, error) {
	md := e.man.Models[RoleLandmarks]
	spec := specOf(md)
	x, y, side := d.square()
	in := warpTensor(img, rectAffine(x, y, side, side, spec.w, spec.h), spec, nil)
	out, err := e.lmk.Run(in, 1, 1, int64(spec.h), int64(spec.w))
	if err != nil {
		return nil, err
	}
	v := out[0]
	if len(v) != 136 {
		return nil, fmt.Errorf("landmarks: %d values, want 136", len(v))
	}
	pts := make([]Point, 68)
	for i := range pts {
		pts[i] = Point{X: x + float64(v[2*i])*side, Y: y + float64(v[2*i+1])*side}
	}
	return pts, nil
}

// FivePoints reduces 68 landmarks to the 5 used for alignment: left eye
// centre, right eye centre (as seen in the image), nose tip, left and right
// mouth corners.
func FivePoints(p68 []Point) [5]Point {
	mean := func(from, to int) Point {
		var s Point
		for i := from; i <= to; i++ {
			s.X += p68[i].X
			s.Y += p68[i].Y
		}
		n := float64(to - from + 1)
		return Point{s.X / n, s.Y / n}
	}
	return [5]Point{mean(36, 41), mean(42, 47), p68[30], p68[48], p68[54]}
}

// arcface is the standard 112x112 ArcFace alignment template.
var arcface = []Point{
	{38.2946, 51.6963}, {73.5318, 51.5014}, {56.0252, 71.7366}, {41.5493, 92.3655}, {70.7299, 92.2041},
}

// AlignTransform returns the similarity transform from the embedder's input
// (112x112 ArcFace template, scaled to the input size) to the image.
func (e *Engine) AlignTransform(five [5]Point) Affine {
	md := e.man.Models[RoleEmbedder]
	sx, sy := float64(md.Input[1])/112, float64(md.Input[0])/112
	tpl := make([]Point, 5)
	for i, p := range arcface {
		tpl[i] = Point{p.X * sx, p.Y * sy}
	}
	return similarity(tpl, five[:])
}

// Embed returns the L2-normalised embedding of the face aligned by m.
func (e *Engine) Embed(img *imageio.Image, m Affine) ([]float32, error) {
	md := e.man.Models[RoleEmbedder]
	spec := specOf(md)
	in := warpTensor(img, m, spec, nil)
	out, err := e.emb.Run(in, 1, 3, int64(spec.h), int64(spec.w))
	if err != nil {
		return nil, err
	}
	v := out[0]
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	if n == 0 || math.IsNaN(n) {
		return nil, fmt.Errorf("embedder returned a zero or NaN vector")
	}
	inv := float32(1 / math.Sqrt(n))
	for i := range v {
		v[i] *= inv
	}
	return v, nil
}

// Liveness returns the probability that the face is a live person (passive,
// one image): the face box scaled by the manifest's crop factor, kept inside
// the image, fed to a 3-class network whose class 0 is "live".
func (e *Engine) Liveness(img *imageio.Image, d Detection) (float64, error) {
	md := e.man.Models[RoleLiveness]
	spec := specOf(md)
	x, y, side := d.square()
	W, H := float64(img.W), float64(img.H)
	scale := math.Min(md.Crop, math.Min((H-1)/side, (W-1)/side))
	nw := side * scale
	cx, cy := x+side/2, y+side/2
	x1, y1, x2, y2 := cx-nw/2, cy-nw/2, cx+nw/2, cy+nw/2
	if x1 < 0 {
		x2 -= x1
		x1 = 0
	}
	if y1 < 0 {
		y2 -= y1
		y1 = 0
	}
	if x2 > W-1 {
		x1 -= x2 - W + 1
		x2 = W - 1
	}
	if y2 > H-1 {
		y1 -= y2 - H + 1
		y2 = H - 1
	}
	x1, y1 = math.Max(x1, 0), math.Max(y1, 0)
	in := warpTensor(img, rectAffine(x1, y1, x2-x1, y2-y1, spec.w, spec.h), spec, nil)
	out, err := e.live.Run(in, 1, 3, int64(spec.h), int64(spec.w))
	if err != nil {
		return 0, err
	}
	p := softmax(out[0])
	return float64(p[0]), nil
}

// Pose is the head orientation in degrees.
type Pose struct {
	Yaw   float64 `json:"yaw"`
	Pitch float64 `json:"pitch"`
	Roll  float64 `json:"roll"`
}

// HeadPose estimates yaw, pitch and roll from the face box grown by the
// manifest's margin on each side (a HopeNet-style 66-bin classifier).
func (e *Engine) HeadPose(img *imageio.Image, d Detection) (Pose, error) {
	md := e.man.Models[RolePose]
	spec := specOf(md)
	mw, mh := d.W()*md.Crop, d.H()*md.Crop
	x1, y1 := math.Max(d.X1-mw, 0), math.Max(d.Y1-mh, 0)
	x2, y2 := math.Min(d.X2+mw, float64(img.W)), math.Min(d.Y2+mh, float64(img.H))
	in := warpTensor(img, rectAffine(x1, y1, x2-x1, y2-y1, spec.w, spec.h), spec, nil)
	out, err := e.pose.Run(in, 1, 3, int64(spec.h), int64(spec.w))
	if err != nil {
		return Pose{}, err
	}
	if len(out) != 3 {
		return Pose{}, fmt.Errorf("pose: %d outputs, want 3", len(out))
	}
	deg := func(v []float32) float64 {
		p := softmax(v)
		var s float64
		for i, x := range p {
			s += float64(x) * float64(i)
		}
		return s*3 - 99
	}
	return Pose{Yaw: round3(deg(out[0])), Pitch: round3(deg(out[1])), Roll: round3(deg(out[2]))}, nil
}

// EyeState is the probability that each eye (as seen in the image) is closed.
type EyeState struct {
	LeftClosed  float64 `json:"left_closed"`
	RightClosed float64 `json:"right_closed"`
}

// Eyes classifies each eye as open or closed from a square crop around its
// centre, 1.6 times the eye's corner-to-corner width.
func (e *Engine) Eyes(img *imageio.Image, p68 []Point) (EyeState, error) {
	var st EyeState
	for k, idx := range [2][2]int{{36, 39}, {42, 45}} {
		var c Point
		for i := idx[0]; i <= idx[0]+5; i++ {
			c.X += p68[i].X / 6
			c.Y += p68[i].Y / 6
		}
		w := math.Hypot(p68[idx[1]].X-p68[idx[0]].X, p68[idx[1]].Y-p68[idx[0]].Y) * 1.6
		if w < 2 {
			w = 2
		}
		md := e.man.Models[RoleEyes]
		spec := specOf(md)
		in := warpTensor(img, rectAffine(c.X-w/2, c.Y-w/2, w, w, spec.w, spec.h), spec, nil)
		out, err := e.eye.Run(in, 1, 1, int64(spec.h), int64(spec.w))
		if err != nil {
			return st, err
		}
		p := float64(softmax(out[0])[0])
		if k == 0 {
			st.LeftClosed = p
		} else {
			st.RightClosed = p
		}
	}
	return st, nil
}

func softmax(v []float32) []float32 {
	m := float32(math.Inf(-1))
	for _, x := range v {
		if x > m {
			m = x
		}
	}
	out := make([]float32, len(v))
	var s float64
	for i, x := range v {
		ex := math.Exp(float64(x - m))
		out[i] = float32(ex)
		s += ex
	}
	for i := range out {
		out[i] = float32(float64(out[i]) / s)
	}
	return out
}
