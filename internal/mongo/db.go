// Package mongo keeps Insieme's data in MongoDB (or FerretDB, which speaks its wire protocol).
// It uses only the subset of MongoDB that works on both (see DESIGN.md): point look-ups by _id,
// inserts under unique keys, single-document updates; no transactions, no $lookup.
package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"github.com/insieme/insieme/internal/insieme"
)

// Collection names. Every collection that holds something about a person is read by Export
// and cleaned by the erasure in internal/app.
const (
	colAccounts      = "accounts"
	colAccountEmails = "account_emails" // _id: normalised email → account id (unique, point look-up)
	colSessions      = "sessions"
	colTokens        = "tokens"
	colOrganisations = "organisations"
	colMembers       = "memberships"
	colInvitations   = "invitations"
	colOutbox        = "outbox"
	colForums        = "forums"
	colForumRoles    = "forum_roles" // _id: "<forum>:<account>"
	colProposals     = "proposals"
	colTranslations  = "translations"  // _id: "<proposal>:<lang>"
	colSupports      = "supports"      // _id: "<proposal>:<account>"
	colThreads       = "threads"       // _id: the proposal; a cache of its comments in one document
	colComments      = "comments"      // _id: "<proposal>~<random>"; one document per comment (the truth)
	colCounts        = "counts"        // _id: the proposal; its support and comment counts
	colChanges       = "changes"       // a note of each support withdrawal, for the sweep (see NoteChange)
	colFollowers     = "followers"     // _id: the proposal; a cache of the accounts that follow it
	colFollows       = "follows"       // _id: "<proposal>:<account>"; one document per follow (the truth)
	colMeta          = "meta"          // _id: a migration's name, once it ran (not backed up: a restore migrates)
	colInboxes       = "inboxes"       // _id: the account; its newest notifications
	colTimelines     = "timelines"     // _id: the proposal; its status changes, answers and updates
	colCases         = "cases"         // _id: "<kind>:<content>"; its reports and moderation
	colAudit         = "audit"         // moderation actions: who, what, when, why
	colLiveSessions  = "live_sessions" // hosts' state of live sessions
	colJoinCodes     = "join_codes"    // _id: the code; sessions and workshops share the namespace
	colGuests        = "guests"        // _id: the hash of a guest's token
	colPolls         = "polls"         // live sessions' polls, written by their hosts
	colBallots       = "ballots"       // _id: "<poll>:<voter>:<version, 20 digits>"; append-only
	colQuestions     = "questions"     // _id: "<session>~<random>"; live sessions' questions
	colUpvotes       = "upvotes"       // _id: "<question>:<participant>"
	colHands         = "hands"         // _id: "<session>:<participant>"; raised hands
	colMinutes       = "minutes"       // _id: the session; its record, people by id

	// Co-design workshops (docs/WORKSHOPS.md): inserts only, but for the facilitators' documents.
	colWorkshops       = "workshops"        // facilitators' state of workshops
	colCards           = "cards"            // _id: "<workshop>~<random>"; inserted once
	colClusters        = "clusters"         // _id: "<workshop>~k<random>"; inserted once
	colBoardEdits      = "board_edits"      // _id: "<item>|<field>|<version>"; append-only
	colWorkshopGroups  = "workshop_groups"  // _id: "<workshop>:<participant>:<n>"; the highest n wins
	colDots            = "dots"             // _id: "<workshop>:<voter>:<slot>"
	colWorkshopActions = "workshop_actions" // _id: "<workshop>~a<random>"; the action plan
)

// Collections lists every collection Insieme writes, for backup and restore.
var Collections = []string{colAccounts, colAccountEmails, colSessions, colTokens, colOrganisations, colMembers, colInvitations, colOutbox,
	colForums, colForumRoles, colProposals, colTranslations, colSupports, colThreads, colComments, colCounts, colChanges, colFollowers, colFollows, colInboxes, colTimelines, colCases, colAudit,
	colLiveSessions, colJoinCodes, colGuests, colPolls, colBallots, colQuestions, colUpvotes, colHands, colMinutes,
	colWorkshops, colCards, colClusters, colBoardEdits, colWorkshopGroups, colDots, colWorkshopActions}

// DB is the store. Reads use a pooled client; writes go through a client of their own, which
// has one connection on the embedded store because FerretDB loses concurrent updates of one
// document made from several connections.
type DB struct {
	read, write *mongo.Client
	r, w        *mongo.Database
	threadLocks [64]sync.Mutex // see lockThread
}

// Options configure Open.
type Options struct {
	URI          string
	Database     string
	SingleWriter bool // one write connection; Open sets it by itself on FerretDB
}

// Open connects to the store and checks that it answers. On FerretDB (any: the embedded one,
// a shared `insieme devdb`, one on PostgreSQL) writes go through one connection, since FerretDB
// does not order concurrent rewrites of a document made on several connections.
func Open(ctx context.Context, opts Options) (*DB, error) {
	read, err := mongo.Connect(options.Client().ApplyURI(opts.URI).SetTimeout(30 * time.Second).SetServerSelectionTimeout(10 * time.Second))
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	db := &DB{read: read, r: read.Database(opts.Database)}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.Ping(pctx); err != nil {
		_ = read.Disconnect(ctx)
		return nil, fmt.Errorf("store: cannot reach %s: %w", redactURI(opts.URI), err)
	}
	single := opts.SingleWriter
	if !single {
		if single, err = db.IsFerretDB(pctx); err != nil {
			_ = read.Disconnect(ctx)
			return nil, err
		}
	}
	wopts := options.Client().ApplyURI(opts.URI).SetTimeout(30 * time.Second).SetServerSelectionTimeout(10 * time.Second)
	if single {
		wopts.SetMaxPoolSize(1)
	}
	write, err := mongo.Connect(wopts)
	if err != nil {
		_ = read.Disconnect(ctx)
		return nil, fmt.Errorf("store: %w", err)
	}
	db.write, db.w = write, write.Database(opts.Database)
	return db, nil
}

// Ping checks that the store answers.
func (db *DB) Ping(ctx context.Context) error {
	return db.read.Ping(ctx, readpref.Primary())
}

// Close disconnects both clients.
func (db *DB) Close(ctx context.Context) error {
	return errors.Join(db.read.Disconnect(ctx), db.write.Disconnect(ctx))
}

// EnsureIndexes creates the indexes idempotently, then brings a store written by an earlier
// version to the current layout (see migrate.go). On FerretDB's SQLite backend indexes only
// enforce uniqueness; reads that must be fast go by _id.
func (db *DB) EnsureIndexes(ctx context.Context) error {
	// Every collection exists from the start (the embedded store indexes _id per table).
	names, err := db.w.ListCollectionNames(ctx, bson.M{})
	if err != nil {
		return fmt.Errorf("store: collections: %w", err)
	}
	for _, col := range append(slices.Clone(Collections), colMeta) {
		if !slices.Contains(names, col) {
			if err := db.w.CreateCollection(ctx, col); err != nil && !isNamespaceExists(err) {
				return fmt.Errorf("store: create %s: %w", col, err)
			}
		}
	}
	idx := map[string][]mongo.IndexModel{
		colSessions:    {{Keys: bson.D{{Key: "accountId", Value: 1}}}},
		colTokens:      {{Keys: bson.D{{Key: "accountId", Value: 1}}}},
		colMembers:     {{Keys: bson.D{{Key: "orgId", Value: 1}}}, {Keys: bson.D{{Key: "accountId", Value: 1}}}},
		colInvitations: {{Keys: bson.D{{Key: "orgId", Value: 1}}}, {Keys: bson.D{{Key: "email", Value: 1}}}},

		// Forums and proposals.
		colForums:       {{Keys: bson.D{{Key: "municipalityId", Value: 1}}}},
		colForumRoles:   {{Keys: bson.D{{Key: "forumId", Value: 1}}}, {Keys: bson.D{{Key: "accountId", Value: 1}}}},
		colProposals:    {{Keys: bson.D{{Key: "forumId", Value: 1}}}, {Keys: bson.D{{Key: "authorId", Value: 1}}}},
		colTranslations: {{Keys: bson.D{{Key: "proposalId", Value: 1}}}, {Keys: bson.D{{Key: "translatorId", Value: 1}}}},
		colSupports:     {{Keys: bson.D{{Key: "proposalId", Value: 1}}}, {Keys: bson.D{{Key: "accountId", Value: 1}}}, {Keys: bson.D{{Key: "createdAt", Value: 1}}}},
		colComments:     {{Keys: bson.D{{Key: "proposalId", Value: 1}}}, {Keys: bson.D{{Key: "authorId", Value: 1}}}, {Keys: bson.D{{Key: "storedAt", Value: 1}}}},
		colFollows:      {{Keys: bson.D{{Key: "proposalId", Value: 1}}}, {Keys: bson.D{{Key: "accountId", Value: 1}}}},
		colChanges:      {{Keys: bson.D{{Key: "at", Value: 1}}}},

		// Live sessions.
		colLiveSessions: {{Keys: bson.D{{Key: "forumId", Value: 1}}}},
		colGuests:       {{Keys: bson.D{{Key: "guestId", Value: 1}}}},
		colPolls:        {{Keys: bson.D{{Key: "sessionId", Value: 1}}}},
		colBallots:      {{Keys: bson.D{{Key: "pollId", Value: 1}}}, {Keys: bson.D{{Key: "sessionId", Value: 1}}}, {Keys: bson.D{{Key: "voterId", Value: 1}}}},
		colQuestions:    {{Keys: bson.D{{Key: "sessionId", Value: 1}}}, {Keys: bson.D{{Key: "authorId", Value: 1}}}},
		colUpvotes:      {{Keys: bson.D{{Key: "sessionId", Value: 1}}}, {Keys: bson.D{{Key: "voterId", Value: 1}}}},
		colHands:        {{Keys: bson.D{{Key: "sessionId", Value: 1}}}, {Keys: bson.D{{Key: "participantId", Value: 1}}}},
		colMinutes:      {{Keys: bson.D{{Key: "people", Value: 1}}}},

		// Workshops. The dots' compound key makes the per-card maximum hold across nodes.
		colWorkshops:       {{Keys: bson.D{{Key: "forumId", Value: 1}}}},
		colCards:           {{Keys: bson.D{{Key: "workshopId", Value: 1}}}, {Keys: bson.D{{Key: "authorId", Value: 1}}}},
		colClusters:        {{Keys: bson.D{{Key: "workshopId", Value: 1}}}},
		colBoardEdits:      {{Keys: bson.D{{Key: "workshopId", Value: 1}}}},
		colWorkshopGroups:  {{Keys: bson.D{{Key: "workshopId", Value: 1}}}, {Keys: bson.D{{Key: "participantId", Value: 1}}}},
		colWorkshopActions: {{Keys: bson.D{{Key: "workshopId", Value: 1}}}, {Keys: bson.D{{Key: "ownerId", Value: 1}}}},
		colDots: {{Keys: bson.D{{Key: "workshopId", Value: 1}}}, {Keys: bson.D{{Key: "voterId", Value: 1}}},
			{Keys: bson.D{{Key: "workshopId", Value: 1}, {Key: "voterId", Value: 1}, {Key: "target", Value: 1}, {Key: "k", Value: 1}},
				Options: options.Index().SetUnique(true)}},
	}
	for col, models := range idx {
		// Create only the missing ones, one at a time: FerretDB v1.24 panics on a
		// createIndexes whose indexes partly exist already.
		existing, err := db.indexNames(ctx, col)
		if err != nil {
			return err
		}
		for _, m := range models {
			if existing[indexName(m.Keys.(bson.D))] {
				continue
			}
			if _, err := db.w.Collection(col).Indexes().CreateOne(ctx, m); err != nil {
				return fmt.Errorf("store: indexes of %s: %w", col, err)
			}
		}
	}
	return db.migrate(ctx)
}

func (db *DB) indexNames(ctx context.Context, col string) (map[string]bool, error) {
	cur, err := db.w.Collection(col).Indexes().List(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: indexes of %s: %w", col, err)
	}
	var specs []struct {
		Name string `bson:"name"`
	}
	if err := cur.All(ctx, &specs); err != nil {
		return nil, fmt.Errorf("store: indexes of %s: %w", col, err)
	}
	names := map[string]bool{}
	for _, s := range specs {
		names[s.Name] = true
	}
	return names, nil
}

// indexName is the driver's default name for an index: "field_1_other_-1".
func indexName(keys bson.D) string {
	name := ""
	for i, k := range keys {
		if i > 0 {
			name += "_"
		}
		name += fmt.Sprintf("%s_%v", k.Key, k.Value)
	}
	return name
}

// fail maps driver errors to domain errors; what is not a known case stays an internal error
// (wrapped, for the log; clients never see it).
func fail(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return insieme.Errorf(insieme.ENOTFOUND, "%s not found.", what)
	case mongo.IsDuplicateKeyError(err):
		return insieme.Errorf(insieme.ECONFLICT, "%s already exists.", what)
	case mongo.IsTimeout(err) || mongo.IsNetworkError(err) || errors.Is(err, context.DeadlineExceeded):
		return &insieme.Error{Code: insieme.EUNAVAILABLE, Message: "The store is not reachable; try again shortly."}
	}
	return fmt.Errorf("store: %s: %w", what, err)
}

func redactURI(uri string) string {
	// Never log a password that may be in the URI.
	if i := indexAfterScheme(uri); i >= 0 {
		if at := lastAt(uri); at > i {
			return uri[:i] + "***@" + uri[at+1:]
		}
	}
	return uri
}

func indexAfterScheme(s string) int {
	for i := 0; i+2 < len(s); i++ {
		if s[i] == ':' && s[i+1] == '/' && s[i+2] == '/' {
			return i + 3
		}
	}
	return -1
}

func lastAt(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '@' {
			return i
		}
	}
	return -1
}

// Drop deletes the whole database (tests).
func (db *DB) Drop(ctx context.Context) error { return db.w.Drop(ctx) }

// Name is the database's name (tests open a second node's connection to it).
func (db *DB) Name() string { return db.r.Name() }

// IsFerretDB says whether the store is FerretDB (its buildInfo names its version), which
// loses concurrent rewrites of a document made from several connections.
func (db *DB) IsFerretDB(ctx context.Context) (bool, error) {
	var info bson.M
	if err := db.read.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return false, fmt.Errorf("store: buildInfo: %w", err)
	}
	_, ok := info["ferretdbVersion"]
	return ok, nil
}

// Raw is the underlying database, for tests that write what an older version stored.
func (db *DB) Raw() *mongo.Database { return db.w }

// isNamespaceExists says a collection was created meanwhile (another node at the same time).
func isNamespaceExists(err error) bool {
	var ce mongo.CommandError
	return errors.As(err, &ce) && ce.Code == 48
}
