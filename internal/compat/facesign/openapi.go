package facesign

// OpenAPIPaths returns the adapter's OpenAPI paths.
func (a *Adapter) OpenAPIPaths() map[string]any {
	str := map[string]any{"type": "string"}
	content := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"ClientId":      str,
			"Id":            str,
			"Status":        str,
			"Liveness":      map[string]any{"type": "boolean", "description": "liveness result against the tenant's threshold; absent when unknown"},
			"TransactionId": map[string]any{"type": "string", "description": "audit transaction id (GET /v1/transactions/{id})"},
			"Face":          map[string]any{"type": "string", "description": "base64 JPEG of the registered face (success only)"},
			"Code":          map[string]any{"type": "string", "description": "facereg reason code (errors only)"},
			"Message":       map[string]any{"type": "string", "description": "facereg explanation (errors only)"},
		},
		"required": []string{"ClientId", "Id", "Status", "TransactionId"},
	}
	envelope := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"type":    map[string]any{"type": "string", "enum": []string{"Success", "Error"}},
			"content": content,
		},
		"required": []string{"type", "content"},
	}
	already := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"clientid": str,
			"id":       str,
			"status":   map[string]any{"type": "string", "enum": []string{StatusAlreadyRegistered}},
		},
		"required": []string{"clientid", "id", "status"},
	}
	js := func(desc string, schema any) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": schema}}}
	}
	return map[string]any{
		Path: map[string]any{
			"post": map[string]any{
				"summary":     "Facesign-compatible face registration (credentials in the body)",
				"description": "See docs/compat.md (facesign). ativarLiveness true refuses a failed liveness check; false registers regardless and reports it.",
				"tags":        []string{"compat-facesign"},
				"security":    []any{},
				"requestBody": map[string]any{
					"required": true,
					"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{
						"type": "object",
						"properties": map[string]any{
							"face":           map[string]any{"type": "string", "description": "face image, base64 (or data URI)"},
							"clientid":       map[string]any{"type": "string", "description": "the tenant's client id"},
							"id":             map[string]any{"type": "string", "description": "id of the user to register (external id)"},
							"ativarLiveness": map[string]any{"type": "boolean"},
							"token":          map[string]any{"type": "string", "description": "the tenant's API key"},
						},
						"required": []string{"face", "clientid", "id", "token"},
					}}},
				},
				"responses": map[string]any{
					"200": js("Registered (type Success)", envelope),
					"400": js("Refused: already registered (lower-case object), duplicate face, liveness, image or quality (type Error)", map[string]any{"oneOf": []any{envelope, already}}),
					"401": js("clientid/token invalid (type Error)", envelope),
					"413": js("Request or image too large (type Error)", envelope),
					"429": js("Rate limited or id locked out (type Error)", envelope),
					"500": js("Internal error (type Error)", envelope),
					"503": js("Overloaded or unavailable (type Error)", envelope),
				},
			},
		},
	}
}
