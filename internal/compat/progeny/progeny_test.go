package progeny_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/facereg/facereg/internal/app"
	"github.com/facereg/facereg/internal/apptest"
	"github.com/facereg/facereg/internal/compat/progeny"
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

const (
	registerPath = "/api/v3/services/register_face"
	taskPath     = "/api/v3/services/task/"
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

type client struct {
	s    *apptest.Server
	auth string
}

func (c client) send(t *testing.T, req *http.Request) *apptest.Response {
	t.Helper()
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	return c.s.Send(t, req, "")
}

// form posts a multipart form; file is sent as the file field "image" when
// not nil.
func (c client) form(t *testing.T, path string, file []byte, fields map[string]string) *apptest.Response {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if file != nil {
		fw, _ := mw.CreateFormFile("image", "face.jpg")
		_, _ = fw.Write(file)
	}
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.s.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.send(t, req)
}

// submit posts an image and returns the task id.
func (c client) submit(t *testing.T, img string, fields map[string]string) string {
	t.Helper()
	r := c.form(t, registerPath, apptest.Image(t, img), fields)
	if r.Status != http.StatusOK {
		t.Fatalf("register_face: %d %s", r.Status, r.Body)
	}
	if keys(r.JSON) != "id" || !uuidRE.MatchString(r.Str("id")) {
		t.Fatalf("register_face body: %s", r.Body)
	}
	return r.Str("id")
}

func (c client) task(t *testing.T, id string) *apptest.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.s.URL+taskPath+"?id="+url.QueryEscape(id), nil)
	return c.send(t, req)
}

// wait polls the task until it is finished.
func (c client) wait(t *testing.T, id string) *apptest.Response {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := c.task(t, id)
		switch r.Str("status") {
		case progeny.StatePending, progeny.StateStarted:
			if r.Status != http.StatusOK || keys(r.JSON) != "id,result,status" || r.Get("result") != nil {
				t.Fatalf("running task: %d %s", r.Status, r.Body)
			}
		default:
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s not finished: %s", id, r.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func checkSuccess(t *testing.T, r *apptest.Response, id string) string {
	t.Helper()
	if r.Status != http.StatusOK || r.Str("status") != "SUCCESS" || r.Str("id") != id {
		t.Fatalf("task: %d %s", r.Status, r.Body)
	}
	if keys(r.JSON) != "id,result,status" || keys(r.Get("result")) != "data,status" || r.Get("result", "status") != float64(200) {
		t.Errorf("shape: %s", r.Body)
	}
	if keys(r.Get("result", "data")) != "uuid" {
		t.Errorf("data keys %s", keys(r.Get("result", "data")))
	}
	uuid := r.Str("result", "data", "uuid")
	if !uuidRE.MatchString(uuid) {
		t.Errorf("uuid %q", uuid)
	}
	return uuid
}

func checkRefusal(t *testing.T, r *apptest.Response, id, code, msg string) {
	t.Helper()
	if r.Status != http.StatusBadRequest || r.Str("status") != "SUCCESS" || r.Str("id") != id {
		t.Fatalf("task: %d %s", r.Status, r.Body)
	}
	if keys(r.JSON) != "id,result,status" || keys(r.Get("result")) != "data,issues,status" || r.Get("result", "status") != float64(400) {
		t.Errorf("shape: %s", r.Body)
	}
	if keys(r.Get("result", "data")) != "liveness" || keys(r.Get("result", "data", "liveness")) != "error,error_code,result" {
		t.Errorf("data shape: %s", r.Body)
	}
	if r.Get("result", "data", "liveness", "result") != false || r.Str("result", "data", "liveness", "error_code") != code {
		t.Errorf("liveness: %s", r.Body)
	}
	got := r.Str("result", "data", "liveness", "error")
	if got == "" || (msg != "" && got != msg) {
		t.Errorf("error %q, want %q", got, msg)
	}
	if r.Str("result", "issues", code) != got {
		t.Errorf("issues: %s", r.Body)
	}
}

func TestProgenyConformance(t *testing.T) {
	s := apptest.Start(t)
	clientA, keyA := s.Tenant(t, "tenant-a")
	_, keyB := s.Tenant(t, "tenant-b")
	a := client{s: s, auth: "Bearer " + keyA}
	aToken := client{s: s, auth: "Token " + keyA}
	b := client{s: s, auth: "Bearer " + keyB}

	// Submit everything first: the tasks run while the next are submitted.
	idObama := a.submit(t, obama, nil)
	idBiden := aToken.submit(t, biden, map[string]string{"extend_data": "true", "external_id": "biden-1"})
	a.wait(t, idObama)
	a.wait(t, idBiden)
	idDup := a.submit(t, obama1, nil)
	idAlready := a.submit(t, live, map[string]string{"user_id": "biden-1"})
	idTiny := a.submit(t, tiny, nil)
	idTinyExt := a.submit(t, tiny, map[string]string{"extend_data": "True"})
	idNoFace := a.submit(t, noFace, nil)
	idTwo := a.submit(t, twoFace, nil)
	idSpoof := a.submit(t, spoof, nil)

	var uuidObama string
	t.Run("success", func(t *testing.T) {
		uuidObama = checkSuccess(t, a.wait(t, idObama), idObama)
		// The uuid is the registration key, readable through the native API.
		if r := s.Do(t, "GET", "/v1/registrations/"+uuidObama, keyA, nil); r.Status != http.StatusOK {
			t.Errorf("registration %s: %d", uuidObama, r.Status)
		}
	})

	t.Run("success with extend_data and external_id, trailing slash", func(t *testing.T) {
		r := a.wait(t, idBiden)
		if r.Status != http.StatusOK || r.Str("status") != "SUCCESS" || keys(r.Get("result", "data")) != "extend_data,uuid" {
			t.Fatalf("task: %d %s", r.Status, r.Body)
		}
		ext := r.Get("result", "data", "extend_data")
		if keys(ext) != "box,detection_score,interpupillary_distance,liveness,pose,quality" {
			t.Fatalf("extend_data: %s", r.Body)
		}
		if r.Get("result", "data", "extend_data", "liveness", "score") == nil || r.Get("result", "data", "extend_data", "interpupillary_distance").(float64) <= 0 {
			t.Errorf("extend_data values: %s", r.Body)
		}
		if q, _ := r.Get("result", "data", "extend_data", "quality").([]any); len(q) == 0 {
			t.Errorf("no quality checks: %s", r.Body)
		}
		// No face template is shown, nor kept in the task's stored result.
		task, err := s.App.Store.Task(context.Background(), clientA, idBiden)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(r.Body), "embedding") || strings.Contains(string(task.Result), "embedding") {
			t.Errorf("a face template is shown or stored")
		}
		reg := s.Do(t, "GET", "/v1/registrations/by-external-id/biden-1", keyA, nil)
		if reg.Status != http.StatusOK || reg.Str("registration_key") != r.Str("result", "data", "uuid") {
			t.Errorf("external_id: %d %s", reg.Status, reg.Body)
		}
		// The route with the trailing slash.
		r2 := a.form(t, registerPath+"/", apptest.Image(t, noFace), nil)
		if r2.Status != http.StatusOK || !uuidRE.MatchString(r2.Str("id")) {
			t.Errorf("trailing slash: %d %s", r2.Status, r2.Body)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		checkRefusal(t, a.wait(t, idDup), idDup, "DUPLICATE_FACE", "")
		checkRefusal(t, a.wait(t, idAlready), idAlready, "ALREADY_REGISTERED", "")
		checkRefusal(t, a.wait(t, idTiny), idTiny, "FACE_TOO_SMALL", "Interpupillary distance is too small")
		checkRefusal(t, a.wait(t, idNoFace), idNoFace, "NO_FACE", "")
		checkRefusal(t, a.wait(t, idTwo), idTwo, "MULTIPLE_FACES", "")
		checkRefusal(t, a.wait(t, idSpoof), idSpoof, "LIVENESS_FAILED", "")
		// The document's example, exactly.
		r := a.wait(t, idTiny)
		want := `{"id":"` + idTiny + `","status":"SUCCESS","result":{"status":400,"data":{"liveness":{"result":false,"error":"Interpupillary distance is too small","error_code":"FACE_TOO_SMALL"}},"issues":{"FACE_TOO_SMALL":"Interpupillary distance is too small"}}}`
		if strings.TrimSpace(string(r.Body)) != want {
			t.Errorf("body\n%s\nwant\n%s", r.Body, want)
		}
	})

	t.Run("refusal with extend_data", func(t *testing.T) {
		r := a.wait(t, idTinyExt)
		if r.Status != http.StatusBadRequest || keys(r.Get("result", "data")) != "extend_data,liveness" {
			t.Fatalf("task: %d %s", r.Status, r.Body)
		}
		checks, _ := r.Get("result", "data", "extend_data", "checks").([]any)
		if len(checks) == 0 || r.Get("result", "data", "extend_data", "measure", "threshold") == nil {
			t.Errorf("no checks or measure in extend_data: %s", r.Body)
		}
		// Without extend_data, none.
		if r := a.wait(t, idTiny); r.Get("result", "data", "extend_data") != nil {
			t.Errorf("extend_data without asking: %s", r.Body)
		}
	})

	t.Run("not a file", func(t *testing.T) {
		want := `{"image":["The submitted data was not a file. Check the encoding type on the form."]}`
		jsonReq, _ := http.NewRequest(http.MethodPost, s.URL+registerPath, strings.NewReader(`{"image":"`+apptest.B64(t, obama)+`"}`))
		jsonReq.Header.Set("Content-Type", "application/json")
		noCT, _ := http.NewRequest(http.MethodPost, s.URL+registerPath+"/", strings.NewReader("image=abc"))
		cases := map[string]*apptest.Response{
			"image as a text field": a.form(t, registerPath, nil, map[string]string{"image": "/9j/4AAQSkZJRg"}),
			"no image":              a.form(t, registerPath, nil, map[string]string{"extend_data": "true"}),
			"empty file":            a.form(t, registerPath, []byte{}, nil),
			"JSON body":             a.send(t, jsonReq),
			"form-urlencoded":       a.send(t, noCT),
		}
		for name, r := range cases {
			if r.Status != http.StatusBadRequest || strings.TrimSpace(string(r.Body)) != want {
				t.Errorf("%s: %d %s", name, r.Status, r.Body)
			}
		}
	})

	t.Run("bad fields", func(t *testing.T) {
		r := a.form(t, registerPath, apptest.Image(t, obama), map[string]string{"extend_data": "maybe"})
		if r.Status != http.StatusBadRequest || r.Str("error_code") != "INVALID_REQUEST" || r.Str("detail") == "" {
			t.Errorf("extend_data: %d %s", r.Status, r.Body)
		}
		r = a.form(t, registerPath, apptest.Image(t, obama), map[string]string{"external_id": strings.Repeat("x", 200)})
		if r.Status != http.StatusBadRequest || r.Str("error_code") != "INVALID_REQUEST" {
			t.Errorf("external_id: %d %s", r.Status, r.Body)
		}
	})

	t.Run("unknown or missing task id", func(t *testing.T) {
		r := a.task(t, "00000000-0000-0000-0000-000000000000")
		if r.Status != http.StatusNotFound || keys(r.JSON) != "detail,error_code" || r.Str("error_code") != "NOT_FOUND" {
			t.Errorf("unknown: %d %s", r.Status, r.Body)
		}
		r = a.task(t, "")
		if r.Status != http.StatusBadRequest || r.Str("error_code") != "INVALID_REQUEST" {
			t.Errorf("missing: %d %s", r.Status, r.Body)
		}
		// Without the trailing slash too.
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/v3/services/task?id="+idObama, nil)
		if r := a.send(t, req); r.Status != http.StatusOK || r.Str("status") != "SUCCESS" {
			t.Errorf("no slash: %d %s", r.Status, r.Body)
		}
		// Nothing below the routes.
		req, _ = http.NewRequest(http.MethodGet, s.URL+taskPath+idObama, nil)
		if r := a.send(t, req); r.Status != http.StatusNotFound {
			t.Errorf("subpath: %d %s", r.Status, r.Body)
		}
	})

	t.Run("bad credentials", func(t *testing.T) {
		for _, auth := range []string{"", "Bearer", "Bearer frk_aaaaaaaaaaaaaaaa_bbbb", keyA, "Basic " + keyA} {
			c := client{s: s, auth: auth}
			for name, r := range map[string]*apptest.Response{
				"register": c.form(t, registerPath, apptest.Image(t, obama), nil),
				"task":     c.task(t, idObama),
			} {
				if r.Status != http.StatusUnauthorized || r.Str("error_code") != "UNAUTHORIZED" || r.Str("detail") == "" {
					t.Errorf("%q %s: %d %s", auth, name, r.Status, r.Body)
				}
				if strings.Contains(string(r.Body), uuidObama) {
					t.Errorf("%q %s: data leaks", auth, name)
				}
			}
		}
	})

	t.Run("another tenant sees nothing", func(t *testing.T) {
		r := b.task(t, idObama)
		if r.Status != http.StatusNotFound || strings.Contains(string(r.Body), uuidObama) {
			t.Errorf("%d %s", r.Status, r.Body)
		}
	})

	t.Run("openapi", func(t *testing.T) {
		r := s.Do(t, "GET", "/openapi.json", "", nil)
		for _, p := range []string{registerPath, registerPath + "/"} {
			if r.Get("paths", p, "post") == nil {
				t.Errorf("post %s missing", p)
			}
		}
		for _, p := range []string{taskPath, strings.TrimSuffix(taskPath, "/")} {
			if r.Get("paths", p, "get") == nil {
				t.Errorf("get %s missing", p)
			}
		}
	})

	t.Run("no secrets in logs", func(t *testing.T) {
		logs := s.Logs.String()
		if strings.Contains(logs, keyA) || strings.Contains(logs, keyB) {
			t.Errorf("logs contain a key")
		}
	})
}

func TestProgenyLimits(t *testing.T) {
	s := apptest.Start(t, func(c *app.Config) {
		c.Service.TenantRate = 0.001
		c.Service.TenantBurst = 1
		c.HTTP.MaxBodyBytes = 64 << 10
	})
	_, key := s.Tenant(t, "tenant-a")
	a := client{s: s, auth: "Bearer " + key}
	r := a.form(t, registerPath, bytes.Repeat([]byte{0xFF}, 100<<10), nil)
	if r.Status != http.StatusRequestEntityTooLarge || r.Str("error_code") != "REQUEST_TOO_LARGE" {
		t.Errorf("too large: %d %s", r.Status, r.Body)
	}
	r = a.task(t, "x")
	if r.Status != http.StatusTooManyRequests || r.Str("error_code") != "RATE_LIMITED" || r.Header.Get("Retry-After") == "" {
		t.Errorf("rate limited: %d %s", r.Status, r.Body)
	}
}
