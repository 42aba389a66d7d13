package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/facereg/facereg/internal/imageio"
	"github.com/facereg/facereg/internal/vision"
)

var errUsage = errors.New("usage")

// newFlags returns a FlagSet whose errors are returned, not fatal.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("facereg "+name, flag.ContinueOnError)
	return fs
}

// parse applies FACEREG_* environment variables as defaults, then the
// command line (which wins).
func parse(fs *flag.FlagSet, args []string) error {
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "FACEREG_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("%s=%q: %w", name, v, err)
			}
		}
	})
	if envErr != nil {
		return envErr
	}
	// Flags may come before or after positional arguments
	// ("tenants create acme --data DIR"); "--" ends the flags.
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return errUsage
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			pos = append(pos, args[1:]...)
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	return fs.Parse(append([]string{"--"}, pos...))
}

// engineFlags are the flags of every command that loads the models.
type engineFlags struct {
	lib, models string
	sessions    int
	maxImage    int
	maxPixels   int64
}

func (e *engineFlags) register(fs *flag.FlagSet) {
	c := vision.FindCache()
	fs.StringVar(&e.lib, "ort-lib", filepath.Join(c, "lib", "libonnxruntime.so"), "path of the ONNX Runtime shared library")
	fs.StringVar(&e.models, "models", filepath.Join(c, "models", "default"), "model pack directory (manifest.json inside selects the models; none: the default pack)")
	fs.IntVar(&e.sessions, "sessions", 0, "ORT sessions per model, i.e. concurrent inferences (0: number of CPUs)")
	fs.IntVar(&e.maxImage, "max-image-bytes", imageio.DefaultMaxBytes, "largest encoded image accepted")
	fs.Int64Var(&e.maxPixels, "max-pixels", imageio.DefaultMaxPixels, "largest image accepted in pixels (width x height, from the header, before decoding)")
}

func (e *engineFlags) config() vision.Config {
	return vision.Config{Lib: e.lib, Models: e.models, Sessions: e.sessions,
		Limits: imageio.Limits{MaxBytes: e.maxImage, MaxPixels: e.maxPixels}}
}

func (e *engineFlags) open() (*vision.Engine, error) {
	return vision.Open(e.config())
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
