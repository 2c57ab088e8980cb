package web

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the node's Prometheus metrics, on a registry of their own (no globals), served
// on the separate metrics address.
type Metrics struct {
	Registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// LiveStats reports the live-room state for the metrics.
type LiveStats interface {
	Connections() int
	BrokerUp() bool
	SlowDropped() uint64 // connections dropped because they did not keep up (4000)
}

// NewMetrics registers the HTTP metrics, the live-room gauges (when live is given) and the Go
// runtime collectors. A nil registry makes a new one.
func NewMetrics(reg *prometheus.Registry, live LiveStats) *Metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "insieme_http_requests_total", Help: "HTTP requests by route and status."}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "insieme_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.latency, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if live != nil {
		reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "insieme_ws_connections", Help: "Open websocket connections."},
				func() float64 { return float64(live.Connections()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "insieme_ws_slow_dropped_total",
				Help: "Websocket connections dropped because their queue overflowed (close code 4000)."},
				func() float64 { return float64(live.SlowDropped()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "insieme_broker_up", Help: "1 when the broker (Redis) is reachable."},
				func() float64 {
					if live.BrokerUp() {
						return 1
					}
					return 0
				}),
		)
	}
	return m
}

func (m *Metrics) observe(method, route string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(method, route).Observe(d.Seconds())
}
