package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/facereg/facereg/internal/app"
	"github.com/facereg/facereg/internal/httpapi"
	"github.com/facereg/facereg/internal/service"
	"github.com/facereg/facereg/internal/worker"
)

type serveFlags struct {
	addr, tlsCert, tlsKey, logLevel, logFormat string
	maxBody                                    int64
	maxAnalyses, maxQueue, workers             int
	queueWait, shutdown                        time.Duration
	rate                                       float64
	burst, lockoutFailures                     int
	lockoutWindow                              time.Duration
	readTimeout, writeTimeout, idleTimeout     time.Duration
	jwtSecret                                  string
	pprofAddr                                  string
	memLimit                                   int64
}

func runServe(ctx context.Context, args []string) error {
	fs := newFlags("serve")
	var df dataFlags
	var ef engineFlags
	var sf serveFlags
	df.register(fs)
	ef.register(fs)
	n := runtime.GOMAXPROCS(0)
	def := service.DefaultConfig(n)
	fs.StringVar(&sf.addr, "addr", "127.0.0.1:8080", "listen address (host:port; :0 picks a free port, printed in the log)")
	fs.StringVar(&sf.tlsCert, "tls-cert", "", "TLS certificate file (PEM); with --tls-key serves HTTPS")
	fs.StringVar(&sf.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	fs.StringVar(&sf.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&sf.logFormat, "log-format", "json", "json or text")
	fs.Int64Var(&sf.maxBody, "max-body", 20<<20, "maximum request body in bytes")
	fs.IntVar(&sf.maxAnalyses, "max-analyses", def.MaxAnalyses, "concurrent face analyses")
	fs.IntVar(&sf.maxQueue, "max-queue", def.MaxQueue, "requests waiting for an analysis slot before 503")
	fs.DurationVar(&sf.queueWait, "queue-wait", def.QueueWait, "longest wait for an analysis slot before 503")
	fs.IntVar(&sf.workers, "workers", 2, "async task workers")
	fs.Float64Var(&sf.rate, "rate", def.TenantRate, "requests per second per tenant (0: unlimited)")
	fs.IntVar(&sf.burst, "burst", def.TenantBurst, "request burst per tenant")
	fs.IntVar(&sf.lockoutFailures, "lockout-failures", def.LockoutFailures, "failed liveness/match attempts per external id that lock it out (0: off)")
	fs.DurationVar(&sf.lockoutWindow, "lockout-window", def.LockoutWindow, "window of the failure count and length of the lockout")
	fs.DurationVar(&sf.readTimeout, "read-timeout", 30*time.Second, "HTTP read timeout")
	fs.DurationVar(&sf.writeTimeout, "write-timeout", 60*time.Second, "HTTP write timeout")
	fs.DurationVar(&sf.idleTimeout, "idle-timeout", 120*time.Second, "HTTP keep-alive idle timeout")
	fs.DurationVar(&sf.shutdown, "shutdown-timeout", 20*time.Second, "time allowed to finish in-flight requests and tasks on SIGTERM")
	fs.StringVar(&sf.jwtSecret, "jwt-secret", "", "HMAC secret for the tokens of the Verifik-compatible API (default: derived from the encryption key, or generated into the data directory)")
	fs.Int64Var(&sf.memLimit, "memory-limit", 2<<30, "soft limit of the Go heap in bytes (GOMEMLIMIT wins if set)")
	fs.StringVar(&sf.pprofAddr, "pprof-addr", "", "serve Go's profiler (net/http/pprof) on this separate address, e.g. 127.0.0.1:6060 (off by default; never expose it)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if (sf.tlsCert == "") != (sf.tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	log, err := newLogger(sf.logLevel, sf.logFormat)
	if err != nil {
		return err
	}
	// Each analysis allocates a few MB of short-lived buffers; Go's default
	// GOGC=100 then spends ~6% of the CPU collecting (measured: 37 -> 39.5
	// registrations/s with 400). The soft memory limit keeps the heap
	// bounded all the same. GOGC / GOMEMLIMIT in the environment win.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" && sf.memLimit > 0 {
		debug.SetMemoryLimit(sf.memLimit)
	}
	a, err := openApp(ctx, log, &df, &ef, &sf)
	if err != nil {
		return err
	}

	srv := &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       sf.readTimeout,
		WriteTimeout:      sf.writeTimeout,
		IdleTimeout:       sf.idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if sf.pprofAddr != "" {
		pm := http.NewServeMux()
		pm.HandleFunc("/debug/pprof/", pprof.Index)
		pm.HandleFunc("/debug/pprof/profile", pprof.Profile)
		pm.HandleFunc("/debug/pprof/trace", pprof.Trace)
		go func() {
			log.Info("profiler listening", "addr", sf.pprofAddr)
			if err := http.ListenAndServe(sf.pprofAddr, pm); err != nil {
				log.Error("profiler", "err", err)
			}
		}()
	}
	ln, err := net.Listen("tcp", sf.addr)
	if err != nil {
		return err
	}
	scheme := "http"
	if sf.tlsCert != "" {
		scheme = "https"
	}
	log.Info("listening", "addr", ln.Addr().String(), "url", scheme+"://"+ln.Addr().String(), "data", df.data)
	errc := make(chan error, 1)
	go func() {
		if sf.tlsCert != "" {
			errc <- srv.ServeTLS(ln, sf.tlsCert, sf.tlsKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		_ = a.Shutdown(context.Background())
		return err
	case <-ctx.Done():
	}
	// Shutdown in reverse order, bounded: stop accepting and finish
	// in-flight requests, then drain the task workers, then (deferred)
	// close the database and the models.
	log.Info("shutting down", "timeout", sf.shutdown.String())
	sctx, cancel := context.WithTimeout(context.Background(), sf.shutdown)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	if err := a.Shutdown(sctx); err != nil {
		log.Warn("shutdown incomplete; unfinished tasks resume at the next start", "err", err)
	}
	log.Info("stopped")
	return nil
}

func openApp(ctx context.Context, log *slog.Logger, df *dataFlags, ef *engineFlags, sf *serveFlags) (*app.App, error) {
	db, err := df.open(ctx, log)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	jwtKey, err := jwtSecret(sf.jwtSecret, df)
	if err != nil {
		db.Close()
		return nil, err
	}
	a, err := app.Open(ctx, db, log, app.Config{
		Engine: ef.config(),
		Service: service.Config{
			MaxAnalyses: sf.maxAnalyses, MaxQueue: sf.maxQueue, QueueWait: sf.queueWait,
			TenantRate: sf.rate, TenantBurst: sf.burst, LockoutFailures: sf.lockoutFailures, LockoutWindow: sf.lockoutWindow,
		},
		Worker:    worker.Config{Workers: sf.workers},
		HTTP:      httpapi.Config{MaxBodyBytes: sf.maxBody},
		JWTSecret: jwtKey,
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

func newLogger(level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be json or text")
}
