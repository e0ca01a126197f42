// Package metrics exposes scimbridge's state as Prometheus metrics: the
// HTTP requests it serves, the work it has queued (outbox backlog, tasks,
// accounts, seats, notifications) read from the database at scrape time,
// webhook deliveries, and the Go runtime and the process.
package metrics

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

// DefaultTimeout bounds the database reads of one scrape; Prometheus
// gives up on a scrape after 10s by default.
const DefaultTimeout = 5 * time.Second

// Config configures Metrics.
type Config struct {
	DB     *sqlite.DB
	Engine *engine.Engine
	// Apps are the configured app names, whose state is read per app.
	Apps []string
	// Version is reported in scimbridge_build_info.
	Version string
	// Token, when set, is the bearer token a scraper must send.
	Token string
	// Timeout bounds the database reads of one scrape (default
	// DefaultTimeout).
	Timeout time.Duration
	Logger  *slog.Logger
}

// Metrics holds scimbridge's own registry and the metrics that events
// update as they happen.
type Metrics struct {
	reg      *prometheus.Registry
	token    [sha256.Size]byte
	hasToken bool
	log      *slog.Logger
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	webhooks *prometheus.CounterVec
}

// New builds the registry: the request and webhook metrics, the state
// collector over cfg's database and engine, and the Go runtime and
// process collectors.
func New(cfg Config) (*Metrics, error) {
	if cfg.DB == nil || cfg.Engine == nil {
		return nil, errors.New("metrics: a database and an engine are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	labels := []string{"app", "route", "method", "code"}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		log: cfg.Logger,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scimbridge_http_requests_total",
			Help: "HTTP requests served, by app (SCIM requests for a configured app only), route, method and status code.",
		}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "scimbridge_http_request_duration_seconds",
			Help: "Time taken to answer HTTP requests, by app, route, method and status code.",
			// From SCIM requests, which SQLite answers in a few
			// milliseconds, up to imports of big exports.
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, labels),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scimbridge_webhook_deliveries_total",
			Help: "Requests to notification webhooks, by webhook (scheme and host) and result (ok or failed).",
		}, []string{"webhook", "result"}),
	}
	if cfg.Token != "" {
		m.token, m.hasToken = sha256.Sum256([]byte(cfg.Token)), true
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "scimbridge_build_info",
		Help:        "Always 1; the version label is the running scimbridge's.",
		ConstLabels: prometheus.Labels{"version": cfg.Version},
	})
	build.Set(1)
	for _, c := range []prometheus.Collector{
		m.requests, m.duration, m.webhooks, build,
		newStateCollector(cfg),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := m.reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return m, nil
}

// ObserveRequest counts one finished request; its signature is that of
// scim.Observer, so that the access log can call it.
func (m *Metrics) ObserveRequest(r *http.Request, app string, status int, elapsed time.Duration) {
	values := []string{app, Route(r.URL.Path), method(r.Method), strconv.Itoa(status)}
	m.requests.WithLabelValues(values...).Inc()
	m.duration.WithLabelValues(values...).Observe(elapsed.Seconds())
}

// WebhookDelivered counts one request to a webhook, named by its label
// (scheme and host, which carry no secret).
func (m *Metrics) WebhookDelivered(webhook string, ok bool) {
	result := "failed"
	if ok {
		result = "ok"
	}
	m.webhooks.WithLabelValues(webhook, result).Inc()
}

// Handler serves the metrics in the Prometheus text format. A failed
// database read leaves its metrics out, sets scimbridge_state_up to 0
// and is logged; the answer is still a 200, never an internal error text.
func (m *Metrics) Handler() http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      promLogger{m.log},
		ErrorHandling: promhttp.ContinueOnError,
	})
	if !m.hasToken {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, got, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		sum := sha256.Sum256([]byte(got))
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(sum[:], m.token[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="scimbridge metrics"`)
			http.Error(w, "a bearer token is required", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// promLogger passes promhttp's errors to the log.
type promLogger struct{ log *slog.Logger }

func (l promLogger) Println(v ...any) {
	l.log.Warn("metrics: " + strings.TrimSpace(fmt.Sprintln(v...)))
}
