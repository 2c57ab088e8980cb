package web

import "testing"

type fakeLive struct {
	conns int
	up    bool
	slow  uint64
}

func (f *fakeLive) Connections() int    { return f.conns }
func (f *fakeLive) BrokerUp() bool      { return f.up }
func (f *fakeLive) SlowDropped() uint64 { return f.slow }

// The live-room metrics read the hub's figures when scraped.
func TestLiveMetricsFollowTheHub(t *testing.T) {
	live := &fakeLive{conns: 3, up: true, slow: 2}
	m := NewMetrics(nil, live)
	check := func(conns, up, slow float64) {
		t.Helper()
		for name, want := range map[string]float64{"insieme_ws_connections": conns,
			"insieme_broker_up": up, "insieme_ws_slow_dropped_total": slow} {
			if v := gathered(t, m, name); v != want {
				t.Errorf("%s = %v, want %v", name, v, want)
			}
		}
	}
	check(3, 1, 2)
	live.conns, live.up, live.slow = 0, false, 7
	check(0, 0, 7)
}

func gathered(t *testing.T, m *Metrics, name string) float64 {
	t.Helper()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		if len(f.GetMetric()) != 1 {
			t.Fatalf("%s: %d series", name, len(f.GetMetric()))
		}
		metric := f.GetMetric()[0]
		if c := metric.GetCounter(); c != nil {
			return c.GetValue()
		}
		return metric.GetGauge().GetValue()
	}
	t.Fatalf("%s not gathered", name)
	return 0
}
