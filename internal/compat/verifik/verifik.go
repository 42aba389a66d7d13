// Package verifik is the Verifik-compatible wire format over facereg's core:
// projects with their onboarding settings, app registrations with their
// JWT, and the app-registration biometric validation, which registers the
// face through service.Register. docs/compat.md (verifik) is the reference.
package verifik

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/httpapi"
	"github.com/facereg/facereg/internal/keylock"
	"github.com/facereg/facereg/internal/service"
)

// Paths of the adapter's routes.
const (
	PathProjects           = "/v2/projects"
	PathProject            = "/v2/projects/{project}"
	PathAppRegistrations   = "/v2/app-registrations"
	PathAppRegistration    = "/v2/app-registrations/{id}"
	PathBiometricAppRegVal = "/v2/biometric-validations/app-registration"
)

// Record kinds in the store (per tenant).
const (
	kindProject = "verifik.project"
	kindAppReg  = "verifik.app_registration"
)

// ExternalIDPrefix prefixes the app registration id to make the external id
// of its face registration in the core.
const ExternalIDPrefix = "verifik:"

// Project defaults (the vendor document's "Liveness Configuration").
const (
	DefaultLivenessMinScore = 0.6
	DefaultSearchMode       = "ACCURATE"
	DefaultSearchMinScore   = 0.9
	// DefaultTokenTTL is the lifetime of an app registration's JWT unless
	// the request sets expiresIn; MaxTokenTTL bounds expiresIn.
	DefaultTokenTTL = 24 * time.Hour
	MaxTokenTTL     = 30 * 24 * time.Hour
)

// Adapter serves the Verifik routes.
type Adapter struct {
	s      *httpapi.Server
	secret []byte
	now    func() time.Time
	// locks serialise the validations of one app registration (striped by
	// hash, so memory stays bounded).
	locks keylock.Striped
}

// New returns the adapter; secret signs its JWTs (HS256). With an empty
// secret no token can be issued or accepted.
func New(s *httpapi.Server, secret []byte) *Adapter {
	return &Adapter{s: s, secret: append([]byte(nil), secret...), now: time.Now}
}

// Routes returns the adapter's routes. All authenticate themselves: the
// tenant API key as Bearer, or the app registration's JWT for the
// biometric validation.
func (a *Adapter) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "POST", Pattern: PathProjects, Handler: a.tenantRoute(a.handleCreateProject), Error: a.fail},
		{Method: "GET", Pattern: PathProject, Handler: a.tenantRoute(a.handleGetProject), Error: a.fail},
		{Method: "PUT", Pattern: PathProject, Handler: a.tenantRoute(a.handlePutProject), Error: a.fail},
		{Method: "POST", Pattern: PathAppRegistrations, Handler: a.tenantRoute(a.handleCreateAppRegistration), Error: a.fail},
		{Method: "GET", Pattern: PathAppRegistration, Handler: a.tenantRoute(a.handleGetAppRegistration), Error: a.fail},
		{Method: "DELETE", Pattern: PathAppRegistration, Handler: a.tenantRoute(a.handleDeleteAppRegistration), Error: a.fail},
		{Method: "POST", Pattern: PathBiometricAppRegVal, Handler: a.handleBiometricValidation, Error: a.fail},
	}
}

func (a *Adapter) svc() *service.Service { return a.s.Service() }

func (a *Adapter) lock(key string) func() { return a.locks.Lock(key) }

// ---- errors ----

// apiError is a Verifik error: {"code": "<code>", "message": "<status>:<code>[@<detail>]"}.
type apiError struct {
	status int
	code   string
	detail string
	// retryAfter sets Retry-After (seconds) when > 0.
	retryAfter int
	// cause is logged (never sent) for internal errors.
	cause error
}

func (e *apiError) Error() string { return e.message() }

func (e *apiError) message() string {
	m := strconv.Itoa(e.status) + ":" + e.code
	if e.detail != "" {
		m += "@" + e.detail
	}
	return m
}

func errf(status int, code, detail string) *apiError {
	return &apiError{status: status, code: code, detail: detail}
}

// ErrorBody is the JSON of every error of the adapter.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (a *Adapter) fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *apiError
	if !errors.As(err, &e) {
		e = a.mapCore(err)
	}
	if e.status >= 500 && e.cause != nil {
		// The server's error path logs internal errors with the
		// transaction id (the cause never holds images, keys or tokens);
		// its native body goes nowhere.
		a.s.Error(discard{}, r, e.cause)
	}
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	httpapi.WriteJSON(w, e.status, ErrorBody{Code: e.code, Message: e.message()})
}

// mapCore maps a core error to its Verifik error (see the table in
// docs/compat.md (verifik)).
func (a *Adapter) mapCore(err error) *apiError {
	err = httpapi.Normalize(err)
	var fe *facereg.Error
	if !errors.As(err, &fe) {
		return &apiError{status: 500, code: "internal_error", cause: err}
	}
	switch fe.Code {
	case facereg.EALREADY:
		return errf(409, "person_already_set", "")
	case facereg.EDUPLICATE:
		detail := ""
		if sim, ok := fe.Detail["similarity"].(float64); ok {
			detail = formatScore(a.svc().Score(sim))
		}
		return errf(409, "face_already_registered", detail)
	case facereg.LivenessFailed:
		detail := ""
		if fe.Measure != nil {
			detail = formatScore(fe.Measure.Value)
		}
		return errf(409, "liveness_failed", detail)
	case facereg.ImageEmpty:
		return errf(400, "missing_parameter", "image")
	case facereg.ImageInvalid, facereg.UnsupportedFormat:
		return errf(400, "invalid_image", "")
	case facereg.ImageTooLarge:
		return errf(413, "image_too_large", "")
	case facereg.ETOOLARGE:
		return errf(413, "payload_too_large", "")
	case facereg.NoFace:
		return errf(400, "face_not_found", "")
	case facereg.MultipleFaces:
		return errf(400, "multiple_faces", "")
	case facereg.FaceTooSmall, facereg.FaceCropped, facereg.PoseTooLarge, facereg.EyesClosed,
		facereg.TooDark, facereg.TooBright, facereg.Blurry:
		return errf(400, "low_quality_image", fe.Code)
	case facereg.EINVALID:
		return errf(400, "invalid_parameter", "")
	case facereg.EUNAUTHORIZED:
		return errf(401, "invalid_token", "")
	case facereg.ENOTFOUND:
		return errf(404, "not_found", "")
	case facereg.ELOCKED:
		e := errf(429, "too_many_attempts", "")
		e.retryAfter = 1
		if v, ok := fe.Detail["retry_after_seconds"].(int); ok && v > 0 {
			e.retryAfter = v
		}
		return e
	case facereg.ERATELIMITED:
		e := errf(429, "rate_limited", "")
		e.retryAfter = 1
		return e
	case facereg.EOVERLOADED, facereg.EUNAVAILABLE:
		e := errf(503, "service_unavailable", "")
		e.retryAfter = 1
		return e
	}
	return &apiError{status: 500, code: "internal_error", cause: err}
}

// formatScore writes a 0..1 score with two decimals like the document's
// "0.45", truncated (not rounded) so that a refused score never prints as
// the minimum it failed.
func formatScore(v float64) string {
	v = math.Max(0, math.Min(1, v))
	return strconv.FormatFloat(math.Floor(v*100+1e-9)/100, 'f', 2, 64)
}

type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

// ---- authentication ----

func bearer(r *http.Request) string {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if len(h) < 7 || !strings.EqualFold(h[:7], "Bearer ") {
		return ""
	}
	return strings.TrimSpace(h[7:])
}

// tenantRoute authenticates the tenant API key (Bearer) and applies the
// tenant's rate limit.
func (a *Adapter) tenantRoute(h func(http.ResponseWriter, *http.Request, *facereg.Tenant)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := bearer(r)
		if key == "" {
			a.fail(w, r, errf(401, "invalid_token", ""))
			return
		}
		t, err := a.svc().Authenticate(r.Context(), key)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if err := a.svc().Allow(t.ID); err != nil {
			a.fail(w, r, err)
			return
		}
		h(w, r.WithContext(httpapi.WithTenant(r.Context(), t)), t)
	}
}

// ---- ids and times ----

// newObjectID returns a 24-hex id shaped like a MongoDB ObjectId: 4 bytes
// of Unix seconds and 8 random bytes.
func (a *Adapter) newObjectID() string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[:4], uint32(a.now().Unix()))
	if _, err := rand.Read(b[4:]); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

// derivedID is a stable 24-hex id derived from facereg ids (the tenant's
// "client" id, a registration's "person" id).
func derivedID(parts ...string) string {
	h := sha256.Sum256([]byte("facereg/verifik/" + strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:12])
}

func isObjectID(s string) bool {
	if len(s) != 24 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// timeFormat is ISO 8601 in UTC with milliseconds, as the document's
// "2024-12-02T17:05:36.788Z".
const timeFormat = "2006-01-02T15:04:05.000Z"

func (a *Adapter) stamp() string { return a.now().UTC().Format(timeFormat) }

// ---- records ----

func (a *Adapter) getRecord(ctx context.Context, t *facereg.Tenant, kind, id string, v any) error {
	b, err := a.svc().Store().Record(ctx, t.ID, kind, id)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return err
	}
	return nil
}

func (a *Adapter) putRecord(ctx context.Context, t *facereg.Tenant, kind, id string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return a.svc().Store().PutRecord(ctx, t.ID, kind, id, b, time.Time{})
}

// ---- request decoding ----

// decode reads a JSON body; errors name the offending field the Verifik
// way: 400 invalid_body, or invalid_parameter@<field> for a wrong type.
func decode(r *http.Request, v any) error {
	err := json.NewDecoder(r.Body).Decode(v)
	if err == nil {
		return nil
	}
	var mbe *http.MaxBytesError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return errf(413, "payload_too_large", "")
	case errors.As(err, &te) && te.Field != "":
		return errf(400, "invalid_parameter", te.Field)
	}
	return errf(400, "invalid_body", "")
}
