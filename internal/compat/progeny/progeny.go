// Package progeny is the Progeny wire format over facereg's core: POST
// /api/v3/services/register_face (multipart, file field "image") starts an
// asynchronous registration task of the core's task pool, and GET
// /api/v3/services/task/?id= reports it in Progeny's Celery-like shapes.
// Registration, liveness, duplicate search, persistence of the task and
// audit are the core's.
//
// See docs/compat.md (progeny) for every choice made where the vendor document
// is silent.
package progeny

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/httpapi"
	"github.com/facereg/facereg/internal/service"
	"github.com/facereg/facereg/internal/worker"
)

// Routes of the adapter (each also without the trailing slash).
const (
	PathRegister = "/api/v3/services/register_face/"
	PathTask     = "/api/v3/services/task/"
)

// NotAFile is the document's message for an image that is not a file.
const NotAFile = "The submitted data was not a file. Check the encoding type on the form."

// Task states, as Celery names them.
const (
	StatePending = "PENDING" // accepted, not started
	StateStarted = "STARTED" // running
	StateSuccess = "SUCCESS" // finished: registered (result.status 200) or refused (400)
	StateFailure = "FAILURE" // finished with a server-side error (result.status 5xx)
)

// maxFields bounds the multipart parts read.
const maxFields = 64

// RecordExtendData is the Store record kind marking a task whose result
// shows the engine's measurements (extend_data).
const RecordExtendData = "progeny_extend_data"

// Adapter serves the Progeny routes.
type Adapter struct{ s *httpapi.Server }

// New returns the adapter.
func New(s *httpapi.Server) *Adapter { return &Adapter{s: s} }

// Routes returns the adapter's routes.
func (a *Adapter) Routes() []httpapi.Route {
	reg := a.authed(a.handleRegister)
	task := a.authed(a.handleTask)
	return []httpapi.Route{
		{Method: http.MethodPost, Pattern: strings.TrimSuffix(PathRegister, "/"), Handler: reg, Error: a.fail},
		{Method: http.MethodPost, Pattern: PathRegister, Handler: reg, Error: a.fail},
		{Method: http.MethodGet, Pattern: strings.TrimSuffix(PathTask, "/"), Handler: task},
		{Method: http.MethodGet, Pattern: PathTask, Handler: task},
	}
}

// ErrorBody is the envelope of errors answered directly (not in a task
// result): Django REST framework's {"detail": ...} plus facereg's code.
type ErrorBody struct {
	Detail    string `json:"detail"`
	ErrorCode string `json:"error_code"`
}

// TaskBody is the answer of GET /api/v3/services/task/.
type TaskBody struct {
	ID     string      `json:"id"`
	Status string      `json:"status"`
	Result *TaskResult `json:"result"`
}

// TaskResult is a finished task's result.
type TaskResult struct {
	Status int               `json:"status"`
	Data   map[string]any    `json:"data"`
	Issues map[string]string `json:"issues,omitempty"`
}

// Liveness is result.data.liveness of a refusal.
type Liveness struct {
	Result    bool   `json:"result"`
	Error     string `json:"error"`
	ErrorCode string `json:"error_code"`
}

type tenantHandler func(w http.ResponseWriter, r *http.Request, t *facereg.Tenant)

// authed authenticates "Authorization: Bearer <key>" or "Authorization:
// Token <key>" and applies the rate limit.
func (a *Adapter) authed(h tenantHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p != PathRegister && p != PathTask && p+"/" != PathRegister && p+"/" != PathTask {
			// The trailing-slash patterns match their whole subtree.
			a.fail(w, r, facereg.Errorf(facereg.ENOTFOUND, "Not found."))
			return
		}
		key, ok := apiKey(r)
		if !ok {
			a.fail(w, r, facereg.Errorf(facereg.EUNAUTHORIZED, "Authentication credentials were not provided."))
			return
		}
		t, err := a.s.Service().Authenticate(r.Context(), key)
		if err != nil {
			if facereg.ErrorCode(err) == facereg.EUNAUTHORIZED {
				err = facereg.Errorf(facereg.EUNAUTHORIZED, "Invalid token.")
			}
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

func apiKey(r *http.Request) (string, bool) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	scheme, key, ok := strings.Cut(h, " ")
	if !ok || !(strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "Token")) {
		return "", false
	}
	key = strings.TrimSpace(key)
	return key, key != ""
}

type registerForm struct {
	image      []byte
	isFile     bool
	extend     bool
	externalID string
}

func (a *Adapter) handleRegister(w http.ResponseWriter, r *http.Request, t *facereg.Tenant) {
	f, err := a.readForm(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if f == nil || !f.isFile || len(f.image) == 0 {
		httpapi.WriteJSON(w, http.StatusBadRequest, map[string][]string{"image": {NotAFile}})
		return
	}
	ext := f.externalID
	if ext == "" {
		ext = service.NewID()
	}
	// Analysis is not asked of the worker: it would persist the engine's
	// whole output, face template included, in the task's result. The
	// measurements shown for extend_data are those of the outcome (see
	// finished); the flag is kept as a record of the task. The client
	// learns the task id from this answer, after the record is written.
	task, err := a.s.Tasks().SubmitRegister(r.Context(), t, worker.RegisterTask{
		ExternalID: ext, Image: f.image, Liveness: service.LivenessRequire,
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if f.extend {
		if err := a.s.Service().Store().PutRecord(r.Context(), t.ID, RecordExtendData, task.ID, []byte("true"), time.Time{}); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"id": task.ID})
}

// readForm reads the multipart form; nil when the body is not multipart.
func (a *Adapter) readForm(r *http.Request) (*registerForm, error) {
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" || params["boundary"] == "" {
		return nil, nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil
	}
	maxImage := a.s.Service().Engine().Limits().MaxBytes
	f := &registerForm{}
	for n := 0; ; n++ {
		if n == maxFields {
			return nil, facereg.Errorf(facereg.EINVALID, "too many form fields")
		}
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, formErr(err)
		}
		name := p.FormName()
		if name == "image" {
			b, err := io.ReadAll(io.LimitReader(p, int64(maxImage)+1))
			if err != nil {
				return nil, formErr(err)
			}
			if len(b) > maxImage {
				return nil, facereg.Errorf(facereg.ImageTooLarge, "The image is larger than %d bytes.", maxImage)
			}
			f.image, f.isFile = b, p.FileName() != ""
			continue
		}
		b, err := io.ReadAll(io.LimitReader(p, 4096))
		if err != nil {
			return nil, formErr(err)
		}
		v := strings.TrimSpace(string(b))
		switch name {
		case "extend_data":
			ok := false
			if f.extend, ok = parseBool(v); !ok {
				return nil, facereg.Errorf(facereg.EINVALID, "extend_data: Must be a valid boolean.")
			}
		case "external_id", "user_id":
			if v != "" {
				if err := service.ValidateExternalID(v); err != nil {
					return nil, facereg.Errorf(facereg.EINVALID, "%s must be 1 to 128 printable characters.", name)
				}
				f.externalID = v
			}
		}
	}
	return f, nil
}

// parseBool accepts the values Django REST framework's BooleanField does.
func parseBool(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "true", "1", "yes", "on", "t", "y":
		return true, true
	case "false", "0", "no", "off", "f", "n", "":
		return false, true
	}
	return false, false
}

func formErr(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return httpapi.Normalize(err)
	}
	return facereg.Errorf(facereg.EINVALID, "Malformed multipart body.")
}

func (a *Adapter) handleTask(w http.ResponseWriter, r *http.Request, t *facereg.Tenant) {
	id := strings.TrimSpace(r.URL.Query().Get("id"))
	if id == "" {
		a.fail(w, r, facereg.Errorf(facereg.EINVALID, "The query parameter id is required."))
		return
	}
	task, err := a.s.Service().Store().Task(r.Context(), t.ID, id)
	if err == nil && task.Kind != worker.KindRegister {
		err = facereg.Errorf(facereg.ENOTFOUND, "Not found.")
	}
	if err != nil {
		if facereg.ErrorCode(err) == facereg.ENOTFOUND {
			err = facereg.Errorf(facereg.ENOTFOUND, "Not found.")
		}
		a.fail(w, r, err)
		return
	}
	body := TaskBody{ID: task.ID}
	switch task.Status {
	case facereg.TaskPending:
		body.Status = StatePending
	case facereg.TaskRunning:
		body.Status = StateStarted
	default:
		_, rerr := a.s.Service().Store().Record(r.Context(), t.ID, RecordExtendData, task.ID)
		if rerr != nil && facereg.ErrorCode(rerr) != facereg.ENOTFOUND {
			a.fail(w, r, rerr)
			return
		}
		body.Status, body.Result = finished(task, rerr == nil)
	}
	st := http.StatusOK
	if body.Result != nil {
		st = body.Result.Status
	}
	httpapi.WriteJSON(w, st, body)
}

// finished turns a finished task's outcome into Progeny's result; extend
// adds the engine's measurements under data.extend_data.
func finished(task *facereg.Task, extend bool) (string, *TaskResult) {
	var out worker.Outcome
	if err := json.Unmarshal(task.Result, &out); err != nil || (out.Result == nil && out.Error == nil) {
		return StateFailure, &TaskResult{Status: http.StatusInternalServerError, Data: map[string]any{
			"error": "internal error", "error_code": facereg.EINTERNAL,
		}}
	}
	if out.Result != nil {
		data := map[string]any{"uuid": out.Result.RegistrationKey}
		if extend {
			data["extend_data"] = out.Result.Face
		}
		return StateSuccess, &TaskResult{Status: http.StatusOK, Data: data}
	}
	e := out.Error
	switch e.Code {
	case facereg.EINTERNAL, facereg.EUNAVAILABLE, facereg.EOVERLOADED:
		// Not a verdict on the image: the task failed on the server's side.
		return StateFailure, &TaskResult{Status: httpapi.Status(e.AsError()), Data: map[string]any{
			"error": e.Message, "error_code": e.Code,
		}}
	}
	msg := Message(e.Code, e.Message)
	data := map[string]any{"liveness": Liveness{Result: false, Error: msg, ErrorCode: e.Code}}
	if extend {
		data["extend_data"] = refusalMeasurements(e)
	}
	issues := map[string]string{e.Code: msg}
	if rs, ok := e.Detail["reasons"].([]any); ok {
		for _, r := range rs {
			if c, ok := r.(string); ok && c != "" {
				if _, seen := issues[c]; !seen {
					issues[c] = Message(c, "")
				}
			}
		}
	}
	return StateSuccess, &TaskResult{Status: http.StatusBadRequest, Data: data, Issues: issues}
}

// refusalMeasurements are the measurements behind a refusal: the failed
// checks with their values and thresholds, every reason, the measure of the
// deciding check, and for DUPLICATE_FACE the similarity and threshold.
func refusalMeasurements(e *service.ErrorInfo) map[string]any {
	m := map[string]any{"checks": []any{}, "reasons": []any{e.Code}}
	for _, k := range []string{"checks", "reasons", "faces", "similarity", "threshold"} {
		if v, ok := e.Detail[k]; ok && v != nil {
			m[k] = v
		}
	}
	if e.Measure != nil {
		m["measure"] = e.Measure
	}
	return m
}

// messages are the error texts of task refusals.
var messages = map[string]string{
	facereg.FaceTooSmall:      "Interpupillary distance is too small",
	facereg.NoFace:            "No face found in the image",
	facereg.MultipleFaces:     "More than one face found in the image",
	facereg.FaceCropped:       "The face is partly outside the image",
	facereg.PoseTooLarge:      "The face is not looking straight at the camera",
	facereg.EyesClosed:        "The eyes are closed",
	facereg.TooDark:           "The image is too dark",
	facereg.TooBright:         "The image is too bright",
	facereg.Blurry:            "The image is too blurry",
	facereg.LivenessFailed:    "Liveness check failed: the image does not show a live person",
	facereg.EDUPLICATE:        "This face is already registered",
	facereg.EALREADY:          "This user is already registered",
	facereg.ELOCKED:           "Too many failed attempts for this user, try again later",
	facereg.ImageEmpty:        "The image is empty",
	facereg.ImageInvalid:      "The image is corrupt or truncated",
	facereg.UnsupportedFormat: "Unsupported image format: use PNG, JPEG or JPG",
	facereg.ImageTooLarge:     "The image is too large",
}

// Message is the Progeny error text of a reason code (fallback when the
// code has none of its own).
func Message(code, fallback string) string {
	if m, ok := messages[code]; ok {
		return m
	}
	if fallback != "" {
		return fallback
	}
	return "The image does not meet the requirements"
}

// fail writes an error answered directly, in Django REST framework's shape.
func (a *Adapter) fail(w http.ResponseWriter, r *http.Request, err error) {
	err = httpapi.Normalize(err)
	info := service.ErrorInfoOf(err)
	switch info.Code {
	case facereg.ERATELIMITED, facereg.EOVERLOADED, facereg.EUNAVAILABLE:
		w.Header().Set("Retry-After", "1")
	case facereg.ELOCKED:
		if v, ok := info.Detail["retry_after_seconds"].(int); ok {
			w.Header().Set("Retry-After", strconv.Itoa(v))
		}
	}
	if info.Code == facereg.EUNAUTHORIZED {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	httpapi.WriteJSON(w, StatusOf(err), ErrorBody{Detail: info.Message, ErrorCode: info.Code})
}

// StatusOf is the HTTP status of an error answered directly: the native
// table, with every refusal of the request's content 400.
func StatusOf(err error) int {
	switch st := httpapi.Status(err); st {
	case http.StatusConflict, http.StatusUnprocessableEntity, http.StatusUnsupportedMediaType:
		return http.StatusBadRequest
	default:
		return st
	}
}
