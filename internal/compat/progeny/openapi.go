package progeny

import "strings"

// OpenAPIPaths returns the adapter's OpenAPI paths (each route with and
// without its trailing slash).
func (a *Adapter) OpenAPIPaths() map[string]any {
	str := map[string]any{"type": "string"}
	js := func(desc string, schema any) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": schema}}}
	}
	errSchema := map[string]any{
		"type":       "object",
		"properties": map[string]any{"detail": str, "error_code": map[string]any{"type": "string", "description": "facereg reason code"}},
		"required":   []string{"detail", "error_code"},
	}
	security := []any{map[string]any{"bearer": []string{}}}
	notAFile := map[string]any{
		"type":       "object",
		"properties": map[string]any{"image": map[string]any{"type": "array", "items": map[string]any{"type": "string", "enum": []string{NotAFile}}}},
		"required":   []string{"image"},
	}
	register := map[string]any{
		"post": map[string]any{
			"summary":     "Progeny-compatible face registration: starts a task (liveness enforced)",
			"description": "Authorization: Bearer <API key> (or Token <API key>). Poll GET /api/v3/services/task/?id= for the result. See docs/compat.md (progeny).",
			"tags":        []string{"compat-progeny"},
			"security":    security,
			"requestBody": map[string]any{"required": true, "content": map[string]any{"multipart/form-data": map[string]any{"schema": map[string]any{
				"type": "object",
				"properties": map[string]any{
					"image":       map[string]any{"type": "string", "format": "binary", "description": "PNG, JPEG or JPG file"},
					"extend_data": map[string]any{"type": "boolean", "description": "add the engine's measurements to the result (result.data.extend_data)"},
					"external_id": map[string]any{"type": "string", "description": "facereg extension: the external id (default: a generated UUID); user_id is accepted as a synonym"},
				},
				"required": []string{"image"},
			}}}},
			"responses": map[string]any{
				"200": js("Task accepted", map[string]any{"type": "object", "properties": map[string]any{"id": str}, "required": []string{"id"}}),
				"400": js("Image missing or not a file (exact body of the document), or an invalid field", map[string]any{"oneOf": []any{notAFile, errSchema}}),
				"401": js("Missing or invalid API key", errSchema),
				"413": js("Request or image too large", errSchema),
				"429": js("Rate limited", errSchema),
				"500": js("Internal error", errSchema),
				"503": js("Overloaded", errSchema),
			},
		},
	}
	result := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"status": map[string]any{"type": "integer", "description": "200 registered, 400 refused, 5xx failed"},
			"data": map[string]any{"type": "object", "properties": map[string]any{
				"uuid": map[string]any{"type": "string", "description": "registration key (status 200)"},
				"liveness": map[string]any{"type": "object", "properties": map[string]any{
					"result": map[string]any{"type": "boolean"}, "error": str, "error_code": str,
				}},
				"extend_data": map[string]any{"type": "object", "description": "engine measurements when extend_data was set"},
			}},
			"issues": map[string]any{"type": "object", "additionalProperties": str, "description": "reason code -> message (status 400)"},
		},
	}
	taskSchema := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"id":     str,
			"status": map[string]any{"type": "string", "enum": []string{StatePending, StateStarted, StateSuccess, StateFailure}},
			"result": map[string]any{"oneOf": []any{result, map[string]any{"type": "null"}}},
		},
		"required": []string{"id", "status", "result"},
	}
	task := map[string]any{
		"get": map[string]any{
			"summary":    "Progeny-compatible task status and result",
			"tags":       []string{"compat-progeny"},
			"security":   security,
			"parameters": []any{map[string]any{"name": "id", "in": "query", "required": true, "schema": str}},
			"responses": map[string]any{
				"200": js("Pending, started, or registered", taskSchema),
				"400": js("Refused (result.status 400), or id missing", map[string]any{"oneOf": []any{taskSchema, errSchema}}),
				"401": js("Missing or invalid API key", errSchema),
				"404": js("No such task for this tenant", errSchema),
				"429": js("Rate limited", errSchema),
				"500": js("Task failed on the server's side (status FAILURE), or internal error", map[string]any{"oneOf": []any{taskSchema, errSchema}}),
				"503": js("Task failed because the server was overloaded (status FAILURE)", map[string]any{"oneOf": []any{taskSchema, errSchema}}),
			},
		},
	}
	return map[string]any{
		PathRegister:                          register,
		strings.TrimSuffix(PathRegister, "/"): register,
		PathTask:                              task,
		strings.TrimSuffix(PathTask, "/"):     task,
	}
}
