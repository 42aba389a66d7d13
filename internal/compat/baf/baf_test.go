package baf_test

import (
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/facereg/facereg/internal/apptest"
)

const (
	obama   = "identities/fr_obama/obama.jpg"
	obama1  = "identities/fr_obama/obama1.jpg"
	obama2  = "identities/fr_obama/obama2.jpg"
	biden   = "identities/fr_biden/biden.jpg"
	biden2  = "identities/fr_biden/biden2.jpg"
	tiny    = "hard_cases/tiny_face/opencv_messi5.jpg"
	noFace  = "hard_cases/no_face/dlib_dogs.jpg"
	twoFace = "hard_cases/multi_face/fr_two_people.jpg"
	spoof   = "spoof/fake/silentface_image_F1.jpg"

	validation = "/api/v2/public/Validation"
	applicants = "/api/v2/public/Applicant"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// The document's documentType 10 response, field for field.
const (
	resultKeys = "applicantId,attemptId,attemptsCount,attemptsLeft,callBackUrl,document,documentHasNotExpired,documentSuccess,documentType,documentValidationTests,faceSuccess,invalidDataErrors,status,validationStatus"
	statusKeys = "antiSpoofingIsValid,documentIsValid,expired,faceIsValid,qualityIsValid"
)

func keys(v any) string {
	m, _ := v.(map[string]any)
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

// vs is an expected validationStatus: the face, anti-spoofing and quality
// checks (nil: not evaluated, JSON null); expired and documentIsValid are
// always null for documentType 10.
type vs struct{ face, antiSpoofing, quality any }

// checkResult checks a validation result object: exactly the document's
// fields with their JSON types, and the expected values.
func checkResult(t *testing.T, m map[string]any, id string, attemptID, attemptsCount, attemptsLeft, status int, want vs) {
	t.Helper()
	if keys(m) != resultKeys {
		t.Fatalf("result fields: %s", keys(m))
	}
	st, _ := m["validationStatus"].(map[string]any)
	if keys(st) != statusKeys {
		t.Fatalf("validationStatus fields: %v", m["validationStatus"])
	}
	ide, _ := m["invalidDataErrors"].([]any)
	tests, _ := m["documentValidationTests"].([]any)
	fs, fsOK := m["faceSuccess"].(bool)
	switch {
	case m["applicantId"] != id, m["attemptId"] != float64(attemptID), m["documentType"] != float64(10),
		m["attemptsCount"] != float64(attemptsCount), m["attemptsLeft"] != float64(attemptsLeft), m["status"] != float64(status):
		t.Fatalf("result: want applicant %s attempt %d count %d left %d status %d, got %v", id, attemptID, attemptsCount, attemptsLeft, status, m)
	case m["document"] != nil, m["documentSuccess"] != nil, m["documentHasNotExpired"] != nil, st["expired"] != nil, st["documentIsValid"] != nil:
		t.Fatalf("document fields must be null for documentType 10: %v", m)
	case ide == nil || tests == nil || len(tests) != 0 || !fsOK:
		t.Fatalf("types: invalidDataErrors %T, documentValidationTests %T, faceSuccess %T", m["invalidDataErrors"], m["documentValidationTests"], m["faceSuccess"])
	case fs != (status == 0):
		t.Fatalf("faceSuccess %v with status %d", fs, status)
	case st["faceIsValid"] != want.face || st["antiSpoofingIsValid"] != want.antiSpoofing || st["qualityIsValid"] != want.quality:
		t.Fatalf("validationStatus %v, want face %v antiSpoofing %v quality %v", st, want.face, want.antiSpoofing, want.quality)
	}
	if (status == 2) != (len(ide) > 0) {
		t.Fatalf("invalidDataErrors %v with status %d", ide, status)
	}
	if cb := m["callBackUrl"]; cb != nil {
		if _, ok := cb.(string); !ok {
			t.Fatalf("callBackUrl %T", cb)
		}
	}
}

// wantErr checks a BAF error: the HTTP status and the exact code and message.
func wantErr(t *testing.T, r *apptest.Response, status, code int, message string) {
	t.Helper()
	if r.Status != status || r.JSON["code"] != float64(code) || r.Str("message") != message || r.Str("traceId") == "" {
		t.Fatalf("want %d {code %d, %q}, got %d %s", status, code, message, r.Status, r.Body)
	}
}

func TestBAF(t *testing.T) {
	s := apptest.Start(t)
	_, keyA := s.Tenant(t, "baf-a")
	_, keyB := s.Tenant(t, "baf-b")

	create := func(t *testing.T, key string, body map[string]any) string {
		t.Helper()
		r := s.Do(t, "POST", applicants, key, body)
		if r.Status != 200 || !uuidRE.MatchString(r.Str("applicantId")) {
			t.Fatalf("create applicant: %d %s", r.Status, r.Body)
		}
		return r.Str("applicantId")
	}
	// validate sends the document's request shape; img is base64 (or nil
	// to leave faceImageBase64 out).
	validate := func(t *testing.T, key, id string, img any, docType any, extra map[string]any) *apptest.Response {
		t.Helper()
		model := map[string]any{"documentType": docType}
		if img != nil {
			model["faceImageBase64"] = img
		}
		body := map[string]any{"model": model, "applicantId": id}
		for k, v := range extra {
			body[k] = v
		}
		return s.Do(t, "POST", validation, key, body)
	}
	get := func(t *testing.T, key, id string) *apptest.Response {
		t.Helper()
		return s.Do(t, "GET", applicants+"/"+id, key, nil)
	}

	var idX string // registered with obama
	t.Run("applicants", func(t *testing.T) {
		r := s.Do(t, "POST", applicants, keyA, map[string]any{
			"firstName": "John", "lastName": "Dow", "phone": "49828585009568", "email": "john@example.com", "referenceId": "ref-1",
			"metadata": map[string]any{"additionalProp1": "a"}, "callbackUrl": "https://example.com/done", "sendSms": true,
			"case": []any{map[string]any{"name": 1, "value": "x"}}, "status": 0, "verificationMethod": 0,
		})
		if r.Status != 200 || !uuidRE.MatchString(r.Str("applicantId")) || r.Get("validationLink") != nil || r.Get("attemptsCount") != float64(5) ||
			r.Get("attemptsLeft") != float64(5) || r.Get("status") != float64(0) || r.Get("profileId") != nil || r.Str("callbackUrl") != "https://example.com/done" {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		idX = r.Str("applicantId")
		if g := get(t, keyA, idX); g.Status != 200 || g.Str("firstName") != "John" || g.Get("metadata", "additionalProp1") != "a" {
			t.Fatalf("get: %d %s", g.Status, g.Body)
		}
		// BAF's own path is an alias.
		p := s.Do(t, "POST", "/api/v2/private/Applicants", keyA, map[string]any{"firstName": "Jane", "attemptsCount": 1})
		if p.Status != 200 || p.Get("attemptsCount") != float64(1) || p.Get("attemptsLeft") != float64(1) {
			t.Fatalf("private create: %d %s", p.Status, p.Body)
		}
		if g := s.Do(t, "GET", "/api/v2/private/Applicants/"+p.Str("applicantId"), keyA, nil); g.Status != 200 || g.Str("firstName") != "Jane" {
			t.Fatalf("private get: %d %s", g.Status, g.Body)
		}

		for _, body := range []map[string]any{{"attemptsCount": 0}, {"attemptsCount": 6}, {"attemptsCount": "five"}, {"status": 4}, {"verificationMethod": 2}, {"callbackUrl": "ftp://x"}} {
			if r := s.Do(t, "POST", applicants, keyA, body); r.Status != 400 || r.JSON["code"] != float64(400) || r.Str("message") == "" {
				t.Errorf("%v: %d %s", body, r.Status, r.Body)
			}
		}
		wantErr(t, s.Do(t, "POST", applicants, keyA, []byte(`{"firstName":`)), 400, 400, "The request body is not valid JSON")
		wantErr(t, s.Do(t, "POST", applicants, "", map[string]any{}), 401, 401, "Unauthorized")
		wantErr(t, s.Do(t, "POST", applicants, keyA+"x", map[string]any{}), 401, 401, "Unauthorized")
		// Another tenant can't see it.
		wantErr(t, get(t, keyB, idX), 404, 404, "Applicant not found")
		wantErr(t, get(t, keyA, "not-a-uuid"), 404, 404, "Applicant not found")
	})

	t.Run("registration and authorization", func(t *testing.T) {
		// The document's request: the first validation registers the face.
		r := validate(t, keyA, idX, apptest.B64(t, obama), 10, map[string]any{"endeavorId": "insert endeavorId here (only when LRS enabled)"})
		if r.Status != 200 {
			t.Fatalf("registration: %d %s", r.Status, r.Body)
		}
		checkResult(t, r.JSON, idX, 1, 5, 4, 0, vs{true, true, true})
		if r.Str("callBackUrl") != "https://example.com/done" {
			t.Fatalf("callBackUrl %v", r.Get("callBackUrl"))
		}
		g := get(t, keyA, idX)
		if g.Get("status") != float64(1) || g.Str("profileId") == "" {
			t.Fatalf("applicant after registration: %s", g.Body)
		}
		if n := s.Do(t, "GET", "/v1/registrations/by-external-id/baf:"+idX, keyA, nil); n.Status != 200 || n.Str("registration_key") != g.Str("profileId") {
			t.Fatalf("core registration: %d %s", n.Status, n.Body)
		}

		// Later validations authorise (no registration attempt is used).
		r = validate(t, keyA, idX, "data:image/jpeg;base64,"+apptest.B64(t, obama1), 10, nil)
		if r.Status != 200 {
			t.Fatalf("authorization: %d %s", r.Status, r.Body)
		}
		checkResult(t, r.JSON, idX, 2, 5, 4, 0, vs{true, true, true})
		r = validate(t, keyA, idX, apptest.B64(t, biden), 10, nil)
		checkResult(t, r.JSON, idX, 3, 5, 4, 1, vs{false, true, true})
		r = validate(t, keyA, idX, apptest.B64(t, spoof), 10, nil)
		checkResult(t, r.JSON, idX, 4, 5, 4, 1, vs{false, false, true})
		// Five failed authorisations in a row lock the applicant out (the
		// core's lockout: 429 until the window passes).
		for i := 0; i < 3; i++ {
			r = validate(t, keyA, idX, apptest.B64(t, biden), 10, nil)
			checkResult(t, r.JSON, idX, 5+i, 5, 4, 1, vs{false, true, true})
		}
		wantErr(t, validate(t, keyA, idX, apptest.B64(t, obama1), 10, nil), 429, 429, "Too many failed attempts; retry later")

		// Another tenant's key can't use the applicant.
		wantErr(t, validate(t, keyB, idX, apptest.B64(t, obama1), 10, nil), 404, 404, "Applicant not found")
		// Document types other than 10 are not supported, on any applicant.
		wantErr(t, validate(t, keyA, idX, apptest.B64(t, obama1), 2, map[string]any{"model": map[string]any{"faceImageBase64": "x", "frontImageBase64": "y", "documentType": 2}}), 400, 120041, "This document type is not supported")
		wantErr(t, validate(t, keyA, idX, apptest.B64(t, obama1), 5, nil), 400, 120041, "This document type is not supported")
	})

	t.Run("failed attempts", func(t *testing.T) {
		id := create(t, keyA, map[string]any{"firstName": "Y", "attemptsCount": 2})
		// The same face as X: the duplicate search fails; an attempt is used.
		r := validate(t, keyA, id, apptest.B64(t, obama2), 10, nil)
		if r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		checkResult(t, r.JSON, id, 1, 2, 1, 1, vs{false, true, true})
		if r.Get("callBackUrl") != nil {
			t.Fatalf("callBackUrl without a callbackUrl: %v", r.Get("callBackUrl"))
		}

		// Table errors use no attempt.
		wantErr(t, validate(t, keyA, id, apptest.B64(t, noFace), 10, nil), 400, 120038, "No faces found")
		wantErr(t, validate(t, keyA, id, apptest.B64(t, twoFace), 10, nil), 400, 120038, "Multiple faces found")
		wantErr(t, validate(t, keyA, id, "", 10, nil), 400, 120038, "Face image is empty")
		wantErr(t, validate(t, keyA, id, "  \n", 10, nil), 400, 120038, "Face image is empty")
		wantErr(t, validate(t, keyA, id, nil, 10, nil), 400, 120042, "Face image is required")
		wantErr(t, s.Do(t, "POST", validation, keyA, []byte(`{"model":{"faceImageBase64":null,"documentType":10},"applicantId":"`+id+`"}`)), 400, 120042, "Face image is required")
		// Not an image: InvalidData, no attempt used.
		r = validate(t, keyA, id, "!!!not base64!!!", 10, nil)
		checkResult(t, r.JSON, id, 2, 2, 1, 2, vs{nil, nil, nil})
		r = validate(t, keyA, id, "R0lGODlhAQABAAAAACw=", 10, nil) // a GIF header
		checkResult(t, r.JSON, id, 3, 2, 1, 2, vs{nil, nil, nil})
		if g := get(t, keyA, id); g.Get("attemptsLeft") != float64(1) || g.Get("status") != float64(0) {
			t.Fatalf("attempts used by refusals: %s", g.Body)
		}

		// The last attempt fails (a printed photo): 400 120037 with the
		// attempt's result.
		r = validate(t, keyA, id, apptest.B64(t, spoof), 10, nil)
		wantErr(t, r, 400, 120037, `All available attempts were used for requestId "`+id+`"`)
		v, _ := r.JSON["validation"].(map[string]any)
		checkResult(t, v, id, 4, 2, 0, 1, vs{nil, false, true})
		// Then every validation gets 120037, without analysis.
		r = validate(t, keyA, id, apptest.B64(t, biden), 10, nil)
		wantErr(t, r, 400, 120037, `All available attempts were used for requestId "`+id+`"`)
		if r.Get("validation") != nil {
			t.Fatalf("no result without an attempt: %s", r.Body)
		}
		if g := get(t, keyA, id); g.Get("attemptsLeft") != float64(0) || g.Get("status") != float64(2) {
			t.Fatalf("applicant: %s", g.Body)
		}
	})

	var idZ string // registered with biden
	t.Run("quality", func(t *testing.T) {
		idZ = create(t, keyA, nil)
		r := validate(t, keyA, idZ, apptest.B64(t, tiny), 10, nil)
		checkResult(t, r.JSON, idZ, 1, 5, 4, 1, vs{nil, true, false})
		r = validate(t, keyA, idZ, apptest.B64(t, biden), 10, nil)
		checkResult(t, r.JSON, idZ, 2, 5, 3, 0, vs{true, true, true})
	})

	t.Run("closed and profiles", func(t *testing.T) {
		img := apptest.B64(t, biden2)
		wantErr(t, validate(t, keyA, create(t, keyA, map[string]any{"status": 3}), img, 10, nil), 400, 120040, "Request is closed")
		id := create(t, keyA, nil)
		if r := s.Do(t, "PATCH", applicants+"/"+id, keyA, map[string]any{"status": 1}); r.Status != 400 || r.JSON["code"] != float64(400) {
			t.Fatalf("patch status 1: %d %s", r.Status, r.Body)
		}
		if r := s.Do(t, "PATCH", applicants+"/"+id, keyA, map[string]any{"status": 3}); r.Status != 200 || r.Get("status") != float64(3) {
			t.Fatalf("cancel: %d %s", r.Status, r.Body)
		}
		wantErr(t, validate(t, keyA, id, img, 10, nil), 400, 120040, "Request is closed")
		wantErr(t, s.Do(t, "PATCH", applicants+"/"+id, keyB, map[string]any{"status": 3}), 404, 404, "Applicant not found")

		// Verified without a face (manual verification): can't authorise.
		manual := create(t, keyA, map[string]any{"status": 1, "verificationMethod": 1})
		wantErr(t, validate(t, keyA, manual, img, 10, nil), 400, 120043, "Applicant doesn't have verified face")
		failed := create(t, keyA, map[string]any{"status": 2})
		wantErr(t, validate(t, keyA, failed, img, 10, nil), 400, 120037, `All available attempts were used for requestId "`+failed+`"`)

		// The face registration was deleted in the core.
		key := get(t, keyA, idZ).Str("profileId")
		if d := s.Do(t, "DELETE", "/v1/registrations/"+key, keyA, nil); d.Status != 204 {
			t.Fatalf("delete core registration: %d", d.Status)
		}
		wantErr(t, validate(t, keyA, idZ, img, 10, nil), 400, 120043, "Applicant profile not found")

		// Endeavor: the applicant's must be sent.
		end := create(t, keyA, map[string]any{"endeavorId": "end-1"})
		wantErr(t, validate(t, keyA, end, img, 10, map[string]any{"endeavorId": "end-2"}), 400, 120044, "Invalid endeavor info")
		wantErr(t, validate(t, keyA, end, img, 10, nil), 400, 120044, "Invalid endeavor info")
		wantErr(t, validate(t, keyA, end, img, 5, map[string]any{"endeavorId": "end-1"}), 400, 120041, "This document type is not supported")

		// The document's documentType 2 request on an open applicant.
		docReg := create(t, keyA, nil)
		wantErr(t, s.Do(t, "POST", validation, keyA, map[string]any{"applicantId": docReg, "endeavorId": "e",
			"model": map[string]any{"faceImageBase64": img, "frontImageBase64": img, "documentType": 2}}), 400, 120041, "This document type is not supported")

		// Requests outside the table.
		wantErr(t, validate(t, keyA, "3fa85f64-5717-4562-b3fc-2c963f66afa6", img, 10, nil), 404, 404, "Applicant not found")
		wantErr(t, s.Do(t, "POST", validation, keyA, map[string]any{"model": map[string]any{"documentType": 10, "faceImageBase64": img}}), 400, 400, "The applicantId field is required")
		wantErr(t, s.Do(t, "POST", validation, keyA, map[string]any{"applicantId": id}), 400, 400, "The model field is required")
		wantErr(t, s.Do(t, "POST", validation, keyA, []byte(`{"model": {"documentType": 10, "faceImageBase64": "`)), 400, 400, "The request body is not valid JSON")
		wantErr(t, s.Do(t, "POST", validation, keyA, []byte(`null`)), 400, 400, "The applicantId field is required")
		wantErr(t, validate(t, keyA, id, img, "10", nil), 400, 400, "The field model.documentType must be an integer")
		wantErr(t, validate(t, "", id, img, 10, nil), 401, 401, "Unauthorized")

		// Delete: the applicant and its face go.
		if d := s.Do(t, "DELETE", applicants+"/"+idX, keyB, nil); d.Status != 404 {
			t.Fatalf("other tenant's delete: %d", d.Status)
		}
		if d := s.Do(t, "DELETE", applicants+"/"+idX, keyA, nil); d.Status != 200 || d.Get("deleted") != true {
			t.Fatalf("delete: %d %s", d.Status, d.Body)
		}
		wantErr(t, get(t, keyA, idX), 404, 404, "Applicant not found")
		if n := s.Do(t, "GET", "/v1/registrations/by-external-id/baf:"+idX, keyA, nil); n.Status != 404 {
			t.Fatalf("face kept after delete: %d", n.Status)
		}
	})

	t.Run("openapi", func(t *testing.T) {
		r := s.Do(t, "GET", "/openapi.json", "", nil)
		for path, methods := range map[string][]string{
			validation: {"post"}, applicants: {"post"}, applicants + "/{applicantId}": {"get", "patch", "delete"},
			"/api/v2/private/Applicants": {"post"}, "/api/v2/private/Applicants/{applicantId}": {"get"},
		} {
			for _, m := range methods {
				if r.Get("paths", path, m) == nil {
					t.Errorf("%s %s missing from /openapi.json", m, path)
				}
			}
		}
	})

	t.Run("logs", func(t *testing.T) {
		logs := s.Logs.String()
		for name, needle := range map[string]string{
			"api key": keyA, "obama image": apptest.B64(t, obama)[200:260], "spoof image": apptest.B64(t, spoof)[200:260],
		} {
			if strings.Contains(logs, needle) {
				t.Errorf("logs contain the %s", name)
			}
		}
	})
}
