package baf

import (
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/httpapi"
)

// Applicant statuses (BAF's): the applicant's state, not a validation's.
const (
	ApplicantNotVerified = 0 // registration attempts are open
	ApplicantVerified    = 1 // the face is registered: validations authorise
	ApplicantFailed      = 2 // every registration attempt was used
	ApplicantCanceled    = 3 // closed: every validation gets 120040
)

// applicant is what the store keeps per applicant.
type applicant struct {
	ID                 string            `json:"applicantId"`
	FirstName          string            `json:"firstName,omitempty"`
	LastName           string            `json:"lastName,omitempty"`
	Phone              string            `json:"phone,omitempty"`
	Email              string            `json:"email,omitempty"`
	ReferenceID        string            `json:"referenceId,omitempty"`
	Metadata           map[string]string `json:"metadata,omitempty"`
	CallbackURL        string            `json:"callbackUrl,omitempty"`
	SendSms            bool              `json:"sendSms,omitempty"`
	VerificationMethod int               `json:"verificationMethod"`
	EndeavorID         string            `json:"endeavorId,omitempty"`
	Status             int               `json:"status"`
	AttemptsCount      int               `json:"attemptsCount"`
	AttemptsUsed       int               `json:"attemptsUsed"`
	// Validations numbers the validations answered with a result (the
	// attemptId of the last one).
	Validations     int       `json:"validations"`
	RegistrationKey string    `json:"registrationKey,omitempty"`
	CreatedAt       time.Time `json:"createdAt"`
	UpdatedAt       time.Time `json:"updatedAt"`
}

func (ap *applicant) attemptsLeft() int { return max(0, ap.AttemptsCount-ap.AttemptsUsed) }

// ApplicantView is an applicant as the API shows it: BAF's create response
// (applicantId, validationLink) with the applicant's fields and state.
type ApplicantView struct {
	ApplicantID        string            `json:"applicantId"`
	ValidationLink     *string           `json:"validationLink"`
	FirstName          *string           `json:"firstName"`
	LastName           *string           `json:"lastName"`
	Phone              *string           `json:"phone"`
	Email              *string           `json:"email"`
	ReferenceID        *string           `json:"referenceId"`
	Metadata           map[string]string `json:"metadata"`
	CallbackURL        *string           `json:"callbackUrl"`
	SendSms            bool              `json:"sendSms"`
	VerificationMethod int               `json:"verificationMethod"`
	EndeavorID         *string           `json:"endeavorId"`
	Status             int               `json:"status"`
	AttemptsCount      int               `json:"attemptsCount"`
	AttemptsLeft       int               `json:"attemptsLeft"`
	ProfileID          *string           `json:"profileId"`
	CreatedAt          time.Time         `json:"createdAt"`
	UpdatedAt          time.Time         `json:"updatedAt"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (ap *applicant) view() ApplicantView {
	md := ap.Metadata
	if md == nil {
		md = map[string]string{}
	}
	return ApplicantView{
		ApplicantID: ap.ID, FirstName: optional(ap.FirstName), LastName: optional(ap.LastName), Phone: optional(ap.Phone),
		Email: optional(ap.Email), ReferenceID: optional(ap.ReferenceID), Metadata: md, CallbackURL: optional(ap.CallbackURL),
		SendSms: ap.SendSms, VerificationMethod: ap.VerificationMethod, EndeavorID: optional(ap.EndeavorID),
		Status: ap.Status, AttemptsCount: ap.AttemptsCount, AttemptsLeft: ap.attemptsLeft(), ProfileID: optional(ap.RegistrationKey),
		CreatedAt: ap.CreatedAt, UpdatedAt: ap.UpdatedAt,
	}
}

// applicantRequest is BAF's create body plus attemptsCount and endeavorId.
type applicantRequest struct {
	FirstName          string            `json:"firstName"`
	LastName           string            `json:"lastName"`
	Phone              string            `json:"phone"`
	Email              string            `json:"email"`
	ReferenceID        string            `json:"referenceId"`
	Metadata           map[string]string `json:"metadata"`
	CallbackURL        string            `json:"callbackUrl"`
	SendSms            bool              `json:"sendSms"`
	Status             *int              `json:"status"`
	VerificationMethod *int              `json:"verificationMethod"`
	AttemptsCount      *int              `json:"attemptsCount"`
	EndeavorID         string            `json:"endeavorId"`
	Case               []any             `json:"case"` // accepted, not used
}

func (req *applicantRequest) toApplicant(id string, now time.Time) (*applicant, error) {
	bad := func(msg string) (*applicant, error) { return nil, httpErr(http.StatusBadRequest, msg) }
	for name, v := range map[string]string{"firstName": req.FirstName, "lastName": req.LastName, "phone": req.Phone,
		"email": req.Email, "referenceId": req.ReferenceID, "endeavorId": req.EndeavorID} {
		if len(v) > 256 {
			return bad("The field " + name + " must be at most 256 characters")
		}
	}
	if len(req.CallbackURL) > 2048 || req.CallbackURL != "" && !strings.HasPrefix(req.CallbackURL, "https://") && !strings.HasPrefix(req.CallbackURL, "http://") {
		return bad("The field callbackUrl must be an http or https URL")
	}
	if len(req.Metadata) > 20 {
		return bad("The field metadata must have at most 20 entries")
	}
	for k, v := range req.Metadata {
		if len(k) > 256 || len(v) > 1024 {
			return bad("The field metadata has an entry that is too long")
		}
	}
	ap := &applicant{
		ID: id, FirstName: strings.TrimSpace(req.FirstName), LastName: strings.TrimSpace(req.LastName), Phone: strings.TrimSpace(req.Phone),
		Email: strings.TrimSpace(req.Email), ReferenceID: req.ReferenceID, Metadata: req.Metadata, CallbackURL: req.CallbackURL,
		SendSms: req.SendSms, VerificationMethod: 1, EndeavorID: strings.TrimSpace(req.EndeavorID),
		Status: ApplicantNotVerified, AttemptsCount: DefaultAttempts, CreatedAt: now, UpdatedAt: now,
	}
	if req.Status != nil {
		if *req.Status < ApplicantNotVerified || *req.Status > ApplicantCanceled {
			return bad("The field status must be 0, 1, 2 or 3")
		}
		ap.Status = *req.Status
	}
	if req.VerificationMethod != nil {
		if *req.VerificationMethod != 0 && *req.VerificationMethod != 1 {
			return bad("The field verificationMethod must be 0 or 1")
		}
		ap.VerificationMethod = *req.VerificationMethod
	}
	if req.AttemptsCount != nil {
		if *req.AttemptsCount < MinAttempts || *req.AttemptsCount > MaxAttempts {
			return bad("The field attemptsCount must be 1 to 5")
		}
		ap.AttemptsCount = *req.AttemptsCount
	}
	if ap.Status == ApplicantFailed {
		ap.AttemptsUsed = ap.AttemptsCount
	}
	return ap, nil
}

func (a *Adapter) handleCreateApplicant(w http.ResponseWriter, r *http.Request, t *facereg.Tenant) {
	var req applicantRequest
	if err := decode(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	ap, err := req.toApplicant(uuid.NewString(), a.now().UTC().Truncate(time.Millisecond))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.saveApplicant(r.Context(), t, ap); err != nil {
		a.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, ap.view())
}

func (a *Adapter) handleGetApplicant(w http.ResponseWriter, r *http.Request, t *facereg.Tenant) {
	ap, err := a.loadApplicant(r.Context(), t, r.PathValue("applicantId"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, ap.view())
}

// handlePatchApplicant closes an applicant: {"status": 3} (canceled). No
// other change is accepted.
func (a *Adapter) handlePatchApplicant(w http.ResponseWriter, r *http.Request, t *facereg.Tenant) {
	var req struct {
		Status *int `json:"status"`
	}
	if err := decode(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.Status == nil || *req.Status != ApplicantCanceled {
		a.fail(w, r, httpErr(http.StatusBadRequest, "Only {\"status\": 3} (cancel the applicant) can be set"))
		return
	}
	id := strings.ToLower(r.PathValue("applicantId"))
	unlock := a.lock(t.ID + "/" + id)
	defer unlock()
	ap, err := a.loadApplicant(r.Context(), t, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ap.Status = ApplicantCanceled
	if err := a.saveApplicant(r.Context(), t, ap); err != nil {
		a.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, ap.view())
}

// handleDeleteApplicant erases an applicant and its face registration.
func (a *Adapter) handleDeleteApplicant(w http.ResponseWriter, r *http.Request, t *facereg.Tenant) {
	id := strings.ToLower(r.PathValue("applicantId"))
	unlock := a.lock(t.ID + "/" + id)
	defer unlock()
	ap, err := a.loadApplicant(r.Context(), t, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.svc().DeleteByExternalID(r.Context(), t, ExternalIDPrefix+ap.ID); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.svc().Store().DeleteRecord(r.Context(), t.ID, kindApplicant, ap.ID); err != nil && facereg.ErrorCode(err) != facereg.ENOTFOUND {
		a.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"applicantId": ap.ID, "deleted": true})
}
