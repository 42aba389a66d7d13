package vision

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Manifest describes a model pack: one ONNX file per role with everything
// needed to feed it and read it, and the default thresholds that go with it.
// An operator swaps a model by editing the manifest in the pack directory; the
// Go code only knows the decoders named in Model.Output.
type Manifest struct {
	ID     string           `json:"id"`
	Models map[string]Model `json:"models"` // by role: detector, landmarks, embedder, liveness, pose, eyes
	// Thresholds are the pack's defaults; configuration may override each.
	Thresholds Thresholds `json:"thresholds"`
}

// Model is one network of a pack.
type Model struct {
	// ID names the model; for the embedder it is recorded with every template,
	// so it must change whenever the embedder's weights change.
	ID     string `json:"id"`
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
	// Input is the network input as [height, width].
	Input [2]int `json:"input"`
	// Layout is "NCHW" (the only layout supported today).
	Layout string `json:"layout"`
	// Channels is "RGB", "BGR" or "GRAY".
	Channels string `json:"channels"`
	// Mean and Std normalise each channel (in the order of Channels):
	// (v - Mean) / Std, where v is the 0..255 pixel value.
	Mean []float32 `json:"mean"`
	Std  []float32 `json:"std"`
	// Output names the decoder for the outputs: "ultraface-corners",
	// "landmarks68-relative", "embedding", "softmax-live0", "hopenet66",
	// "softmax-closed0".
	Output string `json:"output"`
	// Crop is the crop around the face fed to the model: for liveness the
	// scale of the square face box, for pose the margin on each side.
	Crop float64 `json:"crop,omitempty"`
	// Optimization is ORT's graph optimisation level: "all" (default),
	// "extended", "basic" or "none". Measure: on a 2-core x86 box "all"
	// makes the default embedder 3.5x slower and the detector 2.6x faster.
	Optimization string `json:"optimization,omitempty"`
}

// Roles of the models in a pack.
const (
	RoleDetector  = "detector"
	RoleLandmarks = "landmarks"
	RoleEmbedder  = "embedder"
	RoleLiveness  = "liveness"
	RolePose      = "pose"
	RoleEyes      = "eyes"
)

var roleOutputs = map[string]string{
	RoleDetector:  "ultraface-corners",
	RoleLandmarks: "landmarks68-relative",
	RoleEmbedder:  "embedding",
	RoleLiveness:  "softmax-live0",
	RolePose:      "hopenet66",
	RoleEyes:      "softmax-closed0",
}

//go:embed default_manifest.json
var defaultManifest []byte

// DefaultManifest returns the manifest of the default pack
// (npm faceplugin-face-recognition-js@0.0.1).
func DefaultManifest() Manifest {
	var m Manifest
	if err := json.Unmarshal(defaultManifest, &m); err != nil {
		panic("vision: embedded default manifest: " + err.Error())
	}
	return m
}

// LoadManifest reads dir/manifest.json, or returns the default manifest when
// the directory has none.
func LoadManifest(dir string) (Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if os.IsNotExist(err) {
		return DefaultManifest(), nil
	}
	if err != nil {
		return Manifest{}, fmt.Errorf("read model manifest: %w", err)
	}
	var m Manifest
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("parse %s: %w", filepath.Join(dir, "manifest.json"), err)
	}
	return m, m.Validate()
}

// Validate checks that every role is present with a decoder the code knows and
// a consistent normalisation.
func (m Manifest) Validate() error {
	if m.ID == "" {
		return fmt.Errorf("model manifest: id is empty")
	}
	for role, out := range roleOutputs {
		md, ok := m.Models[role]
		if !ok {
			return fmt.Errorf("model manifest %s: no %s model", m.ID, role)
		}
		if md.Output != out {
			return fmt.Errorf("model manifest %s: %s output %q is not supported (want %q)", m.ID, role, md.Output, out)
		}
		if md.Layout != "NCHW" {
			return fmt.Errorf("model manifest %s: %s layout %q is not supported (want NCHW)", m.ID, role, md.Layout)
		}
		nc := 3
		switch md.Channels {
		case "RGB", "BGR":
		case "GRAY":
			nc = 1
		default:
			return fmt.Errorf("model manifest %s: %s channels %q (want RGB, BGR or GRAY)", m.ID, role, md.Channels)
		}
		if len(md.Mean) != nc || len(md.Std) != nc {
			return fmt.Errorf("model manifest %s: %s needs %d mean and std values", m.ID, role, nc)
		}
		for _, s := range md.Std {
			if s == 0 {
				return fmt.Errorf("model manifest %s: %s std is 0", m.ID, role)
			}
		}
		if md.Input[0] <= 0 || md.Input[1] <= 0 {
			return fmt.Errorf("model manifest %s: %s input size %v", m.ID, role, md.Input)
		}
		if md.File == "" || len(md.SHA256) != 64 {
			return fmt.Errorf("model manifest %s: %s needs file and a 64-hex sha256", m.ID, role)
		}
		switch md.Optimization {
		case "", "all", "extended", "basic", "none":
		default:
			return fmt.Errorf("model manifest %s: %s optimization %q (want all, extended, basic or none)", m.ID, role, md.Optimization)
		}
		if md.ID == "" {
			return fmt.Errorf("model manifest %s: %s needs an id", m.ID, role)
		}
	}
	return nil
}

// verifyFile checks the sha256 of path.
func verifyFile(path, want string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("model file %s: %w (run 'make setup' to fetch the default pack)", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != strings.ToLower(want) {
		return fmt.Errorf("model file %s: sha256 %s, manifest wants %s (delete it and run 'make setup', or fix the manifest)", path, got, want)
	}
	return nil
}
