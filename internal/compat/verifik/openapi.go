package verifik

// OpenAPIPaths returns the adapter's OpenAPI paths.
func (a *Adapter) OpenAPIPaths() map[string]any {
	str := map[string]any{"type": "string"}
	nstr := map[string]any{"type": "string", "nullable": true}
	oid := map[string]any{"type": "string", "pattern": "^[0-9a-f]{24}$"}
	noid := map[string]any{"type": "string", "pattern": "^[0-9a-f]{24}$", "nullable": true}
	ts := map[string]any{"type": "string", "format": "date-time", "description": "ISO 8601 UTC with milliseconds"}
	obj := func(props map[string]any, required ...string) map[string]any {
		m := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			m["required"] = required
		}
		return m
	}
	errSchema := obj(map[string]any{
		"code":    map[string]any{"type": "string", "description": "e.g. person_already_set, liveness_failed, appRegistration_not_found (docs/compat.md (verifik))"},
		"message": map[string]any{"type": "string", "description": "<status>:<code>[@<detail>], e.g. 409:liveness_failed@0.45"},
	}, "code", "message")
	settings := obj(map[string]any{
		"livenessMinScore": map[string]any{"type": "number", "minimum": 0, "maximum": 1, "default": DefaultLivenessMinScore},
		"searchMode":       map[string]any{"type": "string", "enum": []string{SearchAccurate, SearchFast}, "default": DefaultSearchMode},
		"searchMinScore":   map[string]any{"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "default": DefaultSearchMinScore, "description": "calibrated match score (service.Score of the cosine similarity)"},
	})
	project := obj(map[string]any{
		"_id": oid, "client": oid, "name": str, "projectFlow": oid, "assignedCollection": oid,
		"onboardingSettings": settings, "createdAt": ts, "updatedAt": ts,
	}, "_id", "client", "name", "projectFlow", "assignedCollection", "onboardingSettings", "createdAt", "updatedAt")
	projectBody := obj(map[string]any{
		"name": str, "projectFlow": oid, "assignedCollection": oid, "onboardingSettings": settings,
	})
	appRegProps := map[string]any{
		"_id": oid, "client": oid, "project": oid, "projectFlow": oid,
		"status":              map[string]any{"type": "string", "enum": []string{StatusStarted}},
		"email":               nstr,
		"countryCode":         nstr,
		"phone":               nstr,
		"biometricValidation": noid, "person": noid, "informationValidation": oid, "assignedCollection": oid,
		"createdAt": ts, "updatedAt": ts,
	}
	appRegRequired := []string{"_id", "client", "project", "projectFlow", "status", "email", "countryCode", "phone",
		"biometricValidation", "person", "informationValidation", "assignedCollection", "createdAt", "updatedAt"}
	appReg := obj(appRegProps, appRegRequired...)
	created := map[string]any{}
	for k, v := range appRegProps {
		created[k] = v
	}
	created["token"] = map[string]any{"type": "string", "description": "HS256 JWT of the app registration (Bearer of the biometric validation)"}
	data := func(schema any) map[string]any { return obj(map[string]any{"data": schema}, "data") }
	js := func(desc string, schema any) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": schema}}}
	}
	responses := func(ok map[string]any, codes ...string) map[string]any {
		m := map[string]any{"200": ok}
		for _, c := range codes {
			m[c] = js("Error (docs/compat.md (verifik))", errSchema)
		}
		return m
	}
	body := func(schema any) map[string]any {
		return map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": schema}}}
	}
	security := []any{map[string]any{"bearer": []string{}}}
	param := func(name string) []any {
		return []any{map[string]any{"name": name, "in": "path", "required": true, "schema": oid}}
	}
	tags := []string{"compat-verifik"}
	return map[string]any{
		PathProjects: map[string]any{
			"post": map[string]any{
				"summary": "Verifik-compatible: create a project (its project flow and collection ids, onboarding settings)",
				"tags":    tags, "security": security, "requestBody": body(projectBody),
				"responses": responses(js("Created", data(project)), "400", "401", "413", "429", "500"),
			},
		},
		PathProject: map[string]any{
			"get": map[string]any{
				"summary": "Verifik-compatible: retrieve a project", "tags": tags, "security": security, "parameters": param("project"),
				"responses": responses(js("Found", data(project)), "401", "404", "429", "500"),
			},
			"put": map[string]any{
				"summary":     "Verifik-compatible: update a project's settings, or create it with this id",
				"description": "Absent fields keep their value. livenessMinScore, searchMode and searchMinScore apply to the project's biometric validations.",
				"tags":        tags, "security": security, "parameters": param("project"), "requestBody": body(projectBody),
				"responses": responses(js("Updated or created", data(project)), "400", "401", "413", "429", "500"),
			},
		},
		PathAppRegistrations: map[string]any{
			"post": map[string]any{
				"summary":     "Verifik-compatible: create an app registration and its JWT",
				"description": "Authorization: Bearer <tenant API key>. Either email or phone (with countryCode) is required. expiresIn (seconds, default 86400) sets the token's lifetime.",
				"tags":        tags, "security": security,
				"requestBody": body(obj(map[string]any{
					"project": oid, "projectFlow": oid, "email": str, "phone": str, "countryCode": str,
					"fullName": str, "firstName": str, "lastName": str, "language": str,
					"expiresIn": map[string]any{"type": "integer", "minimum": 1, "maximum": int64(MaxTokenTTL.Seconds()), "default": int64(DefaultTokenTTL.Seconds())},
				}, "project")),
				"responses": responses(js("Created", data(obj(created, append(appRegRequired, "token")...))), "400", "401", "404", "413", "429", "500"),
			},
		},
		PathAppRegistration: map[string]any{
			"get": map[string]any{
				"summary": "Verifik-compatible: retrieve an app registration", "tags": tags, "security": security, "parameters": param("id"),
				"responses": responses(js("Found", data(appReg)), "401", "404", "429", "500"),
			},
			"delete": map[string]any{
				"summary": "Erase an app registration and its face registration (its token then gets 404)", "tags": tags, "security": security, "parameters": param("id"),
				"responses": responses(js("Deleted", data(obj(map[string]any{"_id": oid, "deleted": map[string]any{"type": "boolean"}}))), "401", "404", "429", "500"),
			},
		},
		PathBiometricAppRegVal: map[string]any{
			"post": map[string]any{
				"summary":     "Verifik-compatible: create an app registration biometric validation (registers the face)",
				"description": "Authorization: Bearer <app registration JWT>. Liveness below the project's livenessMinScore: 409 liveness_failed@<score>; a registered face at or above its searchMinScore: 409 face_already_registered@<score>.",
				"tags":        tags, "security": security,
				"requestBody": body(obj(map[string]any{
					"image": map[string]any{"type": "string", "description": "base64 or data URI (JPEG, PNG, WebP)"},
					"os":    map[string]any{"type": "string", "enum": []string{"DESKTOP", "IOS", "ANDROID"}},
					"force": map[string]any{"type": "boolean", "default": false},
				}, "image", "os")),
				"responses": responses(js("Validated and registered", data(appReg)), "400", "401", "404", "409", "413", "429", "500", "503"),
			},
		},
	}
}
