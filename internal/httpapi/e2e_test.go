package httpapi_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/app"
	"github.com/facereg/facereg/internal/apptest"
	"github.com/facereg/facereg/internal/worker"
)

const (
	obama  = "identities/fr_obama/obama.jpg"
	obama1 = "identities/fr_obama/obama1.jpg"
	biden  = "identities/fr_biden/biden.jpg"
	tiny   = "hard_cases/tiny_face/opencv_messi5.jpg"
	noFace = "hard_cases/no_face/dlib_dogs.jpg"
	multi  = "hard_cases/multi_face/fr_two_people.jpg"
	spoof  = "spoof/fake/silentface_image_F1.jpg"
	live   = "spoof/real/silentface_image_T1.jpg"
)

func reg(t *testing.T, s *apptest.Server, key, ext, img string, extra map[string]any) *apptest.Response {
	t.Helper()
	body := map[string]any{"external_id": ext, "image": apptest.B64(t, img)}
	for k, v := range extra {
		body[k] = v
	}
	return s.Do(t, "POST", "/v1/registrations", key, body)
}

func wantError(t *testing.T, r *apptest.Response, status int, code string) {
	t.Helper()
	if r.Status != status || r.Str("error", "code") != code {
		t.Fatalf("want %d %s, got %d %s", status, code, r.Status, r.Body)
	}
	if r.Str("error", "message") == "" || r.Str("transaction_id") == "" {
		t.Fatalf("error without message or transaction id: %s", r.Body)
	}
}

func TestRegistrationLifecycle(t *testing.T) {
	s := apptest.Start(t)
	_, key := s.Tenant(t, "acme")

	r := reg(t, s, key, "user-1", obama, nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	k := r.Str("registration_key")
	for _, f := range []string{"registration_key", "transaction_id", "model", "external_id"} {
		if r.Str(f) == "" {
			t.Errorf("response lacks %s: %s", f, r.Body)
		}
	}
	if r.Get("face", "box", "width") == nil || r.Get("face", "liveness", "score") == nil || r.Get("face", "quality") == nil {
		t.Errorf("response lacks face measurements: %s", r.Body)
	}
	if r.Header.Get("Location") != "/v1/registrations/"+k {
		t.Errorf("Location %q", r.Header.Get("Location"))
	}

	// multipart upload
	m := s.Multipart(t, "/v1/registrations", key, "image", apptest.Image(t, biden), map[string]string{"external_id": "user-2"})
	if m.Status != http.StatusCreated {
		t.Fatalf("multipart register: %d %s", m.Status, m.Body)
	}

	if g := s.Do(t, "GET", "/v1/registrations/"+k, key, nil); g.Status != 200 || g.Str("external_id") != "user-1" || g.Get("template") != nil {
		t.Fatalf("get: %d %s", g.Status, g.Body)
	}
	if g := s.Do(t, "GET", "/v1/registrations/by-external-id/user-1", key, nil); g.Status != 200 || g.Str("registration_key") != k {
		t.Fatalf("find: %d %s", g.Status, g.Body)
	}
	if g := s.Do(t, "GET", "/v1/registrations?external_id=user-2", key, nil); g.Status != 200 || len(g.Get("registrations").([]any)) != 1 {
		t.Fatalf("find by query: %d %s", g.Status, g.Body)
	}
	// paging
	p1 := s.Do(t, "GET", "/v1/registrations?limit=1", key, nil)
	next := p1.Str("next_after")
	p2 := s.Do(t, "GET", "/v1/registrations?limit=1&after="+next, key, nil)
	if len(p1.Get("registrations").([]any)) != 1 || len(p2.Get("registrations").([]any)) != 1 || next == "" ||
		p2.Get("registrations").([]any)[0].(map[string]any)["registration_key"] == next {
		t.Fatalf("paging: %s / %s", p1.Body, p2.Body)
	}
	// stored face crop
	fr, _ := http.NewRequest("GET", s.URL+"/v1/faces/"+k, nil)
	if f := s.Send(t, fr, key); f.Status != 200 || f.Header.Get("Content-Type") != "image/jpeg" || len(f.Body) < 1000 {
		t.Fatalf("face: %d %s", f.Status, f.Header)
	}
	// verify and identify
	v := s.Do(t, "POST", "/v1/verify", key, map[string]any{"external_id": "user-1", "image": apptest.B64(t, obama1)})
	if v.Status != 200 || v.Get("match") != true || v.Get("similarity").(float64) < 0.4 {
		t.Fatalf("verify same person: %d %s", v.Status, v.Body)
	}
	v = s.Do(t, "POST", "/v1/verify", key, map[string]any{"registration_key": k, "image": apptest.B64(t, biden)})
	if v.Status != 200 || v.Get("match") != false {
		t.Fatalf("verify other person: %d %s", v.Status, v.Body)
	}
	id := s.Multipart(t, "/v1/identify", key, "image", apptest.Image(t, obama1), map[string]string{"limit": "5"})
	cands, _ := id.Get("candidates").([]any)
	if id.Status != 200 || len(cands) != 1 || cands[0].(map[string]any)["external_id"] != "user-1" {
		t.Fatalf("identify: %d %s", id.Status, id.Body)
	}
	wantError(t, s.Do(t, "POST", "/v1/identify", key, map[string]any{"image": apptest.B64(t, obama1), "limit": 51}), 400, facereg.EINVALID)
	// analyze stores nothing
	a := s.Do(t, "POST", "/v1/analyze", key, map[string]any{"image": apptest.B64(t, multi)})
	if a.Status != 200 || a.Get("accepted") != false || len(a.Get("faces").([]any)) != 2 {
		t.Fatalf("analyze: %d %s", a.Status, a.Body)
	}
	// erase: template, face and index entry at once
	if d := s.Do(t, "DELETE", "/v1/registrations/"+k, key, nil); d.Status != 204 {
		t.Fatalf("delete: %d %s", d.Status, d.Body)
	}
	wantError(t, s.Do(t, "GET", "/v1/registrations/"+k, key, nil), 404, facereg.ENOTFOUND)
	wantError(t, s.Do(t, "DELETE", "/v1/registrations/"+k, key, nil), 404, facereg.ENOTFOUND)
	id = s.Do(t, "POST", "/v1/identify", key, map[string]any{"image": apptest.B64(t, obama1)})
	if len(id.Get("candidates").([]any)) != 0 {
		t.Fatalf("deleted face still identified: %s", id.Body)
	}
	// the face can be registered again once erased
	if r := reg(t, s, key, "user-3", obama1, nil); r.Status != 201 {
		t.Fatalf("re-register after erase: %d %s", r.Status, r.Body)
	}
	// audit: the first registration's transaction is readable
	tx := s.Do(t, "GET", "/v1/transactions/"+r.Str("transaction_id"), key, nil)
	if tx.Status != 200 || tx.Str("operation") != "register" || tx.Str("outcome") != "success" || tx.Str("registration_key") != k {
		t.Fatalf("transaction: %d %s", tx.Status, tx.Body)
	}
	if strings.Contains(string(tx.Body), "vector") || strings.Contains(string(tx.Body), "image") {
		t.Fatalf("audit row leaks data: %s", tx.Body)
	}
}

func TestRefusals(t *testing.T) {
	s := apptest.Start(t)
	_, key := s.Tenant(t, "acme")
	if r := reg(t, s, key, "a", obama, nil); r.Status != 201 {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	first := s.Do(t, "GET", "/v1/registrations/by-external-id/a", key, nil).Str("registration_key")

	r := reg(t, s, key, "a", biden, nil)
	wantError(t, r, 409, facereg.EALREADY)

	r = reg(t, s, key, "b", obama1, nil)
	wantError(t, r, 409, facereg.EDUPLICATE)
	if r.Str("error", "detail", "registration_key") != first || r.Get("error", "detail", "similarity").(float64) < 0.4 {
		t.Fatalf("duplicate detail: %s", r.Body)
	}
	for img, code := range map[string]string{tiny: facereg.FaceTooSmall, noFace: facereg.NoFace, multi: facereg.MultipleFaces, spoof: facereg.LivenessFailed} {
		r := reg(t, s, key, "q-"+code, img, nil)
		wantError(t, r, 422, code)
		if code == facereg.FaceTooSmall && (r.Get("error", "measure", "value") == nil || r.Get("error", "measure", "threshold").(float64) != 30) {
			t.Fatalf("measure missing: %s", r.Body)
		}
	}
	// liveness report-only registers the spoof and reports the failure
	r = reg(t, s, key, "spoof-report", spoof, map[string]any{"liveness": "report"})
	if r.Status != 201 || r.Get("face", "liveness", "passed") != false || r.Get("face", "liveness", "enforced") != false {
		t.Fatalf("liveness report: %d %s", r.Status, r.Body)
	}
	r = reg(t, s, key, "live-skip", live, map[string]any{"liveness": "skip"})
	if r.Status != 201 || r.Get("face", "liveness") != nil {
		t.Fatalf("liveness skip: %d %s", r.Status, r.Body)
	}
	wantError(t, reg(t, s, key, "x", obama, map[string]any{"liveness": "maybe"}), 400, facereg.EINVALID)
	// force replaces the face of an existing id
	r = reg(t, s, key, "a", biden, map[string]any{"force": true})
	if r.Status != 200 || r.Get("replaced") != true || r.Str("registration_key") != first {
		t.Fatalf("force: %d %s", r.Status, r.Body)
	}
	// after the replacement obama's face is free again
	if r := reg(t, s, key, "b", obama1, nil); r.Status != 201 {
		t.Fatalf("register after replace: %d %s", r.Status, r.Body)
	}
	// bad input
	wantError(t, s.Do(t, "POST", "/v1/registrations", key, map[string]any{"external_id": "e", "image": ""}), 400, facereg.ImageEmpty)
	wantError(t, s.Do(t, "POST", "/v1/registrations", key, map[string]any{"external_id": "e", "image": "!!!not base64!!!"}), 400, facereg.ImageInvalid)
	wantError(t, s.Do(t, "POST", "/v1/registrations", key, map[string]any{"external_id": "e", "image": "R0lGODlhAQABAAAAACw="}), 415, facereg.UnsupportedFormat)
	wantError(t, s.Do(t, "POST", "/v1/registrations", key, []byte(`{"external_id": "e", "image": `)), 400, facereg.EINVALID)
	wantError(t, s.Do(t, "POST", "/v1/registrations", key, []byte(`{"external_id": 5}`)), 400, facereg.EINVALID)
	wantError(t, s.Do(t, "POST", "/v1/registrations", key, map[string]any{"external_id": "", "image": apptest.B64(t, obama)}), 400, facereg.EINVALID)
	big := map[string]any{"external_id": "e", "image": strings.Repeat("A", 21<<20)}
	if r := s.Do(t, "POST", "/v1/registrations", key, big); r.Status != 413 {
		t.Fatalf("oversized body: %d %s", r.Status, r.Body[:min(len(r.Body), 300)])
	}
	// auth
	wantError(t, s.Do(t, "GET", "/v1/registrations", "", nil), 401, facereg.EUNAUTHORIZED)
	wantError(t, s.Do(t, "GET", "/v1/registrations", "frk_aaaaaaaaaaaaaaaa_bbbb", nil), 401, facereg.EUNAUTHORIZED)
	wantError(t, s.Do(t, "GET", "/v1/registrations", key+"x", nil), 401, facereg.EUNAUTHORIZED)
	// refusals are audited with their reason
	l := s.Do(t, "GET", "/v1/transactions?outcome=refused&reason=DUPLICATE_FACE", key, nil)
	if txs := l.Get("transactions").([]any); l.Status != 200 || len(txs) != 1 {
		t.Fatalf("audit filter: %d %s", l.Status, l.Body)
	}
}

func TestTenantIsolation(t *testing.T) {
	s := apptest.Start(t)
	_, ka := s.Tenant(t, "a")
	_, kb := s.Tenant(t, "b")
	r := reg(t, s, ka, "alice", obama, map[string]any{"async": false})
	k := r.Str("registration_key")
	tx := r.Str("transaction_id")
	task := s.Do(t, "POST", "/v1/registrations", ka, map[string]any{"external_id": "a2", "image": apptest.B64(t, biden), "async": true}).Str("task_id")
	for _, p := range []string{"/v1/registrations/" + k, "/v1/registrations/by-external-id/alice", "/v1/faces/" + k, "/v1/tasks/" + task, "/v1/transactions/" + tx} {
		wantError(t, s.Do(t, "GET", p, kb, nil), 404, facereg.ENOTFOUND)
	}
	wantError(t, s.Do(t, "DELETE", "/v1/registrations/"+k, kb, nil), 404, facereg.ENOTFOUND)
	wantError(t, s.Do(t, "POST", "/v1/verify", kb, map[string]any{"external_id": "alice", "image": apptest.B64(t, obama1)}), 404, facereg.ENOTFOUND)
	if l := s.Do(t, "GET", "/v1/registrations", kb, nil); len(l.Get("registrations").([]any)) != 0 {
		t.Fatalf("list leaks: %s", l.Body)
	}
	if l := s.Do(t, "GET", "/v1/transactions", kb, nil); strings.Contains(string(l.Body), tx) || strings.Contains(string(l.Body), "alice") {
		t.Fatalf("transactions leak: %s", l.Body)
	}
	if id := s.Do(t, "POST", "/v1/identify", kb, map[string]any{"image": apptest.B64(t, obama1)}); len(id.Get("candidates").([]any)) != 0 {
		t.Fatalf("identify leaks: %s", id.Body)
	}
	// B may register the same face: duplicates are per tenant
	if r := reg(t, s, kb, "alice-at-b", obama1, nil); r.Status != 201 {
		t.Fatalf("register at b: %d %s", r.Status, r.Body)
	}
	if g := s.Do(t, "GET", "/v1/registrations/"+k, ka, nil); g.Status != 200 {
		t.Fatalf("a lost its data: %d", g.Status)
	}
}

// Concurrent registrations of one face under different ids: exactly one
// succeeds; of one id: exactly one succeeds.
func TestDuplicateRace(t *testing.T) {
	s := apptest.Start(t, func(c *app.Config) { c.Service.MaxQueue = 64; c.Service.QueueWait = time.Minute })
	_, key := s.Tenant(t, "acme")
	body := func(ext string) []byte {
		b, _ := json.Marshal(map[string]any{"external_id": ext, "image": apptest.B64(t, obama)})
		return b
	}
	run := func(n int, ext func(i int) string) map[string]int {
		var mu sync.Mutex
		got := map[string]int{}
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				r := s.Do(t, "POST", "/v1/registrations", key, body(ext(i)))
				c := fmt.Sprint(r.Status)
				if r.Status != 201 {
					c += " " + r.Str("error", "code")
				}
				mu.Lock()
				got[c]++
				mu.Unlock()
			}(i)
		}
		wg.Wait()
		return got
	}
	got := run(16, func(i int) string { return fmt.Sprintf("id-%d", i) })
	if got["201"] != 1 || got["409 DUPLICATE_FACE"] != 15 {
		t.Fatalf("16 ids, one face: %v", got)
	}
	// same id, the face now registered: all refused; with a fresh face and one id
	s2 := apptest.Start(t, func(c *app.Config) { c.Service.MaxQueue = 64; c.Service.QueueWait = time.Minute })
	_, key = s2.Tenant(t, "acme")
	s = s2
	got = run(8, func(int) string { return "same-id" })
	if got["201"] != 1 || got["409 ALREADY_REGISTERED"] != 7 {
		t.Fatalf("8 requests, one id: %v", got)
	}
}

func TestRestartPersistenceAndTasks(t *testing.T) {
	s := apptest.Start(t)
	_, key := s.Tenant(t, "acme")
	r := reg(t, s, key, "p", obama, nil)
	if r.Status != 201 {
		t.Fatal(r.Status)
	}
	s.Restart(t)
	if g := s.Do(t, "GET", "/v1/registrations/by-external-id/p", key, nil); g.Status != 200 {
		t.Fatalf("after restart: %d", g.Status)
	}
	wantError(t, reg(t, s, key, "q", obama1, nil), 409, facereg.EDUPLICATE) // index reloaded

	// a task accepted before a stop runs after the start
	s.Stop(t)
	db := s.OpenStore(t)
	tn, err := db.TenantByName(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	reqBody, _ := json.Marshal(worker.RegisterTask{ExternalID: "from-task", Image: apptest.Image(t, biden)})
	now := time.Now().UTC()
	if err := db.CreateTask(context.Background(), &facereg.Task{ID: "0192aaaa-0000-7000-8000-000000000001", TenantID: tn.ID, Kind: worker.KindRegister, Status: facereg.TaskPending, Request: reqBody, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s.StartAgain(t)
	task := waitTask(t, s, key, "0192aaaa-0000-7000-8000-000000000001")
	if task.Str("status") != "succeeded" || task.Str("result", "external_id") != "from-task" {
		t.Fatalf("resumed task: %s", task.Body)
	}
}

func waitTask(t *testing.T, s *apptest.Server, key, id string) *apptest.Response {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		r := s.Do(t, "GET", "/v1/tasks/"+id, key, nil)
		if st := r.Str("status"); st == "succeeded" || st == "failed" {
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("task %s did not finish", id)
	return nil
}

func TestAsyncTasksAndWebhook(t *testing.T) {
	var mu sync.Mutex
	var bodies [][]byte
	var sigs []string
	var calls atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		n := calls.Add(1)
		mu.Lock()
		bodies = append(bodies, b)
		sigs = append(sigs, r.Header.Get("X-Facereg-Signature"))
		mu.Unlock()
		if n <= 2 { // the first two attempts fail: retried with backoff
			w.WriteHeader(500)
			return
		}
		w.WriteHeader(204)
	}))
	defer hook.Close()
	s := apptest.Start(t, func(c *app.Config) { c.Worker.WebhookBackoff = 20 * time.Millisecond })
	_, key := s.Tenant(t, "acme")
	p := s.Do(t, "PATCH", "/v1/tenant/settings", key, map[string]any{"webhook_url": hook.URL, "webhook_secret": "s3cret"})
	if p.Status != 200 || p.Get("webhook_secret_set") != true || strings.Contains(string(p.Body), "s3cret") {
		t.Fatalf("settings: %d %s", p.Status, p.Body)
	}
	r := s.Do(t, "POST", "/v1/registrations", key, map[string]any{"external_id": "async-1", "image": apptest.B64(t, obama), "async": true})
	if r.Status != 202 || r.Str("task_id") == "" || r.Header.Get("Location") == "" {
		t.Fatalf("async: %d %s", r.Status, r.Body)
	}
	task := waitTask(t, s, key, r.Str("task_id"))
	if task.Str("status") != "succeeded" || task.Str("result", "registration_key") == "" || task.Get("http_status").(float64) != 201 {
		t.Fatalf("task: %s", task.Body)
	}
	// refused task
	r2 := s.Multipart(t, "/v1/registrations", key, "image", apptest.Image(t, tiny), map[string]string{"external_id": "async-2", "async": "true"})
	task2 := waitTask(t, s, key, r2.Str("task_id"))
	if task2.Str("status") != "failed" || task2.Str("error", "code") != facereg.FaceTooSmall || task2.Get("http_status").(float64) != 422 {
		t.Fatalf("failed task: %s", task2.Body)
	}
	// webhook: 3 attempts for the first task (2 failures, then success), signed
	deadline := time.Now().Add(20 * time.Second)
	for calls.Load() < 4 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) < 4 {
		t.Fatalf("webhook calls: %d", len(bodies))
	}
	for i, b := range bodies {
		m := hmac.New(sha256.New, []byte("s3cret"))
		m.Write(b)
		if want := "sha256=" + hex.EncodeToString(m.Sum(nil)); sigs[i] != want {
			t.Fatalf("signature %d: %q want %q", i, sigs[i], want)
		}
		if bytes.Contains(b, []byte("vector")) {
			t.Fatalf("webhook leaks a template")
		}
	}
	var tries int
	dl := time.Now().Add(5 * time.Second)
	for time.Now().Before(dl) {
		ds, _ := s.Do(t, "GET", "/v1/tasks/"+r.Str("task_id"), key, nil).Get("webhook_deliveries").([]any)
		if tries = len(ds); tries >= 3 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if tries != 3 {
		t.Fatalf("recorded delivery attempts: %d, want 3", tries)
	}
}

func TestIdempotency(t *testing.T) {
	s := apptest.Start(t)
	_, key := s.Tenant(t, "acme")
	body, _ := json.Marshal(map[string]any{"external_id": "idem", "image": apptest.B64(t, obama)})
	send := func(b []byte) *apptest.Response {
		req, _ := http.NewRequest("POST", s.URL+"/v1/registrations", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "k-1")
		return s.Send(t, req, key)
	}
	a := send(body)
	b := send(body)
	if a.Status != 201 || b.Status != 201 || !bytes.Equal(a.Body, b.Body) || b.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %d %s", a.Status, b.Status, b.Header)
	}
	other, _ := json.Marshal(map[string]any{"external_id": "idem2", "image": apptest.B64(t, biden)})
	wantError(t, send(other), 422, facereg.EIDEMPOTENCY)
}

func TestLockoutAndRateLimit(t *testing.T) {
	s := apptest.Start(t, func(c *app.Config) { c.Service.TenantRate = 0 })
	_, key := s.Tenant(t, "acme")
	if r := reg(t, s, key, "victim", obama, nil); r.Status != 201 {
		t.Fatal(r.Status)
	}
	for i := 0; i < 5; i++ {
		v := s.Do(t, "POST", "/v1/verify", key, map[string]any{"external_id": "victim", "image": apptest.B64(t, biden)})
		if v.Status != 200 || v.Get("match") != false {
			t.Fatalf("attempt %d: %d %s", i, v.Status, v.Body)
		}
	}
	v := s.Do(t, "POST", "/v1/verify", key, map[string]any{"external_id": "victim", "image": apptest.B64(t, obama1)})
	wantError(t, v, 429, facereg.ELOCKED)
	if v.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After on lockout")
	}

	rl := apptest.Start(t, func(c *app.Config) { c.Service.TenantRate = 1; c.Service.TenantBurst = 2 })
	_, k2 := rl.Tenant(t, "acme")
	codes := map[int]int{}
	for i := 0; i < 5; i++ {
		codes[rl.Do(t, "GET", "/v1/registrations", k2, nil).Status]++
	}
	if codes[429] < 2 || codes[200] < 2 {
		t.Fatalf("rate limit: %v", codes)
	}
}

func TestOverloadAnswers503(t *testing.T) {
	s := apptest.Start(t, func(c *app.Config) {
		c.Service.MaxAnalyses = 1
		c.Service.MaxQueue = 0
		c.Service.QueueWait = time.Millisecond
	})
	_, key := s.Tenant(t, "acme")
	body, _ := json.Marshal(map[string]any{"image": apptest.B64(t, obama)})
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	retry := ""
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.Do(t, "POST", "/v1/analyze", key, body)
			mu.Lock()
			codes[r.Status]++
			if r.Status == 503 {
				retry = r.Header.Get("Retry-After")
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[503] == 0 || codes[200] == 0 || codes[200]+codes[503] != 8 || retry == "" {
		t.Fatalf("codes %v retry-after %q", codes, retry)
	}
}

func TestOperationsEndpoints(t *testing.T) {
	s := apptest.Start(t)
	_, key := s.Tenant(t, "acme")
	reg(t, s, key, "m", obama, nil)
	if r := s.Do(t, "GET", "/healthz", "", nil); r.Status != 200 {
		t.Fatal(r.Status)
	}
	if r := s.Do(t, "GET", "/readyz", "", nil); r.Status != 200 || r.Str("model") == "" {
		t.Fatal(r.Status)
	}
	m := s.Do(t, "GET", "/metrics", "", nil)
	for _, want := range []string{"facereg_http_requests_total{", "facereg_http_request_duration_seconds_bucket{", "facereg_engine_stage_duration_seconds_bucket{stage=\"embed\"", "facereg_index_templates 1", "facereg_registrations_total{"} {
		if !strings.Contains(string(m.Body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if tn := s.Do(t, "GET", "/v1/tenant", key, nil); tn.Status != 200 || tn.Get("settings", "liveness_required") != true {
		t.Fatalf("tenant: %s", tn.Body)
	}
	wantError(t, s.Do(t, "PATCH", "/v1/tenant/settings", key, map[string]any{"match_threshold": 7}), 400, facereg.EINVALID)
	wantError(t, s.Do(t, "PATCH", "/v1/tenant/settings", key, map[string]any{"quality_policy": []string{"NOPE"}}), 400, facereg.EINVALID)
}

// A full run through every route: the logs never contain images, templates,
// API keys or webhook secrets.
func TestLogsNeverContainSecrets(t *testing.T) {
	s := apptest.Start(t)
	_, key := s.Tenant(t, "acme")
	s.Do(t, "PATCH", "/v1/tenant/settings", key, map[string]any{"webhook_url": "http://127.0.0.1:1/hook", "webhook_secret": "whsec-do-not-log"})
	r := reg(t, s, key, "log-1", obama, nil)
	reg(t, s, key, "log-2", obama1, nil) // duplicate
	reg(t, s, key, "log-3", tiny, nil)   // quality refusal
	s.Do(t, "POST", "/v1/verify", key, map[string]any{"external_id": "log-1", "image": apptest.B64(t, obama1)})
	s.Do(t, "POST", "/v1/identify", key, map[string]any{"image": apptest.B64(t, obama1)})
	s.Do(t, "POST", "/v1/analyze", key, map[string]any{"image": apptest.B64(t, obama1)})
	a := s.Do(t, "POST", "/v1/registrations", key, map[string]any{"external_id": "log-4", "image": apptest.B64(t, biden), "async": true})
	waitTask(t, s, key, a.Str("task_id"))
	s.Do(t, "GET", "/v1/registrations/"+r.Str("registration_key"), key, nil)
	s.Do(t, "GET", "/v1/registrations", key+"garbage", nil)
	s.Do(t, "POST", "/v1/registrations", key, []byte(`{"image":"`+apptest.B64(t, obama)[:5000]+`"}`))
	time.Sleep(200 * time.Millisecond) // let the webhook attempt log
	logs := s.Logs.String()
	if !strings.Contains(logs, "transaction_id") {
		t.Fatalf("no operation logs captured")
	}
	secret := key[strings.LastIndex(key, "_")+1:]
	for name, needle := range map[string]string{
		"api key": key, "api key secret": secret, "webhook secret": "whsec-do-not-log",
		"obama image": apptest.B64(t, obama)[100:160], "biden image": apptest.B64(t, biden)[100:160],
		"tiny image": apptest.B64(t, tiny)[100:160], "template": "vector", "embedding": "embedding",
	} {
		if strings.Contains(logs, needle) {
			t.Errorf("logs contain the %s", name)
		}
	}
}

// A webhook delivery interrupted by a restart resumes after it.
func TestWebhookResumesAfterRestart(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	var ok atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			w.WriteHeader(503)
			return
		}
		ok.Add(1)
		w.WriteHeader(200)
	}))
	defer hook.Close()
	s := apptest.Start(t, func(c *app.Config) { c.Worker.WebhookBackoff = time.Hour })
	_, key := s.Tenant(t, "acme")
	s.Do(t, "PATCH", "/v1/tenant/settings", key, map[string]any{"webhook_url": hook.URL, "webhook_secret": "x"})
	id := s.Do(t, "POST", "/v1/registrations", key, map[string]any{"external_id": "w", "image": apptest.B64(t, obama), "async": true}).Str("task_id")
	waitTask(t, s, key, id)
	deliveries := func() int {
		ds, _ := s.Do(t, "GET", "/v1/tasks/"+id, key, nil).Get("webhook_deliveries").([]any)
		return len(ds)
	}
	for dl := time.Now().Add(10 * time.Second); deliveries() < 1 && time.Now().Before(dl); {
		time.Sleep(20 * time.Millisecond)
	}
	if n := deliveries(); n != 1 {
		t.Fatalf("first attempt not recorded: %d", n)
	}
	fail.Store(false)
	s.Restart(t) // the second attempt was an hour away
	for dl := time.Now().Add(10 * time.Second); ok.Load() == 0 && time.Now().Before(dl); {
		time.Sleep(20 * time.Millisecond)
	}
	if ok.Load() != 1 {
		t.Fatalf("delivery not resumed after the restart")
	}
	for dl := time.Now().Add(5 * time.Second); deliveries() < 2 && time.Now().Before(dl); {
		time.Sleep(20 * time.Millisecond)
	}
	ds := s.Do(t, "GET", "/v1/tasks/"+id, key, nil).Get("webhook_deliveries").([]any)
	if len(ds) != 2 || ds[1].(map[string]any)["attempt"].(float64) != 2 || ds[1].(map[string]any)["status_code"].(float64) != 200 {
		t.Fatalf("deliveries: %v", ds)
	}
	s.Restart(t) // a delivered result is not sent again
	time.Sleep(300 * time.Millisecond)
	if ok.Load() != 1 {
		t.Fatalf("delivered twice")
	}
}
