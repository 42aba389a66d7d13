package main

import (
	"context"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func runVersion(ctx context.Context, args []string) error {
	v := map[string]string{"facereg": version}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v["go"] = bi.GoVersion
	}
	return printJSON(v)
}
