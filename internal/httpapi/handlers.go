package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/service"
	"github.com/facereg/facereg/internal/vision"
	"github.com/facereg/facereg/internal/worker"
)

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.Ready(r.Context()); err != nil {
		s.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"status": "ready", "model": s.svc.Engine().ModelID()})
}

// registrationJSON is a registration as the API shows it.
type registrationJSON struct {
	*facereg.Registration
	Model   string `json:"model"`
	HasFace bool   `json:"has_face_image"`
}

func regJSON(r *facereg.Registration) registrationJSON {
	return registrationJSON{Registration: r, Model: r.Template.Model, HasFace: len(r.Face) > 0}
}

func (s *Server) handleCreateRegistration(w http.ResponseWriter, r *http.Request) {
	t := Tenant(r.Context())
	req, err := s.decodeImageRequest(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	mode, err := service.ParseLivenessMode(req.Liveness)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if req.Async || r.Header.Get("Prefer") == "respond-async" {
		task, err := s.tasks.SubmitRegister(r.Context(), t, worker.RegisterTask{ExternalID: req.ExternalID, Image: req.imageBytes, Liveness: mode, Force: req.Force})
		if err != nil {
			s.Error(w, r, err)
			return
		}
		w.Header().Set("Location", "/v1/tasks/"+task.ID)
		WriteJSON(w, http.StatusAccepted, taskJSON(task, nil))
		return
	}
	res, err := s.svc.Register(r.Context(), t, service.RegisterRequest{ExternalID: req.ExternalID, Image: req.imageBytes, Liveness: mode, Force: req.Force})
	if err != nil {
		s.Error(w, r, err)
		return
	}
	st := http.StatusCreated
	if res.Replaced {
		st = http.StatusOK
	}
	w.Header().Set("Location", "/v1/registrations/"+res.RegistrationKey)
	WriteJSON(w, st, res)
}

func (s *Server) handleGetRegistration(w http.ResponseWriter, r *http.Request) {
	reg, err := s.svc.Registration(r.Context(), Tenant(r.Context()), r.PathValue("key"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, regJSON(reg))
}

func (s *Server) handleGetFace(w http.ResponseWriter, r *http.Request) {
	reg, err := s.svc.Registration(r.Context(), Tenant(r.Context()), r.PathValue("key"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if len(reg.Face) == 0 {
		s.Error(w, r, facereg.Errorf(facereg.ENOTFOUND, "no face image is stored for this registration (tenant setting store_face)"))
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(reg.Face)
}

func (s *Server) handleFindRegistration(w http.ResponseWriter, r *http.Request) {
	reg, err := s.svc.RegistrationByExternalID(r.Context(), Tenant(r.Context()), r.PathValue("external_id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, regJSON(reg))
}

func (s *Server) handleListRegistrations(w http.ResponseWriter, r *http.Request) {
	t := Tenant(r.Context())
	q := r.URL.Query()
	if ext := q.Get("external_id"); ext != "" {
		reg, err := s.svc.RegistrationByExternalID(r.Context(), t, ext)
		list := []registrationJSON{}
		if err == nil {
			list = append(list, regJSON(reg))
		} else if facereg.ErrorCode(err) != facereg.ENOTFOUND {
			s.Error(w, r, err)
			return
		}
		WriteJSON(w, http.StatusOK, map[string]any{"registrations": list, "next_after": ""})
		return
	}
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			s.Error(w, r, facereg.Errorf(facereg.EINVALID, "limit must be 1 to 500"))
			return
		}
		limit = n
	}
	regs, err := s.svc.Registrations(r.Context(), t, q.Get("after"), limit)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	list := make([]registrationJSON, 0, len(regs))
	next := ""
	for _, reg := range regs {
		list = append(list, regJSON(reg))
	}
	if len(regs) == limit {
		next = regs[len(regs)-1].Key
	}
	WriteJSON(w, http.StatusOK, map[string]any{"registrations": list, "next_after": next})
}

func (s *Server) handleDeleteRegistration(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.DeleteRegistration(r.Context(), Tenant(r.Context()), r.PathValue("key")); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// imageRoute decodes an image request and its liveness mode, runs call and
// writes its result or error: the shape shared by verify, identify and
// analyze.
func (s *Server) imageRoute(w http.ResponseWriter, r *http.Request, call func(req *imageRequest, mode service.LivenessMode) (any, error)) {
	req, err := s.decodeImageRequest(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	mode, err := service.ParseLivenessMode(req.Liveness)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	res, err := call(req, mode)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, res)
}

func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request) {
	s.imageRoute(w, r, func(req *imageRequest, mode service.LivenessMode) (any, error) {
		return s.svc.Verify(r.Context(), Tenant(r.Context()), service.VerifyRequest{Key: req.Key, ExternalID: req.ExternalID, Image: req.imageBytes, Liveness: mode})
	})
}

func (s *Server) handleIdentify(w http.ResponseWriter, r *http.Request) {
	s.imageRoute(w, r, func(req *imageRequest, mode service.LivenessMode) (any, error) {
		return s.svc.Identify(r.Context(), Tenant(r.Context()), service.IdentifyRequest{Image: req.imageBytes, Limit: req.Limit, Threshold: req.Threshold, Liveness: mode})
	})
}

func (s *Server) handleAnalyze(w http.ResponseWriter, r *http.Request) {
	s.imageRoute(w, r, func(req *imageRequest, mode service.LivenessMode) (any, error) {
		a, err := s.svc.Analyze(r.Context(), Tenant(r.Context()), req.imageBytes, mode)
		if err != nil {
			return nil, err
		}
		return struct {
			*vision.Analysis
			TransactionID string `json:"transaction_id"`
		}{a, service.TransactionID(r.Context())}, nil
	})
}

// TaskJSON is a task as the API shows it.
type TaskJSON struct {
	ID         string              `json:"task_id"`
	Kind       string              `json:"kind"`
	Status     string              `json:"status"`
	HTTPStatus int                 `json:"http_status,omitempty"`
	Result     any                 `json:"result,omitempty"`
	Error      *service.ErrorInfo  `json:"error,omitempty"`
	Deliveries []*facereg.Delivery `json:"webhook_deliveries,omitempty"`
	CreatedAt  time.Time           `json:"created_at"`
	UpdatedAt  time.Time           `json:"updated_at"`
}

func taskJSON(t *facereg.Task, ds []*facereg.Delivery) TaskJSON {
	j := TaskJSON{ID: t.ID, Kind: t.Kind, Status: t.Status, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, Deliveries: ds}
	if len(t.Result) > 0 {
		var o worker.Outcome
		if err := json.Unmarshal(t.Result, &o); err == nil {
			if o.Result != nil {
				j.Result = o.Result
				j.HTTPStatus = http.StatusCreated
			}
			if o.Error != nil {
				j.Error = o.Error
				j.HTTPStatus = Status(o.Error.AsError())
			}
		}
	}
	return j
}

func (s *Server) handleGetTask(w http.ResponseWriter, r *http.Request) {
	t := Tenant(r.Context())
	task, err := s.svc.Store().Task(r.Context(), t.ID, r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ds, err := s.svc.Store().Deliveries(r.Context(), t.ID, task.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, taskJSON(task, ds))
}

func (s *Server) handleGetTransaction(w http.ResponseWriter, r *http.Request) {
	tx, err := s.svc.Store().Transaction(r.Context(), Tenant(r.Context()).ID, r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, tx)
}

func (s *Server) handleListTransactions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := facereg.TransactionFilter{Operation: q.Get("operation"), Outcome: q.Get("outcome"), Reason: q.Get("reason"), ExternalID: q.Get("external_id"), After: q.Get("after"), Limit: 100}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.Error(w, r, facereg.Errorf(facereg.EINVALID, "limit must be 1 to 1000"))
			return
		}
		f.Limit = n
	}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				s.Error(w, r, facereg.Errorf(facereg.EINVALID, "%s must be an RFC 3339 time", name))
				return
			}
			*dst = t
		}
	}
	txs, err := s.svc.Store().Transactions(r.Context(), Tenant(r.Context()).ID, f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if txs == nil {
		txs = []*facereg.Transaction{}
	}
	next := ""
	if len(txs) == f.Limit {
		next = txs[len(txs)-1].ID
	}
	WriteJSON(w, http.StatusOK, map[string]any{"transactions": txs, "next_after": next})
}

// tenantView hides the webhook secret.
func tenantView(t *facereg.Tenant) map[string]any {
	st := t.Settings
	hasSecret := st.WebhookSecret != ""
	st.WebhookSecret = ""
	return map[string]any{"client_id": t.ID, "name": t.Name, "settings": st, "webhook_secret_set": hasSecret, "created_at": t.CreatedAt}
}

func (s *Server) handleGetTenant(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, tenantView(Tenant(r.Context())))
}

func (s *Server) handlePatchSettings(w http.ResponseWriter, r *http.Request) {
	t := *Tenant(r.Context())
	st := t.Settings
	// Decoding over the current settings applies only the fields sent.
	if err := DecodeJSON(r, &st); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.svc.UpdateSettings(r.Context(), &t, st); err != nil {
		s.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, tenantView(&t))
}
