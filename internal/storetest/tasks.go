package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/facereg/facereg"
)

func newTask(tenantID string, created time.Time) *facereg.Task {
	return &facereg.Task{
		ID:        newID("task"),
		TenantID:  tenantID,
		Kind:      "register",
		Status:    facereg.TaskPending,
		Request:   []byte(`{"image":"` + newID("img") + `"}` + "\x00\xff"),
		CreatedAt: created,
		UpdatedAt: created,
	}
}

func testTasks(t *testing.T, s facereg.Store) {
	ctx := t.Context()
	a, b := newTenant(t, s), newTenant(t, s)
	t1 := newTask(a.ID, stamp(3*time.Second))
	t2 := newTask(b.ID, stamp(1*time.Second))
	t3 := newTask(a.ID, stamp(2*time.Second))
	for _, tk := range []*facereg.Task{t1, t2, t3} {
		must(t, s.CreateTask(ctx, tk))
	}
	wantCode(t, s.CreateTask(ctx, newTask("no-such-tenant", stamp(0))), facereg.ENOTFOUND, "CreateTask(unknown tenant)")

	got, err := s.Task(ctx, a.ID, t1.ID)
	must(t, err)
	wantTask(t, got, t1)
	_, err = s.Task(ctx, b.ID, t1.ID)
	wantCode(t, err, facereg.ENOTFOUND, "Task(other tenant's)")
	_, err = s.Task(ctx, a.ID, "no-such-task")
	wantCode(t, err, facereg.ENOTFOUND, "Task(unknown)")

	un, err := s.UnfinishedTasks(ctx)
	must(t, err)
	wantEqual(t, "UnfinishedTasks", taskIDs(un), []string{t2.ID, t3.ID, t1.ID})
	for _, u := range un {
		if u.ID == t2.ID {
			wantTask(t, u, t2)
		}
	}

	must(t, s.SetTaskStatus(ctx, t2.ID, facereg.TaskRunning))
	got, err = s.Task(ctx, b.ID, t2.ID)
	must(t, err)
	if got.Status != facereg.TaskRunning || !got.UpdatedAt.After(t2.UpdatedAt) {
		t.Errorf("after SetTaskStatus: status %q updated %v", got.Status, got.UpdatedAt)
	}
	wantCode(t, s.SetTaskStatus(ctx, "no-such-task", facereg.TaskRunning), facereg.ENOTFOUND, "SetTaskStatus(unknown)")

	fin := *t3
	fin.Status = facereg.TaskSucceeded
	fin.Result = []byte(`{"registration_key":"x"}`)
	fin.HTTPCode = 201
	fin.UpdatedAt = stamp(time.Minute)
	must(t, s.FinishTask(ctx, &fin))
	got, err = s.Task(ctx, a.ID, t3.ID)
	must(t, err)
	fin.Request = nil // erased when the task finishes
	wantTask(t, got, &fin)

	failed := *t1
	failed.Status = facereg.TaskFailed
	failed.Result = []byte(`{"code":"NO_FACE"}`)
	failed.HTTPCode = 422
	failed.UpdatedAt = time.Time{}
	must(t, s.FinishTask(ctx, &failed))
	if failed.UpdatedAt.IsZero() {
		t.Error("FinishTask did not set a zero UpdatedAt")
	}

	un, err = s.UnfinishedTasks(ctx)
	must(t, err)
	wantEqual(t, "UnfinishedTasks after finishing", taskIDs(un), []string{t2.ID})

	steal := *t2
	steal.TenantID = a.ID
	steal.Status = facereg.TaskFailed
	wantCode(t, s.FinishTask(ctx, &steal), facereg.ENOTFOUND, "FinishTask(other tenant's)")
	missing := newTask(a.ID, stamp(0))
	missing.Status = facereg.TaskSucceeded
	wantCode(t, s.FinishTask(ctx, missing), facereg.ENOTFOUND, "FinishTask(unknown)")
	got, err = s.Task(ctx, b.ID, t2.ID)
	must(t, err)
	if got.Status != facereg.TaskRunning {
		t.Errorf("refused FinishTask changed the status to %q", got.Status)
	}
}

func wantTask(t *testing.T, got, want *facereg.Task) {
	t.Helper()
	if got.ID != want.ID || got.TenantID != want.TenantID || got.Kind != want.Kind || got.Status != want.Status || got.HTTPCode != want.HTTPCode {
		t.Errorf("task = %+v, want %+v", got, want)
	}
	if !bytes.Equal(got.Request, want.Request) {
		t.Errorf("task %s: request = %q, want %q", want.ID, got.Request, want.Request)
	}
	if !bytes.Equal(got.Result, want.Result) {
		t.Errorf("task %s: result = %q, want %q", want.ID, got.Result, want.Result)
	}
	wantTime(t, "task CreatedAt", got.CreatedAt, want.CreatedAt)
	wantTime(t, "task UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func taskIDs(ts []*facereg.Task) []string {
	ids := []string{}
	for _, tk := range ts {
		ids = append(ids, tk.ID)
	}
	return ids
}

func testDeliveries(t *testing.T, s facereg.Store) {
	ctx := t.Context()
	a, b := newTenant(t, s), newTenant(t, s)
	ta, tb := newTask(a.ID, stamp(0)), newTask(b.ID, stamp(0))
	must(t, s.CreateTask(ctx, ta))
	must(t, s.CreateTask(ctx, tb))

	none, err := s.Deliveries(ctx, a.ID, ta.ID)
	must(t, err)
	if len(none) != 0 {
		t.Errorf("Deliveries before any = %d", len(none))
	}
	d1 := &facereg.Delivery{TaskID: ta.ID, Attempt: 1, URL: "https://example.invalid/a", StatusCode: 0, Error: "connection refused", CreatedAt: stamp(time.Second)}
	d2 := &facereg.Delivery{TaskID: ta.ID, Attempt: 2, URL: "https://example.invalid/a", StatusCode: 200}
	db := &facereg.Delivery{TaskID: tb.ID, Attempt: 1, URL: "https://example.invalid/b", StatusCode: 500}
	for _, d := range []*facereg.Delivery{d1, d2, db} {
		must(t, s.AddDelivery(ctx, d))
	}
	if d1.ID == 0 || d2.ID <= d1.ID || d2.CreatedAt.IsZero() {
		t.Errorf("AddDelivery set ids %d, %d and CreatedAt %v", d1.ID, d2.ID, d2.CreatedAt)
	}
	wantCode(t, s.AddDelivery(ctx, &facereg.Delivery{TaskID: "no-such-task", Attempt: 1}), facereg.ENOTFOUND, "AddDelivery(unknown task)")

	got, err := s.Deliveries(ctx, a.ID, ta.ID)
	must(t, err)
	if len(got) != 2 {
		t.Fatalf("Deliveries = %d, want 2", len(got))
	}
	for i, want := range []*facereg.Delivery{d1, d2} {
		g := got[i]
		if g.ID != want.ID || g.TaskID != want.TaskID || g.Attempt != want.Attempt || g.URL != want.URL || g.StatusCode != want.StatusCode || g.Error != want.Error {
			t.Errorf("delivery %d = %+v, want %+v", i, g, want)
		}
		wantTime(t, "delivery CreatedAt", g.CreatedAt, want.CreatedAt)
	}
	_, err = s.Deliveries(ctx, a.ID, tb.ID)
	wantCode(t, err, facereg.ENOTFOUND, "Deliveries(other tenant's task)")
	_, err = s.Deliveries(ctx, a.ID, "no-such-task")
	wantCode(t, err, facereg.ENOTFOUND, "Deliveries(unknown task)")
}

// testUndeliveredTasks: finished tasks without a 2xx delivery, since a time,
// across tenants; unfinished and delivered tasks are not listed.
func testUndeliveredTasks(t *testing.T, s facereg.Store) {
	ctx := t.Context()
	a, b := newTenant(t, s), newTenant(t, s)
	finish := func(tk *facereg.Task, at time.Time) {
		tk.Status = facereg.TaskSucceeded
		tk.Result = []byte(`{}`)
		tk.UpdatedAt = at
		must(t, s.FinishTask(ctx, tk))
	}
	old, failedHook, delivered, fresh, running := newTask(a.ID, stamp(0)), newTask(a.ID, stamp(0)), newTask(b.ID, stamp(0)), newTask(b.ID, stamp(0)), newTask(a.ID, stamp(0))
	for _, tk := range []*facereg.Task{old, failedHook, delivered, fresh, running} {
		must(t, s.CreateTask(ctx, tk))
	}
	finish(old, stamp(-time.Hour))
	finish(failedHook, stamp(time.Minute))
	finish(delivered, stamp(2*time.Minute))
	finish(fresh, stamp(3*time.Minute))
	must(t, s.AddDelivery(ctx, &facereg.Delivery{TaskID: failedHook.ID, Attempt: 1, URL: "http://x", StatusCode: 500, CreatedAt: stamp(time.Minute)}))
	must(t, s.AddDelivery(ctx, &facereg.Delivery{TaskID: delivered.ID, Attempt: 1, URL: "http://x", StatusCode: 503, CreatedAt: stamp(time.Minute)}))
	must(t, s.AddDelivery(ctx, &facereg.Delivery{TaskID: delivered.ID, Attempt: 2, URL: "http://x", StatusCode: 204, CreatedAt: stamp(time.Minute)}))
	got, err := s.UndeliveredTasks(ctx, stamp(0))
	must(t, err)
	wantEqual(t, "UndeliveredTasks", taskIDs(got), []string{failedHook.ID, fresh.ID})
	if len(got) == 2 && (got[0].TenantID != a.ID || got[1].TenantID != b.ID || got[0].Status != facereg.TaskSucceeded) {
		t.Errorf("UndeliveredTasks returned %+v", got)
	}
}
