package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/facereg/facereg/internal/apptest"
)

// Tenant B's key (or B's own vendor credentials) on every route that can
// name tenant A's data, native and vendor formats: never a 2xx, and no byte
// of A's identifiers in the answer. A's data is intact afterwards.
func TestTenantIsolationMatrix(t *testing.T) {
	s := apptest.Start(t)
	clientA, keyA := s.Tenant(t, "tenant-a")
	clientB, keyB := s.Tenant(t, "tenant-b")
	img := func(p string) string { return apptest.B64(t, p) }
	ok := func(r *apptest.Response, what string) *apptest.Response {
		t.Helper()
		if r.Status >= 300 {
			t.Fatalf("setup %s: %d %s", what, r.Status, r.Body)
		}
		return r
	}

	// Tenant A's data, made through each API.
	nat := ok(s.Do(t, "POST", "/v1/registrations", keyA, map[string]any{"external_id": "a-native-secret", "image": img("identities/fr_obama/obama.jpg")}), "native")
	natKey, natTx := nat.Str("registration_key"), nat.Str("transaction_id")
	task := ok(s.Do(t, "POST", "/v1/registrations", keyA, map[string]any{"external_id": "a-task-secret", "image": img("identities/fr_biden/biden.jpg"), "async": true}), "task").Str("task_id")
	fs := ok(s.Do(t, "POST", "/api/v1/cadastro", "", map[string]any{"face": img("identities/fr_rose_leslie/img1.jpg"), "clientid": clientA, "id": "a-facesign-secret", "ativarLiveness": false, "token": keyA}), "facesign")
	fsTx := fs.Str("content", "TransactionId")
	req, _ := http.NewRequest("POST", s.URL+"/face_recognition/image", strings.NewReader(`{"image":"`+img("identities/fr_lin_manuel_miranda/lin-manuel-miranda.jpg")+`"}`))
	req.Header.Set("Content-Type", "application/json")
	up := ok(s.Send(t, req, keyA), "qitech upload")
	imageKey := up.Str("image_key")
	qi := ok(s.Do(t, "POST", "/face_recognition/registration", keyA, map[string]any{"document_number": "a-doc-secret", "image": img("identities/fr_alex_lacamoire/img1.jpg")}), "qitech")
	qiKey := qi.Str("registration_key")
	pg := ok(s.Multipart(t, "/api/v3/services/register_face", keyA, "image", apptest.Image(t, "identities/fr_kit_harington/john2.jpeg"), nil), "progeny")
	pgID := pg.Str("id")
	proj := ok(s.Do(t, "POST", "/v2/projects", keyA, map[string]any{"name": "a-project-secret"}), "verifik project")
	projID := proj.Str("data", "_id")
	ar := ok(s.Do(t, "POST", "/v2/app-registrations", keyA, map[string]any{"project": projID, "email": "a-secret@example.com"}), "verifik app registration")
	arID, arToken := ar.Str("data", "_id"), ar.Str("data", "token")
	ap := ok(s.Do(t, "POST", "/api/v2/public/Applicant", keyA, map[string]any{"firstName": "a-applicant-secret"}), "baf applicant")
	apID := ap.Str("applicantId")
	if natKey == "" || task == "" || fsTx == "" || imageKey == "" || qiKey == "" || pgID == "" || projID == "" || arID == "" || arToken == "" || apID == "" {
		t.Fatalf("setup lacks an id: %q %q %q %q %q %q %q %q %q", natKey, task, fsTx, imageKey, qiKey, pgID, projID, arID, apID)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && s.Do(t, "GET", "/v1/tasks/"+task, keyA, nil).Str("status") == "pending" {
		time.Sleep(50 * time.Millisecond)
	}

	secrets := []string{natKey, natTx, task, fsTx, imageKey, qiKey, pgID, projID, arID, apID, "a-native-secret", "a-task-secret", "a-facesign-secret", "a-doc-secret", "a-project-secret", "a-secret@example.com", "a-applicant-secret", clientA}
	probe := []struct {
		name         string
		method, path string
		key          string
		body         any
	}{
		{"native get", "GET", "/v1/registrations/" + natKey, keyB, nil},
		{"native find", "GET", "/v1/registrations/by-external-id/a-native-secret", keyB, nil},
		{"native find query", "GET", "/v1/registrations?external_id=a-native-secret", keyB, nil},
		{"native list", "GET", "/v1/registrations", keyB, nil},
		{"native face", "GET", "/v1/faces/" + natKey, keyB, nil},
		{"native delete", "DELETE", "/v1/registrations/" + natKey, keyB, nil},
		{"native verify", "POST", "/v1/verify", keyB, map[string]any{"external_id": "a-native-secret", "image": img("identities/fr_obama/obama1.jpg")}},
		{"native verify by key", "POST", "/v1/verify", keyB, map[string]any{"registration_key": natKey, "image": img("identities/fr_obama/obama1.jpg")}},
		{"native identify", "POST", "/v1/identify", keyB, map[string]any{"image": img("identities/fr_obama/obama1.jpg")}},
		{"native task", "GET", "/v1/tasks/" + task, keyB, nil},
		{"native transaction", "GET", "/v1/transactions/" + natTx, keyB, nil},
		{"facesign transaction", "GET", "/v1/transactions/" + fsTx, keyB, nil},
		{"native transactions list", "GET", "/v1/transactions?external_id=a-native-secret", keyB, nil},
		{"facesign with A's clientid", "POST", "/api/v1/cadastro", "", map[string]any{"face": img("identities/fr_obama/obama1.jpg"), "clientid": clientA, "id": "a-facesign-secret", "ativarLiveness": false, "token": keyB}},
		{"qitech by key", "GET", "/face_recognition/registration/" + qiKey, keyB, nil},
		{"qitech by document", "GET", "/face_recognition/registration/document_number/a-doc-secret", keyB, nil},
		{"qitech A's image_key", "POST", "/face_recognition/registration", keyB, map[string]any{"document_number": "b-doc", "image_key": imageKey}},
		{"progeny task", "GET", "/api/v3/services/task/?id=" + pgID, keyB, nil},
		{"verifik project", "GET", "/v2/projects/" + projID, keyB, nil},
		{"verifik app registration", "GET", "/v2/app-registrations/" + arID, keyB, nil},
		{"verifik delete app registration", "DELETE", "/v2/app-registrations/" + arID, keyB, nil},
		{"verifik app registration on A's project", "POST", "/v2/app-registrations", keyB, map[string]any{"project": projID, "email": "b@example.com"}},
		{"baf applicant", "GET", "/api/v2/public/Applicant/" + apID, keyB, nil},
		{"baf private applicant", "GET", "/api/v2/private/Applicants/" + apID, keyB, nil},
		{"baf patch applicant", "PATCH", "/api/v2/public/Applicant/" + apID, keyB, map[string]any{"status": 3}},
		{"baf delete applicant", "DELETE", "/api/v2/public/Applicant/" + apID, keyB, nil},
		{"baf validation", "POST", "/api/v2/public/Validation", keyB, map[string]any{"model": map[string]any{"faceImageBase64": img("identities/fr_obama/obama1.jpg"), "documentType": 10}, "applicantId": apID}},
	}
	for _, p := range probe {
		r := s.Do(t, p.method, p.path, p.key, p.body)
		body := string(r.Body)
		switch {
		case p.name == "native list" || p.name == "native identify" || p.name == "native transactions list" || p.name == "native find query":
			if r.Status != 200 {
				t.Errorf("%s: %d %s", p.name, r.Status, body)
			}
		case r.Status < 400:
			t.Errorf("%s: tenant B got %d: %s", p.name, r.Status, body)
		}
		for _, sec := range secrets {
			// B's own request may echo what B sent (a path id, an email);
			// only identifiers B did not send are a leak.
			if strings.Contains(body, sec) && !strings.Contains(p.path, sec) && !strings.Contains(fmt.Sprint(p.body), sec) {
				t.Errorf("%s: the answer leaks %q: %s", p.name, sec, body)
			}
		}
	}
	// PUT of a project id B does not have creates B's own project under that
	// id (Verifik clients keep their ids; records are per tenant): A's
	// project is untouched.
	if r := s.Do(t, "PUT", "/v2/projects/"+projID, keyB, map[string]any{"name": "b-own"}); r.Status >= 300 || strings.Contains(string(r.Body), "a-project-secret") {
		t.Errorf("PUT of A's project id by B: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "GET", "/v2/projects/"+projID, keyA, nil); r.Str("data", "name") != "a-project-secret" {
		t.Errorf("A's project changed: %s", r.Body)
	}

	// B's own Verifik token can't reach A's app registration, and A's token
	// works only for A (it names A's record).
	if r := s.Do(t, "POST", "/v2/biometric-validations/app-registration", "", nil); r.Status != 401 {
		t.Errorf("validation without a token: %d", r.Status)
	}
	_ = clientB

	// A's data is intact.
	for _, p := range []string{"/v1/registrations/" + natKey, "/face_recognition/registration/" + qiKey, "/v2/projects/" + projID, "/v2/app-registrations/" + arID, "/api/v2/public/Applicant/" + apID} {
		if r := s.Do(t, "GET", p, keyA, nil); r.Status != 200 {
			t.Errorf("A lost %s: %d %s", p, r.Status, r.Body)
		}
	}
}
