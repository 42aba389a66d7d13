// Command facereg is the self-hosted face registration service and its tools.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the HTTP service", runServe},
		{"tenants", "create and list tenants (create prints the first API key)", runTenants},
		{"keys", "create, list and revoke API keys", runKeys},
		{"rotate-key", "re-encrypt data at rest under a new encryption key", runRotateKey},
		{"analyze", "analyse images: faces, quality, liveness (JSON)", runAnalyze},
		{"compare", "compare the faces of two images (JSON)", runCompare},
		{"eval", "evaluate verification pairs or liveness folders (JSON)", runEval},
		{"loadtest", "drive a running server with registrations and report latency (JSON)", runLoadtest},
		{"version", "print versions", runVersion},
	}
}

func run(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage()
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			if err := c.run(ctx, args[1:]); err != nil {
				if err != errUsage {
					fmt.Fprintln(os.Stderr, "facereg "+c.name+":", err)
				}
				if err == errUsage {
					return 2
				}
				return 1
			}
			return 0
		}
	}
	fmt.Fprintf(os.Stderr, "facereg: unknown command %q\n", args[0])
	usage()
	return 2
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: facereg COMMAND [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(os.Stderr, "\nEvery flag can also be set as FACEREG_<FLAG> (upper case, - as _), e.g. FACEREG_ADDR.\nRun 'facereg COMMAND -h' for a command's flags.")
}
