// Package vision is facereg's face engine: model pack manifests,
// pre-processing, and the analysis pipeline decode -> detect -> landmarks ->
// align -> quality -> liveness -> embedding. Each stage is callable alone;
// an Engine is safe for concurrent use.
package vision

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"time"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/imageio"
	"github.com/facereg/facereg/internal/ort"
)

// Thresholds are the defaults of the quality, liveness and match checks.
// docs/REASONS.md gives each with the measurement that justifies it.
type Thresholds struct {
	Detection       float64 `json:"detection"`         // detector score for a face
	NMSIoU          float64 `json:"nms_iou"`           // overlap above which the weaker box is dropped
	SecondFaceRatio float64 `json:"second_face_ratio"` // a second face counts when its height >= ratio x the largest
	MinIPD          float64 `json:"min_ipd"`           // FACE_TOO_SMALL below, pixels of the original image
	MaxCropped      float64 `json:"max_cropped"`       // FACE_CROPPED above: fraction of the face box outside the frame
	MaxYaw          float64 `json:"max_yaw"`           // POSE_TOO_LARGE above, degrees
	MaxPitch        float64 `json:"max_pitch"`
	MaxRoll         float64 `json:"max_roll"`
	EyesClosed      float64 `json:"eyes_closed"`    // EYES_CLOSED when both eyes' closed probability reach it
	MinBrightness   float64 `json:"min_brightness"` // TOO_DARK below: mean face luma 0..255
	MaxBrightness   float64 `json:"max_brightness"` // TOO_BRIGHT above
	MinSharpness    float64 `json:"min_sharpness"`  // BLURRY below: variance of the Laplacian of the aligned face
	Liveness        float64 `json:"liveness"`       // LIVENESS_FAILED below
	Match           float64 `json:"match"`          // cosine similarity at or above which two faces match
}

// Config opens an Engine.
type Config struct {
	Lib    string // path of libonnxruntime.so
	Models string // model pack directory (manifest.json optional: default pack)
	// Sessions is the number of ORT sessions per model (concurrent
	// inferences); 0 means GOMAXPROCS.
	Sessions int
	// Thresholds overrides the pack's defaults when not nil.
	Thresholds *Thresholds
	// Limits bounds the images accepted; zero means imageio.DefaultLimits.
	Limits imageio.Limits
}

// Engine runs a model pack. Safe for concurrent use.
type Engine struct {
	man                            Manifest
	th                             Thresholds
	lim                            imageio.Limits
	det, lmk, emb, live, pose, eye *ort.Session
	dim                            int
	// Observe, if set, is called with each stage's duration (for metrics).
	Observe func(stage string, d time.Duration)
}

// FindCache returns the directory that holds lib/ and models/ (filled by
// make setup): $FACEREG_CACHE, else the first .cache found in the working
// directory or its parents, else .cache beside the executable's directory.
func FindCache() string {
	if d := os.Getenv("FACEREG_CACHE"); d != "" {
		return d
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if fi, err := os.Stat(filepath.Join(d, ".cache", "lib")); err == nil && fi.IsDir() {
				return filepath.Join(d, ".cache")
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if exe, err := os.Executable(); err == nil {
		return filepath.Join(filepath.Dir(filepath.Dir(exe)), ".cache")
	}
	return ".cache"
}

// DefaultConfig returns a Config pointing at the cache found by FindCache.
func DefaultConfig() Config {
	c := FindCache()
	return Config{Lib: filepath.Join(c, "lib", "libonnxruntime.so"), Models: filepath.Join(c, "models", "default")}
}

// Open loads the runtime and every model of the pack, verifying each file's
// sha256 against the manifest.
func Open(cfg Config) (*Engine, error) {
	if cfg.Lib == "" || cfg.Models == "" {
		d := DefaultConfig()
		if cfg.Lib == "" {
			cfg.Lib = d.Lib
		}
		if cfg.Models == "" {
			cfg.Models = d.Models
		}
	}
	man, err := LoadManifest(cfg.Models)
	if err != nil {
		return nil, err
	}
	if err := man.Validate(); err != nil {
		return nil, err
	}
	if err := ort.Init(cfg.Lib); err != nil {
		return nil, err
	}
	n := cfg.Sessions
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	e := &Engine{man: man, th: man.Thresholds, lim: cfg.Limits}
	if cfg.Thresholds != nil {
		e.th = *cfg.Thresholds
	}
	def := imageio.DefaultLimits()
	if e.lim.MaxBytes <= 0 {
		e.lim.MaxBytes = def.MaxBytes
	}
	if e.lim.MaxPixels <= 0 {
		e.lim.MaxPixels = def.MaxPixels
	}
	if e.lim.TargetMaxSide == 0 {
		// A 4000x3000 or 4032x3024 phone photo decodes at 1/4 scale in the DCT
		// domain (~1000 px): plenty for faces, and decoding no longer dominates.
		e.lim.TargetMaxSide = 960
	}
	for role, dst := range map[string]**ort.Session{
		RoleDetector: &e.det, RoleLandmarks: &e.lmk, RoleEmbedder: &e.emb,
		RoleLiveness: &e.live, RolePose: &e.pose, RoleEyes: &e.eye,
	} {
		md := man.Models[role]
		path := md.File
		if !filepath.IsAbs(path) {
			path = filepath.Join(cfg.Models, path)
		}
		if err := verifyFile(path, md.SHA256); err != nil {
			e.Close()
			return nil, err
		}
		s, err := ort.NewSession(path, n, md.Optimization)
		if err != nil {
			e.Close()
			return nil, fmt.Errorf("%s model: %w", role, err)
		}
		*dst = s
	}
	// One run on a blank face gives the embedding size (and warms up).
	md := man.Models[RoleEmbedder]
	out, err := e.emb.Run(make([]float32, specOf(md).size()), 1, 3, int64(md.Input[0]), int64(md.Input[1]))
	if err != nil || len(out) == 0 || len(out[0]) == 0 {
		e.Close()
		return nil, fmt.Errorf("embedder test run: %v", err)
	}
	e.dim = len(out[0])
	return e, nil
}

// EmbeddingDim is the length of the embedder's vectors.
func (e *Engine) EmbeddingDim() int { return e.dim }

// Close releases the sessions. Idempotent.
func (e *Engine) Close() error {
	var errs []error
	for _, s := range []*ort.Session{e.det, e.lmk, e.emb, e.live, e.pose, e.eye} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

// Manifest returns the loaded pack's manifest.
func (e *Engine) Manifest() Manifest { return e.man }

// Thresholds returns the thresholds in force.
func (e *Engine) Thresholds() Thresholds { return e.th }

// ModelID is the id recorded with every template this engine makes.
func (e *Engine) ModelID() string { return e.man.Models[RoleEmbedder].ID }

// Limits returns the image limits in force.
func (e *Engine) Limits() imageio.Limits { return e.lim }

// Check is one quality or liveness check with its measurement.
type Check struct {
	Code      string  `json:"code"`
	Passed    bool    `json:"passed"`
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
	Unit      string  `json:"unit"`
	Message   string  `json:"message"`
}

// Face is one analysed face. Coordinates are in pixels of the upright
// (EXIF-oriented) original image.
type Face struct {
	Box        facereg.Box `json:"box"`
	Score      float64     `json:"detection_score"`
	Landmarks  [5]Point    `json:"landmarks"` // left eye, right eye, nose tip, mouth left, mouth right
	IPD        float64     `json:"interpupillary_distance"`
	Pose       Pose        `json:"pose"`
	Eyes       EyeState    `json:"eyes"`
	Sharpness  float64     `json:"sharpness"`
	Brightness float64     `json:"brightness"`
	Cropped    float64     `json:"cropped"`
	Liveness   *float64    `json:"liveness,omitempty"`
	Checks     []Check     `json:"checks"`
	Embedding  []float32   `json:"embedding,omitempty"`

	det   Detection // in the decoded (possibly reduced) image
	align Affine
}

// Analysis is the engine's verdict on one image.
type Analysis struct {
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	Format      string `json:"format"`
	Orientation int    `json:"exif_orientation"`
	// Faces lists every face the detector found, largest first; the first is
	// the subject and the only one fully analysed unless AllFaces was asked.
	Faces []Face `json:"faces"`
	// Accepted is true when the image has exactly one subject face and every
	// enforced check passed. Reasons lists the failed checks' codes.
	Accepted bool     `json:"accepted"`
	Reasons  []string `json:"reasons"`

	img *imageio.Image
}

// Options select the optional stages of Analyze.
type Options struct {
	Liveness  bool // run the liveness model on the subject
	Embedding bool // compute the subject's embedding
	AllFaces  bool // analyse every face, not only the subject
	// Enforce lists the quality codes that refuse the image (nil: all).
	Enforce []string
	// LivenessThreshold overrides the default when > 0.
	LivenessThreshold float64
	// KeepImage keeps the decoded image for FaceCrop.
	KeepImage bool
}

// AnalyzeBytes decodes data (JPEG, PNG or WebP bytes) and analyses it.
func (e *Engine) AnalyzeBytes(ctx context.Context, data []byte, o Options) (*Analysis, error) {
	t0 := time.Now()
	img, info, err := imageio.Decode(data, e.lim)
	e.observe("decode", t0)
	if err != nil {
		return nil, err
	}
	a, err := e.Analyze(ctx, img, info.Scale, o)
	if err != nil {
		return nil, err
	}
	a.Width, a.Height, a.Format, a.Orientation = info.Width, info.Height, info.Format, info.Orientation
	if info.Orientation >= 5 {
		a.Width, a.Height = info.Height, info.Width
	}
	return a, nil
}

func (e *Engine) observe(stage string, t0 time.Time) {
	if e.Observe != nil {
		e.Observe(stage, time.Since(t0))
	}
}

// Analyze runs the pipeline on a decoded image. scale is the factor by which
// img was reduced from the original (1 if not), so that measurements are
// reported in original pixels.
func (e *Engine) Analyze(ctx context.Context, img *imageio.Image, scale int, o Options) (*Analysis, error) {
	if scale < 1 {
		scale = 1
	}
	k := float64(scale)
	a := &Analysis{Width: img.W * scale, Height: img.H * scale, Reasons: []string{}}
	if o.KeepImage {
		a.img = img
	}
	t := time.Now()
	dets, err := e.Detect(img)
	e.observe("detect", t)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(dets, func(i, j int) bool { return dets[i].W()*dets[i].H() > dets[j].W()*dets[j].H() })
	if len(dets) > 20 {
		dets = dets[:20]
	}
	for i, d := range dets {
		f := Face{det: d, Score: d.Score, Checks: []Check{}}
		f.Box = facereg.Box{X: round2(d.X1 * k), Y: round2(d.Y1 * k), Width: round2(d.W() * k), Height: round2(d.H() * k)}
		f.Score = round3(d.Score)
		a.Faces = append(a.Faces, f)
		if i > 0 && !o.AllFaces {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := e.analyzeFace(img, k, &a.Faces[i], o); err != nil {
			return nil, err
		}
	}
	switch {
	case len(a.Faces) == 0:
		a.Reasons = append(a.Reasons, facereg.NoFace)
	case e.countsAsSecond(a.Faces):
		a.Reasons = append(a.Reasons, facereg.MultipleFaces)
	}
	if len(a.Faces) > 0 {
		enforce := o.Enforce
		if enforce == nil {
			enforce = facereg.QualityReasons
		}
		for _, c := range a.Faces[0].Checks {
			if !c.Passed && (c.Code == facereg.LivenessFailed || contains(enforce, c.Code)) {
				a.Reasons = append(a.Reasons, c.Code)
			}
		}
	}
	a.Accepted = len(a.Reasons) == 0
	return a, nil
}

// countsAsSecond applies the MULTIPLE_FACES rule: a second face counts when
// its box height is at least SecondFaceRatio of the subject's; smaller
// background faces are ignored.
func (e *Engine) countsAsSecond(faces []Face) bool {
	return len(faces) > 1 && faces[1].det.H() >= e.th.SecondFaceRatio*faces[0].det.H()
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func (e *Engine) analyzeFace(img *imageio.Image, k float64, f *Face, o Options) error {
	d := f.det
	t := time.Now()
	p68, err := e.Landmarks(img, d)
	e.observe("landmarks", t)
	if err != nil {
		return err
	}
	five := FivePoints(p68)
	for i, p := range five {
		f.Landmarks[i] = Point{round2(p.X * k), round2(p.Y * k)}
	}
	f.IPD = round2(math.Hypot(five[1].X-five[0].X, five[1].Y-five[0].Y) * k)
	t = time.Now()
	f.align = e.AlignTransform(five)
	e.observe("align", t)

	t = time.Now()
	f.Cropped = round3(math.Max(croppedFraction(d, img.W, img.H), headOutside(five, img.W, img.H)))
	if f.Pose, err = e.HeadPose(img, d); err != nil {
		return err
	}
	if f.Eyes, err = e.Eyes(img, p68); err != nil {
		return err
	}
	f.Eyes.LeftClosed, f.Eyes.RightClosed = round3(f.Eyes.LeftClosed), round3(f.Eyes.RightClosed)
	f.Brightness, f.Sharpness = e.photometry(img, f.align)
	e.observe("quality", t)
	th := e.th
	f.Checks = append(f.Checks,
		minCheck(facereg.FaceTooSmall, f.IPD, th.MinIPD, "px", "interpupillary distance is too small: move closer or use a higher resolution"),
		maxCheck(facereg.FaceCropped, f.Cropped, th.MaxCropped, "ratio", "the face is partly outside the image: centre the face"),
		poseCheck(f.Pose, th),
		minCheckInv(facereg.EyesClosed, math.Min(f.Eyes.LeftClosed, f.Eyes.RightClosed), th.EyesClosed, "probability", "the eyes seem closed: open the eyes and look at the camera"),
		minCheck(facereg.TooDark, f.Brightness, th.MinBrightness, "luma", "the face is too dark: add light in front of the face"),
		maxCheck(facereg.TooBright, f.Brightness, th.MaxBrightness, "luma", "the face is overexposed: reduce the light or avoid direct sun"),
		minCheck(facereg.Blurry, f.Sharpness, th.MinSharpness, "laplacian variance", "the face is blurry: hold the camera still and focus"),
	)
	if o.Liveness {
		t = time.Now()
		s, err := e.Liveness(img, d)
		e.observe("liveness", t)
		if err != nil {
			return err
		}
		f.Liveness = &s
		thr := th.Liveness
		if o.LivenessThreshold > 0 {
			thr = o.LivenessThreshold
		}
		f.Checks = append(f.Checks, minCheck(facereg.LivenessFailed, s, thr, "score", "the photo does not look like a live person in front of the camera"))
	}
	if o.Embedding {
		t = time.Now()
		v, err := e.Embed(img, f.align)
		e.observe("embed", t)
		if err != nil {
			return err
		}
		f.Embedding = v
	}
	return nil
}

func minCheck(code string, v, thr float64, unit, msg string) Check {
	return Check{Code: code, Passed: v >= thr, Value: round3(v), Threshold: thr, Unit: unit, Message: msg}
}

// minCheckInv fails when v reaches the threshold (for probabilities of a defect).
func minCheckInv(code string, v, thr float64, unit, msg string) Check {
	return Check{Code: code, Passed: v < thr, Value: round3(v), Threshold: thr, Unit: unit, Message: msg}
}

func maxCheck(code string, v, thr float64, unit, msg string) Check {
	return Check{Code: code, Passed: v <= thr, Value: round3(v), Threshold: thr, Unit: unit, Message: msg}
}

// poseCheck reports the angle furthest beyond its limit (or the largest
// relative to its limit when all pass).
func poseCheck(p Pose, th Thresholds) Check {
	worst, val, lim := "yaw", math.Abs(p.Yaw), th.MaxYaw
	for _, c := range []struct {
		n      string
		v, lim float64
	}{{"pitch", math.Abs(p.Pitch), th.MaxPitch}, {"roll", math.Abs(p.Roll), th.MaxRoll}} {
		if c.v/c.lim > val/lim {
			worst, val, lim = c.n, c.v, c.lim
		}
	}
	return Check{Code: facereg.PoseTooLarge, Passed: val <= lim, Value: round3(val), Threshold: lim, Unit: "deg " + worst,
		Message: "the head is turned or tilted (" + worst + "): look straight at the camera"}
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// croppedFraction is the part of the detection box outside the image.
func croppedFraction(d Detection, w, h int) float64 {
	area := d.W() * d.H()
	if area <= 0 {
		return 0
	}
	ix := math.Min(d.X2, float64(w)) - math.Max(d.X1, 0)
	iy := math.Min(d.Y2, float64(h)) - math.Max(d.Y1, 0)
	if ix <= 0 || iy <= 0 {
		return 1
	}
	return 1 - ix*iy/area
}

// headOutside estimates the part of the head outside the frame from the eye
// positions, which the landmark model places reliably even when the face is
// cut: the head spans about 1.1 IPD on each side of the eye midpoint, 0.9 IPD
// above the eye line and 1.9 IPD below it (anthropometric proportions). The
// detector's box alone misses cut faces because the detector clips its box
// to the frame.
func headOutside(five [5]Point, w, h int) float64 {
	ex, ey := (five[0].X+five[1].X)/2, (five[0].Y+five[1].Y)/2
	ipd := math.Hypot(five[1].X-five[0].X, five[1].Y-five[0].Y)
	if ipd <= 0 {
		return 0
	}
	return croppedFraction(Detection{X1: ex - 1.1*ipd, X2: ex + 1.1*ipd, Y1: ey - 0.9*ipd, Y2: ey + 1.9*ipd}, w, h)
}

// photometry measures the aligned face: mean luma of its central region and
// the variance of the Laplacian (a standard focus measure) on the same 112 px
// crop, so both are independent of the image resolution.
func (e *Engine) photometry(img *imageio.Image, align Affine) (brightness, sharpness float64) {
	md := e.man.Models[RoleEmbedder]
	sx := float64(md.Input[1]) / 112
	m := align
	// warp in the 112 template frame whatever the embedder's input size
	m.A, m.B, m.D, m.E = m.A*sx, m.B*sx, m.D*sx, m.E*sx
	const n = 112
	g := warpGray(img, m, n, n)
	var sum float64
	var cnt int
	for y := 28; y < 100; y++ { // eyes to chin, inside the cheeks
		for x := 24; x < 88; x++ {
			sum += float64(g[y*n+x])
			cnt++
		}
	}
	brightness = sum / float64(cnt)
	var s, s2 float64
	cnt = 0
	for y := 30; y < 98; y++ {
		for x := 26; x < 86; x++ {
			l := float64(4*g[y*n+x] - g[(y-1)*n+x] - g[(y+1)*n+x] - g[y*n+x-1] - g[y*n+x+1])
			s += l
			s2 += l * l
			cnt++
		}
	}
	mean := s / float64(cnt)
	sharpness = s2/float64(cnt) - mean*mean
	return round3(brightness), round3(sharpness)
}

// Template returns the subject's template of an analysis made with
// Options.Embedding.
func (e *Engine) Template(a *Analysis) (facereg.Template, bool) {
	if len(a.Faces) == 0 || a.Faces[0].Embedding == nil {
		return facereg.Template{}, false
	}
	return facereg.Template{Model: e.ModelID(), Vector: a.Faces[0].Embedding}, true
}

// FaceCrop returns the subject's face as an upright square crop (the
// detection box grown by 30%), at most side px, for storage. Needs
// Options.KeepImage.
func (a *Analysis) FaceCrop(side int) (*imageio.Image, bool) {
	if a.img == nil || len(a.Faces) == 0 {
		return nil, false
	}
	x, y, s := a.Faces[0].det.square()
	g := s * 0.3
	x, y, s = x-g/2, y-g/2, s+g
	out := side
	if int(s) < out {
		out = int(s)
	}
	if out < 16 {
		out = 16
	}
	return warpRGB(a.img, rectAffine(x, y, s, s, out, out), out, out), true
}

// Similarity compares two templates by cosine similarity. Templates of
// different models are refused with EMODELMISMATCH.
func Similarity(a, b facereg.Template) (float64, error) {
	if a.Model != b.Model {
		return 0, facereg.Errorf(facereg.EMODELMISMATCH, "templates were made by different models (%s and %s) and cannot be compared", a.Model, b.Model)
	}
	if len(a.Vector) != len(b.Vector) {
		return 0, facereg.Errorf(facereg.EMODELMISMATCH, "templates have different sizes (%d and %d)", len(a.Vector), len(b.Vector))
	}
	var s float64
	for i := range a.Vector {
		s += float64(a.Vector[i]) * float64(b.Vector[i])
	}
	return s, nil
}
