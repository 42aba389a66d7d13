package qitech_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"mime/multipart"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/facereg/facereg/internal/app"
	"github.com/facereg/facereg/internal/apptest"
	"github.com/facereg/facereg/internal/compat/qitech"
)

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

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func keys(v any) string {
	m, _ := v.(map[string]any)
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

// client sends QI Tech requests with one of the accepted Authorization forms.
type client struct {
	s      *apptest.Server
	auth   string // full Authorization header value; "" for none
	tenant string
}

func (c client) req(t *testing.T, method, path string, body []byte, contentType string) *apptest.Response {
	t.Helper()
	req, err := http.NewRequest(method, c.s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	return c.s.Send(t, req, "")
}

func (c client) json(t *testing.T, method, path, body string) *apptest.Response {
	t.Helper()
	if body == "" {
		return c.req(t, method, path, nil, "")
	}
	return c.req(t, method, path, []byte(body), "application/json")
}

func (c client) register(t *testing.T, fields map[string]string) *apptest.Response {
	t.Helper()
	var parts []string
	for k, v := range fields {
		parts = append(parts, `"`+k+`":"`+v+`"`)
	}
	return c.json(t, "POST", "/face_recognition/registration", "{"+strings.Join(parts, ",")+"}")
}

func (c client) upload(t *testing.T, img string) *apptest.Response {
	t.Helper()
	return c.json(t, "POST", "/face_recognition/image", `{"image":"`+img+`"}`)
}

func checkError(t *testing.T, r *apptest.Response, status int, code, title string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if r.Str("code") != code || r.Str("title") != title || r.Str("description") == "" {
		t.Errorf("want code %s title %s: %s", code, title, r.Body)
	}
	if r.Str("transaction_id") == "" || r.Str("transaction_id") != r.Header.Get("X-Transaction-Id") {
		t.Errorf("transaction_id %q, header %q", r.Str("transaction_id"), r.Header.Get("X-Transaction-Id"))
	}
}

func checkKey(t *testing.T, r *apptest.Response, want string) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	if keys(r.JSON) != "registration_key" {
		t.Errorf("keys %s, want exactly registration_key: %s", keys(r.JSON), r.Body)
	}
	if want != "" && r.Str("registration_key") != want {
		t.Errorf("registration_key %q, want %q", r.Str("registration_key"), want)
	}
}

func TestQITechConformance(t *testing.T) {
	s := apptest.Start(t)
	clientA, keyA := s.Tenant(t, "tenant-a")
	_, keyB := s.Tenant(t, "tenant-b")
	a := client{s: s, auth: keyA, tenant: clientA}  // raw key, as QI Tech documents
	aBearer := client{s: s, auth: "Bearer " + keyA} // also accepted
	b := client{s: s, auth: "Bearer " + keyB}       // another tenant
	obamaB64 := apptest.B64(t, obama)

	var imageKey, keyObama string
	t.Run("image upload, JSON", func(t *testing.T) {
		r := a.upload(t, obamaB64)
		if r.Status != http.StatusOK {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		if keys(r.JSON) != "created_at,expires_at,file_size,height_px,image_key,width_px" {
			t.Errorf("keys: %s", keys(r.JSON))
		}
		imageKey = r.Str("image_key")
		if !uuidRE.MatchString(imageKey) {
			t.Errorf("image_key %q is not a UUID", imageKey)
		}
		if r.Get("file_size") != float64(len(apptest.Image(t, obama))) || r.Get("width_px").(float64) <= 0 || r.Get("height_px").(float64) <= 0 {
			t.Errorf("sizes: %s", r.Body)
		}
		created, err1 := time.Parse(time.RFC3339, r.Str("created_at"))
		expires, err2 := time.Parse(time.RFC3339, r.Str("expires_at"))
		if err1 != nil || err2 != nil || expires.Sub(created) != time.Hour {
			t.Errorf("times: %s", r.Body)
		}
	})

	t.Run("registration with image_key", func(t *testing.T) {
		r := a.register(t, map[string]string{"document_number": "12345678909", "image_key": imageKey})
		checkKey(t, r, "")
		keyObama = r.Str("registration_key")
		if keyObama == "" {
			t.Fatal("no registration_key")
		}
		// The image is consumed by a successful registration.
		r = a.register(t, map[string]string{"document_number": "other-doc", "image_key": imageKey})
		checkError(t, r, http.StatusNotFound, "NOT_FOUND", "not_found")
	})

	t.Run("lookups", func(t *testing.T) {
		checkKey(t, a.json(t, "GET", "/face_recognition/registration/"+keyObama, ""), keyObama)
		checkKey(t, aBearer.json(t, "GET", "/face_recognition/registration/document_number/12345678909", ""), keyObama)
		checkError(t, a.json(t, "GET", "/face_recognition/registration/00000000-0000-0000-0000-000000000000", ""), http.StatusNotFound, "NOT_FOUND", "not_found")
		checkError(t, a.json(t, "GET", "/face_recognition/registration/document_number/99999999999", ""), http.StatusNotFound, "NOT_FOUND", "not_found")
	})

	t.Run("registration with base64 image, Bearer", func(t *testing.T) {
		r := aBearer.register(t, map[string]string{"document_number": "biden-doc", "image": apptest.B64(t, biden)})
		checkKey(t, r, "")
		checkKey(t, a.json(t, "GET", "/face_recognition/registration/document_number/biden-doc", ""), r.Str("registration_key"))
	})

	t.Run("image upload, multipart", func(t *testing.T) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("image", "face.jpg")
		_, _ = fw.Write(apptest.Image(t, live))
		_ = mw.Close()
		r := a.req(t, "POST", "/face_recognition/image", buf.Bytes(), mw.FormDataContentType())
		if r.Status != http.StatusOK || !uuidRE.MatchString(r.Str("image_key")) {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		checkKey(t, a.register(t, map[string]string{"document_number": "live-doc", "image_key": r.Str("image_key")}), "")
	})

	t.Run("already registered", func(t *testing.T) {
		r := a.register(t, map[string]string{"document_number": "12345678909", "image": apptest.B64(t, live)})
		checkError(t, r, http.StatusConflict, "ALREADY_REGISTERED", "already_registered")
		if r.Get("extra_fields", "registration_key") != keyObama {
			t.Errorf("extra_fields: %s", r.Body)
		}
	})

	t.Run("duplicate face", func(t *testing.T) {
		r := a.register(t, map[string]string{"document_number": "obama-again", "image": apptest.B64(t, obama1)})
		checkError(t, r, http.StatusConflict, "DUPLICATE_FACE", "duplicate_face")
		if r.Get("extra_fields", "registration_key") != keyObama {
			t.Errorf("extra_fields: %s", r.Body)
		}
	})

	t.Run("liveness failed", func(t *testing.T) {
		r := a.register(t, map[string]string{"document_number": "spoof-doc", "image": apptest.B64(t, spoof)})
		checkError(t, r, http.StatusBadRequest, "LIVENESS_FAILED", "liveness")
		checkError(t, a.json(t, "GET", "/face_recognition/registration/document_number/spoof-doc", ""), http.StatusNotFound, "NOT_FOUND", "not_found")
	})

	t.Run("quality refusals", func(t *testing.T) {
		for img, code := range map[string]string{tiny: "FACE_TOO_SMALL", noFace: "NO_FACE", twoFace: "MULTIPLE_FACES"} {
			r := a.register(t, map[string]string{"document_number": "q-" + code, "image": apptest.B64(t, img)})
			checkError(t, r, http.StatusBadRequest, code, "image_quality")
			if r.Str("image_status") != strings.ToLower(code) {
				t.Errorf("%s: image_status %q", code, r.Str("image_status"))
			}
			if code == "FACE_TOO_SMALL" && r.Get("measure", "threshold") == nil {
				t.Errorf("%s: no measure: %s", code, r.Body)
			}
		}
	})

	t.Run("image fields", func(t *testing.T) {
		small := base64.StdEncoding.EncodeToString([]byte("x"))
		cases := []struct {
			name, body, code, title string
			status                  int
		}{
			{"both image and image_key", `{"document_number":"d1","image":"` + small + `","image_key":"` + imageKey + `"}`, "INVALID_REQUEST", "invalid_request", 400},
			{"neither", `{"document_number":"d1"}`, "INVALID_REQUEST", "invalid_request", 400},
			{"empty image", `{"document_number":"d1","image":""}`, "INVALID_REQUEST", "invalid_request", 400},
			{"missing document_number", `{"image":"` + small + `"}`, "INVALID_REQUEST", "invalid_request", 400},
			{"document_number not a string", `{"document_number":123,"image":"` + small + `"}`, "INVALID_REQUEST", "invalid_request", 400},
			{"malformed JSON", `{"document_number":`, "INVALID_REQUEST", "invalid_request", 400},
			{"bad base64", `{"document_number":"d1","image":"%%%"}`, "IMAGE_INVALID", "invalid_image", 400},
			{"not an image", `{"document_number":"d1","image":"` + base64.StdEncoding.EncodeToString([]byte("hello, world")) + `"}`, "UNSUPPORTED_FORMAT", "invalid_image", 400},
			{"unknown image_key", `{"document_number":"d1","image_key":"00000000-0000-0000-0000-000000000000"}`, "NOT_FOUND", "not_found", 404},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				checkError(t, a.json(t, "POST", "/face_recognition/registration", c.body), c.status, c.code, c.title)
			})
		}
	})

	t.Run("upload refusals", func(t *testing.T) {
		checkError(t, a.upload(t, base64.StdEncoding.EncodeToString([]byte("GIF89a not supported"))), 400, "UNSUPPORTED_FORMAT", "invalid_image")
		checkError(t, a.upload(t, "***"), 400, "IMAGE_INVALID", "invalid_image")
		checkError(t, a.upload(t, ""), 400, "IMAGE_EMPTY", "invalid_image")
		checkError(t, a.json(t, "POST", "/face_recognition/image", `{"image":`), 400, "INVALID_REQUEST", "invalid_request")
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("other", "x")
		_ = mw.Close()
		checkError(t, a.req(t, "POST", "/face_recognition/image", buf.Bytes(), mw.FormDataContentType()), 400, "IMAGE_EMPTY", "invalid_image")
	})

	t.Run("expired image_key", func(t *testing.T) {
		err := s.App.Store.PutRecord(context.Background(), clientA, qitech.RecordKind, "expired-key", apptest.Image(t, biden), time.Now().Add(-time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		r := a.register(t, map[string]string{"document_number": "d-expired", "image_key": "expired-key"})
		checkError(t, r, http.StatusNotFound, "NOT_FOUND", "not_found")
	})

	t.Run("bad credentials", func(t *testing.T) {
		for _, auth := range []string{"", "Bearer", "Bearer frk_aaaaaaaaaaaaaaaa_bbbb", "EXAMPLE_API_KEY", "Basic " + keyA} {
			c := client{s: s, auth: auth}
			checkError(t, c.json(t, "GET", "/face_recognition/registration/"+keyObama, ""), http.StatusUnauthorized, "UNAUTHORIZED", "unauthorized")
			checkError(t, c.register(t, map[string]string{"document_number": "x", "image": obamaB64}), http.StatusUnauthorized, "UNAUTHORIZED", "unauthorized")
			checkError(t, c.upload(t, obamaB64), http.StatusUnauthorized, "UNAUTHORIZED", "unauthorized")
		}
	})

	t.Run("another tenant sees nothing", func(t *testing.T) {
		r := b.json(t, "GET", "/face_recognition/registration/"+keyObama, "")
		checkError(t, r, http.StatusNotFound, "NOT_FOUND", "not_found")
		if strings.Contains(string(r.Body), keyObama) {
			t.Errorf("the key leaks: %s", r.Body)
		}
		checkError(t, b.json(t, "GET", "/face_recognition/registration/document_number/12345678909", ""), http.StatusNotFound, "NOT_FOUND", "not_found")
		up := a.upload(t, apptest.B64(t, biden))
		r = b.register(t, map[string]string{"document_number": "steal", "image_key": up.Str("image_key")})
		checkError(t, r, http.StatusNotFound, "NOT_FOUND", "not_found")
		// B's namespace is its own: the same document number is free in B.
		checkKey(t, b.register(t, map[string]string{"document_number": "12345678909", "image": obamaB64}), "")
	})

	t.Run("openapi", func(t *testing.T) {
		r := s.Do(t, "GET", "/openapi.json", "", nil)
		for p, m := range map[string]string{qitech.PathRegistration: "post", qitech.PathByKey: "get", qitech.PathByDocument: "get", qitech.PathImage: "post"} {
			if r.Get("paths", p, m) == nil {
				t.Errorf("%s %s missing from /openapi.json", m, p)
			}
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

func TestQITechLimits(t *testing.T) {
	s := apptest.Start(t, func(c *app.Config) {
		c.Service.TenantRate = 0.001
		c.Service.TenantBurst = 1
		c.HTTP.MaxBodyBytes = 64 << 10
	})
	_, key := s.Tenant(t, "tenant-a")
	a := client{s: s, auth: key}
	r := a.upload(t, strings.Repeat("A", 100<<10))
	checkError(t, r, http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", "request_too_large")
	// The upload above took the burst (authentication comes first).
	r = a.json(t, "GET", "/face_recognition/registration/x", "")
	checkError(t, r, http.StatusTooManyRequests, "RATE_LIMITED", "rate_limited")
	if r.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}
