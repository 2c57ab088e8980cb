// Package app holds Insieme's use cases: who may do what, and "write, then publish". It talks
// to the store, the mailer and the live rooms through interfaces, and knows nothing of HTTP.
package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/insieme/insieme/internal/catalog"
	"github.com/insieme/insieme/internal/insieme"
	"github.com/insieme/insieme/internal/markup"
)

// Store is everything the app keeps.
type Store interface {
	insieme.AccountStore
	insieme.SessionStore
	insieme.OrganisationStore
	insieme.Outbox
	insieme.ForumStore
	insieme.ProposalStore
	insieme.ThreadStore
	insieme.FollowStore
	insieme.TimelineStore
	insieme.ModerationStore
	insieme.LiveStore
	insieme.MinutesStore
	insieme.QuestionStore
	insieme.PollStore
	insieme.WorkshopStore
}

// Live is the live-room hub as the app sees it.
type Live interface {
	Publish(ctx context.Context, room string, data any) error
	// DisconnectPrincipal closes every live connection of a participant (suspension, erasure).
	DisconnectPrincipal(principalID string, code int)
}

// MailSender delivers a mail outside Insieme (SMTP). Nil keeps mails in the development outbox.
type MailSender interface {
	Send(ctx context.Context, m *insieme.Mail) error
}

// Deps are what App needs.
type Deps struct {
	Store      Store
	Live       Live
	Mail       MailSender // nil: development outbox only
	Clock      insieme.Clock
	Logger     *slog.Logger
	BaseURL    string
	SessionTTL time.Duration
	Hasher     *PasswordHasher // nil: production parameters
	// RepairAfter is how long after a change to supports or comments a node recounts them
	// from the stored supports and comments (0: never). Set it when several nodes share a
	// FerretDB store, which can lose their concurrent increments (see repair.go).
	RepairAfter time.Duration
}

// App is the use-case layer.
type App struct {
	store        Store
	live         Live
	mail         MailSender
	clock        insieme.Clock
	log          *slog.Logger
	baseURL      string
	sessionTTL   time.Duration
	hasher       *PasswordHasher
	dummyHash    string // verified against when an email is unknown, so timing does not tell
	personal     []PersonalData
	catalog      atomic.Pointer[catalog.Catalog] // the per-node read model of proposals
	tasks        sync.WaitGroup                  // background work started by requests (Wait drains it)
	markup       *markup.Renderer
	names        names         // cached names for list pages
	threads      threadCache   // recently read comment threads
	openData     openDataCache // recently built open-data exports, per forum
	locks        keyLocks      // per-key read-modify-write on this node
	repairAfter  time.Duration
	rooms        liveRooms // this node's copy of live sessions' state
	minutesKnown knownMinutes
	parts        liveParts     // this node's copy of sessions' questions, upvotes and hands
	polls        livePolls     // this node's copy of sessions' polls and their running counts
	repairs      repairs       // proposals waiting for a recount
	workshops    workshopRooms // this node's copy of workshops and their boards

	node     string           // this process's id among the nodes (random per process)
	presence *presenceTracker // who is connected to live sessions, on every node

	loadMu            sync.Mutex
	loading           bool            // LoadCatalog is scanning the store
	changedDuringLoad map[string]bool // proposals to read again after the scan
}

// New builds the app.
func New(d Deps) *App {
	a := &App{store: d.Store, live: d.Live, mail: d.Mail, clock: d.Clock, log: d.Logger, baseURL: d.BaseURL,
		sessionTTL: d.SessionTTL, hasher: d.Hasher, repairAfter: d.RepairAfter}
	if a.clock == nil {
		a.clock = insieme.SystemClock{}
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.hasher == nil {
		a.hasher = DefaultHasher()
	}
	if a.sessionTTL <= 0 {
		a.sessionTTL = 30 * 24 * time.Hour
	}
	if a.live == nil {
		a.live = noLive{}
	}
	a.dummyHash = a.hasher.Hash(newSecret())
	a.personal = a.corePersonalData()
	a.personal = append(a.personal, a.questionsPersonalData()...)
	a.personal = append(a.personal, a.pollsPersonalData()...)
	a.personal = append(a.personal, a.minutesPersonalData(), a.sessionsPersonalData())
	a.personal = append(a.personal, a.workshopsPersonalData())
	a.catalog.Store(newCatalog())
	a.markup = markup.New()
	a.node = newID()[:16]
	a.presence = newPresenceTracker(a.node, a.publish, a.log)
	return a
}

// background runs work after a request has been answered, detached from its cancellation and
// bounded in time.
func (a *App) background(ctx context.Context, work func(ctx context.Context)) {
	a.tasks.Add(1)
	go func() {
		defer a.tasks.Done()
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		work(bctx)
	}()
}

// Wait waits for background work and sends this node's pending presence changes to the
// other nodes (shutdown, tests).
func (a *App) Wait() {
	a.tasks.Wait()
	a.presence.flush()
}

// Now is the app's clock.
func (a *App) Now() time.Time { return a.clock.Now() }

// publish sends a live event after a write; a failure is logged, never returned: the write
// happened and clients catch up through their snapshot.
func (a *App) publish(ctx context.Context, room string, data any) {
	if err := a.live.Publish(ctx, room, data); err != nil {
		a.log.Warn("live publish failed", "room", room, "err", err)
	}
}

type noLive struct{}

func (noLive) Publish(context.Context, string, any) error { return nil }
func (noLive) DisconnectPrincipal(string, int)            {}

// newID returns a random, URL-safe identifier (128 bits).
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newSecret returns a random secret (256 bits) for cookies, links and guest tokens.
func newSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// HashSecret is how secrets are stored: a look-up by the hash finds them, a copy of the store
// does not reveal them.
func HashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}
