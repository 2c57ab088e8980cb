package realtime

import (
	"log/slog"
	"runtime"
	"time"
)

// Close codes sent in websocket close frames (docs/PROTOCOL.md).
const (
	CloseNormal        = 1000
	CloseGoingAway     = 1001 // the server is shutting down
	ClosePolicy        = 1008 // authentication revoked
	CloseTooBig        = 1009 // a message far beyond MaxMessageBytes
	CloseInternal      = 1011 // the server could not resynchronise a room
	CloseSlowConsumer  = 4000 // the connection's queue overflowed
	CloseFlood         = 4001 // too many messages, persistently
	CloseAccountClosed = 4003 // suspended or signed out everywhere
	CloseRemoved       = 4004 // a host removed the person from a live session
)

// Options configure a Hub. Zero values take the defaults shown.
type Options struct {
	Broker Broker // required
	Hooks  Hooks  // required
	Logger *slog.Logger

	QueueSize       int           // frames queued per connection before it is dropped with 4000; 256
	Heartbeat       time.Duration // server ping interval; a client silent for two is closed; 25s
	MaxMessageBytes int           // largest accepted client message; 16 KiB
	RatePerSecond   int           // client messages per second per connection (burst 2x); 20
	// RatePerPrincipal is a person's (or guest's) messages per second across all their
	// connections to this node (burst 2x); 30.
	RatePerPrincipal int

	// Added beyond the brief:
	WriteTimeout  time.Duration // a write to a client that does not read fails after WriteTimeout/2 to WriteTimeout; 10s
	CloseGrace    time.Duration // how long a closing connection may try to send its close frame; 2s
	ActionTimeout time.Duration // deadline of hook and handler calls; 15s
	MaxRooms      int           // rooms one connection may join; 100
	// WriteSlots is how many connections' writers may write at once; GOMAXPROCS. The others
	// wait their turn parked, out of the scheduler's run queues (see writeLoop).
	WriteSlots int
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 256
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 25 * time.Second
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = 16 << 10
	}
	if o.RatePerSecond <= 0 {
		o.RatePerSecond = 20
	}
	if o.RatePerPrincipal <= 0 {
		o.RatePerPrincipal = 30
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.CloseGrace <= 0 {
		o.CloseGrace = 2 * time.Second
	}
	if o.ActionTimeout <= 0 {
		o.ActionTimeout = 15 * time.Second
	}
	if o.MaxRooms <= 0 {
		o.MaxRooms = 100
	}
	if o.WriteSlots <= 0 {
		o.WriteSlots = runtime.GOMAXPROCS(0)
	}
	return o
}

// hardLimit is the size beyond which a message is not drained but closes the connection (1009):
// draining protects the connection from one mistake, not the server from a stream of garbage.
func (o Options) hardLimit() int64 { return int64(o.MaxMessageBytes) * 64 }
