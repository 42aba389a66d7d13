// Package app wires facereg's parts into a running service: database,
// models, index, core service, task workers, native API and vendor
// adapters. cmd/facereg serve and the end-to-end tests use the same wiring.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/compat"
	"github.com/facereg/facereg/internal/httpapi"
	"github.com/facereg/facereg/internal/index"
	"github.com/facereg/facereg/internal/metrics"
	"github.com/facereg/facereg/internal/service"
	"github.com/facereg/facereg/internal/vision"
	"github.com/facereg/facereg/internal/worker"
)

// Config is everything the wiring needs besides the opened database.
type Config struct {
	Engine    vision.Config
	Service   service.Config
	Worker    worker.Config
	HTTP      httpapi.Config
	JWTSecret []byte
}

// App is a wired service.
type App struct {
	Handler http.Handler
	API     *httpapi.Server
	Service *service.Service
	Pool    *worker.Pool
	Engine  *vision.Engine
	Store   facereg.Store
	Metrics *metrics.Metrics

	stop chan struct{}
	done chan struct{}
}

// purger is implemented by stores that can reclaim expired records.
type purger interface {
	PurgeExpired(ctx context.Context) (int64, error)
}

// housekeeping purges expired adapter records (uploaded images past their
// expiry) every interval until stop.
func (a *App) housekeeping(log *slog.Logger, interval time.Duration) {
	defer close(a.done)
	p, ok := a.Store.(purger)
	if !ok {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-t.C:
			if n, err := p.PurgeExpired(context.Background()); err != nil {
				log.Error("purge expired records", "err", err)
			} else if n > 0 {
				log.Info("purged expired records", "count", n)
			}
		}
	}
}

// Open wires an App over an opened store (which Close closes too).
func Open(ctx context.Context, store facereg.Store, log *slog.Logger, cfg Config) (*App, error) {
	t0 := time.Now()
	eng, err := vision.Open(cfg.Engine)
	if err != nil {
		return nil, fmt.Errorf("load models: %w", err)
	}
	ix := index.New(eng.EmbeddingDim())
	m := metrics.New(func() float64 { return float64(ix.Len()) }, func() float64 { return float64(ix.Bytes()) })
	svc := service.New(store, eng, ix, m, log, cfg.Service)
	loaded, skipped, err := svc.Load(ctx)
	if err != nil {
		eng.Close()
		return nil, fmt.Errorf("load index: %w", err)
	}
	if skipped > 0 {
		log.Warn("templates of another model are not searchable; re-register them", "count", skipped, "model", eng.ModelID())
	}
	pool := worker.New(svc, log, m, cfg.Worker)
	if err := pool.Start(ctx); err != nil {
		eng.Close()
		return nil, err
	}
	api := httpapi.New(svc, pool, m, log, cfg.HTTP)
	if err := compat.Mount(api, compat.Config{JWTSecret: cfg.JWTSecret}); err != nil {
		eng.Close()
		return nil, err
	}
	log.Info("ready", "model", eng.ModelID(), "templates", loaded, "startup_ms", time.Since(t0).Milliseconds())
	a := &App{Handler: api, API: api, Service: svc, Pool: pool, Engine: eng, Store: store, Metrics: m, stop: make(chan struct{}), done: make(chan struct{})}
	go a.housekeeping(log, 10*time.Minute)
	return a, nil
}

// Shutdown drains the task workers (bounded by ctx), then closes the store
// and the models. Call it after the HTTP server has stopped.
func (a *App) Shutdown(ctx context.Context) error {
	close(a.stop)
	<-a.done
	perr := a.Pool.Shutdown(ctx)
	return errors.Join(perr, a.Store.Close(), a.Engine.Close())
}
