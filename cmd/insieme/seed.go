package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"strings"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/insieme"
)

// demoAdminEmail is the demo's administrator.
const demoAdminEmail = "admin@demo.insieme.it"

// demoPasswordAlphabet holds lowercase letters and digits that cannot be mistaken for one
// another when read aloud or copied from a screen (no 0/o, 1/l/i).
const demoPasswordAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// newDemoPassword returns a password for the demo accounts, new at every run (the demo's
// administrator is a real administrator of whatever server the store ends up on): four
// groups of four characters, about 79 bits, e.g. "k7mq-3xtr-a9pe-wz2h".
func newDemoPassword() (string, error) {
	var b strings.Builder
	n := big.NewInt(int64(len(demoPasswordAlphabet)))
	for i := range 16 {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		k, err := rand.Int(rand.Reader, n)
		if err != nil {
			return "", err
		}
		b.WriteByte(demoPasswordAlphabet[k.Int64()])
	}
	return b.String(), nil
}

// seed fills an empty store with demo data: forums of San Severo, Nardò, Turi and Bari with
// associations, proposals in several languages, translations, supports, comments and answers.
// Everything goes through the use cases, so the demo obeys the same rules as real use.
//
// A store that already holds an account or a forum is refused (the demo accounts would sit
// beside real ones, all sharing one printed password) unless --force is given; a store that
// already holds any of the demo's accounts is refused even then. Nothing is written when the
// seed is refused.
func seed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	demo := fs.Bool("demo", false, "fill the store with demo forums, associations and proposals")
	force := fs.Bool("force", false, "seed even when the store already holds accounts or forums")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !*demo {
		return errors.New("usage: insieme seed --demo [--force]")
	}
	password, err := newDemoPassword()
	if err != nil {
		return err
	}
	cfg, log, st, err := openTask(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer st.close(ctx)
	if err := checkSeedable(ctx, st.db, *force); err != nil {
		return err
	}
	a := app.New(app.Deps{Store: st.db, Logger: log, BaseURL: cfg.BaseURL})
	d := &demoSeeder{ctx: ctx, a: a, db: st.db, password: password}
	if err := d.run(); err != nil {
		return describe(err)
	}
	a.Wait()
	fmt.Fprintf(stdout, "demo data created: %d accounts, %d forums, %d proposals, %d closed workshop\nsign in as any of:\n", len(d.order), d.forums, d.proposals, d.workshops)
	for _, email := range d.order {
		fmt.Fprintf(stdout, "  %s\n", email)
	}
	fmt.Fprintf(stdout, "password (all of them, new at every run): %s\n", password)
	return nil
}

// seedStore is what checkSeedable reads.
type seedStore interface {
	CountAccounts(ctx context.Context) (int64, error)
	AccountByEmail(ctx context.Context, email string) (*insieme.Account, error)
	ListForums(ctx context.Context) ([]*insieme.Forum, error)
}

// checkSeedable refuses a store that is not empty (unless force) or that already holds one of
// the demo's accounts (always: they would keep their old password, and the seed would stop
// half-way).
func checkSeedable(ctx context.Context, db seedStore, force bool) error {
	if !force {
		n, err := db.CountAccounts(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("the store already holds %d account(s): seed --demo fills an empty store only (add --force to seed beside them)", n)
		}
		fs, err := db.ListForums(ctx)
		if err != nil {
			return err
		}
		if len(fs) > 0 {
			return errors.New("the store already has forums: seed --demo fills an empty store only (add --force to seed beside them)")
		}
	}
	for _, email := range demoEmails() {
		_, err := db.AccountByEmail(ctx, email)
		switch insieme.ErrorCode(err) {
		case "":
			return fmt.Errorf("the store already holds the demo account %s: seed --demo cannot run twice on a store", email)
		case insieme.ENOTFOUND:
		default:
			return err
		}
	}
	return nil
}

// demoEmails lists every account the demo creates.
func demoEmails() []string {
	seen := map[string]bool{demoAdminEmail: true}
	out := []string{demoAdminEmail}
	add := func(e string) {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	for _, f := range demoForums() {
		add(f.staff[0])
		for _, members := range f.associations {
			for _, m := range members {
				add(m)
			}
		}
		for _, p := range f.proposals {
			add(p.author)
			for _, s := range p.supporters {
				add(s)
			}
			for _, c := range p.comments {
				add(c[0])
			}
		}
	}
	return out
}

type demoSeeder struct {
	ctx               context.Context
	a                 *app.App
	db                insieme.AccountStore
	password          string // of every demo account
	people            map[string]*insieme.Principal
	order             []string
	forums, proposals int
	workshops         int
}

func (d *demoSeeder) person(email, name, lang string) *insieme.Principal {
	if p, ok := d.people[email]; ok {
		return p
	}
	si, err := d.a.Register(d.ctx, app.RegisterInput{Email: email, Password: d.password, DisplayName: name, Language: lang})
	if err != nil {
		panic(err)
	}
	p, err := d.a.Authenticate(d.ctx, si.Secret)
	if err != nil {
		panic(err)
	}
	// The seeder vouches for the demo addresses, as if each had followed its link.
	if _, err := d.db.UpdateAccount(d.ctx, p.AccountID, insieme.AccountUpdate{EmailConfirmed: ptr(true)}); err != nil {
		panic(err)
	}
	d.people[email] = p
	d.order = append(d.order, email)
	return p
}

func ptr[T any](v T) *T { return &v }

type demoProposal struct {
	author, org, title, body, lang, category string
	translations                             map[string][2]string
	supporters                               []string
	comments                                 [][3]string // author, body, stance
	answer                                   [2]string   // status, text
}

type demoForum struct {
	city, territory string
	title           insieme.Texts
	staff           [2]string           // email, name
	associations    map[string][]string // name -> member emails (first is the owner)
	proposals       []demoProposal
	workshop        *demoWorkshop
}

func (d *demoSeeder) run() (err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				err = e
				return
			}
			panic(r)
		}
	}()
	d.people = map[string]*insieme.Principal{}
	ctx := d.ctx
	if _, _, err := d.a.CreateAdmin(ctx, demoAdminEmail, d.password, "Amministrazione"); err != nil {
		return err
	}
	admin, err := d.adminPrincipal()
	if err != nil {
		return err
	}
	d.order = append(d.order, demoAdminEmail)

	for _, f := range demoForums() {
		mun, err := d.a.CreateOrganisation(ctx, admin, app.OrganisationInput{Kind: insieme.KindMunicipality, Name: ptr("Comune di " + f.city), Territory: ptr(f.territory)})
		if err != nil {
			return err
		}
		if _, err := d.a.Verify(ctx, admin, mun.ID, true); err != nil {
			return err
		}
		staff := d.person(f.staff[0], f.staff[1], "it")
		if err := d.join(admin, mun.ID, staff, insieme.MemberStaff); err != nil {
			return err
		}
		forum, err := d.a.CreateForum(ctx, staff, app.ForumInput{MunicipalityID: mun.ID, Title: &f.title, Territory: ptr(f.territory),
			Status: ptr(insieme.ForumOpen), Languages: ptr([]string{"it", "en", "fr", "ar", "sq", "ro"}),
			Description: &insieme.Texts{"it": "Il forum territoriale dove le associazioni portano proposte al Comune di " + f.city + ", che risponde entro 60 giorni."}})
		if err != nil {
			return err
		}
		d.forums++
		orgs := map[string]string{}
		for name, members := range f.associations {
			owner := d.person(members[0], name+" (referente)", "it")
			o, err := d.a.CreateOrganisation(ctx, owner, app.OrganisationInput{Kind: insieme.KindAssociation, Name: ptr(name), Territory: ptr(f.city)})
			if err != nil {
				return err
			}
			orgs[name] = o.ID
			for _, m := range members[1:] {
				if err := d.join(owner, o.ID, d.person(m, m[:indexAt(m)], "fr"), insieme.MemberMember); err != nil {
					return err
				}
			}
		}
		for _, p := range f.proposals {
			author := d.people[p.author]
			v, err := d.a.CreateProposal(ctx, author, forum.ID, app.ProposalInput{OrgID: orgs[p.org], Title: ptr(p.title), Body: ptr(p.body), Language: ptr(p.lang), Category: ptr(p.category)})
			if err != nil {
				return err
			}
			d.proposals++
			for lang, t := range p.translations {
				if _, err := d.a.Translate(ctx, author, v.ID, app.TranslationInput{Language: lang, Title: t[0], Body: t[1]}); err != nil {
					return err
				}
			}
			for _, s := range p.supporters {
				if _, err := d.a.Support(ctx, d.person(s, s[:indexAt(s)], "it"), v.ID); err != nil {
					return err
				}
			}
			for _, c := range p.comments {
				if _, err := d.a.AddComment(ctx, d.person(c[0], c[0][:indexAt(c[0])], "it"), v.ID, app.CommentInput{Body: ptr(c[1]), Stance: ptr(c[2])}); err != nil {
					return err
				}
			}
			if p.answer[0] != "" {
				if _, err := d.a.Answer(ctx, staff, v.ID, app.AnswerInput{Status: p.answer[0], Text: p.answer[1]}); err != nil {
					return err
				}
			}
		}
		if f.workshop != nil {
			if err := d.runWorkshop(forum.ID, staff, orgs, f.workshop); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *demoSeeder) adminPrincipal() (*insieme.Principal, error) {
	si, err := d.a.Login(d.ctx, demoAdminEmail, d.password)
	if err != nil {
		return nil, err
	}
	return d.a.Authenticate(d.ctx, si.Secret)
}

// join invites and accepts, as people would, with the token taken from the invitation mail.
func (d *demoSeeder) join(by *insieme.Principal, org string, who *insieme.Principal, role string) error {
	acct, err := d.a.Me(d.ctx, who)
	if err != nil {
		return err
	}
	inv, err := d.a.Invite(d.ctx, by, org, acct.Email, role)
	if err != nil {
		return err
	}
	_, err = d.a.AcceptInvitation(d.ctx, who, inv.ID)
	return err
}

func indexAt(email string) int {
	for i, r := range email {
		if r == '@' {
			return i
		}
	}
	return len(email)
}
