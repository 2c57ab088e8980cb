package app

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// PasswordHasher hashes passwords with argon2id.
type PasswordHasher struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	once    sync.Once
	slots   chan struct{} // bounds concurrent hashes: each takes Memory, a burst must not exhaust RAM
}

// DefaultHasher uses OWASP's recommended argon2id parameters (19 MiB, 2 passes, 1 thread).
func DefaultHasher() *PasswordHasher { return &PasswordHasher{Memory: 19 * 1024, Time: 2, Threads: 1} }

// acquire waits for a hashing slot (one per CPU) and returns its release.
func (h *PasswordHasher) acquire() func() {
	h.once.Do(func() { h.slots = make(chan struct{}, runtime.NumCPU()) })
	h.slots <- struct{}{}
	return func() { <-h.slots }
}

// Hash returns an encoded hash with its parameters and salt (the PHC string format).
func (h *PasswordHasher) Hash(password string) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	defer h.acquire()()
	key := argon2.IDKey([]byte(password), salt, h.Time, h.Memory, h.Threads, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.Memory, h.Time, h.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// Verify reports whether password matches the encoded hash, using the hash's own parameters.
func (h *PasswordHasher) Verify(password, encoded string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	defer h.acquire()()
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
