// Package facesign is the Facesign "Container" wire format over facereg's
// core: POST /api/v1/cadastro with the face in base64 and the credentials
// (clientid + token) in the JSON body. It is a thin layer: registration,
// liveness, duplicate search and audit are the core service's.
//
// See docs/compat.md (facesign) for every choice made where the vendor
// document is silent.
package facesign

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/httpapi"
	"github.com/facereg/facereg/internal/imageio"
	"github.com/facereg/facereg/internal/service"
)

// Path is the registration route.
const Path = "/api/v1/cadastro"

// Status texts of the vendor document.
const (
	StatusRegistered        = "User successfully registered"
	StatusAlreadyRegistered = "user already registered"
	StatusDuplicateFace     = "Face already exists with another Id"
	StatusNotCompleted      = "Registration not completed"
	StatusUnauthorized      = "Invalid clientid or token"
)

// Adapter serves the Facesign routes.
type Adapter struct{ s *httpapi.Server }

// New returns the adapter.
func New(s *httpapi.Server) *Adapter { return &Adapter{s: s} }

// Routes returns the adapter's routes.
func (a *Adapter) Routes() []httpapi.Route {
	return []httpapi.Route{{Method: http.MethodPost, Pattern: Path, Handler: a.handleCadastro,
		Error: func(w http.ResponseWriter, r *http.Request, err error) { a.fail(w, r, &request{}, err, nil) }}}
}

// request is the body of POST /api/v1/cadastro. Its keys are lower-case in
// the document ("face", "clientid", "id", "ativarLiveness", "token").
type request struct {
	Face           string          `json:"face"`
	ClientID       string          `json:"clientid"`
	ID             string          `json:"id"`
	AtivarLiveness json.RawMessage `json:"ativarLiveness"`
	Token          string          `json:"token"`
}

// Envelope is the {"type", "content"} body of every answer but the
// "user already registered" one.
type Envelope struct {
	Type    string  `json:"type"` // "Success" or "Error"
	Content Content `json:"content"`
}

// Content is the envelope's content; keys are PascalCase as in the document.
// Code and Message are facereg's additions to error answers: the stable
// reason code and its client-safe explanation.
type Content struct {
	ClientID      string `json:"ClientId"`
	ID            string `json:"Id"`
	Status        string `json:"Status"`
	Liveness      *bool  `json:"Liveness,omitempty"`
	TransactionID string `json:"TransactionId"`
	Face          string `json:"Face,omitempty"`
	Code          string `json:"Code,omitempty"`
	Message       string `json:"Message,omitempty"`
}

// AlreadyRegistered is the document's answer for a known id (lower-case keys).
type AlreadyRegistered struct {
	ClientID string `json:"clientid"`
	ID       string `json:"id"`
	Status   string `json:"status"`
}

func (a *Adapter) handleCadastro(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	svc := a.s.Service()
	var req request
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		a.fail(w, r, &req, err, nil)
		return
	}
	if req.Token == "" {
		a.fail(w, r, &req, facereg.Errorf(facereg.EUNAUTHORIZED, "clientid and token are required"), nil)
		return
	}
	t, err := svc.Authenticate(ctx, req.Token)
	if err == nil && t.ID != req.ClientID {
		// The token is valid but belongs to another client id: refused
		// exactly like a wrong token, so that neither is confirmed.
		t, err = nil, facereg.Errorf(facereg.EUNAUTHORIZED, "missing or invalid API key")
	}
	if err != nil {
		a.fail(w, r, &req, err, nil)
		return
	}
	if err := svc.Allow(t.ID); err != nil {
		a.fail(w, r, &req, err, nil)
		return
	}
	ctx = httpapi.WithTenant(ctx, t)
	r = r.WithContext(ctx)

	mode, err := livenessMode(req.AtivarLiveness)
	if err != nil {
		a.fail(w, r, &req, err, nil)
		return
	}
	if err := service.ValidateExternalID(req.ID); err != nil {
		a.fail(w, r, &req, facereg.Errorf(facereg.EINVALID, "id must be 1 to 128 printable characters"), nil)
		return
	}
	img, err := imageio.DecodeBase64Limit(req.Face, svc.Engine().Limits().MaxBytes)
	if err != nil {
		a.fail(w, r, &req, err, nil)
		return
	}
	res, err := svc.Register(ctx, t, service.RegisterRequest{ExternalID: req.ID, Image: img, Liveness: mode})
	if err != nil {
		a.fail(w, r, &req, err, a.livenessOf(r, t, err, mode, img))
		return
	}
	c := Content{
		ClientID: req.ClientID, ID: req.ID, Status: StatusRegistered,
		TransactionID: service.TransactionID(ctx),
		Face:          base64.StdEncoding.EncodeToString(res.FaceJPEG),
	}
	if l := res.Face.Liveness; l != nil {
		c.Liveness = boolPtr(l.Passed)
	}
	httpapi.WriteJSON(w, http.StatusOK, Envelope{Type: "Success", Content: c})
}

// livenessMode maps ativarLiveness: true runs liveness and refuses a failure,
// false runs it and only reports it, absent (or null) follows the tenant's
// liveness_required setting. "true" and "false" as strings are accepted too.
func livenessMode(raw json.RawMessage) (service.LivenessMode, error) {
	v := strings.ToLower(strings.Trim(string(bytes.TrimSpace(raw)), `"`))
	switch v {
	case "", "null":
		return service.LivenessDefault, nil
	case "true":
		return service.LivenessRequire, nil
	case "false":
		return service.LivenessReportOnly, nil
	}
	return "", facereg.Errorf(facereg.EINVALID, "ativarLiveness must be true or false")
}

// livenessOf says what the Liveness field of a refusal is, or nil when it is
// not known (the image was refused before a face was analysed).
func (a *Adapter) livenessOf(r *http.Request, t *facereg.Tenant, err error, mode service.LivenessMode, img []byte) *bool {
	info := service.ErrorInfoOf(err)
	switch info.Code {
	case facereg.LivenessFailed:
		return boolPtr(false)
	case facereg.EDUPLICATE:
		// Used as soon as the core reports it with the refusal.
		switch l := info.Detail["liveness"].(type) {
		case *service.LivenessReport:
			if l != nil {
				return boolPtr(l.Passed)
			}
		case service.LivenessReport:
			return boolPtr(l.Passed)
		}
		if mode == service.LivenessRequire || (mode == service.LivenessDefault && t.Settings.LivenessRequired) {
			// Liveness was enforced before the duplicate search: it passed.
			return boolPtr(true)
		}
		// Liveness was skipped or not reported: unknown.
		return nil
	}
	// A quality refusal after the face was analysed: the failed checks are
	// listed, the liveness check among them if it failed.
	checks, ok := info.Detail["checks"]
	if !ok {
		return nil
	}
	b, _ := json.Marshal(checks)
	var cs []struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(b, &cs)
	for _, c := range cs {
		if c.Code == facereg.LivenessFailed {
			return boolPtr(false)
		}
	}
	return boolPtr(true)
}

// fail writes a refusal or error in the Facesign format.
func (a *Adapter) fail(w http.ResponseWriter, r *http.Request, req *request, err error, liveness *bool) {
	err = httpapi.Normalize(err)
	info := service.ErrorInfoOf(err)
	st := StatusOf(err)
	setRetryAfter(w, info)
	if info.Code == facereg.EALREADY {
		httpapi.WriteJSON(w, st, AlreadyRegistered{ClientID: req.ClientID, ID: req.ID, Status: StatusAlreadyRegistered})
		return
	}
	c := Content{
		ClientID: req.ClientID, ID: req.ID, Status: statusText(info.Code),
		Liveness: liveness, TransactionID: service.TransactionID(r.Context()),
		Code: info.Code, Message: info.Message,
	}
	if info.Code == facereg.EUNAUTHORIZED {
		c.Message = "clientid and token do not identify a client"
	}
	httpapi.WriteJSON(w, st, Envelope{Type: "Error", Content: c})
}

// StatusOf is the HTTP status of an error in the Facesign format: every
// refusal of the request or of the face is 400 as in the document; only
// credentials (401), size (413), rate and lockout (429) and the server's
// own state (500, 503) differ.
func StatusOf(err error) int {
	switch st := httpapi.Status(err); st {
	case http.StatusConflict, http.StatusUnprocessableEntity, http.StatusUnsupportedMediaType, http.StatusNotFound:
		return http.StatusBadRequest
	default:
		return st
	}
}

func setRetryAfter(w http.ResponseWriter, info service.ErrorInfo) {
	switch info.Code {
	case facereg.ERATELIMITED, facereg.EOVERLOADED, facereg.EUNAVAILABLE:
		w.Header().Set("Retry-After", "1")
	case facereg.ELOCKED:
		if v, ok := info.Detail["retry_after_seconds"].(int); ok {
			w.Header().Set("Retry-After", strconv.Itoa(v))
		}
	}
}

// statusTexts are the clear-text Status of each code.
var statusTexts = map[string]string{
	facereg.EINVALID:          "Invalid request",
	facereg.EUNAUTHORIZED:     StatusUnauthorized,
	facereg.EDUPLICATE:        StatusDuplicateFace,
	facereg.LivenessFailed:    StatusNotCompleted,
	facereg.ETOOLARGE:         "Request too large",
	facereg.ERATELIMITED:      "Too many requests, try again shortly",
	facereg.ELOCKED:           "Too many failed attempts for this Id, try again later",
	facereg.EOVERLOADED:       "Service busy, try again shortly",
	facereg.EUNAVAILABLE:      "Service unavailable, try again shortly",
	facereg.EINTERNAL:         "Internal error",
	facereg.ImageEmpty:        StatusNotCompleted + ": face image missing",
	facereg.ImageInvalid:      StatusNotCompleted + ": face is not a valid base64 image",
	facereg.UnsupportedFormat: StatusNotCompleted + ": image format not supported (use JPEG, PNG or WebP)",
	facereg.ImageTooLarge:     StatusNotCompleted + ": image too large",
	facereg.NoFace:            StatusNotCompleted + ": no face found",
	facereg.MultipleFaces:     StatusNotCompleted + ": more than one face in the image",
	facereg.FaceTooSmall:      StatusNotCompleted + ": face too small",
	facereg.FaceCropped:       StatusNotCompleted + ": face partly outside the image",
	facereg.PoseTooLarge:      StatusNotCompleted + ": face not looking at the camera",
	facereg.EyesClosed:        StatusNotCompleted + ": eyes closed",
	facereg.TooDark:           StatusNotCompleted + ": image too dark",
	facereg.TooBright:         StatusNotCompleted + ": image too bright",
	facereg.Blurry:            StatusNotCompleted + ": image blurry",
}

func statusText(code string) string {
	if s, ok := statusTexts[code]; ok {
		return s
	}
	return StatusNotCompleted
}

func boolPtr(b bool) *bool { return &b }
