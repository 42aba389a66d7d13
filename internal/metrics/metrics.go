// Package metrics holds facereg's Prometheus collectors, registered on one
// registry that /metrics serves.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the service's collectors.
type Metrics struct {
	Registry      *prometheus.Registry
	Requests      *prometheus.CounterVec   // route, method, code, outcome
	Latency       *prometheus.HistogramVec // route, outcome
	Stages        *prometheus.HistogramVec // stage
	IndexSize     prometheus.GaugeFunc
	IndexBytes    prometheus.GaugeFunc
	InFlight      prometheus.Gauge
	Overloaded    prometheus.Counter
	Tasks         *prometheus.CounterVec // status
	Webhooks      *prometheus.CounterVec // outcome
	Registrations *prometheus.CounterVec // outcome, reason
}

// New registers every collector. indexLen and indexBytes are read at scrape time.
func New(indexLen, indexBytes func() float64) *Metrics {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	lat := []float64{.005, .01, .02, .03, .05, .075, .1, .15, .25, .5, 1, 2.5, 5}
	m := &Metrics{
		Registry: r,
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "facereg_http_requests_total", Help: "HTTP requests by route, status code and outcome (success, refused, error).",
		}, []string{"route", "method", "code", "outcome"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "facereg_http_request_duration_seconds", Help: "HTTP request latency by route and outcome.", Buckets: lat,
		}, []string{"route", "outcome"}),
		Stages: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "facereg_engine_stage_duration_seconds", Help: "Face engine stage latency.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .02, .03, .05, .1, .25, 1},
		}, []string{"stage"}),
		IndexSize: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "facereg_index_templates", Help: "Templates in the in-memory 1:N index (all tenants).",
		}, indexLen),
		IndexBytes: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "facereg_index_bytes", Help: "Approximate memory held by the 1:N index.",
		}, indexBytes),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "facereg_analyses_in_flight", Help: "Face analyses running now.",
		}),
		Overloaded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "facereg_overloaded_total", Help: "Requests refused with 503 because the analysis bound was reached.",
		}),
		Tasks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "facereg_tasks_total", Help: "Async tasks finished, by status.",
		}, []string{"status"}),
		Webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "facereg_webhook_deliveries_total", Help: "Webhook delivery attempts by outcome.",
		}, []string{"outcome"}),
		Registrations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "facereg_registrations_total", Help: "Registration attempts by outcome and reason code.",
		}, []string{"outcome", "reason"}),
	}
	r.MustRegister(m.Requests, m.Latency, m.Stages, m.IndexSize, m.IndexBytes, m.InFlight, m.Overloaded, m.Tasks, m.Webhooks, m.Registrations)
	return m
}

// ObserveStage records one engine stage duration.
func (m *Metrics) ObserveStage(stage string, d time.Duration) {
	m.Stages.WithLabelValues(stage).Observe(d.Seconds())
}
