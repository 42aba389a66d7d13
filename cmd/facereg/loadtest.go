package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// runLoadtest drives a running server with registrations for a bounded time
// and prints throughput and latency percentiles. Each request registers one
// image of DIR under a fresh external id; with --delete (default) a
// successful registration is deleted right away (untimed), so the same
// images can be registered again and every request does the full work of a
// registration (analysis, duplicate search, durable insert).
func runLoadtest(ctx context.Context, args []string) error {
	fs := newFlags("loadtest")
	addr := fs.String("addr", "http://127.0.0.1:8080", "server base URL (loopback only)")
	key := fs.String("key", "", "tenant API key")
	conc := fs.Int("concurrency", 4, "concurrent clients")
	dur := fs.Duration("duration", 30*time.Second, "how long to drive the server")
	dir := fs.String("images", "", "directory of JPEG/PNG/WebP images (searched recursively)")
	del := fs.Bool("delete", true, "delete each registration after it succeeds (untimed)")
	liveness := fs.String("liveness", "", "liveness mode sent with each registration (require, report, skip; default: the tenant's)")
	sample := fs.Duration("sample", 0, "also print one JSON line per interval with throughput, latency and server RSS (for soak tests)")
	remote := fs.Bool("allow-remote", false, "allow a non-loopback --addr")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *key == "" || *dir == "" || *conc < 1 || *dur <= 0 {
		fs.Usage()
		return errUsage
	}
	base := strings.TrimRight(*addr, "/")
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	if u, err := url.Parse(base); err != nil || !isLoopback(u.Hostname()) {
		if !*remote {
			return fmt.Errorf("--addr %s is not a loopback address; load tests target a server on this machine (pass --allow-remote to override)", *addr)
		}
	}
	var bodies [][]byte
	err := filepath.WalkDir(*dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".jpg", ".jpeg", ".png", ".webp":
		default:
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		bodies = append(bodies, []byte(base64.StdEncoding.EncodeToString(b)))
		return nil
	})
	if err != nil {
		return err
	}
	if len(bodies) == 0 {
		return fmt.Errorf("no images under %s", *dir)
	}
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *conc * 2}}
	rssStart := serverRSS(client, base)

	var (
		mu       sync.Mutex
		lat      []time.Duration
		window   []time.Duration
		codes    = map[string]int{}
		seq      atomic.Int64
		requests atomic.Int64
	)
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	lctx, cancel := context.WithTimeout(ctx, *dur)
	defer cancel()
	start := time.Now()
	if *sample > 0 {
		go func() {
			tk := time.NewTicker(*sample)
			defer tk.Stop()
			last := time.Now()
			for {
				select {
				case <-lctx.Done():
					return
				case now := <-tk.C:
					mu.Lock()
					w := window
					window = nil
					mu.Unlock()
					line := map[string]any{"t": now.Sub(start).Seconds(), "per_second": float64(len(w)) / now.Sub(last).Seconds(), "rss_bytes": serverRSS(client, base)}
					for k, v := range percentiles(w) {
						line[k] = v
					}
					last = now
					b, _ := json.Marshal(line)
					fmt.Fprintln(os.Stderr, string(b))
				}
			}
		}()
	}
	var wg sync.WaitGroup
	for c := 0; c < *conc; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for lctx.Err() == nil {
				n := seq.Add(1)
				img := bodies[int(n)%len(bodies)]
				var buf bytes.Buffer
				buf.WriteString(`{"external_id":"lt-` + runID + "-" + strconv.FormatInt(n, 10) + `","image":"`)
				buf.Write(img)
				buf.WriteString(`"`)
				if *liveness != "" {
					buf.WriteString(`,"liveness":"` + *liveness + `"`)
				}
				buf.WriteString("}")
				t0 := time.Now()
				// A request started before the end runs to completion (and
				// its registration is deleted), so no run leaves
				// registrations behind that would turn the next run's
				// requests into duplicates.
				code, regKey, err := post(ctx, client, base+"/v1/registrations", *key, buf.Bytes())
				d := time.Since(t0)
				if errors.Is(err, context.Canceled) {
					return
				}
				requests.Add(1)
				label := strconv.Itoa(code)
				if err != nil {
					label = "transport_error"
				}
				mu.Lock()
				codes[label]++
				lat = append(lat, d)
				window = append(window, d)
				mu.Unlock()
				if code == http.StatusCreated && *del && regKey != "" {
					req, _ := http.NewRequest(http.MethodDelete, base+"/v1/registrations/"+regKey, nil)
					req.Header.Set("Authorization", "Bearer "+*key)
					if resp, err := client.Do(req); err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	ok := codes["201"]
	fivexx := 0
	for k, v := range codes {
		if strings.HasPrefix(k, "5") || k == "transport_error" {
			fivexx += v
		}
	}
	out := map[string]any{
		"duration_s": elapsed.Seconds(), "concurrency": *conc, "requests": requests.Load(),
		"registrations": ok, "registrations_per_s": float64(ok) / elapsed.Seconds(),
		"requests_per_s": float64(requests.Load()) / elapsed.Seconds(), "status_codes": codes, "errors_5xx": fivexx,
		"server_rss_start_bytes": rssStart, "server_rss_end_bytes": serverRSS(client, base),
	}
	for k, v := range percentiles(lat) {
		out[k] = v
	}
	return printJSON(out)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func post(ctx context.Context, c *http.Client, target, key string, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var r struct {
		Key string `json:"registration_key"`
	}
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &r)
	return resp.StatusCode, r.Key, nil
}

func percentiles(d []time.Duration) map[string]float64 {
	if len(d) == 0 {
		return map[string]float64{}
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	p := func(q float64) float64 {
		i := int(q*float64(len(s))+0.5) - 1
		if i < 0 {
			i = 0
		}
		if i >= len(s) {
			i = len(s) - 1
		}
		return float64(s[i].Microseconds()) / 1000
	}
	return map[string]float64{"p50_ms": p(0.50), "p95_ms": p(0.95), "p99_ms": p(0.99), "max_ms": p(1)}
}

// serverRSS reads process_resident_memory_bytes from the server's /metrics.
func serverRSS(c *http.Client, base string) float64 {
	resp, err := c.Get(base + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "process_resident_memory_bytes "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f
		}
	}
	return 0
}
