package main

// Helpers of the tests that build the facereg binary and drive it as a
// subprocess (crash_test.go, tls_test.go, rotate_test.go). They fail, never
// skip, when the toolchain, the models or the shared test images are missing.

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// repoRoot is the directory holding go.mod above the test's directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			t.Fatal("go.mod not found above the test directory")
		}
	}
}

// facesDir is the shared labelled image directory (repo root's parent +
// /shared/faces).
func facesDir(t testing.TB) string {
	t.Helper()
	d := filepath.Join(filepath.Dir(repoRoot(t)), "shared", "faces")
	if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
		t.Fatalf("shared test images missing at %s: %v", d, err)
	}
	return d
}

// modelCache is the repo's model cache (made by 'make setup').
func modelCache(t testing.TB) string {
	t.Helper()
	c := filepath.Join(repoRoot(t), ".cache")
	for _, p := range []string{filepath.Join(c, "lib", "libonnxruntime.so"), filepath.Join(c, "models", "default")} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("model cache incomplete (run 'make setup'): %v", err)
		}
	}
	return c
}

// goTool finds the go command ('go test' puts its GOROOT/bin first in PATH).
func goTool(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go command not found: %v", err)
	}
	return p
}

// buildFacereg builds ./cmd/facereg into a new temporary directory and
// returns the binary's path.
func buildFacereg(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "facereg")
	start := time.Now()
	cmd := exec.Command(goTool(t), "build", "-o", bin, "./cmd/facereg")
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./cmd/facereg: %v\n%s", err, out)
	}
	t.Logf("built %s in %v", bin, time.Since(start).Round(time.Millisecond))
	return bin
}

// binEnv is the environment of the binary: this process's without any
// FACEREG_* variable, with FACEREG_CACHE pointing at the repo's cache, plus
// extra ("NAME=value").
func binEnv(t testing.TB, extra ...string) []string {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FACEREG_") {
			env = append(env, kv)
		}
	}
	env = append(env, "FACEREG_CACHE="+modelCache(t))
	return append(env, extra...)
}

// cliResult is the outcome of a finished command.
type cliResult struct {
	Stdout, Stderr string
	Code           int // exit code; -1 when killed by a signal
}

// runCLI runs the binary to completion (killed, and the test failed, after
// timeout).
func runCLI(t testing.TB, bin string, env []string, timeout time.Duration, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("facereg %s did not finish within %v\nstderr:\n%s", strings.Join(args, " "), timeout, stderr.String())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("facereg %s: %v", strings.Join(args, " "), err)
	}
	return cliResult{Stdout: stdout.String(), Stderr: stderr.String(), Code: cmd.ProcessState.ExitCode()}
}

// createTenant runs 'facereg tenants create NAME --data DIR' and returns the
// tenant's API key.
func createTenant(t testing.TB, bin, data, name string) string {
	t.Helper()
	r := runCLI(t, bin, binEnv(t), 60*time.Second, "tenants", "create", name, "--data", data)
	if r.Code != 0 {
		t.Fatalf("tenants create: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	var out struct {
		APIKey   string `json:"api_key"`
		ClientID string `json:"client_id"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil || out.APIKey == "" || out.ClientID == "" {
		t.Fatalf("tenants create printed no api_key: %v\n%s", err, r.Stdout)
	}
	return out.APIKey
}

// logSink collects a process's stderr and picks out the "listening" line.
type logSink struct {
	mu        sync.Mutex
	all       bytes.Buffer
	partial   []byte
	listening chan map[string]any // receives the first "listening" line
	sent      bool
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.all.Write(p)
	s.partial = append(s.partial, p...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			break
		}
		line := s.partial[:i]
		s.partial = s.partial[i+1:]
		var m map[string]any
		if !s.sent && json.Unmarshal(line, &m) == nil && m["msg"] == "listening" {
			s.sent = true
			s.listening <- m
		}
	}
	return len(p), nil
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.all.String()
}

// lines returns the JSON log lines whose msg is msg.
func (s *logSink) lines(msg string) []map[string]any {
	var out []map[string]any
	for _, l := range strings.Split(s.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// serveProc is a running 'facereg serve' subprocess.
type serveProc struct {
	Addr string // host:port from the "listening" log line
	URL  string // the url of that line (http:// or https://)
	Logs *logSink

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // of Wait, valid after done
}

// startServer starts 'facereg serve ARGS' and waits for its "listening" log
// line (JSON). The process is killed when the test ends if still running.
func startServer(t testing.TB, bin string, env []string, args ...string) *serveProc {
	t.Helper()
	s := &serveProc{Logs: &logSink{listening: make(chan map[string]any, 1)}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, append([]string{"serve"}, args...)...)
	s.cmd.Env = env
	s.cmd.Stderr = s.Logs
	s.cmd.Stdout = s.Logs
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start facereg serve: %v", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.Kill(t)
		if t.Failed() {
			t.Logf("log of facereg serve (pid %d, %v):\n%s", s.cmd.Process.Pid, s.cmd.ProcessState, s.tail(80))
		}
	})
	select {
	case m := <-s.Logs.listening:
		s.Addr, _ = m["addr"].(string)
		s.URL, _ = m["url"].(string)
		if s.Addr == "" {
			t.Fatalf("listening line without addr: %v", m)
		}
	case <-s.done:
		t.Fatalf("facereg serve exited before listening (%v):\n%s", s.err, s.Logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("facereg serve did not log \"listening\" within 60s:\n%s", s.Logs.String())
	}
	return s
}

// tail returns the last n lines of the log.
func (s *serveProc) tail(n int) string {
	lines := strings.Split(strings.TrimRight(s.Logs.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Kill sends SIGKILL and waits for the process (idempotent).
func (s *serveProc) Kill(t testing.TB) {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Errorf("facereg serve (pid %d) did not die after SIGKILL", s.cmd.Process.Pid)
	}
}

// Stop sends SIGTERM and returns the exit code (failing the test if the
// process does not exit within timeout).
func (s *serveProc) Stop(t testing.TB, timeout time.Duration) int {
	t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(timeout):
		s.Kill(t)
		t.Fatalf("facereg serve did not exit within %v of SIGTERM:\n%s", timeout, s.Logs.String())
	}
	return s.cmd.ProcessState.ExitCode()
}

// stopClean stops the server with SIGTERM and checks a clean exit: code 0
// and the "stopped" log line.
func (s *serveProc) stopClean(t testing.TB) {
	t.Helper()
	if code := s.Stop(t, 30*time.Second); code != 0 {
		t.Fatalf("facereg serve exited with %d after SIGTERM:\n%s", code, s.Logs.String())
	}
	if len(s.Logs.lines("stopped")) != 1 {
		t.Fatalf("no \"stopped\" log line after SIGTERM:\n%s", s.Logs.String())
	}
}

// apiResp is a decoded API response.
type apiResp struct {
	Status int
	Body   []byte
	JSON   map[string]any
}

// str walks a JSON path to a string ("" when absent).
func (r *apiResp) str(path ...string) string {
	s, _ := r.get(path...).(string)
	return s
}

func (r *apiResp) get(path ...string) any {
	var cur any = r.JSON
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

// apiClient talks to a server's native API with one tenant key.
type apiClient struct {
	base string
	key  string
	hc   *http.Client
}

func newAPIClient(base, key string, tlsConf *tls.Config) *apiClient {
	tr := &http.Transport{MaxIdleConnsPerHost: 16, TLSClientConfig: tlsConf}
	return &apiClient{base: strings.TrimRight(base, "/"), key: key, hc: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// do sends a request with a JSON body (nil for none); a transport error is
// returned, not fatal (the crash test expects them).
func (c *apiClient) do(method, path string, body any) (*apiResp, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	r := &apiResp{Status: resp.StatusCode, Body: b}
	_ = json.Unmarshal(b, &r.JSON)
	return r, nil
}

// must is do that fails the test on a transport error.
func (c *apiClient) must(t testing.TB, method, path string, body any) *apiResp {
	t.Helper()
	r, err := c.do(method, path, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// readB64 reads an image as base64.
func readB64(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("test image: %v", err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// identifyKeys returns the registration keys identify finds for an image
// (liveness skipped: the photos are not live captures).
func (c *apiClient) identifyKeys(t testing.TB, b64 string) ([]string, *apiResp) {
	t.Helper()
	r := c.must(t, "POST", "/v1/identify", map[string]any{"image": b64, "liveness": "skip", "limit": 10})
	if r.Status != http.StatusOK {
		t.Fatalf("identify: %d %s", r.Status, r.Body)
	}
	cands, _ := r.get("candidates").([]any)
	var keys []string
	for _, c := range cands {
		m, _ := c.(map[string]any)
		k, _ := m["registration_key"].(string)
		keys = append(keys, k)
	}
	return keys, r
}

// listRegistrations pages through GET /v1/registrations.
func (c *apiClient) listRegistrations(t testing.TB, page int) []map[string]any {
	t.Helper()
	var all []map[string]any
	after := ""
	for i := 0; ; i++ {
		if i > 1000 {
			t.Fatal("registration paging does not end")
		}
		r := c.must(t, "GET", fmt.Sprintf("/v1/registrations?limit=%d&after=%s", page, after), nil)
		if r.Status != http.StatusOK {
			t.Fatalf("list registrations: %d %s", r.Status, r.Body)
		}
		regs, ok := r.get("registrations").([]any)
		if !ok {
			t.Fatalf("list without registrations: %s", r.Body)
		}
		for _, x := range regs {
			m, _ := x.(map[string]any)
			all = append(all, m)
		}
		next := r.str("next_after")
		if next == "" {
			return all
		}
		if next == after {
			t.Fatalf("paging stuck at %q", next)
		}
		after = next
	}
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
