package baf

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/httpapi"
	"github.com/facereg/facereg/internal/imageio"
	"github.com/facereg/facereg/internal/service"
)

// Validation result statuses (the document's "status" of a validation).
const (
	StatusSuccess     = 0
	StatusFail        = 1
	StatusInvalidData = 2
	StatusError       = 3 // never returned: platform failures are the 120039 errors
)

// ValidationStatus is the document's validationStatus; null means the check
// was not evaluated.
type ValidationStatus struct {
	Expired             *bool `json:"expired"`
	DocumentIsValid     *bool `json:"documentIsValid"`
	FaceIsValid         *bool `json:"faceIsValid"`
	AntiSpoofingIsValid *bool `json:"antiSpoofingIsValid"`
	QualityIsValid      *bool `json:"qualityIsValid"`
}

// ValidationResponse is the document's documentType 10 response, field for
// field.
type ValidationResponse struct {
	ApplicantID             string           `json:"applicantId"`
	AttemptID               int              `json:"attemptId"`
	DocumentType            int              `json:"documentType"`
	Document                any              `json:"document"`
	AttemptsCount           int              `json:"attemptsCount"`
	AttemptsLeft            int              `json:"attemptsLeft"`
	Status                  int              `json:"status"`
	ValidationStatus        ValidationStatus `json:"validationStatus"`
	InvalidDataErrors       []string         `json:"invalidDataErrors"`
	FaceSuccess             bool             `json:"faceSuccess"`
	DocumentSuccess         *bool            `json:"documentSuccess"`
	DocumentHasNotExpired   *bool            `json:"documentHasNotExpired"`
	DocumentValidationTests []any            `json:"documentValidationTests"`
	CallBackURL             *string          `json:"callBackUrl"`
}

type validationRequest struct {
	Model *struct {
		FaceImageBase64  *string `json:"faceImageBase64"`
		FrontImageBase64 *string `json:"frontImageBase64"`
		DocumentType     *int    `json:"documentType"`
	} `json:"model"`
	ApplicantID string `json:"applicantId"`
	EndeavorID  string `json:"endeavorId"`
}

func ptr(b bool) *bool { return &b }

// invalidData lists the image codes that make a validation InvalidData
// (status 2): the bytes are not a usable image. No attempt is used.
var invalidData = []string{facereg.ImageInvalid, facereg.UnsupportedFormat, facereg.ImageTooLarge}

func (a *Adapter) handleValidation(w http.ResponseWriter, r *http.Request, t *facereg.Tenant) {
	ctx := r.Context()
	var req validationRequest
	if err := decode(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	id := strings.ToLower(strings.TrimSpace(req.ApplicantID))
	if id == "" {
		a.fail(w, r, httpErr(http.StatusBadRequest, "The applicantId field is required"))
		return
	}
	if req.Model == nil {
		a.fail(w, r, httpErr(http.StatusBadRequest, "The model field is required"))
		return
	}
	unlock := a.lock(t.ID + "/" + id)
	defer unlock()
	ap, err := a.loadApplicant(ctx, t, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	switch ap.Status {
	case ApplicantCanceled:
		a.fail(w, r, errClosed)
		return
	case ApplicantFailed:
		a.fail(w, r, errAttemptsUsed(ap.ID))
		return
	}
	if ap.EndeavorID != "" && strings.TrimSpace(req.EndeavorID) != ap.EndeavorID {
		a.fail(w, r, errEndeavor)
		return
	}
	dt := 0
	if req.Model.DocumentType != nil {
		dt = *req.Model.DocumentType
	}
	if dt != DocumentTypeFace {
		// Document checks do not exist yet: every other type, on any
		// applicant, is "not supported".
		a.fail(w, r, errDocType)
		return
	}
	if req.Model.FaceImageBase64 == nil {
		a.fail(w, r, errImageRequired)
		return
	}
	img, err := imageio.DecodeBase64Limit(*req.Model.FaceImageBase64, a.svc().Engine().Limits().MaxBytes)
	req.Model = nil // the base64 text is no longer needed
	if err != nil {
		if slices.Contains(invalidData, facereg.ErrorCode(err)) {
			a.answerInvalidData(w, r, t, ap, dt, err)
			return
		}
		a.fail(w, r, err)
		return
	}
	if ap.Status == ApplicantVerified {
		a.authorize(w, r, t, ap, dt, img)
		return
	}
	a.register(w, r, t, ap, dt, img)
}

func (a *Adapter) newResponse(ap *applicant, dt int) *ValidationResponse {
	return &ValidationResponse{
		ApplicantID: ap.ID, AttemptID: ap.Validations, DocumentType: dt,
		AttemptsCount: ap.AttemptsCount, AttemptsLeft: ap.attemptsLeft(),
		InvalidDataErrors: []string{}, DocumentValidationTests: []any{}, CallBackURL: optional(ap.CallbackURL),
	}
}

// answerInvalidData answers an image that is not a usable image: status 2
// with the reason in invalidDataErrors; no registration attempt is used.
func (a *Adapter) answerInvalidData(w http.ResponseWriter, r *http.Request, t *facereg.Tenant, ap *applicant, dt int, err error) {
	ap.Validations++
	if err := a.saveApplicant(r.Context(), t, ap); err != nil {
		a.fail(w, r, err)
		return
	}
	res := a.newResponse(ap, dt)
	res.Status = StatusInvalidData
	res.InvalidDataErrors = []string{facereg.ErrorMessage(err)}
	httpapi.WriteJSON(w, http.StatusOK, res)
}

// register is the first successful validation: quality, anti-spoofing and
// the duplicate search across the tenant, by service.Register.
func (a *Adapter) register(w http.ResponseWriter, r *http.Request, t *facereg.Tenant, ap *applicant, dt int, img []byte) {
	ctx := r.Context()
	if ap.attemptsLeft() == 0 {
		a.fail(w, r, errAttemptsUsed(ap.ID))
		return
	}
	res, err := a.svc().Register(ctx, t, service.RegisterRequest{ExternalID: ExternalIDPrefix + ap.ID, Image: img, Liveness: service.LivenessRequire})
	code := facereg.ErrorCode(err)
	var fe *facereg.Error
	errors.As(err, &fe)
	switch {
	case err == nil:
		ap.Validations++
		ap.AttemptsUsed++
		ap.Status = ApplicantVerified
		ap.RegistrationKey = res.RegistrationKey
		if err := a.saveApplicant(ctx, t, ap); err != nil {
			a.fail(w, r, err)
			return
		}
		out := a.newResponse(ap, dt)
		out.Status = StatusSuccess
		out.FaceSuccess = true
		out.ValidationStatus = ValidationStatus{FaceIsValid: ptr(true), AntiSpoofingIsValid: ptr(true), QualityIsValid: ptr(true)}
		httpapi.WriteJSON(w, http.StatusOK, out)
	case code == facereg.EALREADY:
		// The face is registered but the applicant was not marked (a crash
		// between the two, or a concurrent request): complete it now.
		if fe != nil {
			if key, ok := fe.Detail["registration_key"].(string); ok {
				ap.Status, ap.RegistrationKey = ApplicantVerified, key
				if err := a.saveApplicant(ctx, t, ap); err != nil {
					a.fail(w, r, err)
					return
				}
			}
		}
		a.fail(w, r, errCompleted(ap.ID))
	case slices.Contains(invalidData, code):
		a.answerInvalidData(w, r, t, ap, dt, err)
	case code == facereg.EDUPLICATE || code == facereg.LivenessFailed || slices.Contains(facereg.QualityReasons, code):
		// A failed check: the attempt is used.
		ap.Validations++
		ap.AttemptsUsed++
		vs := ValidationStatus{}
		if code == facereg.EDUPLICATE {
			vs.FaceIsValid, vs.AntiSpoofingIsValid, vs.QualityIsValid = ptr(false), ptr(true), ptr(true)
		} else {
			reasons, _ := fe.Detail["reasons"].([]string)
			quality := !slices.ContainsFunc(reasons, func(c string) bool { return slices.Contains(facereg.QualityReasons, c) })
			vs.AntiSpoofingIsValid, vs.QualityIsValid = ptr(!slices.Contains(reasons, facereg.LivenessFailed)), ptr(quality)
		}
		last := ap.attemptsLeft() == 0
		if last {
			ap.Status = ApplicantFailed
		}
		if err := a.saveApplicant(ctx, t, ap); err != nil {
			a.fail(w, r, err)
			return
		}
		out := a.newResponse(ap, dt)
		out.Status = StatusFail
		out.ValidationStatus = vs
		if last {
			// "If all registration attempts fail, the user will receive a
			// Status Code 400 message."
			e := errAttemptsUsed(ap.ID)
			e.validation = out
			a.fail(w, r, e)
			return
		}
		httpapi.WriteJSON(w, http.StatusOK, out)
	default:
		a.fail(w, r, mapCore(err, "registration"))
	}
}

// authorize is a validation of an applicant whose face is registered: a
// 1:N search at the 90% threshold (at most 50 faces); success if the
// applicant's own registration is among them and the face is live.
func (a *Adapter) authorize(w http.ResponseWriter, r *http.Request, t *facereg.Tenant, ap *applicant, dt int, img []byte) {
	ctx := r.Context()
	if ap.RegistrationKey == "" {
		a.fail(w, r, errNoVerifiedFace)
		return
	}
	reg, err := a.svc().RegistrationByExternalID(ctx, t, ExternalIDPrefix+ap.ID)
	if facereg.ErrorCode(err) == facereg.ENOTFOUND || err == nil && reg.Key != ap.RegistrationKey {
		a.fail(w, r, errNoProfile)
		return
	} else if err != nil {
		a.fail(w, r, mapCore(err, "authorization"))
		return
	}
	// Failed authorisations of one applicant lock it out like failed
	// verifications do (the core's lockout, per external id).
	subject := ExternalIDPrefix + ap.ID
	if err := a.svc().CheckLockout(t, subject); err != nil {
		a.fail(w, r, mapCore(err, "authorization"))
		return
	}
	res, err := a.svc().Identify(ctx, t, service.IdentifyRequest{
		Image: img, Limit: AuthMaxFaces, Threshold: a.svc().SimilarityForScore(AuthThreshold), Liveness: service.LivenessReportOnly,
	})
	if err != nil {
		if slices.Contains(invalidData, facereg.ErrorCode(err)) {
			a.answerInvalidData(w, r, t, ap, dt, err)
			return
		}
		a.fail(w, r, mapCore(err, "authorization"))
		return
	}
	if res.Liveness == nil {
		a.fail(w, r, platformErr("Liveness calculation failed", "An attempt to calculate liveness in platform failed", errors.New("baf: identify returned no liveness score")))
		return
	}
	matched := slices.ContainsFunc(res.Candidates, func(c service.Candidate) bool { return c.RegistrationKey == reg.Key })
	quality := true
	for _, c := range res.Face.Quality {
		if !c.Passed && slices.Contains(t.Settings.Quality, c.Code) {
			quality = false
		}
	}
	ap.Validations++
	if err := a.saveApplicant(ctx, t, ap); err != nil {
		a.fail(w, r, err)
		return
	}
	out := a.newResponse(ap, dt)
	out.ValidationStatus = ValidationStatus{FaceIsValid: ptr(matched), AntiSpoofingIsValid: ptr(res.Liveness.Passed), QualityIsValid: ptr(quality)}
	out.FaceSuccess = matched && res.Liveness.Passed
	a.svc().RecordAttempt(t, subject, out.FaceSuccess)
	out.Status = StatusFail
	if out.FaceSuccess {
		out.Status = StatusSuccess
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}
