// Package baf is the 3DiVi BAF-compatible wire format over facereg's core:
// applicants (validation requests with their registration attempts) and
// POST /api/v2/public/Validation with documentType 10, which registers the
// applicant's face with service.Register the first time and authorises it
// with a 1:N service.Identify afterwards. docs/compat.md (baf) is the
// reference.
package baf

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/httpapi"
	"github.com/facereg/facereg/internal/keylock"
	"github.com/facereg/facereg/internal/service"
)

// Paths of the adapter's routes. The private Applicants paths are BAF's
// own; the public Applicant paths are aliases.
const (
	PathValidation        = "/api/v2/public/Validation"
	PathApplicant         = "/api/v2/public/Applicant"
	PathApplicantByID     = "/api/v2/public/Applicant/{applicantId}"
	PathPrivateApplicants = "/api/v2/private/Applicants"
	PathPrivateApplicant  = "/api/v2/private/Applicants/{applicantId}"
)

// ExternalIDPrefix prefixes the applicant id to make the external id of its
// face registration in the core.
const ExternalIDPrefix = "baf:"

// Document types.
const (
	DocumentTypeFace          = 10 // face registration / authorisation
	DocumentTypeDriverLicence = 2
)

// Authorisation defaults of the document: the 90% face match confidence
// threshold (a calibrated score, service.Score of the cosine similarity)
// and at most 50 faces returned by the search.
const (
	AuthThreshold = 0.90
	AuthMaxFaces  = 50
)

// Registration attempts per applicant.
const (
	MinAttempts     = 1
	MaxAttempts     = 5
	DefaultAttempts = 5
)

const kindApplicant = "baf.applicant"

// Adapter serves the BAF routes.
type Adapter struct {
	s   *httpapi.Server
	now func() time.Time
	// locks serialise the validations of one applicant (striped by hash,
	// so memory stays bounded).
	locks keylock.Striped
}

// New returns the adapter.
func New(s *httpapi.Server) *Adapter { return &Adapter{s: s, now: time.Now} }

// Routes returns the adapter's routes, all authorised by the tenant API key
// as Bearer (as BAF's "Authorization: Bearer sk_...").
func (a *Adapter) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "POST", Pattern: PathValidation, Handler: a.auth(a.handleValidation), Error: a.fail},
		{Method: "POST", Pattern: PathApplicant, Handler: a.auth(a.handleCreateApplicant), Error: a.fail},
		{Method: "GET", Pattern: PathApplicantByID, Handler: a.auth(a.handleGetApplicant), Error: a.fail},
		{Method: "PATCH", Pattern: PathApplicantByID, Handler: a.auth(a.handlePatchApplicant), Error: a.fail},
		{Method: "DELETE", Pattern: PathApplicantByID, Handler: a.auth(a.handleDeleteApplicant), Error: a.fail},
		{Method: "POST", Pattern: PathPrivateApplicants, Handler: a.auth(a.handleCreateApplicant), Error: a.fail},
		{Method: "GET", Pattern: PathPrivateApplicant, Handler: a.auth(a.handleGetApplicant), Error: a.fail},
	}
}

func (a *Adapter) svc() *service.Service { return a.s.Service() }

func (a *Adapter) lock(key string) func() { return a.locks.Lock(key) }

// ---- errors ----

// The document's error codes.
const (
	CodeCompleted        = 120036 // Request "<id>" was already completed
	CodeAttemptsUsed     = 120037 // All available attempts were used for requestId "<id>"
	CodeFaceImage        = 120038 // Face image is empty / No faces found / Multiple faces found
	CodeGraphql          = 120029 // Graphql error (never: facereg has no GraphQL platform)
	CodePlatform         = 120039 // Profile search is missing / Quality calculation failed / Liveness calculation failed
	CodeClosed           = 120040 // Request is closed
	CodeDocTypeUnsupport = 120041 // This document type is not supported
	CodeImageRequired    = 120042 // Face image is required
	CodeProfile          = 120043 // Applicant doesn't have verified face / Applicant profile not found
	CodeEndeavor         = 120044 // Invalid endeavor info
)

// ErrorBody is the JSON of every error: the document's numeric code (or the
// HTTP status for errors outside its table), message and description, the
// transaction id, and for the attempt that used the last registration
// attempt, that attempt's validation result.
type ErrorBody struct {
	Code        int                 `json:"code"`
	Message     string              `json:"message"`
	Description string              `json:"description,omitempty"`
	TraceID     string              `json:"traceId,omitempty"`
	Validation  *ValidationResponse `json:"validation,omitempty"`
}

type apiError struct {
	status      int
	code        int
	message     string
	description string
	retryAfter  int
	validation  *ValidationResponse
	cause       error // logged for internal errors, never sent
}

func (e *apiError) Error() string { return e.message }

func tableErr(code int, message, description string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: message, description: description}
}

func httpErr(status int, message string) *apiError {
	return &apiError{status: status, code: status, message: message}
}

func errCompleted(id string) *apiError {
	return tableErr(CodeCompleted, `Request "`+id+`" was already completed`, "Attempted registration on completed request")
}

func errAttemptsUsed(id string) *apiError {
	return tableErr(CodeAttemptsUsed, `All available attempts were used for requestId "`+id+`"`, "All attempts to register have been expended")
}

var (
	errImageEmpty     = tableErr(CodeFaceImage, "Face image is empty", "Passed image is empty")
	errNoFaces        = tableErr(CodeFaceImage, "No faces found", "There are no faces in the image")
	errMultipleFaces  = tableErr(CodeFaceImage, "Multiple faces found", "There are several faces in the image")
	errClosed         = tableErr(CodeClosed, "Request is closed", "Attempted registration by closed applicant")
	errDocType        = tableErr(CodeDocTypeUnsupport, "This document type is not supported", "Only documentType 10 (face registration/authorization) is available")
	errImageRequired  = tableErr(CodeImageRequired, "Face image is required", "The image was not transmitted")
	errNoVerifiedFace = tableErr(CodeProfile, "Applicant doesn't have verified face", "Attempt to authorize by applicant without a linked profile")
	errNoProfile      = tableErr(CodeProfile, "Applicant profile not found", "Profile from the applicant was not found in the platform")
	errEndeavor       = tableErr(CodeEndeavor, "Invalid endeavor info", "endeavorId does not match the applicant's")
	errNotFound       = httpErr(http.StatusNotFound, "Applicant not found")
)

func platformErr(message, description string, cause error) *apiError {
	e := tableErr(CodePlatform, message, description)
	e.cause = cause
	return e
}

func (a *Adapter) fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *apiError
	if !errors.As(err, &e) {
		e = mapCore(err, "")
	}
	if e.cause != nil {
		// The server's error path logs internal errors with the
		// transaction id; its native body goes nowhere.
		a.s.Error(discard{}, r, e.cause)
	}
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	httpapi.WriteJSON(w, e.status, ErrorBody{
		Code: e.code, Message: e.message, Description: e.description,
		TraceID: service.TransactionID(r.Context()), Validation: e.validation,
	})
}

// mapCore maps core errors that are not a validation result (those are in
// result()); stage names the step for the platform-failure rows.
func mapCore(err error, stage string) *apiError {
	err = httpapi.Normalize(err)
	var fe *facereg.Error
	if errors.As(err, &fe) {
		switch fe.Code {
		case facereg.ImageEmpty:
			return errImageEmpty
		case facereg.NoFace:
			return errNoFaces
		case facereg.MultipleFaces:
			return errMultipleFaces
		case facereg.EUNAUTHORIZED:
			return httpErr(http.StatusUnauthorized, "Unauthorized")
		case facereg.EINVALID:
			return httpErr(http.StatusBadRequest, fe.Message)
		case facereg.ETOOLARGE:
			return httpErr(http.StatusRequestEntityTooLarge, "Request body too large")
		case facereg.ERATELIMITED:
			e := httpErr(http.StatusTooManyRequests, "Too many requests")
			e.retryAfter = 1
			return e
		case facereg.ELOCKED:
			e := httpErr(http.StatusTooManyRequests, "Too many failed attempts; retry later")
			e.retryAfter = 1
			if v, ok := fe.Detail["retry_after_seconds"].(int); ok && v > 0 {
				e.retryAfter = v
			}
			return e
		case facereg.EOVERLOADED, facereg.EUNAVAILABLE:
			e := httpErr(http.StatusServiceUnavailable, "Service unavailable; retry shortly")
			e.retryAfter = 1
			return e
		}
	}
	switch stage {
	case "registration":
		return platformErr("Quality calculation failed", "An attempt to calculate quality in platform failed", err)
	case "authorization":
		return platformErr("Profile search is missing", "An attempt to search profiles in the platform failed", err)
	}
	e := httpErr(http.StatusInternalServerError, "Internal error")
	e.cause = err
	return e
}

type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

// ---- authentication ----

func (a *Adapter) auth(h func(http.ResponseWriter, *http.Request, *facereg.Tenant)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hd := strings.TrimSpace(r.Header.Get("Authorization"))
		if len(hd) < 7 || !strings.EqualFold(hd[:7], "Bearer ") {
			a.fail(w, r, httpErr(http.StatusUnauthorized, "Unauthorized"))
			return
		}
		t, err := a.svc().Authenticate(r.Context(), strings.TrimSpace(hd[7:]))
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

// decode reads a JSON body: 400 with code 400 for malformed JSON or a
// field of the wrong type, 413 above the body limit.
func decode(r *http.Request, v any) error {
	err := json.NewDecoder(r.Body).Decode(v)
	if err == nil {
		return nil
	}
	var mbe *http.MaxBytesError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return httpErr(http.StatusRequestEntityTooLarge, "Request body too large")
	case errors.As(err, &te) && te.Field != "":
		return httpErr(http.StatusBadRequest, "The field "+te.Field+" must be "+jsonType(te.Type.Kind().String()))
	}
	return httpErr(http.StatusBadRequest, "The request body is not valid JSON")
}

func jsonType(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "an integer"
	case strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "bool":
		return "a boolean"
	case kind == "string":
		return "a string"
	case kind == "map", kind == "struct":
		return "an object"
	}
	return "of another type"
}

// ---- records ----

func (a *Adapter) loadApplicant(ctx context.Context, t *facereg.Tenant, id string) (*applicant, error) {
	id = strings.ToLower(strings.TrimSpace(id))
	if !validUUID(id) {
		return nil, errNotFound
	}
	b, err := a.svc().Store().Record(ctx, t.ID, kindApplicant, id)
	if err != nil {
		if facereg.ErrorCode(err) == facereg.ENOTFOUND {
			return nil, errNotFound
		}
		return nil, err
	}
	var ap applicant
	if err := json.Unmarshal(b, &ap); err != nil {
		return nil, err
	}
	return &ap, nil
}

func (a *Adapter) saveApplicant(ctx context.Context, t *facereg.Tenant, ap *applicant) error {
	ap.UpdatedAt = a.now().UTC().Truncate(time.Millisecond)
	b, err := json.Marshal(ap)
	if err != nil {
		return err
	}
	return a.svc().Store().PutRecord(ctx, t.ID, kindApplicant, ap.ID, b, time.Time{})
}

func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}
