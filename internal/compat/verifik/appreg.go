package verifik

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/httpapi"
)

// StatusStarted is the status of an app registration (it stays STARTED
// through the biometric validation, as in the document's example).
const StatusStarted = "STARTED"

// AppRegistration is an app registration exactly as the document's 200
// response shows it.
type AppRegistration struct {
	ID                    string  `json:"_id"`
	Client                string  `json:"client"`
	Project               string  `json:"project"`
	ProjectFlow           string  `json:"projectFlow"`
	Status                string  `json:"status"`
	Email                 *string `json:"email"`
	CountryCode           *string `json:"countryCode"`
	Phone                 *string `json:"phone"`
	BiometricValidation   *string `json:"biometricValidation"`
	Person                *string `json:"person"`
	InformationValidation string  `json:"informationValidation"`
	AssignedCollection    string  `json:"assignedCollection"`
	CreatedAt             string  `json:"createdAt"`
	UpdatedAt             string  `json:"updatedAt"`
}

// appRegRecord is what the store keeps: the record and the key of its
// face registration in the core.
type appRegRecord struct {
	AppRegistration
	RegistrationKey string `json:"registrationKey,omitempty"`
}

// createdAppRegistration is the response of POST /v2/app-registrations.
type createdAppRegistration struct {
	AppRegistration
	Token string `json:"token"`
}

type appRegRequest struct {
	Project     string  `json:"project"`
	ProjectFlow string  `json:"projectFlow"`
	Email       string  `json:"email"`
	Phone       string  `json:"phone"`
	CountryCode string  `json:"countryCode"`
	ExpiresIn   *int64  `json:"expiresIn"`
	FullName    *string `json:"fullName"`
	FirstName   *string `json:"firstName"`
	LastName    *string `json:"lastName"`
	Language    *string `json:"language"`
}

func validEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	return len(s) <= 254 && at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t\r\n")
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func (req *appRegRequest) validate() (ttl time.Duration, err error) {
	req.Project = strings.ToLower(strings.TrimSpace(req.Project))
	req.ProjectFlow = strings.ToLower(strings.TrimSpace(req.ProjectFlow))
	req.Email = strings.TrimSpace(req.Email)
	req.Phone = strings.TrimSpace(req.Phone)
	req.CountryCode = strings.TrimSpace(req.CountryCode)
	switch {
	case req.Project == "":
		return 0, errf(400, "missing_parameter", "project")
	case req.Email == "" && req.Phone == "":
		return 0, errf(400, "missing_parameter", "email")
	case req.Email != "" && !validEmail(req.Email):
		return 0, errf(400, "invalid_parameter", "email")
	case req.Phone != "" && (!allDigits(req.Phone) || len(req.Phone) > 20):
		return 0, errf(400, "invalid_parameter", "phone")
	case req.Phone != "" && req.CountryCode == "":
		return 0, errf(400, "missing_parameter", "countryCode")
	case req.CountryCode != "" && (len(req.CountryCode) < 2 || len(req.CountryCode) > 5 || req.CountryCode[0] != '+' || !allDigits(req.CountryCode[1:])):
		return 0, errf(400, "invalid_parameter", "countryCode")
	case req.ProjectFlow != "" && !isObjectID(req.ProjectFlow):
		return 0, errf(400, "invalid_parameter", "projectFlow")
	}
	ttl = DefaultTokenTTL
	if req.ExpiresIn != nil {
		if *req.ExpiresIn < 1 || *req.ExpiresIn > int64(MaxTokenTTL/time.Second) {
			return 0, errf(400, "invalid_parameter", "expiresIn")
		}
		ttl = time.Duration(*req.ExpiresIn) * time.Second
	}
	return ttl, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (a *Adapter) handleCreateAppRegistration(w http.ResponseWriter, r *http.Request, t *facereg.Tenant) {
	var req appRegRequest
	if err := decode(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	ttl, err := req.validate()
	if err != nil {
		a.fail(w, r, err)
		return
	}
	p, err := a.loadProject(r, t, req.Project)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if req.ProjectFlow != "" && req.ProjectFlow != p.ProjectFlow {
		a.fail(w, r, errf(404, "projectFlow_not_found", ""))
		return
	}
	now := a.stamp()
	rec := &appRegRecord{AppRegistration: AppRegistration{
		ID: a.newObjectID(), Client: clientID(t), Project: p.ID, ProjectFlow: p.ProjectFlow, Status: StatusStarted,
		Email: optional(req.Email), CountryCode: optional(req.CountryCode), Phone: optional(req.Phone),
		InformationValidation: a.newObjectID(), AssignedCollection: p.AssignedCollection,
		CreatedAt: now, UpdatedAt: now,
	}}
	tok, err := a.sign(t, rec, ttl)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.putRecord(r.Context(), t, kindAppReg, rec.ID, rec); err != nil {
		a.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, dataEnvelope{createdAppRegistration{AppRegistration: rec.AppRegistration, Token: tok}})
}

func (a *Adapter) loadAppReg(ctx context.Context, t *facereg.Tenant, id string) (*appRegRecord, error) {
	id = strings.ToLower(id)
	if !isObjectID(id) {
		return nil, errf(404, "appRegistration_not_found", "")
	}
	var rec appRegRecord
	if err := a.getRecord(ctx, t, kindAppReg, id, &rec); err != nil {
		if facereg.ErrorCode(err) == facereg.ENOTFOUND {
			return nil, errf(404, "appRegistration_not_found", "")
		}
		return nil, err
	}
	return &rec, nil
}

func (a *Adapter) handleGetAppRegistration(w http.ResponseWriter, r *http.Request, t *facereg.Tenant) {
	rec, err := a.loadAppReg(r.Context(), t, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, dataEnvelope{rec.AppRegistration})
}

// handleDeleteAppRegistration erases an app registration and its face
// registration in the core; its token is refused from then on (404).
func (a *Adapter) handleDeleteAppRegistration(w http.ResponseWriter, r *http.Request, t *facereg.Tenant) {
	id := strings.ToLower(r.PathValue("id"))
	unlock := a.lock(t.ID + "/appreg/" + id)
	defer unlock()
	rec, err := a.loadAppReg(r.Context(), t, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.svc().DeleteByExternalID(r.Context(), t, ExternalIDPrefix+rec.ID); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.svc().Store().DeleteRecord(r.Context(), t.ID, kindAppReg, rec.ID); err != nil && facereg.ErrorCode(err) != facereg.ENOTFOUND {
		a.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, dataEnvelope{map[string]any{"_id": rec.ID, "deleted": true}})
}

// ---- tokens ----

const (
	tokenIssuer = "facereg/verifik"
	tokenType   = "appRegistration"
)

// TokenClaims are the claims of an app registration's JWT (HS256): sub is
// the app registration id, tid the tenant's client id.
type TokenClaims struct {
	Tenant  string `json:"tid"`
	Project string `json:"project"`
	Type    string `json:"type"`
	jwt.RegisteredClaims
}

func (a *Adapter) sign(t *facereg.Tenant, rec *appRegRecord, ttl time.Duration) (string, error) {
	if len(a.secret) == 0 {
		return "", &apiError{status: 500, code: "internal_error", cause: errors.New("verifik: no JWT secret configured")}
	}
	now := a.now()
	c := TokenClaims{
		Tenant: t.ID, Project: rec.Project, Type: tokenType,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: tokenIssuer, Subject: rec.ID, ID: a.newObjectID(),
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(a.secret)
	if err != nil {
		return "", &apiError{status: 500, code: "internal_error", cause: errors.New("verifik: cannot sign the token")}
	}
	return s, nil
}

// parseToken verifies an app registration's JWT: HS256 with the adapter's
// secret, our issuer and type, an expiry in the future. Expired tokens get
// token_expired, every other failure invalid_token (both 401).
func (a *Adapter) parseToken(s string) (*TokenClaims, error) {
	invalid := errf(401, "invalid_token", "")
	if s == "" || len(a.secret) == 0 {
		return nil, invalid
	}
	var c TokenClaims
	_, err := jwt.ParseWithClaims(s, &c, func(*jwt.Token) (any, error) { return a.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(tokenIssuer), jwt.WithExpirationRequired(), jwt.WithTimeFunc(a.now))
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return nil, errf(401, "token_expired", "")
		}
		return nil, invalid
	}
	if c.Type != tokenType || c.Tenant == "" || !isObjectID(c.Subject) {
		return nil, invalid
	}
	return &c, nil
}
