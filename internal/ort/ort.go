// Package ort is facereg's only door to native code: it loads the ONNX Runtime
// shared library and runs models through github.com/yalue/onnxruntime_go (the
// cgo lives in that module; no other facereg package imports it).
//
// Sessions use one intra-op thread with spinning off: on small CPUs ORT's
// spinning threads fight each other, and parallelism comes from running
// several requests at once instead (see docs/PERFORMANCE.md).
package ort

import (
	"errors"
	"fmt"
	"os"
	"sync"

	onnx "github.com/yalue/onnxruntime_go"
)

var (
	initOnce sync.Once
	initErr  error
	initLib  string
)

// Init loads the ONNX Runtime library from libPath once per process. Later
// calls return the first call's result; calling with a different path after a
// successful load is an error.
func Init(libPath string) error {
	initOnce.Do(func() {
		initLib = libPath
		if _, err := os.Stat(libPath); err != nil {
			initErr = fmt.Errorf("onnx runtime library %s: %w (run 'make setup' to fetch it)", libPath, err)
			return
		}
		onnx.SetSharedLibraryPath(libPath)
		if err := onnx.InitializeEnvironment(onnx.WithLogLevelError()); err != nil {
			initErr = fmt.Errorf("initialise onnx runtime from %s: %w", libPath, err)
			return
		}
		_ = onnx.DisableTelemetry()
	})
	if initErr == nil && libPath != initLib {
		return fmt.Errorf("onnx runtime already loaded from %s, not %s", initLib, libPath)
	}
	return initErr
}

// Version returns the loaded runtime's version string.
func Version() string { return onnx.GetVersion() }

// IOInfo describes one model input or output.
type IOInfo struct {
	Name  string
	Shape []int64
}

// Inspect returns the inputs and outputs of a model file.
func Inspect(path string) (in, out []IOInfo, err error) {
	i, o, err := onnx.GetInputOutputInfo(path)
	if err != nil {
		return nil, nil, fmt.Errorf("inspect model %s: %w", path, err)
	}
	conv := func(xs []onnx.InputOutputInfo) []IOInfo {
		r := make([]IOInfo, len(xs))
		for k, x := range xs {
			r[k] = IOInfo{Name: x.Name, Shape: append([]int64(nil), x.Dimensions...)}
		}
		return r
	}
	return conv(i), conv(o), nil
}

// Session is a pool of ONNX Runtime sessions of one model with one float32
// input. It is safe for concurrent use: each Run borrows one session.
type Session struct {
	path    string
	inName  string
	outName []string
	pool    chan *onnx.DynamicAdvancedSession
	all     []*onnx.DynamicAdvancedSession
	closeMu sync.Mutex
	closed  bool
}

// NewSession loads the model at path into size sessions (at least 1), each
// with one intra-op thread and spinning disabled, at the graph optimisation
// level opt ("all" or "", "extended", "basic", "none"). Half-built pools are
// released on error.
func NewSession(path string, size int, opt string) (*Session, error) {
	if size < 1 {
		size = 1
	}
	in, out, err := Inspect(path)
	if err != nil {
		return nil, err
	}
	if len(in) != 1 {
		return nil, fmt.Errorf("model %s: want 1 input, has %d", path, len(in))
	}
	s := &Session{path: path, inName: in[0].Name, pool: make(chan *onnx.DynamicAdvancedSession, size)}
	for _, o := range out {
		s.outName = append(s.outName, o.Name)
	}
	level, ok := map[string]onnx.GraphOptimizationLevel{
		"": onnx.GraphOptimizationLevelEnableAll, "all": onnx.GraphOptimizationLevelEnableAll,
		"extended": onnx.GraphOptimizationLevelEnableExtended, "basic": onnx.GraphOptimizationLevelEnableBasic,
		"none": onnx.GraphOptimizationLevelDisableAll,
	}[opt]
	if !ok {
		return nil, fmt.Errorf("model %s: unknown optimisation level %q", path, opt)
	}
	opts, err := onnx.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	defer opts.Destroy()
	for _, step := range []error{
		opts.SetIntraOpNumThreads(1),
		opts.SetInterOpNumThreads(1),
		opts.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"),
		opts.AddSessionConfigEntry("session.inter_op.allow_spinning", "0"),
		opts.SetGraphOptimizationLevel(level),
	} {
		if step != nil {
			return nil, fmt.Errorf("session options: %w", step)
		}
	}
	for i := 0; i < size; i++ {
		ds, err := onnx.NewDynamicAdvancedSession(path, []string{s.inName}, s.outName, opts)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("load model %s: %w", path, err)
		}
		s.all = append(s.all, ds)
		s.pool <- ds
	}
	return s, nil
}

// Outputs returns the output names in the order Run returns them.
func (s *Session) Outputs() []string { return s.outName }

// ErrClosed is returned by Run after Close.
var ErrClosed = errors.New("ort: session closed")

// Run feeds one input tensor of the given shape and returns every output,
// copied into Go memory, in the order of Outputs.
func (s *Session) Run(input []float32, shape ...int64) ([][]float32, error) {
	ds, ok := <-s.pool
	if !ok || ds == nil {
		return nil, ErrClosed
	}
	defer func() { s.pool <- ds }()
	t, err := onnx.NewTensor(onnx.NewShape(shape...), input)
	if err != nil {
		return nil, fmt.Errorf("input tensor for %s: %w", s.path, err)
	}
	defer t.Destroy()
	outs := make([]onnx.Value, len(s.outName))
	if err := ds.Run([]onnx.Value{t}, outs); err != nil {
		return nil, fmt.Errorf("run %s: %w", s.path, err)
	}
	res := make([][]float32, len(outs))
	for i, o := range outs {
		if o == nil {
			continue
		}
		ft, ok := o.(*onnx.Tensor[float32])
		if !ok {
			o.Destroy()
			return nil, fmt.Errorf("run %s: output %s is %T, want float32", s.path, s.outName[i], o)
		}
		res[i] = append([]float32(nil), ft.GetData()...)
		o.Destroy()
	}
	return res, nil
}

// Close releases every session once all borrowed ones are returned. It is
// idempotent.
func (s *Session) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for range s.all {
		ds := <-s.pool
		if err := ds.Destroy(); err != nil {
			errs = append(errs, err)
		}
	}
	close(s.pool)
	return errors.Join(errs...)
}
