package web

import (
	"slices"
	"testing"

	"github.com/insieme/insieme/internal/mongo"
)

// TestEveryCollectionIsInTheDataDownload: a new collection must say where the person's data
// in it goes (the part of the download and erasure that covers it) or why it holds none.
func TestEveryCollectionIsInTheDataDownload(t *testing.T) {
	covered := map[string]string{
		"accounts":         "account",
		"account_emails":   "account", // erased with the account (EraseAccount)
		"sessions":         "sessions",
		"tokens":           "links",
		"organisations":    "organisationsCreated",
		"memberships":      "memberships",
		"invitations":      "invitationsSent", // and invitationsReceived
		"outbox":           "mails",
		"forums":           "", // a municipality's forum: the creator's id only, as staff
		"forum_roles":      "forumRoles",
		"proposals":        "proposals",
		"translations":     "translations",
		"supports":         "supports",
		"threads":          "comments", // a cache of the comments collection
		"comments":         "comments",
		"counts":           "",          // numbers of supports and comments, nobody's
		"changes":          "",          // proposal ids and times of support withdrawals, nobody's
		"followers":        "following", // a cache of the follows collection
		"follows":          "following",
		"inboxes":          "notifications",
		"timelines":        "", // the municipality's official answers, given as staff
		"cases":            "reports",
		"audit":            "",             // moderators' actions, taken as staff or admins
		"live_sessions":    "liveSessions", // hosts' state; people in it by id (co-hosts, removed, speakers)
		"join_codes":       "",             // codes of sessions and workshops, nobody's
		"guests":           "",             // guests have no account: their name and token go when the session's guests expire
		"questions":        "questions",
		"upvotes":          "upvotes",
		"hands":            "hands",
		"minutes":          "minutes",
		"polls":            "", // hosts' polls, written as staff; final tallies, nobody's ballot
		"ballots":          "ballots",
		"workshops":        "",          // facilitators' state: no participant in it (the creator's id, erased)
		"cards":            "workshops", // their cards, with their text
		"clusters":         "",          // a cluster's creator id only (erased); its name is an edit
		"board_edits":      "workshops", // the texts of their cards (no author in an edit)
		"workshop_groups":  "workshops", // their tables
		"dots":             "workshops",
		"workshop_actions": "workshops", // the actions they own
	}
	e := newEnv(t)
	names := e.app.PersonalDataNames()
	for _, col := range mongo.Collections {
		part, ok := covered[col]
		if !ok {
			t.Errorf("collection %s: say which part of the data download covers it", col)
			continue
		}
		if part != "" && !slices.Contains(names, part) {
			t.Errorf("collection %s: the download has no part %q", col, part)
		}
	}
}
