package verifik_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/facereg/facereg/internal/apptest"
	"github.com/facereg/facereg/internal/compat/verifik"
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
	live    = "spoof/real/silentface_image_T1.jpg"

	testSecret = "test-jwt-secret-0123456789abcdef" // what apptest configures
)

var (
	oidRE  = regexp.MustCompile(`^[0-9a-f]{24}$`)
	timeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
)

// The document's 200 record, field for field.
const recordKeys = "_id,assignedCollection,biometricValidation,client,countryCode,createdAt,email,informationValidation,person,phone,project,projectFlow,status,updatedAt"

func keys(v any) string {
	m, _ := v.(map[string]any)
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

func dataURI(t *testing.T, rel string) string {
	return "data:image/jpeg;base64," + apptest.B64(t, rel)
}

// wantErr checks a Verifik error: status, and the exact body
// {"code": code, "message": message}.
func wantErr(t *testing.T, r *apptest.Response, status int, code, message string) {
	t.Helper()
	if r.Status != status || keys(r.JSON) != "code,message" || r.Str("code") != code || r.Str("message") != message {
		t.Fatalf("want %d {%q, %q}, got %d %s", status, code, message, r.Status, r.Body)
	}
}

// wantScoreErr checks a 409 whose message carries a score: 409:<code>@0.dd.
func wantScoreErr(t *testing.T, r *apptest.Response, code string) float64 {
	t.Helper()
	re := regexp.MustCompile(`^409:` + code + `@([01]\.\d\d)$`)
	m := re.FindStringSubmatch(r.Str("message"))
	if r.Status != 409 || keys(r.JSON) != "code,message" || r.Str("code") != code || m == nil {
		t.Fatalf("want 409 %s@<score>, got %d %s", code, r.Status, r.Body)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// checkRecord checks the document's 200 record: exactly its fields, with
// their JSON types, ObjectId-like ids and ISO 8601 times.
func checkRecord(t *testing.T, d map[string]any, validated bool) {
	t.Helper()
	if keys(d) != recordKeys {
		t.Fatalf("record fields: %s", keys(d))
	}
	ids := []string{"_id", "client", "project", "projectFlow", "informationValidation", "assignedCollection"}
	if validated {
		ids = append(ids, "biometricValidation", "person")
	} else if d["biometricValidation"] != nil || d["person"] != nil {
		t.Fatalf("not validated yet, but person/biometricValidation set: %v", d)
	}
	for _, k := range ids {
		if s, _ := d[k].(string); !oidRE.MatchString(s) {
			t.Errorf("%s = %v, want a 24-hex id", k, d[k])
		}
	}
	for _, k := range []string{"createdAt", "updatedAt"} {
		if s, _ := d[k].(string); !timeRE.MatchString(s) {
			t.Errorf("%s = %v, want ISO 8601 with milliseconds and Z", k, d[k])
		}
	}
	if d["status"] != "STARTED" {
		t.Errorf("status %v", d["status"])
	}
	for _, k := range []string{"email", "countryCode", "phone"} {
		if _, ok := d[k].(string); !ok {
			t.Errorf("%s = %v, want a string", k, d[k])
		}
	}
}

func data(r *apptest.Response) map[string]any {
	d, _ := r.JSON["data"].(map[string]any)
	return d
}

// craft signs claims with a secret and method (for expired, foreign and
// tampered tokens).
func craft(t *testing.T, m jwt.SigningMethod, secret string, c verifik.TokenClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func claims(tenant, appReg string, exp time.Time) verifik.TokenClaims {
	return verifik.TokenClaims{Tenant: tenant, Type: "appRegistration", RegisteredClaims: jwt.RegisteredClaims{
		Issuer: "facereg/verifik", Subject: appReg, IssuedAt: jwt.NewNumericDate(exp.Add(-time.Hour)), ExpiresAt: jwt.NewNumericDate(exp),
	}}
}

func TestVerifik(t *testing.T) {
	s := apptest.Start(t)
	tenantA, keyA := s.Tenant(t, "verifik-a")
	tenantB, keyB := s.Tenant(t, "verifik-b")
	const validate = "/v2/biometric-validations/app-registration"

	// Project with the default settings.
	p := s.Do(t, "POST", "/v2/projects", keyA, map[string]any{"name": "Onboarding"})
	if p.Status != 200 {
		t.Fatalf("create project: %d %s", p.Status, p.Body)
	}
	proj := data(p)
	projID, flowID, collID := proj["_id"].(string), proj["projectFlow"].(string), proj["assignedCollection"].(string)

	appReg := func(t *testing.T, key string, body map[string]any) *apptest.Response {
		t.Helper()
		b := map[string]any{"project": projID, "projectFlow": flowID, "email": "user@example.com", "phone": "5551234567", "countryCode": "+1"}
		for k, v := range body {
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
		}
		return s.Do(t, "POST", "/v2/app-registrations", key, b)
	}
	newToken := func(t *testing.T, project string) (id, token string) {
		t.Helper()
		r := appReg(t, keyA, map[string]any{"project": project, "projectFlow": nil})
		if r.Status != 200 {
			t.Fatalf("app registration: %d %s", r.Status, r.Body)
		}
		return r.Str("data", "_id"), r.Str("data", "token")
	}
	validateAs := func(t *testing.T, token string, body any) *apptest.Response {
		t.Helper()
		return s.Do(t, "POST", validate, token, body)
	}

	t.Run("projects", func(t *testing.T) {
		if keys(proj) != "_id,assignedCollection,client,createdAt,name,onboardingSettings,projectFlow,updatedAt" {
			t.Fatalf("project fields: %s", p.Body)
		}
		for _, k := range []string{"_id", "client", "projectFlow", "assignedCollection"} {
			if !oidRE.MatchString(proj[k].(string)) {
				t.Errorf("%s = %v", k, proj[k])
			}
		}
		st := proj["onboardingSettings"].(map[string]any)
		if st["livenessMinScore"] != 0.6 || st["searchMode"] != "ACCURATE" || st["searchMinScore"] != 0.9 {
			t.Fatalf("default settings: %v", st)
		}
		g := s.Do(t, "GET", "/v2/projects/"+projID, keyA, nil)
		if g.Status != 200 || g.Str("data", "_id") != projID || g.Str("data", "name") != "Onboarding" {
			t.Fatalf("get project: %d %s", g.Status, g.Body)
		}
		u := s.Do(t, "PUT", "/v2/projects/"+projID, keyA, map[string]any{"onboardingSettings": map[string]any{"searchMode": "FAST"}})
		us := u.Get("data", "onboardingSettings").(map[string]any)
		if u.Status != 200 || us["searchMode"] != "FAST" || us["livenessMinScore"] != 0.6 || us["searchMinScore"] != 0.9 || u.Str("data", "projectFlow") != flowID {
			t.Fatalf("partial update: %d %s", u.Status, u.Body)
		}
		s.Do(t, "PUT", "/v2/projects/"+projID, keyA, map[string]any{"onboardingSettings": map[string]any{"searchMode": "accurate"}})

		bad := map[string]map[string]any{
			"onboardingSettings.searchMode":       {"onboardingSettings": map[string]any{"searchMode": "SLOW"}},
			"onboardingSettings.searchMinScore":   {"onboardingSettings": map[string]any{"searchMinScore": 1}},
			"onboardingSettings.livenessMinScore": {"onboardingSettings": map[string]any{"livenessMinScore": 1.5}},
			"projectFlow":                         {"projectFlow": "nope"},
		}
		for field, body := range bad {
			wantErr(t, s.Do(t, "PUT", "/v2/projects/"+projID, keyA, body), 400, "invalid_parameter", "400:invalid_parameter@"+field)
		}
		wantErr(t, s.Do(t, "POST", "/v2/projects", keyA, map[string]any{"onboardingSettings": map[string]any{"searchMinScore": "high"}}), 400, "invalid_parameter", "400:invalid_parameter@onboardingSettings.searchMinScore")
		wantErr(t, s.Do(t, "POST", "/v2/projects", keyA, []byte(`{"name":`)), 400, "invalid_body", "400:invalid_body")
		wantErr(t, s.Do(t, "PUT", "/v2/projects/not-an-id", keyA, map[string]any{}), 400, "invalid_parameter", "400:invalid_parameter@project")
		wantErr(t, s.Do(t, "GET", "/v2/projects/507f1f77bcf86cd799439099", keyA, nil), 404, "project_not_found", "404:project_not_found")
		wantErr(t, s.Do(t, "GET", "/v2/projects/"+projID, "", nil), 401, "invalid_token", "401:invalid_token")
		wantErr(t, s.Do(t, "GET", "/v2/projects/"+projID, keyA+"x", nil), 401, "invalid_token", "401:invalid_token")

		// Another tenant neither sees nor changes the project: a PUT with
		// its id makes the other tenant's own project.
		wantErr(t, s.Do(t, "GET", "/v2/projects/"+projID, keyB, nil), 404, "project_not_found", "404:project_not_found")
		b := s.Do(t, "PUT", "/v2/projects/"+projID, keyB, map[string]any{"name": "theirs", "onboardingSettings": map[string]any{"livenessMinScore": 0}})
		if b.Status != 200 || b.Str("data", "projectFlow") == flowID || b.Str("data", "client") == proj["client"] {
			t.Fatalf("other tenant's PUT: %d %s", b.Status, b.Body)
		}
		g = s.Do(t, "GET", "/v2/projects/"+projID, keyA, nil)
		if g.Str("data", "name") != "Onboarding" || g.Get("data", "onboardingSettings", "livenessMinScore") != 0.6 {
			t.Fatalf("another tenant changed the project: %s", g.Body)
		}
	})

	var firstID, firstToken, firstPerson string
	t.Run("create app registration", func(t *testing.T) {
		r := appReg(t, keyA, nil)
		if r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		d := data(r)
		tok, _ := d["token"].(string)
		delete(d, "token")
		checkRecord(t, d, false)
		if d["project"] != projID || d["projectFlow"] != flowID || d["assignedCollection"] != collID || d["client"] != proj["client"] ||
			d["email"] != "user@example.com" || d["phone"] != "5551234567" || d["countryCode"] != "+1" || d["createdAt"] != d["updatedAt"] {
			t.Fatalf("record: %s", r.Body)
		}
		if strings.Count(tok, ".") != 2 {
			t.Fatalf("token %q", tok)
		}
		firstID, firstToken = d["_id"].(string), tok
		g := s.Do(t, "GET", "/v2/app-registrations/"+firstID, keyA, nil)
		if g.Status != 200 {
			t.Fatalf("get: %d %s", g.Status, g.Body)
		}
		checkRecord(t, data(g), false)

		// Email only, phone only, and the Verifik-only fields are accepted.
		if r := appReg(t, keyA, map[string]any{"phone": nil, "countryCode": nil, "fullName": "John Doe", "language": "es"}); r.Status != 200 || r.Get("data", "phone") != nil {
			t.Fatalf("email only: %d %s", r.Status, r.Body)
		}
		if r := appReg(t, keyA, map[string]any{"email": nil, "projectFlow": nil}); r.Status != 200 || r.Get("data", "email") != nil {
			t.Fatalf("phone only: %d %s", r.Status, r.Body)
		}

		for _, c := range []struct {
			body  map[string]any
			field string
			code  string
		}{
			{map[string]any{"project": nil}, "project", "missing_parameter"},
			{map[string]any{"email": nil, "phone": nil}, "email", "missing_parameter"},
			{map[string]any{"countryCode": nil}, "countryCode", "missing_parameter"},
			{map[string]any{"countryCode": "1"}, "countryCode", "invalid_parameter"},
			{map[string]any{"email": "not-an-email"}, "email", "invalid_parameter"},
			{map[string]any{"phone": "555 123"}, "phone", "invalid_parameter"},
			{map[string]any{"expiresIn": 0}, "expiresIn", "invalid_parameter"},
			{map[string]any{"expiresIn": "1h"}, "expiresIn", "invalid_parameter"},
			{map[string]any{"phone": 5551234567}, "phone", "invalid_parameter"},
		} {
			wantErr(t, appReg(t, keyA, c.body), 400, c.code, "400:"+c.code+"@"+c.field)
		}
		wantErr(t, s.Do(t, "POST", "/v2/app-registrations", keyA, []byte(`{"project":"`)), 400, "invalid_body", "400:invalid_body")
		wantErr(t, s.Do(t, "POST", "/v2/app-registrations", keyA, []byte(`[1,2]`)), 400, "invalid_body", "400:invalid_body")
		wantErr(t, appReg(t, keyA, map[string]any{"project": "507f1f77bcf86cd799439099"}), 404, "project_not_found", "404:project_not_found")
		wantErr(t, appReg(t, keyA, map[string]any{"projectFlow": "507f1f77bcf86cd799439099"}), 404, "projectFlow_not_found", "404:projectFlow_not_found")
		wantErr(t, appReg(t, "", nil), 401, "invalid_token", "401:invalid_token")
		// Another tenant can't use the project, nor see the record. (It
		// made its own project with projID above, with another flow.)
		wantErr(t, appReg(t, keyB, nil), 404, "projectFlow_not_found", "404:projectFlow_not_found")
		onlyA := s.Do(t, "POST", "/v2/projects", keyA, map[string]any{}).Str("data", "_id")
		wantErr(t, appReg(t, keyB, map[string]any{"project": onlyA, "projectFlow": nil}), 404, "project_not_found", "404:project_not_found")
		wantErr(t, s.Do(t, "GET", "/v2/app-registrations/"+firstID, keyB, nil), 404, "appRegistration_not_found", "404:appRegistration_not_found")
		wantErr(t, s.Do(t, "DELETE", "/v2/app-registrations/"+firstID, keyB, nil), 404, "appRegistration_not_found", "404:appRegistration_not_found")
		wantErr(t, s.Do(t, "GET", "/v2/app-registrations/"+firstID, firstToken, nil), 401, "invalid_token", "401:invalid_token")
	})

	t.Run("biometric validation", func(t *testing.T) {
		// The document's basic body: a data URI and DESKTOP.
		r := validateAs(t, firstToken, map[string]any{"image": dataURI(t, obama), "os": "DESKTOP"})
		if r.Status != 200 || keys(r.JSON) != "data" {
			t.Fatalf("validation: %d %s", r.Status, r.Body)
		}
		d := data(r)
		checkRecord(t, d, true)
		if d["_id"] != firstID || d["project"] != projID || d["projectFlow"] != flowID || d["assignedCollection"] != collID || d["email"] != "user@example.com" {
			t.Fatalf("record: %s", r.Body)
		}
		firstPerson = d["person"].(string)
		bv := d["biometricValidation"].(string)
		if g := s.Do(t, "GET", "/v2/app-registrations/"+firstID, keyA, nil); g.Str("data", "person") != firstPerson || g.Str("data", "biometricValidation") != bv {
			t.Fatalf("stored record: %s", g.Body)
		}
		// The face is registered in the core under verifik:<_id>.
		if n := s.Do(t, "GET", "/v1/registrations/by-external-id/verifik:"+firstID, keyA, nil); n.Status != 200 {
			t.Fatalf("core registration: %d %s", n.Status, n.Body)
		}

		// Again without force: the document's 409.
		wantErr(t, validateAs(t, firstToken, map[string]any{"image": dataURI(t, obama1), "os": "DESKTOP"}), 409, "person_already_set", "409:person_already_set")
		// The document's advanced body: force replaces the face.
		r = validateAs(t, firstToken, map[string]any{"image": dataURI(t, obama1), "os": "IOS", "force": true})
		if r.Status != 200 {
			t.Fatalf("force: %d %s", r.Status, r.Body)
		}
		checkRecord(t, data(r), true)
		if r.Str("data", "person") != firstPerson || r.Str("data", "biometricValidation") == bv {
			t.Fatalf("force keeps the person, makes a new validation: %s", r.Body)
		}

		// Another person, bare base64, ANDROID.
		_, tok2 := newToken(t, projID)
		if r := validateAs(t, tok2, map[string]any{"image": apptest.B64(t, biden), "os": "ANDROID"}); r.Status != 200 || r.Str("data", "person") == firstPerson {
			t.Fatalf("second person: %d %s", r.Status, r.Body)
		}

		// The same face under another app registration: duplicate.
		id3, tok3 := newToken(t, projID)
		if sc := wantScoreErr(t, validateAs(t, tok3, map[string]any{"image": dataURI(t, obama2), "os": "DESKTOP"}), "face_already_registered"); sc < 0.9 {
			t.Fatalf("duplicate score %v below the search minimum", sc)
		}
		// A printed photo: liveness below 0.6.
		if sc := wantScoreErr(t, validateAs(t, tok3, map[string]any{"image": dataURI(t, spoof), "os": "DESKTOP"}), "liveness_failed"); sc >= 0.6 {
			t.Fatalf("liveness score %v", sc)
		}
		// Nothing was registered by the refusals.
		if n := s.Do(t, "GET", "/v1/registrations/by-external-id/verifik:"+id3, keyA, nil); n.Status != 404 {
			t.Fatalf("refused validation registered: %d", n.Status)
		}
		if g := s.Do(t, "GET", "/v2/app-registrations/"+id3, keyA, nil); g.Get("data", "person") != nil {
			t.Fatalf("refused validation linked a person: %s", g.Body)
		}

		// Request validation.
		img := apptest.B64(t, obama2)
		for _, c := range []struct {
			body          any
			status        int
			code, message string
		}{
			{map[string]any{"image": img}, 400, "missing_parameter", "400:missing_parameter@os"},
			{map[string]any{"image": img, "os": "WINDOWS"}, 400, "invalid_parameter", "400:invalid_parameter@os"},
			{map[string]any{"image": img, "os": 3}, 400, "invalid_parameter", "400:invalid_parameter@os"},
			{map[string]any{"os": "DESKTOP"}, 400, "missing_parameter", "400:missing_parameter@image"},
			{map[string]any{"image": "", "os": "DESKTOP"}, 400, "missing_parameter", "400:missing_parameter@image"},
			{map[string]any{"image": "data:image/jpeg;base64,", "os": "DESKTOP"}, 400, "missing_parameter", "400:missing_parameter@image"},
			{map[string]any{"image": "!!not base64!!", "os": "DESKTOP"}, 400, "invalid_image", "400:invalid_image"},
			{map[string]any{"image": base64.StdEncoding.EncodeToString([]byte("GIF89a not an image")), "os": "DESKTOP"}, 400, "invalid_image", "400:invalid_image"},
			{map[string]any{"image": img, "os": "DESKTOP", "force": "yes"}, 400, "invalid_parameter", "400:invalid_parameter@force"},
			{[]byte(`{"image": "abc", "os": `), 400, "invalid_body", "400:invalid_body"},
			{[]byte(`not json`), 400, "invalid_body", "400:invalid_body"},
			{map[string]any{"image": apptest.B64(t, noFace), "os": "DESKTOP"}, 400, "face_not_found", "400:face_not_found"},
			{map[string]any{"image": apptest.B64(t, twoFace), "os": "DESKTOP"}, 400, "multiple_faces", "400:multiple_faces"},
			{map[string]any{"image": apptest.B64(t, tiny), "os": "DESKTOP"}, 400, "low_quality_image", "400:low_quality_image@FACE_TOO_SMALL"},
		} {
			wantErr(t, validateAs(t, tok3, c.body), c.status, c.code, c.message)
		}
	})

	t.Run("project settings decide", func(t *testing.T) {
		// A project created with the client's own Verifik ids.
		const pid, fid = "507f1f77bcf86cd799439011", "507f1f77bcf86cd799439015"
		r := s.Do(t, "PUT", "/v2/projects/"+pid, keyA, map[string]any{"name": "strict", "projectFlow": fid,
			"onboardingSettings": map[string]any{"livenessMinScore": 0.8}})
		if r.Status != 200 || r.Str("data", "_id") != pid || r.Str("data", "projectFlow") != fid {
			t.Fatalf("put project: %d %s", r.Status, r.Body)
		}
		ar := appReg(t, keyA, map[string]any{"project": pid, "projectFlow": fid})
		if ar.Status != 200 || ar.Str("data", "projectFlow") != fid {
			t.Fatalf("app registration: %d %s", ar.Status, ar.Body)
		}
		tok := ar.Str("data", "token")
		// A live face (score ~0.74) passes the tenant's threshold and the
		// default 0.6, but not this project's 0.8; the 409 carries the score.
		if sc := wantScoreErr(t, validateAs(t, tok, map[string]any{"image": dataURI(t, live), "os": "IOS"}), "liveness_failed"); sc < 0.6 || sc >= 0.8 {
			t.Fatalf("liveness score %v, want in [0.6, 0.8)", sc)
		}
		s.Do(t, "PUT", "/v2/projects/"+pid, keyA, map[string]any{"onboardingSettings": map[string]any{"livenessMinScore": 0.6}})
		if r := validateAs(t, tok, map[string]any{"image": dataURI(t, live), "os": "IOS"}); r.Status != 200 {
			t.Fatalf("after lowering the liveness minimum: %d %s", r.Status, r.Body)
		}

		// Biden's second photo scores ~0.996 against the registered one:
		// a duplicate at the default 0.9, not at a 0.999 search minimum.
		r = s.Do(t, "POST", "/v2/projects", keyA, map[string]any{"onboardingSettings": map[string]any{"searchMinScore": 0.9}})
		_, tokDefault := newToken(t, r.Str("data", "_id"))
		wantScoreErr(t, validateAs(t, tokDefault, map[string]any{"image": dataURI(t, biden2), "os": "DESKTOP"}), "face_already_registered")
		r = s.Do(t, "POST", "/v2/projects", keyA, map[string]any{"onboardingSettings": map[string]any{"searchMinScore": 0.999, "searchMode": "FAST"}})
		if r.Get("data", "onboardingSettings", "searchMinScore") != 0.999 || r.Str("data", "onboardingSettings", "searchMode") != "FAST" {
			t.Fatalf("settings: %s", r.Body)
		}
		_, tokLoose := newToken(t, r.Str("data", "_id"))
		if r := validateAs(t, tokLoose, map[string]any{"image": dataURI(t, biden2), "os": "DESKTOP"}); r.Status != 200 {
			t.Fatalf("search minimum 0.999: %d %s", r.Status, r.Body)
		}
	})

	t.Run("tokens", func(t *testing.T) {
		body := map[string]any{"image": apptest.B64(t, obama2), "os": "DESKTOP"}
		invalid := func(r *apptest.Response) { t.Helper(); wantErr(t, r, 401, "invalid_token", "401:invalid_token") }
		invalid(validateAs(t, "", body))
		invalid(validateAs(t, keyA, body)) // a tenant key is not an app registration token
		invalid(validateAs(t, "not.a.jwt", body))
		req, _ := http.NewRequest("POST", s.URL+validate, strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Basic "+firstToken)
		invalid(s.Send(t, req, ""))

		// Tampered: another subject in the payload, or a changed signature.
		parts := strings.Split(firstToken, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var m map[string]any
		_ = json.Unmarshal(payload, &m)
		m["sub"] = "507f1f77bcf86cd799439099"
		forged, _ := json.Marshal(m)
		invalid(validateAs(t, parts[0]+"."+base64.RawURLEncoding.EncodeToString(forged)+"."+parts[2], body))
		sig := []byte(parts[2])
		sig[len(sig)/2] ^= 1
		invalid(validateAs(t, parts[0]+"."+parts[1]+"."+string(sig), body))
		// Another secret, another algorithm, no algorithm.
		future := time.Now().Add(time.Hour)
		invalid(validateAs(t, craft(t, jwt.SigningMethodHS256, "another-secret-0123456789abcdef!", claims(tenantA, firstID, future)), body))
		invalid(validateAs(t, craft(t, jwt.SigningMethodHS512, testSecret, claims(tenantA, firstID, future)), body))
		none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims(tenantA, firstID, future)).SignedString(jwt.UnsafeAllowNoneSignatureType)
		invalid(validateAs(t, none, body))
		// Unknown tenant; wrong token type.
		invalid(validateAs(t, craft(t, jwt.SigningMethodHS256, testSecret, claims("00000000-0000-0000-0000-000000000000", firstID, future)), body))
		c := claims(tenantA, firstID, future)
		c.Type = "appLogin"
		invalid(validateAs(t, craft(t, jwt.SigningMethodHS256, testSecret, c), body))

		// Expired: crafted with the server's secret, and issued by the API
		// with a 1 s lifetime.
		wantErr(t, validateAs(t, craft(t, jwt.SigningMethodHS256, testSecret, claims(tenantA, firstID, time.Now().Add(-time.Minute))), body), 401, "token_expired", "401:token_expired")
		short := appReg(t, keyA, map[string]any{"expiresIn": 1})
		if short.Status != 200 {
			t.Fatalf("%d %s", short.Status, short.Body)
		}
		time.Sleep(2100 * time.Millisecond)
		wantErr(t, validateAs(t, short.Str("data", "token"), body), 401, "token_expired", "401:token_expired")

		// A valid token naming an app registration that doesn't exist, or
		// one of another tenant: 404, never the data.
		wantErr(t, validateAs(t, craft(t, jwt.SigningMethodHS256, testSecret, claims(tenantA, "507f1f77bcf86cd799439099", future)), body), 404, "appRegistration_not_found", "404:appRegistration_not_found")
		wantErr(t, validateAs(t, craft(t, jwt.SigningMethodHS256, testSecret, claims(tenantB, firstID, future)), map[string]any{"image": apptest.B64(t, obama2), "os": "DESKTOP", "force": true}), 404, "appRegistration_not_found", "404:appRegistration_not_found")

		// Deleted: the record and its face go, the token gets 404.
		del := s.Do(t, "DELETE", "/v2/app-registrations/"+firstID, keyA, nil)
		if del.Status != 200 || del.Str("data", "_id") != firstID || del.Get("data", "deleted") != true {
			t.Fatalf("delete: %d %s", del.Status, del.Body)
		}
		wantErr(t, s.Do(t, "GET", "/v2/app-registrations/"+firstID, keyA, nil), 404, "appRegistration_not_found", "404:appRegistration_not_found")
		wantErr(t, validateAs(t, firstToken, map[string]any{"image": dataURI(t, obama), "os": "DESKTOP", "force": true}), 404, "appRegistration_not_found", "404:appRegistration_not_found")
		if n := s.Do(t, "GET", "/v1/registrations/by-external-id/verifik:"+firstID, keyA, nil); n.Status != 404 {
			t.Fatalf("face registration kept after delete: %d", n.Status)
		}
	})

	t.Run("openapi", func(t *testing.T) {
		r := s.Do(t, "GET", "/openapi.json", "", nil)
		for path, methods := range map[string][]string{
			"/v2/projects": {"post"}, "/v2/projects/{project}": {"get", "put"}, "/v2/app-registrations": {"post"},
			"/v2/app-registrations/{id}": {"get", "delete"}, validate: {"post"},
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
			"token": firstToken, "token signature": strings.Split(firstToken, ".")[2], "api key": keyA,
			"obama image": apptest.B64(t, obama)[200:260], "spoof image": apptest.B64(t, spoof)[200:260],
		} {
			if strings.Contains(logs, needle) {
				t.Errorf("logs contain the %s", name)
			}
		}
	})
}
