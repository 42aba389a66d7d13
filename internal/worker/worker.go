// Package worker runs accepted asynchronous tasks and delivers their results
// to tenants' webhooks. Tasks are persisted before they are acknowledged, so
// an accepted task survives a crash or restart and runs to completion.
package worker

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/metrics"
	"github.com/facereg/facereg/internal/service"
	"github.com/facereg/facereg/internal/vision"
)

// KindRegister is the task kind of an asynchronous registration.
const KindRegister = "register"

// RegisterTask is the persisted request of a registration task.
type RegisterTask struct {
	ExternalID string               `json:"external_id"`
	Image      []byte               `json:"image"`
	Liveness   service.LivenessMode `json:"liveness,omitempty"`
	Force      bool                 `json:"force,omitempty"`
	// Analysis asks to keep the engine's raw measurements in the outcome.
	Analysis bool `json:"analysis,omitempty"`
}

// Outcome is the persisted result of a task: Result on success, Error on a
// refusal or failure.
type Outcome struct {
	Result   *service.RegisterResult `json:"result,omitempty"`
	Error    *service.ErrorInfo      `json:"error,omitempty"`
	Analysis any                     `json:"analysis,omitempty"`
}

// Config tunes the pool.
type Config struct {
	Workers         int           // concurrent tasks (default 2)
	WebhookAttempts int           // delivery attempts per result (default 6)
	WebhookBackoff  time.Duration // first retry delay, doubled each time (default 1s)
	WebhookTimeout  time.Duration // per attempt (default 10s)
}

// Pool runs tasks. Create with New, then Start.
type Pool struct {
	svc     *service.Service
	store   facereg.Store
	log     *slog.Logger
	metrics *metrics.Metrics
	cfg     Config
	client  *http.Client

	queue   chan *facereg.Task
	wg      sync.WaitGroup // workers
	hooks   sync.WaitGroup // webhook deliveries
	stop    chan struct{}
	mu      sync.Mutex
	stopped bool
}

// New returns a pool. m may be nil.
func New(svc *service.Service, log *slog.Logger, m *metrics.Metrics, cfg Config) *Pool {
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.WebhookAttempts <= 0 {
		cfg.WebhookAttempts = 6
	}
	if cfg.WebhookBackoff <= 0 {
		cfg.WebhookBackoff = time.Second
	}
	if cfg.WebhookTimeout <= 0 {
		cfg.WebhookTimeout = 10 * time.Second
	}
	return &Pool{
		svc: svc, store: svc.Store(), log: log, metrics: m, cfg: cfg,
		client: &http.Client{Timeout: cfg.WebhookTimeout},
		queue:  make(chan *facereg.Task, 10000), stop: make(chan struct{}),
	}
}

// Start re-queues every unfinished task found in the store (accepted before
// a restart) and starts the workers.
func (p *Pool) Start(ctx context.Context) error {
	ts, err := p.store.UnfinishedTasks(ctx)
	if err != nil {
		return fmt.Errorf("load unfinished tasks: %w", err)
	}
	for i := 0; i < p.cfg.Workers; i++ {
		p.wg.Add(1)
		go p.work()
	}
	go func() {
		for _, t := range ts {
			select {
			case p.queue <- t:
			case <-p.stop:
				return
			}
		}
	}()
	if len(ts) > 0 {
		p.log.Info("resuming unfinished tasks", "count", len(ts))
	}
	return p.resumeDeliveries(ctx)
}

// resumeDeliveries restarts the webhook deliveries that a stop interrupted:
// tasks finished in the last 24 hours with no successful delivery and
// attempts left.
func (p *Pool) resumeDeliveries(ctx context.Context) error {
	ts, err := p.store.UndeliveredTasks(ctx, time.Now().Add(-24*time.Hour))
	if err != nil {
		return fmt.Errorf("load undelivered tasks: %w", err)
	}
	n := 0
	for _, t := range ts {
		tenant, err := p.store.Tenant(ctx, t.TenantID)
		if err != nil || tenant.Settings.WebhookURL == "" {
			continue
		}
		ds, err := p.store.Deliveries(ctx, t.TenantID, t.ID)
		if err != nil || len(ds) >= p.cfg.WebhookAttempts {
			continue
		}
		var out Outcome
		if err := json.Unmarshal(t.Result, &out); err != nil {
			continue
		}
		n++
		p.hooks.Add(1)
		go func() {
			defer p.hooks.Done()
			p.deliver(tenant, t, out, len(ds)+1)
		}()
	}
	if n > 0 {
		p.log.Info("resuming webhook deliveries", "count", n)
	}
	return nil
}

// SubmitRegister persists a registration task and queues it. The task is
// durable when this returns.
func (p *Pool) SubmitRegister(ctx context.Context, t *facereg.Tenant, req RegisterTask) (*facereg.Task, error) {
	if err := service.ValidateExternalID(req.ExternalID); err != nil {
		return nil, err
	}
	if len(req.Image) == 0 {
		return nil, facereg.Errorf(facereg.ImageEmpty, "the image is empty")
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	task := &facereg.Task{ID: service.NewID(), TenantID: t.ID, Kind: KindRegister, Status: facereg.TaskPending, Request: body, CreatedAt: now, UpdatedAt: now}
	if err := p.store.CreateTask(ctx, task); err != nil {
		return nil, err
	}
	p.mu.Lock()
	stopped := p.stopped
	p.mu.Unlock()
	if !stopped {
		select {
		case p.queue <- task:
		default:
			// The queue is full; the task is persisted and runs after a restart.
			p.log.Warn("task queue full; task left for the next start", "task_id", task.ID)
		}
	}
	return task, nil
}

// Shutdown stops taking tasks and waits for running tasks and webhook
// deliveries until ctx ends. Unfinished tasks stay persisted.
func (p *Pool) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	if !p.stopped {
		p.stopped = true
		close(p.stop)
	}
	p.mu.Unlock()
	done := make(chan struct{})
	go func() { p.wg.Wait(); p.hooks.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Pool) work() {
	defer p.wg.Done()
	for {
		select {
		case <-p.stop:
			return
		case t := <-p.queue:
			p.run(t)
		}
	}
}

func (p *Pool) run(t *facereg.Task) {
	ctx := context.Background()
	id := t.ID
	if t.Status == facereg.TaskSucceeded || t.Status == facereg.TaskFailed {
		return
	}
	if err := p.store.SetTaskStatus(ctx, id, facereg.TaskRunning); err != nil {
		p.log.Error("task status", "task_id", id, "err", err)
		return
	}
	tenant, err := p.store.Tenant(ctx, t.TenantID)
	if err != nil {
		p.log.Error("task tenant", "task_id", id, "err", err)
		return
	}
	var out Outcome
	var req RegisterTask
	if err := json.Unmarshal(t.Request, &req); err != nil || t.Kind != KindRegister {
		e := service.ErrorInfoOf(fmt.Errorf("task %s: bad request record: %v", id, err))
		out.Error = &e
	} else {
		// The task id is the transaction id: the audit row links to it.
		tctx := service.WithTransaction(ctx, id)
		var res *service.RegisterResult
		var err error
		for delay := 100 * time.Millisecond; ; delay = min(2*delay, 5*time.Second) {
			res, err = p.svc.Register(tctx, tenant, service.RegisterRequest{
				ExternalID: req.ExternalID, Image: req.Image, Liveness: req.Liveness, Force: req.Force, Key: taskKey(id),
			})
			// Overload is not the task's fault: wait for capacity. A stop
			// leaves the task unfinished; it resumes at the next start.
			if facereg.ErrorCode(err) != facereg.EOVERLOADED {
				break
			}
			select {
			case <-time.After(delay):
			case <-p.stop:
				return
			}
		}
		if err != nil && facereg.ErrorCode(err) == facereg.EALREADY {
			// A crash after the registration committed but before the task
			// finished: the registration under this task's key is ours.
			if r, gerr := p.store.Registration(ctx, tenant.ID, taskKey(id)); gerr == nil {
				res, err = p.svc.ResultOf(tctx, tenant, r), nil
			}
		}
		if err != nil {
			e := service.ErrorInfoOf(err)
			out.Error = &e
		} else {
			out.Result = res
		}
		if req.Analysis && res != nil && res.Analysis != nil {
			out.Analysis = withoutEmbeddings(res.Analysis)
		} else if req.Analysis && err != nil {
			out.Analysis = map[string]any{"checks": service.ErrorInfoOf(err).Detail["checks"]}
		}
	}
	body, _ := json.Marshal(out)
	t.Result = body
	t.Status = facereg.TaskSucceeded
	if out.Error != nil {
		t.Status = facereg.TaskFailed
	}
	t.UpdatedAt = time.Now().UTC()
	if err := p.store.FinishTask(ctx, t); err != nil {
		p.log.Error("finish task", "task_id", id, "err", err)
		return
	}
	if p.metrics != nil {
		p.metrics.Tasks.WithLabelValues(t.Status).Inc()
	}
	if tenant.Settings.WebhookURL != "" {
		p.hooks.Add(1)
		go func() {
			defer p.hooks.Done()
			p.deliver(tenant, t, out, 1)
		}()
	}
}

// withoutEmbeddings copies an analysis without the face embeddings: task
// outcomes are stored unencrypted and must never hold a template.
func withoutEmbeddings(a *vision.Analysis) *vision.Analysis {
	c := *a
	c.Faces = make([]vision.Face, len(a.Faces))
	for i, f := range a.Faces {
		f.Embedding = nil
		c.Faces[i] = f
	}
	return &c
}

// taskKey is the registration key a task's registration gets: derived from
// the task id so a re-run after a crash recognises its own registration.
func taskKey(taskID string) string { return taskID }

// WebhookPayload is the body POSTed to a tenant's webhook.
type WebhookPayload struct {
	TaskID    string             `json:"task_id"`
	Kind      string             `json:"kind"`
	Status    string             `json:"status"`
	Result    any                `json:"result,omitempty"`
	Error     *service.ErrorInfo `json:"error,omitempty"`
	Timestamp time.Time          `json:"timestamp"`
}

// Sign returns the signature header value of a webhook body:
// "sha256=" + hex(HMAC-SHA256(secret, body)).
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// deliver POSTs the outcome to the tenant's webhook, from attempt first to
// WebhookAttempts, with exponential backoff, recording every attempt.
func (p *Pool) deliver(tenant *facereg.Tenant, t *facereg.Task, out Outcome, first int) {
	pl := WebhookPayload{TaskID: t.ID, Kind: t.Kind, Status: t.Status, Error: out.Error, Timestamp: time.Now().UTC()}
	if out.Result != nil {
		pl.Result = out.Result
	}
	body, _ := json.Marshal(pl)
	delay := p.cfg.WebhookBackoff
	for attempt := first; attempt <= p.cfg.WebhookAttempts; attempt++ {
		code, err := p.post(tenant.Settings.WebhookURL, tenant.Settings.WebhookSecret, t.ID, attempt, body)
		d := &facereg.Delivery{TaskID: t.ID, Attempt: attempt, URL: tenant.Settings.WebhookURL, StatusCode: code, CreatedAt: time.Now().UTC()}
		if err != nil {
			d.Error = err.Error()
		}
		if aerr := p.store.AddDelivery(context.Background(), d); aerr != nil {
			p.log.Error("record webhook delivery", "task_id", t.ID, "err", aerr)
		}
		ok := err == nil && code >= 200 && code < 300
		if p.metrics != nil {
			outcome := "failed"
			if ok {
				outcome = "delivered"
			}
			p.metrics.Webhooks.WithLabelValues(outcome).Inc()
		}
		if ok {
			return
		}
		p.log.Warn("webhook delivery failed", "task_id", t.ID, "attempt", attempt, "status", code, "err", d.Error)
		if attempt == p.cfg.WebhookAttempts {
			return
		}
		select {
		case <-time.After(delay):
		case <-p.stop:
			return
		}
		delay *= 2
	}
}

func (p *Pool) post(url, secret, taskID string, attempt int, body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "facereg-webhook/1")
	req.Header.Set("X-Facereg-Task", taskID)
	req.Header.Set("X-Facereg-Attempt", fmt.Sprint(attempt))
	if secret != "" {
		req.Header.Set("X-Facereg-Signature", Sign(secret, body))
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
