// Package qitech is the QI Tech CaaS face registration wire format over
// facereg's core: POST /face_recognition/registration with a document number
// and the image (base64, or the key of an image uploaded earlier through
// POST /face_recognition/image), and lookups by registration key and by
// document number. Registration, liveness, duplicate search and audit are
// the core service's.
//
// See docs/compat.md (qitech) for every choice made where the vendor document
// is silent.
package qitech

import (
	"bytes"
	"errors"
	"image"
	_ "image/jpeg" // image.DecodeConfig of uploads
	_ "image/png"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	_ "golang.org/x/image/webp"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/httpapi"
	"github.com/facereg/facereg/internal/imageio"
	"github.com/facereg/facereg/internal/service"
)

// Routes of the adapter.
const (
	PathRegistration = "/face_recognition/registration"
	PathByKey        = "/face_recognition/registration/{registration_key}"
	PathByDocument   = "/face_recognition/registration/document_number/{document_number}"
	PathImage        = "/face_recognition/image"
)

const (
	// RecordKind is the Store record kind of uploaded images.
	RecordKind = "qitech_image"
	// ImageTTL is how long an uploaded image can be referred to.
	ImageTTL = time.Hour
	// maxMultipartFields bounds the parts read from an upload.
	maxMultipartFields = 64
)

// Adapter serves the QI Tech routes.
type Adapter struct{ s *httpapi.Server }

// New returns the adapter.
func New(s *httpapi.Server) *Adapter { return &Adapter{s: s} }

// Routes returns the adapter's routes.
func (a *Adapter) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Method: http.MethodPost, Pattern: PathRegistration, Handler: a.authed(a.handleRegister), Error: a.fail},
		{Method: http.MethodGet, Pattern: PathByKey, Handler: a.authed(a.handleByKey)},
		{Method: http.MethodGet, Pattern: PathByDocument, Handler: a.authed(a.handleByDocument)},
		{Method: http.MethodPost, Pattern: PathImage, Handler: a.authed(a.handleImage), Error: a.fail},
	}
}

// ErrorBody is the QI Tech error envelope: title and description as in the
// vendor's image endpoint, plus facereg's stable reason code.
type ErrorBody struct {
	Title         string           `json:"title"`
	Description   string           `json:"description"`
	Code          string           `json:"code"`
	ImageStatus   string           `json:"image_status,omitempty"`
	Measure       *facereg.Measure `json:"measure,omitempty"`
	ExtraFields   map[string]any   `json:"extra_fields,omitempty"`
	TransactionID string           `json:"transaction_id"`
}

// RegistrationBody is the answer of every registration route.
type RegistrationBody struct {
	RegistrationKey string `json:"registration_key"`
}

// ImageBody is the answer of the image upload.
type ImageBody struct {
	ImageKey  string    `json:"image_key"`
	FileSize  int       `json:"file_size"`
	WidthPx   int       `json:"width_px"`
	HeightPx  int       `json:"height_px"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

type tenantHandler func(w http.ResponseWriter, r *http.Request, t *facereg.Tenant)

// authed authenticates the API key of the Authorization header (raw, as QI
// Tech documents it, or as a Bearer token) and applies the rate limit.
func (a *Adapter) authed(h tenantHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := apiKey(r)
		if key == "" {
			a.fail(w, r, facereg.Errorf(facereg.EUNAUTHORIZED, "missing API key (Authorization: <key> or Authorization: Bearer <key>)"))
			return
		}
		t, err := a.s.Service().Authenticate(r.Context(), key)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if err := a.s.Service().Allow(t.ID); err != nil {
			a.fail(w, r, err)
			return
		}
		h(w, r.WithContext(httpapi.WithTenant(r.Context(), t)), t)
	}
}

func apiKey(r *http.Request) string {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return h
}

type registerRequest struct {
	DocumentNumber *string `json:"document_number"`
	Image          *string `json:"image"`
	ImageKey       *string `json:"image_key"`
}

func (a *Adapter) handleRegister(w http.ResponseWriter, r *http.Request, t *facereg.Tenant) {
	ctx := r.Context()
	svc := a.s.Service()
	var req registerRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	doc := deref(req.DocumentNumber)
	if err := service.ValidateExternalID(doc); err != nil {
		a.fail(w, r, facereg.Errorf(facereg.EINVALID, "document_number is required (1 to 128 printable characters)"))
		return
	}
	hasImage, hasKey := deref(req.Image) != "", deref(req.ImageKey) != ""
	if hasImage == hasKey {
		a.fail(w, r, facereg.Errorf(facereg.EINVALID, "send exactly one of image and image_key"))
		return
	}
	var img []byte
	var err error
	if hasImage {
		img, err = imageio.DecodeBase64Limit(*req.Image, svc.Engine().Limits().MaxBytes)
	} else {
		img, err = svc.Store().Record(ctx, t.ID, RecordKind, *req.ImageKey)
		if facereg.ErrorCode(err) == facereg.ENOTFOUND {
			err = facereg.Errorf(facereg.ENOTFOUND, "image_key not found or expired")
		}
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	res, err := svc.Register(ctx, t, service.RegisterRequest{ExternalID: doc, Image: img})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if hasKey {
		// The uploaded image has served its purpose: do not keep it.
		_ = svc.Store().DeleteRecord(ctx, t.ID, RecordKind, *req.ImageKey)
	}
	httpapi.WriteJSON(w, http.StatusOK, RegistrationBody{RegistrationKey: res.RegistrationKey})
}

func (a *Adapter) handleByKey(w http.ResponseWriter, r *http.Request, t *facereg.Tenant) {
	reg, err := a.s.Service().Registration(r.Context(), t, r.PathValue("registration_key"))
	if err != nil {
		a.fail(w, r, notFound(err, "no registration with this registration_key"))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, RegistrationBody{RegistrationKey: reg.Key})
}

func (a *Adapter) handleByDocument(w http.ResponseWriter, r *http.Request, t *facereg.Tenant) {
	reg, err := a.s.Service().RegistrationByExternalID(r.Context(), t, r.PathValue("document_number"))
	if err != nil {
		a.fail(w, r, notFound(err, "no registration for this document_number"))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, RegistrationBody{RegistrationKey: reg.Key})
}

func notFound(err error, msg string) error {
	if facereg.ErrorCode(err) == facereg.ENOTFOUND {
		return facereg.Errorf(facereg.ENOTFOUND, "%s", msg)
	}
	return err
}

// handleImage stores an image for a later registration by image_key. The
// image's format and dimensions are checked (from its header) here; the
// face itself is analysed by the registration.
func (a *Adapter) handleImage(w http.ResponseWriter, r *http.Request, t *facereg.Tenant) {
	ctx := r.Context()
	svc := a.s.Service()
	img, err := a.readImage(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	cfg, err := checkImage(img, svc.Engine().Limits())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	now := time.Now().UTC()
	body := ImageBody{ImageKey: service.NewID(), FileSize: len(img), WidthPx: cfg.Width, HeightPx: cfg.Height, CreatedAt: now, ExpiresAt: now.Add(ImageTTL)}
	if err := svc.Store().PutRecord(ctx, t.ID, RecordKind, body.ImageKey, img, body.ExpiresAt); err != nil {
		a.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, body)
}

// readImage reads {"image": "<base64>"} or a multipart file field "image".
func (a *Adapter) readImage(r *http.Request) ([]byte, error) {
	maxImage := a.s.Service().Engine().Limits().MaxBytes
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		var req struct {
			Image string `json:"image"`
		}
		if err := httpapi.DecodeJSON(r, &req); err != nil {
			return nil, err
		}
		return imageio.DecodeBase64Limit(req.Image, maxImage)
	}
	if params["boundary"] == "" {
		return nil, facereg.Errorf(facereg.EINVALID, "multipart body without boundary")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, facereg.Errorf(facereg.EINVALID, "malformed multipart body")
	}
	for n := 0; n < maxMultipartFields; n++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, multipartErr(err)
		}
		if p.FormName() != "image" {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(p, int64(maxImage)+1))
		if err != nil {
			return nil, multipartErr(err)
		}
		if len(b) > maxImage {
			return nil, facereg.Errorf(facereg.ImageTooLarge, "image larger than %d bytes", maxImage)
		}
		if p.FileName() == "" {
			// A plain field: base64 text.
			return imageio.DecodeBase64Limit(string(b), maxImage)
		}
		if len(b) == 0 {
			return nil, facereg.Errorf(facereg.ImageEmpty, "the image is empty (0 bytes)")
		}
		return b, nil
	}
	return nil, facereg.Errorf(facereg.ImageEmpty, "multipart field \"image\" is missing")
}

func multipartErr(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return httpapi.Normalize(err)
	}
	return facereg.Errorf(facereg.EINVALID, "malformed multipart body")
}

// checkImage reads the format and dimensions from the image's header
// without decoding its pixels.
func checkImage(b []byte, lim imageio.Limits) (image.Config, error) {
	maxPixels := lim.MaxPixels
	if maxPixels <= 0 {
		maxPixels = imageio.DefaultMaxPixels
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err == image.ErrFormat {
		return cfg, facereg.Errorf(facereg.UnsupportedFormat, "the image is not JPEG, PNG or WebP")
	}
	if err != nil {
		return cfg, facereg.Errorf(facereg.ImageInvalid, "the image is corrupt or truncated")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return cfg, facereg.Errorf(facereg.ImageInvalid, "the image has no pixels")
	}
	if cfg.Width > imageio.MaxSide || cfg.Height > imageio.MaxSide || int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return cfg, facereg.Errorf(facereg.ImageTooLarge, "the image is %dx%d pixels; the limit is %d pixels", cfg.Width, cfg.Height, maxPixels)
	}
	return cfg, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// fail writes an error in the QI Tech envelope.
func (a *Adapter) fail(w http.ResponseWriter, r *http.Request, err error) {
	err = httpapi.Normalize(err)
	info := service.ErrorInfoOf(err)
	body := ErrorBody{
		Title: title(info.Code), Description: info.Message, Code: info.Code,
		Measure: info.Measure, ExtraFields: info.Detail, TransactionID: service.TransactionID(r.Context()),
	}
	if body.Title == "image_quality" {
		body.ImageStatus = strings.ToLower(info.Code)
	}
	if info.Code == facereg.ELOCKED {
		if v, ok := info.Detail["retry_after_seconds"].(int); ok {
			w.Header().Set("Retry-After", strconv.Itoa(v))
		}
	}
	switch info.Code {
	case facereg.ERATELIMITED, facereg.EOVERLOADED, facereg.EUNAVAILABLE:
		w.Header().Set("Retry-After", "1")
	}
	httpapi.WriteJSON(w, StatusOf(err), body)
}

// title is the envelope's title: "image_quality" for the face checks (as in
// the vendor's image endpoint), otherwise the code in lower case.
func title(code string) string {
	switch code {
	case facereg.NoFace, facereg.MultipleFaces, facereg.FaceTooSmall, facereg.FaceCropped, facereg.PoseTooLarge,
		facereg.EyesClosed, facereg.TooDark, facereg.TooBright, facereg.Blurry:
		return "image_quality"
	case facereg.ImageEmpty, facereg.ImageInvalid, facereg.UnsupportedFormat, facereg.ImageTooLarge:
		return "invalid_image"
	case facereg.LivenessFailed:
		return "liveness"
	}
	return strings.ToLower(code)
}

// StatusOf is the HTTP status of an error in the QI Tech format: the native
// table, except that image, face and liveness refusals are 400 as QI Tech
// answers an image that fails its quality assessment.
func StatusOf(err error) int {
	switch facereg.ErrorCode(err) {
	case facereg.ImageTooLarge:
		return http.StatusRequestEntityTooLarge
	}
	switch st := httpapi.Status(err); st {
	case http.StatusUnprocessableEntity, http.StatusUnsupportedMediaType:
		return http.StatusBadRequest
	default:
		return st
	}
}
