package mongo_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/insieme"
	"github.com/insieme/insieme/internal/mongo"
	"github.com/insieme/insieme/internal/storetest"
)

var store *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, func(s *storetest.Server) { store = s }) }

func newAccount(id, email string) *insieme.Account {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return &insieme.Account{ID: id, Email: email, DisplayName: "Name " + id, Language: "it", PasswordHash: "h",
		Role: insieme.RoleUser, Status: insieme.StatusActive, CreatedAt: now, UpdatedAt: now}
}

func TestAccounts(t *testing.T) {
	ctx := context.Background()
	db := store.DB(t)
	a := newAccount("a1", "amina@example.org")
	if err := db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	// The same email again is a conflict on the email field, and leaves no second account.
	err := db.CreateAccount(ctx, newAccount("a2", "amina@example.org"))
	if insieme.ErrorCode(err) != insieme.ECONFLICT {
		t.Fatalf("duplicate email: got %v, want conflict", err)
	}
	if _, err := db.Account(ctx, "a2"); insieme.ErrorCode(err) != insieme.ENOTFOUND {
		t.Fatalf("a2 should not exist: %v", err)
	}
	got, err := db.AccountByEmail(ctx, "amina@example.org")
	if err != nil || got.ID != "a1" || got.DisplayName != "Name a1" || !got.CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("by email: %+v %v", got, err)
	}
	name := "Amina"
	got, err = db.UpdateAccount(ctx, "a1", insieme.AccountUpdate{DisplayName: &name})
	if err != nil || got.DisplayName != "Amina" || got.Email != "amina@example.org" {
		t.Fatalf("update: %+v %v", got, err)
	}
	if _, err := db.UpdateAccount(ctx, "nobody", insieme.AccountUpdate{DisplayName: &name}); insieme.ErrorCode(err) != insieme.ENOTFOUND {
		t.Fatalf("update unknown: %v", err)
	}
	if err := db.EraseAccount(ctx, "a1", time.Now()); err != nil {
		t.Fatal(err)
	}
	got, err = db.Account(ctx, "a1")
	if err != nil || got.Status != insieme.StatusErased || got.DisplayName != "" || got.PasswordHash != "" || got.Email == "amina@example.org" {
		t.Fatalf("erased account keeps personal data: %+v %v", got, err)
	}
	// The address is free again.
	if _, err := db.AccountByEmail(ctx, "amina@example.org"); insieme.ErrorCode(err) != insieme.ENOTFOUND {
		t.Fatalf("erased email still found: %v", err)
	}
	if err := db.CreateAccount(ctx, newAccount("a3", "amina@example.org")); err != nil {
		t.Fatalf("re-register after erasure: %v", err)
	}
}

func TestListAccountsPages(t *testing.T) {
	ctx := context.Background()
	db := store.DB(t)
	for i := 0; i < 7; i++ {
		if err := db.CreateAccount(ctx, newAccount(fmt.Sprintf("id%02d", i), fmt.Sprintf("p%d@example.org", i))); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	after := ""
	for {
		page, err := db.ListAccounts(ctx, insieme.AccountFilter{After: after, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page {
			seen = append(seen, a.ID)
		}
		if len(page) < 3 {
			break
		}
		after = page[len(page)-1].ID
	}
	if fmt.Sprint(seen) != "[id00 id01 id02 id03 id04 id05 id06]" {
		t.Fatalf("pages: %v", seen)
	}
	found, err := db.ListAccounts(ctx, insieme.AccountFilter{Query: "P3@EXAMPLE"})
	if err != nil || len(found) != 1 || found[0].ID != "id03" {
		t.Fatalf("query: %v %v", found, err)
	}
}

func TestSessionsAndTokens(t *testing.T) {
	ctx := context.Background()
	db := store.DB(t)
	now := time.Now().UTC()
	for _, id := range []string{"s1", "s2", "s3"} {
		if err := db.CreateSession(ctx, &insieme.Session{ID: id, AccountID: "a1", CreatedAt: now, ExpiresAt: now.Add(time.Hour), LastSeenAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Session(ctx, "s1", now.Add(2*time.Hour)); insieme.ErrorCode(err) != insieme.ENOTFOUND {
		t.Fatalf("expired session found: %v", err)
	}
	if err := db.DeleteSessions(ctx, "a1", "s2"); err != nil {
		t.Fatal(err)
	}
	ss, _ := db.SessionsOf(ctx, "a1")
	if len(ss) != 1 || ss[0].ID != "s2" {
		t.Fatalf("kept sessions: %+v", ss)
	}
	if err := db.CreateToken(ctx, &insieme.OneTimeToken{ID: "t1", Kind: insieme.TokenPasswordReset, AccountID: "a1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TakeToken(ctx, "t1", insieme.TokenConfirmEmail, now); insieme.ErrorCode(err) != insieme.ENOTFOUND {
		t.Fatalf("token of another kind taken: %v", err)
	}
	// Two concurrent takes: exactly one wins.
	var wg sync.WaitGroup
	wins := make(chan bool, 2)
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := db.TakeToken(ctx, "t1", insieme.TokenPasswordReset, now)
			wins <- err == nil
		}()
	}
	wg.Wait()
	close(wins)
	n := 0
	for w := range wins {
		if w {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("token taken %d times", n)
	}
	_ = db.CreateSession(ctx, &insieme.Session{ID: "old", AccountID: "a2", CreatedAt: now, ExpiresAt: now.Add(-time.Minute)})
	removed, err := db.DeleteExpired(ctx, now)
	if err != nil || removed != 1 {
		t.Fatalf("janitor removed %d, %v", removed, err)
	}
}

func TestOrganisationsMembersInvitations(t *testing.T) {
	ctx := context.Background()
	db := store.DB(t)
	now := time.Now().UTC()
	o := &insieme.Organisation{ID: "o1", Kind: insieme.KindAssociation, Name: "Ponti", CreatedBy: "a1", CreatedAt: now, UpdatedAt: now}
	if err := db.CreateOrganisation(ctx, o, &insieme.Membership{OrgID: "o1", AccountID: "a1", Role: insieme.MemberOwner, Listed: true, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := db.AddMember(ctx, &insieme.Membership{OrgID: "o1", AccountID: "a1", Role: insieme.MemberMember, CreatedAt: now}); insieme.ErrorCode(err) != insieme.ECONFLICT {
		t.Fatalf("second membership: %v", err)
	}
	_ = db.AddMember(ctx, &insieme.Membership{OrgID: "o1", AccountID: "a2", Role: insieme.MemberMember, CreatedAt: now.Add(time.Second)})
	ms, err := db.Members(ctx, "o1")
	if err != nil || len(ms) != 2 || ms[0].AccountID != "a1" || ms[0].Role != insieme.MemberOwner {
		t.Fatalf("members: %+v %v", ms, err)
	}
	listed := true
	if err := db.UpdateMember(ctx, "o1", "a2", nil, &listed); err != nil {
		t.Fatal(err)
	}
	m, _ := db.Member(ctx, "o1", "a2")
	if !m.Listed || m.Role != insieme.MemberMember {
		t.Fatalf("member after update: %+v", m)
	}
	verified := true
	got, err := db.UpdateOrganisation(ctx, "o1", insieme.OrganisationUpdate{Verified: &verified}, now)
	if err != nil || !got.Verified || got.Name != "Ponti" {
		t.Fatalf("verify: %+v %v", got, err)
	}
	inv := &insieme.Invitation{ID: "i1", OrgID: "o1", Email: "x@example.org", Role: insieme.MemberMember, InvitedBy: "a1", Status: insieme.InvitePending, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := db.CreateInvitation(ctx, inv); err != nil {
		t.Fatal(err)
	}
	if is, _ := db.InvitationsFor(ctx, "x@example.org"); len(is) != 1 {
		t.Fatalf("invitations for: %v", is)
	}
	if err := db.SetInvitationStatus(ctx, "i1", insieme.InviteAccepted); err != nil {
		t.Fatal(err)
	}
	if err := db.SetInvitationStatus(ctx, "i1", insieme.InviteAccepted); insieme.ErrorCode(err) != insieme.ECONFLICT {
		t.Fatalf("second accept: %v", err)
	}
	if err := db.RemoveMember(ctx, "o1", "a2"); err != nil {
		t.Fatal(err)
	}
	if err := db.RemoveMember(ctx, "o1", "a2"); insieme.ErrorCode(err) != insieme.ENOTFOUND {
		t.Fatalf("remove twice: %v", err)
	}
}

// All writes of a node go through one connection, so concurrent updates of one document are
// not lost on the embedded store (FerretDB loses them across connections).
func TestConcurrentUpdatesNotLost(t *testing.T) {
	ctx := context.Background()
	db := store.DB(t)
	if err := db.CreateAccount(ctx, newAccount("c1", "c@example.org")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				now := time.Now().UTC()
				_ = db.CreateSession(ctx, &insieme.Session{ID: fmt.Sprintf("s-%d-%d", i, j), AccountID: "c1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
			}
		}(i)
	}
	wg.Wait()
	ss, err := db.SessionsOf(ctx, "c1")
	if err != nil || len(ss) != 80 {
		t.Fatalf("sessions: %d %v", len(ss), err)
	}
}

func TestBackupRestoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := store.DB(t)
	acc := newAccount("b1", "b1@example.org")
	now := acc.CreatedAt
	if err := src.CreateAccount(ctx, acc); err != nil {
		t.Fatal(err)
	}
	_ = src.CreateOrganisation(ctx, &insieme.Organisation{ID: "o1", Kind: insieme.KindMunicipality, Name: "Comune di Bari — بلدية", CreatedAt: now, UpdatedAt: now}, nil)
	_ = src.AddMail(ctx, &insieme.Mail{ID: "m1", To: "b1@example.org", AccountID: "b1", Kind: "k", Subject: "s", Body: "b", CreatedAt: now})
	var buf bytes.Buffer
	n, err := src.Backup(ctx, &buf)
	if err != nil || n != 4 { // account, its email reservation, organisation, mail
		t.Fatalf("backup: %d %v", n, err)
	}
	dst := store.DB(t)
	if m, err := dst.Restore(ctx, bytes.NewReader(buf.Bytes())); err != nil || m != n {
		t.Fatalf("restore: %d %v", m, err)
	}
	a, err := dst.AccountByEmail(ctx, "b1@example.org")
	if err != nil || a.ID != "b1" || !a.CreatedAt.Equal(now) {
		t.Fatalf("restored account: %+v %v", a, err)
	}
	o, err := dst.Organisation(ctx, "o1")
	if err != nil || o.Name != "Comune di Bari — بلدية" {
		t.Fatalf("restored org: %+v %v", o, err)
	}
	// A second restore into the same (now non-empty) database is refused.
	if _, err := dst.Restore(ctx, bytes.NewReader(buf.Bytes())); err == nil {
		t.Fatal("restore into a non-empty database should fail")
	}
	var again bytes.Buffer
	if _, err := dst.Backup(ctx, &again); err != nil || again.String() != buf.String() {
		t.Fatalf("backup of the restored database differs:\n%s\n---\n%s", buf.String(), again.String())
	}
}

var _ = mongo.Collections
