package baf

// OpenAPIPaths returns the adapter's OpenAPI paths.
func (a *Adapter) OpenAPIPaths() map[string]any {
	str := map[string]any{"type": "string"}
	nstr := map[string]any{"type": "string", "nullable": true}
	integer := map[string]any{"type": "integer"}
	boolean := map[string]any{"type": "boolean"}
	nbool := map[string]any{"type": "boolean", "nullable": true}
	ts := map[string]any{"type": "string", "format": "date-time"}
	obj := func(props map[string]any, required ...string) map[string]any {
		m := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			m["required"] = required
		}
		return m
	}
	validationStatus := obj(map[string]any{
		"expired": nbool, "documentIsValid": nbool, "faceIsValid": nbool, "antiSpoofingIsValid": nbool, "qualityIsValid": nbool,
	}, "expired", "documentIsValid", "faceIsValid", "antiSpoofingIsValid", "qualityIsValid")
	validation := obj(map[string]any{
		"applicantId":             str,
		"attemptId":               map[string]any{"type": "integer", "description": "number of this validation of the applicant"},
		"documentType":            map[string]any{"type": "integer", "enum": []int{DocumentTypeFace}},
		"document":                map[string]any{"type": "object", "nullable": true, "description": "always null for documentType 10"},
		"attemptsCount":           map[string]any{"type": "integer", "minimum": MinAttempts, "maximum": MaxAttempts},
		"attemptsLeft":            integer,
		"status":                  map[string]any{"type": "integer", "enum": []int{StatusSuccess, StatusFail, StatusInvalidData, StatusError}, "description": "0 Success, 1 Fail, 2 InvalidData, 3 Error"},
		"validationStatus":        validationStatus,
		"invalidDataErrors":       map[string]any{"type": "array", "items": str},
		"faceSuccess":             boolean,
		"documentSuccess":         nbool,
		"documentHasNotExpired":   nbool,
		"documentValidationTests": map[string]any{"type": "array", "items": map[string]any{"type": "object"}},
		"callBackUrl":             nstr,
	}, "applicantId", "attemptId", "documentType", "document", "attemptsCount", "attemptsLeft", "status", "validationStatus",
		"invalidDataErrors", "faceSuccess", "documentSuccess", "documentHasNotExpired", "documentValidationTests", "callBackUrl")
	errSchema := obj(map[string]any{
		"code":        map[string]any{"type": "integer", "description": "the document's code (120036...120044), or the HTTP status outside its table"},
		"message":     str,
		"description": str,
		"traceId":     map[string]any{"type": "string", "description": "facereg transaction id"},
		"validation":  validation,
	}, "code", "message")
	applicantProps := map[string]any{
		"firstName": str, "lastName": str, "phone": str, "email": str, "referenceId": str,
		"metadata":           map[string]any{"type": "object", "additionalProperties": str},
		"callbackUrl":        str,
		"sendSms":            boolean,
		"status":             map[string]any{"type": "integer", "enum": []int{0, 1, 2, 3}, "description": "0 not verified (default), 1 verified, 2 failed, 3 canceled"},
		"verificationMethod": map[string]any{"type": "integer", "enum": []int{0, 1}},
		"attemptsCount":      map[string]any{"type": "integer", "minimum": MinAttempts, "maximum": MaxAttempts, "default": DefaultAttempts},
		"endeavorId":         str,
	}
	applicant := obj(map[string]any{
		"applicantId": str, "validationLink": nstr, "firstName": nstr, "lastName": nstr, "phone": nstr, "email": nstr,
		"referenceId": nstr, "metadata": map[string]any{"type": "object", "additionalProperties": str}, "callbackUrl": nstr,
		"sendSms": boolean, "verificationMethod": integer, "endeavorId": nstr,
		"status":        map[string]any{"type": "integer", "enum": []int{0, 1, 2, 3}},
		"attemptsCount": integer, "attemptsLeft": integer,
		"profileId": map[string]any{"type": "string", "nullable": true, "description": "registration key of the applicant's face"},
		"createdAt": ts, "updatedAt": ts,
	}, "applicantId", "status", "attemptsCount", "attemptsLeft")
	js := func(desc string, schema any) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": schema}}}
	}
	responses := func(ok map[string]any, codes ...string) map[string]any {
		m := map[string]any{"200": ok}
		for _, c := range codes {
			m[c] = js("Error (docs/compat.md (baf))", errSchema)
		}
		return m
	}
	body := func(schema any) map[string]any {
		return map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": schema}}}
	}
	security := []any{map[string]any{"bearer": []string{}}}
	param := []any{map[string]any{"name": "applicantId", "in": "path", "required": true, "schema": map[string]any{"type": "string", "format": "uuid"}}}
	tags := []string{"compat-baf"}
	create := map[string]any{
		"summary":     "BAF-compatible: create an applicant (a validation request with 1 to 5 registration attempts)",
		"tags":        tags,
		"security":    security,
		"requestBody": body(obj(applicantProps)),
		"responses":   responses(js("Created", applicant), "400", "401", "413", "429", "500"),
	}
	get := map[string]any{
		"summary": "BAF-compatible: retrieve an applicant", "tags": tags, "security": security, "parameters": param,
		"responses": responses(js("Found", applicant), "401", "404", "429", "500"),
	}
	return map[string]any{
		PathValidation: map[string]any{
			"post": map[string]any{
				"summary":     "BAF-compatible: validation (documentType 10: register the applicant's face, then authorise it)",
				"description": "Authorization: Bearer <API key>. Registration: quality, anti-spoofing and duplicate search; a failed check uses an attempt (200, status 1), the last failed attempt is a 400 with code 120037. Authorisation: 1:N search at the 90% threshold, at most 50 faces.",
				"tags":        tags,
				"security":    security,
				"requestBody": body(obj(map[string]any{
					"model": obj(map[string]any{
						"faceImageBase64":  map[string]any{"type": "string", "description": "base64 or data URI (JPEG, PNG, WebP)"},
						"frontImageBase64": map[string]any{"type": "string", "description": "ignored (document types other than 10 are not supported)"},
						"documentType":     integer,
					}),
					"applicantId": str,
					"endeavorId":  map[string]any{"type": "string", "description": "must equal the applicant's endeavorId when it has one"},
				}, "model", "applicantId")),
				"responses": responses(js("Validation result", validation), "400", "401", "404", "413", "429", "500", "503"),
			},
		},
		PathApplicant: map[string]any{"post": create},
		PathApplicantByID: map[string]any{
			"get": get,
			"patch": map[string]any{
				"summary": "Cancel (close) an applicant: {\"status\": 3}", "tags": tags, "security": security, "parameters": param,
				"requestBody": body(obj(map[string]any{"status": map[string]any{"type": "integer", "enum": []int{3}}}, "status")),
				"responses":   responses(js("Canceled", applicant), "400", "401", "404", "429", "500"),
			},
			"delete": map[string]any{
				"summary": "Erase an applicant and its face registration", "tags": tags, "security": security, "parameters": param,
				"responses": responses(js("Deleted", obj(map[string]any{"applicantId": str, "deleted": boolean})), "401", "404", "429", "500"),
			},
		},
		PathPrivateApplicants: map[string]any{"post": create},
		PathPrivateApplicant:  map[string]any{"get": get},
	}
}
