package verifik

import (
	"errors"
	"net/http"
	"strings"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/httpapi"
	"github.com/facereg/facereg/internal/imageio"
	"github.com/facereg/facereg/internal/service"
)

// Operating systems accepted in "os".
var validOS = map[string]bool{"DESKTOP": true, "IOS": true, "ANDROID": true}

type biometricRequest struct {
	Image *string `json:"image"`
	OS    *string `json:"os"`
	Force bool    `json:"force"`
}

// handleBiometricValidation is POST /v2/biometric-validations/app-registration,
// authorised by the app registration's JWT. It registers the face under the
// external id "verifik:<app registration _id>" with service.Register, with
// the project's liveness minimum and search minimum score in place of the
// tenant's liveness and match thresholds (docs/compat.md (verifik)).
func (a *Adapter) handleBiometricValidation(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	claims, err := a.parseToken(bearer(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	t, err := a.svc().TenantByClientID(ctx, claims.Tenant)
	if err != nil {
		if facereg.ErrorCode(err) == facereg.ENOTFOUND {
			err = errf(401, "invalid_token", "")
		}
		a.fail(w, r, err)
		return
	}
	if err := a.svc().Allow(t.ID); err != nil {
		a.fail(w, r, err)
		return
	}
	ctx = httpapi.WithTenant(ctx, t)

	var req biometricRequest
	if err := decode(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.Image == nil || strings.TrimSpace(*req.Image) == "" {
		a.fail(w, r, errf(400, "missing_parameter", "image"))
		return
	}
	if req.OS == nil || strings.TrimSpace(*req.OS) == "" {
		a.fail(w, r, errf(400, "missing_parameter", "os"))
		return
	}
	if !validOS[strings.ToUpper(strings.TrimSpace(*req.OS))] {
		a.fail(w, r, errf(400, "invalid_parameter", "os"))
		return
	}
	img, err := imageio.DecodeBase64Limit(*req.Image, a.svc().Engine().Limits().MaxBytes)
	req.Image = nil // the base64 text is no longer needed
	if err != nil {
		a.fail(w, r, err)
		return
	}

	unlock := a.lock(t.ID + "/appreg/" + claims.Subject)
	defer unlock()
	rec, err := a.loadAppReg(ctx, t, claims.Subject)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if rec.Person != nil && !req.Force {
		a.fail(w, r, errf(409, "person_already_set", ""))
		return
	}
	p, err := a.loadProject(r, t, rec.Project)
	if err != nil {
		a.fail(w, r, err)
		return
	}

	// The project decides: Register runs with the project's liveness
	// minimum and search minimum (converted from the calibrated score to
	// the cosine similarity) in place of the tenant's thresholds.
	// Everything else (quality policy, lockout, audit, the duplicate search
	// under the tenant's lock) is the core's.
	mode := service.LivenessRequire
	if p.OnboardingSettings.LivenessMinScore <= 0 {
		mode = service.LivenessReportOnly
	}
	ext := ExternalIDPrefix + rec.ID
	res, err := a.svc().Register(ctx, t, service.RegisterRequest{
		ExternalID: ext, Image: img, Liveness: mode, Force: req.Force,
		LivenessThreshold: p.OnboardingSettings.LivenessMinScore,
		MatchThreshold:    a.svc().SimilarityForScore(p.OnboardingSettings.SearchMinScore),
	})
	if err != nil {
		if facereg.ErrorCode(err) == facereg.EALREADY && rec.Person == nil {
			// The face was registered but the record not updated (a crash
			// between the two): link it now, then refuse as the document says.
			var fe *facereg.Error
			if errors.As(err, &fe) {
				if key, ok := fe.Detail["registration_key"].(string); ok {
					a.link(r, t, rec, key)
				}
			}
		}
		a.fail(w, r, err)
		return
	}
	if err := a.link(r, t, rec, res.RegistrationKey); err != nil {
		a.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, dataEnvelope{rec.AppRegistration})
}

// link records a successful biometric validation on the app registration:
// a new biometricValidation id and the person of the face registration.
func (a *Adapter) link(r *http.Request, t *facereg.Tenant, rec *appRegRecord, regKey string) error {
	person := derivedID("person", t.ID, regKey)
	bv := a.newObjectID()
	rec.Person, rec.BiometricValidation = &person, &bv
	rec.RegistrationKey = regKey
	rec.UpdatedAt = a.stamp()
	return a.putRecord(r.Context(), t, kindAppReg, rec.ID, rec)
}
