package facesign_test

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/facereg/facereg/internal/app"
	"github.com/facereg/facereg/internal/apptest"
)

const path = "/api/v1/cadastro"

const (
	obama   = "identities/fr_obama/obama.jpg"
	obama1  = "identities/fr_obama/obama1.jpg"
	biden   = "identities/fr_biden/biden.jpg"
	tiny    = "hard_cases/tiny_face/opencv_messi5.jpg"
	noFace  = "hard_cases/no_face/dlib_dogs.jpg"
	twoFace = "hard_cases/multi_face/fr_two_people.jpg"
	spoof   = "spoof/fake/silentface_image_F1.jpg"
	live    = "spoof/real/silentface_image_T1.jpg"
)

// keys returns the sorted keys of a JSON object.
func keys(v any) []string {
	m, _ := v.(map[string]any)
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func wantKeys(t *testing.T, what string, v any, want ...string) {
	t.Helper()
	sort.Strings(want)
	if got := keys(v); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s keys = %v, want %v", what, got, want)
	}
}

type env struct {
	*apptest.Response
}

func (e env) content(k string) any { return e.Get("content", k) }

func post(t *testing.T, s *apptest.Server, body any) env {
	t.Helper()
	return env{s.Do(t, "POST", path, "", body)}
}

func cadastro(face, clientID, id string, liveness any, token string) map[string]any {
	b := map[string]any{"face": face, "clientid": clientID, "id": id, "token": token}
	if liveness != nil {
		b["ativarLiveness"] = liveness
	}
	return b
}

// checkError checks the Error envelope of a refusal.
func checkError(t *testing.T, r env, status int, code, statusText string, liveness any) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	wantKeys(t, "envelope", r.JSON, "type", "content")
	if r.Str("type") != "Error" {
		t.Errorf("type = %q, want Error", r.Str("type"))
	}
	want := []string{"ClientId", "Id", "Status", "TransactionId", "Code", "Message"}
	if liveness != nil {
		want = append(want, "Liveness")
	}
	wantKeys(t, "content", r.Get("content"), want...)
	if got := r.Str("content", "Code"); got != code {
		t.Errorf("Code = %q, want %q", got, code)
	}
	if statusText != "" && r.Str("content", "Status") != statusText {
		t.Errorf("Status = %q, want %q", r.Str("content", "Status"), statusText)
	}
	if r.Str("content", "Status") == "" || r.Str("content", "Message") == "" {
		t.Errorf("empty Status or Message: %s", r.Body)
	}
	if liveness != nil && r.content("Liveness") != liveness {
		t.Errorf("Liveness = %v, want %v", r.content("Liveness"), liveness)
	}
	if r.Str("content", "TransactionId") == "" || r.Str("content", "TransactionId") != r.Header.Get("X-Transaction-Id") {
		t.Errorf("TransactionId %q, header %q", r.Str("content", "TransactionId"), r.Header.Get("X-Transaction-Id"))
	}
}

func TestFacesignConformance(t *testing.T) {
	s := apptest.Start(t)
	clientA, keyA := s.Tenant(t, "tenant-a")
	clientB, keyB := s.Tenant(t, "tenant-b")
	obamaB64 := apptest.B64(t, obama)

	var txID string
	t.Run("registered with liveness on", func(t *testing.T) {
		r := post(t, s, cadastro(obamaB64, clientA, "cli0001", true, keyA))
		if r.Status != http.StatusOK {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		wantKeys(t, "envelope", r.JSON, "type", "content")
		wantKeys(t, "content", r.Get("content"), "ClientId", "Id", "Status", "Liveness", "TransactionId", "Face")
		if r.Str("type") != "Success" || r.Str("content", "Status") != "User successfully registered" {
			t.Errorf("type/Status: %s", r.Body)
		}
		if r.Str("content", "ClientId") != clientA || r.Str("content", "Id") != "cli0001" {
			t.Errorf("ClientId/Id: %s", r.Body)
		}
		if r.content("Liveness") != true {
			t.Errorf("Liveness = %v, want true", r.content("Liveness"))
		}
		face := r.Str("content", "Face")
		if !strings.HasPrefix(face, "/9j/") {
			t.Errorf("Face is not a base64 JPEG: %.20q", face)
		}
		jpg, err := base64.StdEncoding.DecodeString(face)
		if err != nil || !bytes.HasPrefix(jpg, []byte{0xFF, 0xD8}) {
			t.Errorf("Face does not decode to a JPEG: %v", err)
		}
		txID = r.Str("content", "TransactionId")
		if txID == "" || txID != r.Header.Get("X-Transaction-Id") {
			t.Errorf("TransactionId %q, header %q", txID, r.Header.Get("X-Transaction-Id"))
		}
	})

	t.Run("TransactionId is in the audit", func(t *testing.T) {
		r := s.Do(t, "GET", "/v1/transactions/"+txID, keyA, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		if r.Str("transaction_id") != txID || r.Str("operation") != "register" || r.Str("outcome") != "success" || r.Str("external_id") != "cli0001" {
			t.Errorf("transaction: %s", r.Body)
		}
		// Another tenant cannot read it.
		if r := s.Do(t, "GET", "/v1/transactions/"+txID, keyB, nil); r.Status != http.StatusNotFound {
			t.Errorf("other tenant: status %d: %s", r.Status, r.Body)
		}
	})

	t.Run("user already registered", func(t *testing.T) {
		for _, l := range []any{true, false} {
			r := post(t, s, cadastro(apptest.B64(t, biden), clientA, "cli0001", l, keyA))
			if r.Status != http.StatusBadRequest {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			wantKeys(t, "body", r.JSON, "clientid", "id", "status")
			if r.Str("clientid") != clientA || r.Str("id") != "cli0001" || r.Str("status") != "user already registered" {
				t.Errorf("body: %s", r.Body)
			}
		}
	})

	t.Run("duplicate face, liveness on", func(t *testing.T) {
		r := post(t, s, cadastro(apptest.B64(t, obama1), clientA, "cli0002", true, keyA))
		checkError(t, r, http.StatusBadRequest, "DUPLICATE_FACE", "Face already exists with another Id", true)
		if r.Str("content", "Id") != "cli0002" || r.Str("content", "ClientId") != clientA {
			t.Errorf("ids: %s", r.Body)
		}
	})

	t.Run("duplicate face, liveness off", func(t *testing.T) {
		r := post(t, s, cadastro(apptest.B64(t, obama1), clientA, "cli0003", false, keyA))
		checkError(t, r, http.StatusBadRequest, "DUPLICATE_FACE", "Face already exists with another Id", true)
	})

	t.Run("liveness on, spoof refused", func(t *testing.T) {
		r := post(t, s, cadastro(apptest.B64(t, spoof), clientA, "spoof1", true, keyA))
		checkError(t, r, http.StatusBadRequest, "LIVENESS_FAILED", "Registration not completed", false)
		// Nothing was registered under that id.
		if r := s.Do(t, "GET", "/v1/registrations/by-external-id/spoof1", keyA, nil); r.Status != http.StatusNotFound {
			t.Errorf("spoof1 registered: %d", r.Status)
		}
	})

	t.Run("liveness off, spoof registered and reported", func(t *testing.T) {
		r := post(t, s, cadastro(apptest.B64(t, spoof), clientA, "spoof2", false, keyA))
		if r.Status != http.StatusOK || r.Str("type") != "Success" {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		if r.content("Liveness") != false {
			t.Errorf("Liveness = %v, want false", r.content("Liveness"))
		}
		// The same spoof again under another id: a duplicate, with the
		// liveness result reported (false).
		r = post(t, s, cadastro(apptest.B64(t, spoof), clientA, "spoof3", false, keyA))
		checkError(t, r, http.StatusBadRequest, "DUPLICATE_FACE", "Face already exists with another Id", false)
	})

	t.Run("ativarLiveness as a string, and absent", func(t *testing.T) {
		r := post(t, s, cadastro(apptest.B64(t, live), clientA, "live1", "false", keyA))
		if r.Status != http.StatusOK || r.content("Liveness") != true {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		// Absent: the tenant's setting (liveness required by default).
		r = post(t, s, cadastro(apptest.B64(t, spoof), clientA, "spoof4", nil, keyA))
		checkError(t, r, http.StatusBadRequest, "LIVENESS_FAILED", "Registration not completed", false)
	})

	t.Run("quality refusals", func(t *testing.T) {
		cases := []struct {
			img, code string
			liveness  any
		}{
			{tiny, "FACE_TOO_SMALL", true},
			{twoFace, "MULTIPLE_FACES", true},
			{noFace, "NO_FACE", nil},
		}
		for _, c := range cases {
			r := post(t, s, cadastro(apptest.B64(t, c.img), clientA, "q-"+c.code, true, keyA))
			checkError(t, r, http.StatusBadRequest, c.code, "", c.liveness)
			if !strings.HasPrefix(r.Str("content", "Status"), "Registration not completed: ") {
				t.Errorf("%s: Status %q", c.code, r.Str("content", "Status"))
			}
			// Refusals of the core are audited under the TransactionId.
			tx := s.Do(t, "GET", "/v1/transactions/"+r.Str("content", "TransactionId"), keyA, nil)
			if tx.Status != http.StatusOK || tx.Str("reason") != c.code || tx.Str("outcome") != "refused" {
				t.Errorf("%s: audit %d %s", c.code, tx.Status, tx.Body)
			}
		}
	})

	t.Run("bad requests", func(t *testing.T) {
		cases := []struct {
			name string
			body any
			code string
		}{
			{"malformed JSON", []byte(`{"face": "abc", `), "INVALID_REQUEST"},
			{"not an object", []byte(`[1,2]`), "INVALID_REQUEST"},
			{"wrong type", []byte(`{"id": 12, "token": "x"}`), "INVALID_REQUEST"},
			{"bad ativarLiveness", cadastro(obamaB64, clientA, "x1", "banana", keyA), "INVALID_REQUEST"},
			{"missing id", cadastro(obamaB64, clientA, "", true, keyA), "INVALID_REQUEST"},
			{"missing face", cadastro("", clientA, "x2", true, keyA), "IMAGE_EMPTY"},
			{"bad base64", cadastro("not base64!!", clientA, "x3", true, keyA), "IMAGE_INVALID"},
			{"not an image", cadastro(base64.StdEncoding.EncodeToString([]byte("hello world, not an image")), clientA, "x4", true, keyA), "UNSUPPORTED_FORMAT"},
		}
		for _, c := range cases {
			r := post(t, s, c.body)
			if r.Status != http.StatusBadRequest || r.Str("type") != "Error" || r.Str("content", "Code") != c.code {
				t.Errorf("%s: %d %s", c.name, r.Status, r.Body)
			}
		}
	})

	t.Run("bad credentials", func(t *testing.T) {
		cases := []struct {
			name, clientID, token string
		}{
			{"unknown token", clientA, "frk_aaaaaaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbb"},
			{"garbage token", clientA, "0002221"},
			{"missing token", clientA, ""},
			{"other tenant's token", clientA, keyB},
			{"unknown clientid", "658cc36e-0000-0000-0000-29711f9566aa", keyA},
			{"missing clientid", "", keyA},
		}
		for _, c := range cases {
			r := post(t, s, cadastro(obamaB64, c.clientID, "cred1", true, c.token))
			checkError(t, r, http.StatusUnauthorized, "UNAUTHORIZED", "Invalid clientid or token", nil)
		}
		if r := s.Do(t, "GET", "/v1/registrations/by-external-id/cred1", keyA, nil); r.Status != http.StatusNotFound {
			t.Errorf("cred1 registered: %d", r.Status)
		}
	})

	t.Run("tenants are separate", func(t *testing.T) {
		// Tenant B's ids are its own: cli0001 is free for B, and A's face is
		// not a duplicate in B.
		r := post(t, s, cadastro(obamaB64, clientB, "cli0001", true, keyB))
		if r.Status != http.StatusOK || r.Str("content", "ClientId") != clientB {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		if r := s.Do(t, "GET", "/v1/registrations/by-external-id/spoof2", keyB, nil); r.Status != http.StatusNotFound {
			t.Errorf("B sees A's registration: %d", r.Status)
		}
	})

	t.Run("openapi", func(t *testing.T) {
		r := s.Do(t, "GET", "/openapi.json", "", nil)
		if r.Get("paths", path, "post") == nil {
			t.Errorf("%s missing from /openapi.json", path)
		}
	})

	t.Run("no secrets or images in logs", func(t *testing.T) {
		logs := s.Logs.String()
		for _, secret := range []string{keyA, keyB, obamaB64[:64]} {
			if strings.Contains(logs, secret) {
				t.Errorf("logs contain a key or an image")
			}
		}
	})
}

func TestFacesignLimits(t *testing.T) {
	s := apptest.Start(t, func(c *app.Config) {
		c.Service.TenantRate = 0.001
		c.Service.TenantBurst = 1
		c.HTTP.MaxBodyBytes = 64 << 10
	})
	clientA, keyA := s.Tenant(t, "tenant-a")
	big := strings.Repeat("A", 100<<10)
	r := post(t, s, cadastro(big, clientA, "big", true, keyA))
	if r.Status != http.StatusRequestEntityTooLarge || r.Str("type") != "Error" || r.Str("content", "Code") != "REQUEST_TOO_LARGE" {
		t.Errorf("too large: %d %s", r.Status, r.Body)
	}
	// The first authenticated request takes the burst, the second is limited.
	r = post(t, s, cadastro("", clientA, "rate", true, keyA))
	if r.Status != http.StatusBadRequest {
		t.Errorf("first: %d %s", r.Status, r.Body)
	}
	r = post(t, s, cadastro("", clientA, "rate", true, keyA))
	if r.Status != http.StatusTooManyRequests || r.Str("content", "Code") != "RATE_LIMITED" || r.Header.Get("Retry-After") == "" {
		t.Errorf("rate limited: %d %s", r.Status, r.Body)
	}
}
