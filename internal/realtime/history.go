package realtime

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"sync"
	"time"
)

// NewEpoch returns a random epoch: 16 hex characters, no spaces.
func NewEpoch() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	return hex.EncodeToString(b[:])
}

// MemHistory keeps each room's position and its recent events in memory, with a random epoch
// per room. internal/inmem is built on it, and internal/redis uses it while Redis is
// unreachable. It is safe for concurrent use.
type MemHistory struct {
	size  int
	mu    sync.Mutex
	rooms map[string]*memRoom
}

type memRoom struct {
	mu    sync.Mutex
	epoch string
	seq   uint64
	ring  []Event // event seq s lives at ring[(s-1)%size]; it grows to size as events come
	used  time.Time
}

// NewMemHistory keeps up to size events per room (0: positions only, no resume).
func NewMemHistory(size int) *MemHistory {
	if size < 0 {
		size = 0
	}
	return &MemHistory{size: size, rooms: map[string]*memRoom{}}
}

func (m *MemHistory) room(name string) *memRoom {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.rooms[name]
	if r == nil {
		// No ring yet: most rooms (a person's own, a quiet forum) hold a few events, and a
		// thousand events allocated up front for each of 10,000 participants' rooms was 640 MB.
		r = &memRoom{epoch: NewEpoch()}
		m.rooms[name] = r
	}
	return r
}

// Append assigns the room's next seq to data and calls deliver (if not nil) before the next
// Append to the same room can, so deliveries of one room are in seq order. deliver must not
// call back into m for the same room. data must not be modified afterwards.
func (m *MemHistory) Append(room string, data []byte, deliver func(Event)) Event {
	r := m.room(room)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	r.used = time.Now()
	ev := Event{Room: room, Epoch: r.epoch, Seq: r.seq, Data: data}
	if m.size > 0 {
		// Until the ring is full, seq s is appended at s-1; then it wraps.
		if i := int((r.seq - 1) % uint64(m.size)); i < len(r.ring) {
			r.ring[i] = ev
		} else {
			if len(r.ring) == cap(r.ring) {
				r.ring = slices.Grow(r.ring, min(max(2*len(r.ring), 8), m.size)-len(r.ring))
			}
			r.ring = append(r.ring, ev)
		}
	}
	if deliver != nil {
		deliver(ev)
	}
	return ev
}

// Since returns the events after since when they are all still held in the same epoch
// (ok=true), and the room's position either way. An unknown room starts a new epoch at seq 0,
// so a client that subscribes to an empty room can later resume from {epoch, 0}.
func (m *MemHistory) Since(room string, since Position) (events []Event, current Position, ok bool) {
	r := m.room(room)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.used = time.Now()
	current = Position{Epoch: r.epoch, Seq: r.seq}
	if since.Epoch != r.epoch || since.Seq > r.seq {
		return nil, current, false
	}
	oldest := uint64(1) // the oldest seq still held
	if r.seq > uint64(m.size) {
		oldest = r.seq - uint64(m.size) + 1
	}
	if since.Seq+1 < oldest {
		return nil, current, false
	}
	for s := since.Seq + 1; s <= r.seq; s++ {
		events = append(events, r.ring[(s-1)%uint64(m.size)])
	}
	return events, current, true
}

// Forget drops a room: its next use starts a new epoch.
func (m *MemHistory) Forget(room string) {
	m.mu.Lock()
	delete(m.rooms, room)
	m.mu.Unlock()
}

// Clear drops every room.
func (m *MemHistory) Clear() {
	m.mu.Lock()
	clear(m.rooms)
	m.mu.Unlock()
}

// Sweep forgets rooms unused since before cutoff, except those keep reports true for, so rooms
// nobody follows any more do not hold memory forever. It returns how many were forgotten.
func (m *MemHistory) Sweep(cutoff time.Time, keep func(room string) bool) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for name, r := range m.rooms {
		r.mu.Lock()
		idle := r.used.Before(cutoff)
		r.mu.Unlock()
		if idle && (keep == nil || !keep(name)) {
			delete(m.rooms, name)
			n++
		}
	}
	return n
}

// Len is the number of rooms held.
func (m *MemHistory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.rooms)
}
