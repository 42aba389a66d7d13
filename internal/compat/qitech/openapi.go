package qitech

// OpenAPIPaths returns the adapter's OpenAPI paths.
func (a *Adapter) OpenAPIPaths() map[string]any {
	str := map[string]any{"type": "string"}
	errSchema := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"title":          map[string]any{"type": "string", "description": "image_quality, invalid_image, liveness or the code in lower case"},
			"description":    map[string]any{"type": "string"},
			"code":           map[string]any{"type": "string", "description": "facereg reason code"},
			"image_status":   map[string]any{"type": "string", "description": "for image_quality: the code in lower case"},
			"measure":        map[string]any{"type": "object"},
			"extra_fields":   map[string]any{"type": "object"},
			"transaction_id": str,
		},
		"required": []string{"title", "description", "code", "transaction_id"},
	}
	regSchema := map[string]any{
		"type":       "object",
		"properties": map[string]any{"registration_key": str},
		"required":   []string{"registration_key"},
	}
	js := func(desc string, schema any) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": schema}}}
	}
	errs := func(codes ...string) map[string]any {
		m := map[string]any{}
		for _, c := range codes {
			m[c] = js("Error (see docs/compat.md (qitech))", errSchema)
		}
		return m
	}
	with := func(m map[string]any, code string, v any) map[string]any { m[code] = v; return m }
	security := []any{map[string]any{"bearer": []string{}}}
	param := func(name string) []any {
		return []any{map[string]any{"name": name, "in": "path", "required": true, "schema": str}}
	}
	return map[string]any{
		PathRegistration: map[string]any{
			"post": map[string]any{
				"summary":     "QI Tech-compatible face registration (document_number + image or image_key)",
				"description": "Authorization: <API key> (raw, as QI Tech) or Authorization: Bearer <API key>. Send exactly one of image and image_key.",
				"tags":        []string{"compat-qitech"},
				"security":    security,
				"requestBody": map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{
					"type": "object",
					"properties": map[string]any{
						"document_number": map[string]any{"type": "string", "description": "the external id (e.g. CPF), used as sent"},
						"image":           map[string]any{"type": "string", "description": "face image in base64"},
						"image_key":       map[string]any{"type": "string", "description": "key of an image uploaded with POST /face_recognition/image"},
					},
					"required": []string{"document_number"},
				}}}},
				"responses": with(errs("400", "401", "404", "409", "413", "429", "500", "503"), "200", js("Registered", regSchema)),
			},
		},
		PathByKey: map[string]any{
			"get": map[string]any{
				"summary":    "QI Tech-compatible lookup by registration key",
				"tags":       []string{"compat-qitech"},
				"security":   security,
				"parameters": param("registration_key"),
				"responses":  with(errs("401", "404", "429", "500"), "200", js("Found", regSchema)),
			},
		},
		PathByDocument: map[string]any{
			"get": map[string]any{
				"summary":    "QI Tech-compatible lookup by document number",
				"tags":       []string{"compat-qitech"},
				"security":   security,
				"parameters": param("document_number"),
				"responses":  with(errs("401", "404", "429", "500"), "200", js("Found", regSchema)),
			},
		},
		PathImage: map[string]any{
			"post": map[string]any{
				"summary":     "QI Tech-compatible image upload: returns an image_key valid for one hour",
				"description": "JSON {\"image\": \"<base64>\"} or multipart/form-data with a file field image. The format and size are checked here; the face is analysed by the registration.",
				"tags":        []string{"compat-qitech"},
				"security":    security,
				"requestBody": map[string]any{"required": true, "content": map[string]any{
					"application/json": map[string]any{"schema": map[string]any{
						"type": "object", "properties": map[string]any{"image": str}, "required": []string{"image"},
					}},
					"multipart/form-data": map[string]any{"schema": map[string]any{
						"type": "object", "properties": map[string]any{"image": map[string]any{"type": "string", "format": "binary"}}, "required": []string{"image"},
					}},
				}},
				"responses": with(errs("400", "401", "413", "429", "500"), "200", js("Stored", map[string]any{
					"type": "object",
					"properties": map[string]any{
						"image_key":  str,
						"file_size":  map[string]any{"type": "integer"},
						"width_px":   map[string]any{"type": "integer"},
						"height_px":  map[string]any{"type": "integer"},
						"created_at": map[string]any{"type": "string", "format": "date-time"},
						"expires_at": map[string]any{"type": "string", "format": "date-time"},
					},
					"required": []string{"image_key"},
				})),
			},
		},
	}
}
