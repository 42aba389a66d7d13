// Package facereg holds the domain types and service interfaces of facereg, a
// self-hosted face registration service. It imports only the standard library;
// implementations live in internal/ subpackages and cmd/facereg wires them.
package facereg

import (
	"context"
	"time"
)

// Box is a face bounding box in pixels of the (EXIF-oriented) image.
type Box struct {
	X      float64 `json:"x"`
	Y      float64 `json:"y"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
}

// Template is a face embedding with the id of the model that made it.
// Templates of different models are never compared.
type Template struct {
	Model  string    `json:"model"`
	Vector []float32 `json:"vector"`
}

// Tenant is one customer of the service. All data belongs to exactly one tenant.
type Tenant struct {
	ID        string         `json:"client_id"` // public client id (UUID)
	Name      string         `json:"name"`
	Settings  TenantSettings `json:"settings"`
	CreatedAt time.Time      `json:"created_at"`
}

// TenantSettings are the per-tenant policies. Zero values are replaced by the
// defaults of DefaultTenantSettings when a tenant is created.
type TenantSettings struct {
	LivenessRequired  bool    `json:"liveness_required"`
	LivenessThreshold float64 `json:"liveness_threshold"`
	MatchThreshold    float64 `json:"match_threshold"`
	// Quality lists the quality reason codes enforced on registration; a
	// code not listed is still measured and reported, but does not refuse.
	Quality       []string `json:"quality_policy"`
	StoreFace     bool     `json:"store_face"`
	WebhookURL    string   `json:"webhook_url,omitempty"`
	WebhookSecret string   `json:"webhook_secret,omitempty"`
}

// DefaultTenantSettings returns the settings a new tenant starts with, given
// the engine's default thresholds.
func DefaultTenantSettings(livenessThreshold, matchThreshold float64) TenantSettings {
	q := make([]string, len(QualityReasons))
	copy(q, QualityReasons)
	return TenantSettings{
		LivenessRequired:  true,
		LivenessThreshold: livenessThreshold,
		MatchThreshold:    matchThreshold,
		Quality:           q,
		StoreFace:         true,
	}
}

// APIKey is a tenant's credential. Only a hash of the secret is stored.
type APIKey struct {
	ID        string     `json:"id"` // public part, also the lookup prefix
	TenantID  string     `json:"client_id"`
	Hash      []byte     `json:"-"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Registration is one enrolled face under a tenant's external id.
type Registration struct {
	Key        string    `json:"registration_key"`
	TenantID   string    `json:"-"`
	ExternalID string    `json:"external_id"`
	Template   Template  `json:"-"`
	Face       []byte    `json:"-"` // JPEG crop of the face, if the tenant stores it
	Box        Box       `json:"box"`
	Liveness   *float64  `json:"liveness_score,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Task status values.
const (
	TaskPending   = "pending"
	TaskRunning   = "running"
	TaskSucceeded = "succeeded"
	TaskFailed    = "failed"
)

// Task is an accepted asynchronous operation. Request holds what is needed to
// run it (including the image), Result the JSON response once done.
type Task struct {
	ID        string    `json:"task_id"`
	TenantID  string    `json:"-"`
	Kind      string    `json:"kind"`
	Status    string    `json:"status"`
	Request   []byte    `json:"-"`
	Result    []byte    `json:"-"`
	HTTPCode  int       `json:"http_status,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Transaction is one audit row. It never holds images, templates or keys.
type Transaction struct {
	ID              string    `json:"transaction_id"`
	TenantID        string    `json:"-"`
	Operation       string    `json:"operation"`
	Outcome         string    `json:"outcome"` // "success", "refused", "error"
	Reason          string    `json:"reason,omitempty"`
	RegistrationKey string    `json:"registration_key,omitempty"`
	ExternalID      string    `json:"external_id,omitempty"`
	LatencyMS       float64   `json:"latency_ms"`
	CreatedAt       time.Time `json:"created_at"`
}

// TransactionFilter selects audit rows; zero fields match everything.
type TransactionFilter struct {
	Operation  string
	Outcome    string
	Reason     string
	ExternalID string
	Since      time.Time
	Until      time.Time
	After      string // paging cursor: the last transaction id seen
	Limit      int
}

// Delivery is one webhook delivery attempt.
type Delivery struct {
	ID         int64     `json:"id"`
	TaskID     string    `json:"task_id"`
	Attempt    int       `json:"attempt"`
	URL        string    `json:"url"`
	StatusCode int       `json:"status_code"`
	Error      string    `json:"error,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// Store persists everything. Every method is scoped to a tenant where the data
// is a tenant's; an object of another tenant is reported as ENOTFOUND.
// Implementations: internal/sqlite. All implementations pass the contract
// suite in internal/storetest.
type Store interface {
	// CreateTenant stores t (its ID is generated by the caller). Returns
	// EINVALID if another tenant already has that name.
	CreateTenant(ctx context.Context, t *Tenant) error
	// Tenant returns ENOTFOUND if no tenant has that id.
	Tenant(ctx context.Context, id string) (*Tenant, error)
	// TenantByName returns ENOTFOUND if no tenant has that name.
	TenantByName(ctx context.Context, name string) (*Tenant, error)
	Tenants(ctx context.Context) ([]*Tenant, error)
	// UpdateTenantSettings returns ENOTFOUND for an unknown tenant.
	UpdateTenantSettings(ctx context.Context, id string, s TenantSettings) error

	CreateAPIKey(ctx context.Context, k *APIKey) error
	// APIKey returns ENOTFOUND for an unknown id (revoked keys are returned with RevokedAt set).
	APIKey(ctx context.Context, id string) (*APIKey, error)
	APIKeys(ctx context.Context, tenantID string) ([]*APIKey, error)
	// RevokeAPIKey returns ENOTFOUND for an unknown key of that tenant.
	RevokeAPIKey(ctx context.Context, tenantID, id string) error

	// CreateRegistration stores r. Returns EALREADY if the tenant already has
	// a registration with r.ExternalID.
	CreateRegistration(ctx context.Context, r *Registration) error
	// ReplaceRegistration replaces the face of the registration with r.Key
	// (template, face, box, liveness, updated time). Returns ENOTFOUND.
	ReplaceRegistration(ctx context.Context, r *Registration) error
	// Registration returns ENOTFOUND.
	Registration(ctx context.Context, tenantID, key string) (*Registration, error)
	// RegistrationByExternalID returns ENOTFOUND.
	RegistrationByExternalID(ctx context.Context, tenantID, externalID string) (*Registration, error)
	// Registrations lists by ascending key after the cursor, at most limit.
	Registrations(ctx context.Context, tenantID, after string, limit int) ([]*Registration, error)
	// DeleteRegistration erases template and face. Returns ENOTFOUND.
	DeleteRegistration(ctx context.Context, tenantID, key string) error
	// EachTemplate calls fn for every registration of every tenant (for loading
	// the in-memory index at start).
	EachTemplate(ctx context.Context, fn func(tenantID, key string, t Template) error) error

	CreateTask(ctx context.Context, t *Task) error
	// Task returns ENOTFOUND.
	Task(ctx context.Context, tenantID, id string) (*Task, error)
	// UnfinishedTasks returns pending and running tasks of all tenants, oldest first.
	UnfinishedTasks(ctx context.Context) ([]*Task, error)
	// FinishTask stores the result and status of a task and erases its
	// request (the image is not kept once the task is done).
	FinishTask(ctx context.Context, t *Task) error
	SetTaskStatus(ctx context.Context, id, status string) error

	// UndeliveredTasks returns the tasks of all tenants finished at or
	// after since without a successful (2xx) webhook delivery, oldest first
	// (to resume deliveries after a restart).
	UndeliveredTasks(ctx context.Context, since time.Time) ([]*Task, error)

	AddDelivery(ctx context.Context, d *Delivery) error
	Deliveries(ctx context.Context, tenantID, taskID string) ([]*Delivery, error)

	AddTransaction(ctx context.Context, tx *Transaction) error
	// Transaction returns ENOTFOUND.
	Transaction(ctx context.Context, tenantID, id string) (*Transaction, error)
	Transactions(ctx context.Context, tenantID string, f TransactionFilter) ([]*Transaction, error)

	// Idempotent returns the stored response for (tenant, key) or ENOTFOUND.
	Idempotent(ctx context.Context, tenantID, key string) (*IdempotentResponse, error)
	// PutIdempotent stores a response; an existing entry is kept.
	PutIdempotent(ctx context.Context, tenantID, key string, r *IdempotentResponse) error

	// PutRecord stores a small document for a protocol adapter (the vendor
	// formats keep app registrations, applicants and image uploads here),
	// replacing any with the same (tenant, kind, id). A zero expires never expires.
	PutRecord(ctx context.Context, tenantID, kind, id string, data []byte, expires time.Time) error
	// Record returns ENOTFOUND if missing or expired.
	Record(ctx context.Context, tenantID, kind, id string) ([]byte, error)
	// DeleteRecord returns ENOTFOUND if missing.
	DeleteRecord(ctx context.Context, tenantID, kind, id string) error

	// Reseal re-encrypts every sealed column (templates, faces, task
	// requests, records) from the store's current sealer to next, in one
	// transaction, and makes next the current sealer.
	Reseal(ctx context.Context, next Sealer) error

	// Ping checks the database is reachable.
	Ping(ctx context.Context) error
	Close() error
}

// IdempotentResponse is a stored response replayed for a retried request.
type IdempotentResponse struct {
	RequestHash string    `json:"request_hash"`
	Status      int       `json:"status"`
	Body        []byte    `json:"body"`
	CreatedAt   time.Time `json:"created_at"`
}

// Sealer encrypts data at rest (templates, face images, queued task
// requests). aad binds a ciphertext to its row so rows cannot be swapped.
type Sealer interface {
	Seal(plaintext, aad []byte) ([]byte, error)
	Open(ciphertext, aad []byte) ([]byte, error)
}
