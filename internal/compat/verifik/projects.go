package verifik

import (
	"errors"
	"net/http"
	"strings"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/httpapi"
)

// Search modes.
const (
	SearchAccurate = "ACCURATE"
	SearchFast     = "FAST"
)

// OnboardingSettings are a project's biometric settings (the fields of a
// Verifik project flow's onboardingSettings that facereg applies).
type OnboardingSettings struct {
	// LivenessMinScore is the liveness score (0..1, the engine's score)
	// below which a validation is refused with liveness_failed; 0 turns the
	// refusal off (the score is still measured and stored).
	LivenessMinScore float64 `json:"livenessMinScore"`
	// SearchMode is ACCURATE or FAST; both run the same exhaustive search
	// (see docs/compat.md (verifik)).
	SearchMode string `json:"searchMode"`
	// SearchMinScore is the calibrated match score (0..1, service.Score of
	// the cosine similarity) at or above which a face is a duplicate.
	SearchMinScore float64 `json:"searchMinScore"`
}

// Project is a Verifik project as stored and shown.
type Project struct {
	ID                 string             `json:"_id"`
	Client             string             `json:"client"`
	Name               string             `json:"name"`
	ProjectFlow        string             `json:"projectFlow"`
	AssignedCollection string             `json:"assignedCollection"`
	OnboardingSettings OnboardingSettings `json:"onboardingSettings"`
	CreatedAt          string             `json:"createdAt"`
	UpdatedAt          string             `json:"updatedAt"`
}

// projectRequest is the body of POST /v2/projects and PUT
// /v2/projects/{project}; absent fields keep their value (or default).
type projectRequest struct {
	Name               *string `json:"name"`
	ProjectFlow        *string `json:"projectFlow"`
	AssignedCollection *string `json:"assignedCollection"`
	OnboardingSettings *struct {
		LivenessMinScore *float64 `json:"livenessMinScore"`
		SearchMode       *string  `json:"searchMode"`
		SearchMinScore   *float64 `json:"searchMinScore"`
	} `json:"onboardingSettings"`
}

// apply validates req and applies it to p.
func (req *projectRequest) apply(p *Project) error {
	if req.Name != nil {
		n := strings.TrimSpace(*req.Name)
		if len(n) > 200 {
			return errf(400, "invalid_parameter", "name")
		}
		p.Name = n
	}
	if req.ProjectFlow != nil {
		if !isObjectID(*req.ProjectFlow) {
			return errf(400, "invalid_parameter", "projectFlow")
		}
		p.ProjectFlow = strings.ToLower(*req.ProjectFlow)
	}
	if req.AssignedCollection != nil {
		if !isObjectID(*req.AssignedCollection) {
			return errf(400, "invalid_parameter", "assignedCollection")
		}
		p.AssignedCollection = strings.ToLower(*req.AssignedCollection)
	}
	if o := req.OnboardingSettings; o != nil {
		if o.LivenessMinScore != nil {
			if v := *o.LivenessMinScore; v < 0 || v > 1 {
				return errf(400, "invalid_parameter", "onboardingSettings.livenessMinScore")
			}
			p.OnboardingSettings.LivenessMinScore = *o.LivenessMinScore
		}
		if o.SearchMode != nil {
			m := strings.ToUpper(strings.TrimSpace(*o.SearchMode))
			if m != SearchAccurate && m != SearchFast {
				return errf(400, "invalid_parameter", "onboardingSettings.searchMode")
			}
			p.OnboardingSettings.SearchMode = m
		}
		if o.SearchMinScore != nil {
			if v := *o.SearchMinScore; v <= 0 || v >= 1 {
				return errf(400, "invalid_parameter", "onboardingSettings.searchMinScore")
			}
			p.OnboardingSettings.SearchMinScore = *o.SearchMinScore
		}
	}
	return nil
}

func (a *Adapter) newProject(t *facereg.Tenant, id string) *Project {
	now := a.stamp()
	return &Project{
		ID: id, Client: clientID(t), ProjectFlow: a.newObjectID(), AssignedCollection: a.newObjectID(),
		OnboardingSettings: OnboardingSettings{LivenessMinScore: DefaultLivenessMinScore, SearchMode: DefaultSearchMode, SearchMinScore: DefaultSearchMinScore},
		CreatedAt:          now, UpdatedAt: now,
	}
}

// clientID is the tenant's Verifik "client" id, derived from its client id.
func clientID(t *facereg.Tenant) string { return derivedID("client", t.ID) }

type dataEnvelope struct {
	Data any `json:"data"`
}

func (a *Adapter) handleCreateProject(w http.ResponseWriter, r *http.Request, t *facereg.Tenant) {
	var req projectRequest
	if err := decode(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	p := a.newProject(t, a.newObjectID())
	if err := req.apply(p); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.putRecord(r.Context(), t, kindProject, p.ID, p); err != nil {
		a.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, dataEnvelope{p})
}

func (a *Adapter) loadProject(r *http.Request, t *facereg.Tenant, id string) (*Project, error) {
	id = strings.ToLower(id)
	if !isObjectID(id) {
		return nil, errf(404, "project_not_found", "")
	}
	var p Project
	if err := a.getRecord(r.Context(), t, kindProject, id, &p); err != nil {
		if facereg.ErrorCode(err) == facereg.ENOTFOUND {
			return nil, errf(404, "project_not_found", "")
		}
		return nil, err
	}
	return &p, nil
}

func (a *Adapter) handleGetProject(w http.ResponseWriter, r *http.Request, t *facereg.Tenant) {
	p, err := a.loadProject(r, t, r.PathValue("project"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, dataEnvelope{p})
}

// handlePutProject updates a project's settings, or creates the project
// with the id in the path (so that a client keeps the project id it has
// from Verifik).
func (a *Adapter) handlePutProject(w http.ResponseWriter, r *http.Request, t *facereg.Tenant) {
	id := strings.ToLower(r.PathValue("project"))
	if !isObjectID(id) {
		a.fail(w, r, errf(400, "invalid_parameter", "project"))
		return
	}
	var req projectRequest
	if err := decode(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	unlock := a.lock(t.ID + "/project/" + id)
	defer unlock()
	p, err := a.loadProject(r, t, id)
	if err != nil {
		var e *apiError
		if !errors.As(err, &e) || e.code != "project_not_found" {
			a.fail(w, r, err)
			return
		}
		p = a.newProject(t, id)
	}
	if err := req.apply(p); err != nil {
		a.fail(w, r, err)
		return
	}
	p.UpdatedAt = a.stamp()
	if err := a.putRecord(r.Context(), t, kindProject, p.ID, p); err != nil {
		a.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, dataEnvelope{p})
}
