package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/insieme"
)

// demoPassword is the password of every demo account (shown by the command).
const demoPassword = "insieme-demo-2026"

// seed fills an empty store with demo data: forums of San Severo, Nardò, Turi and Bari with
// associations, proposals in several languages, translations, supports, comments and answers.
// Everything goes through the use cases, so the demo obeys the same rules as real use.
func seed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	demo := fs.Bool("demo", false, "fill the store with demo forums, associations and proposals")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !*demo {
		return errors.New("usage: insieme seed --demo")
	}
	cfg, log, st, err := openTask(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer st.close(ctx)
	if fs, err := st.db.ListForums(ctx); err != nil {
		return err
	} else if len(fs) > 0 {
		return errors.New("the store already has forums: seed --demo fills an empty store only")
	}
	a := app.New(app.Deps{Store: st.db, Logger: log, BaseURL: cfg.BaseURL})
	d := &demoSeeder{ctx: ctx, a: a, db: st.db}
	if err := d.run(); err != nil {
		return describe(err)
	}
	a.Wait()
	fmt.Fprintf(stdout, "demo data created: %d accounts, %d forums, %d proposals\nsign in as any of:\n", len(d.people), d.forums, d.proposals)
	for _, email := range d.order {
		fmt.Fprintf(stdout, "  %s\n", email)
	}
	fmt.Fprintf(stdout, "password (all of them): %s\n", demoPassword)
	return nil
}

type demoSeeder struct {
	ctx               context.Context
	a                 *app.App
	db                insieme.AccountStore
	people            map[string]*insieme.Principal
	order             []string
	forums, proposals int
}

func (d *demoSeeder) person(email, name, lang string) *insieme.Principal {
	if p, ok := d.people[email]; ok {
		return p
	}
	si, err := d.a.Register(d.ctx, app.RegisterInput{Email: email, Password: demoPassword, DisplayName: name, Language: lang})
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
	if _, _, err := d.a.CreateAdmin(ctx, "admin@demo.insieme.it", demoPassword, "Amministrazione"); err != nil {
		return err
	}
	admin, err := d.adminPrincipal()
	if err != nil {
		return err
	}
	d.order = append(d.order, "admin@demo.insieme.it")

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
	}
	return nil
}

func (d *demoSeeder) adminPrincipal() (*insieme.Principal, error) {
	si, err := d.a.Login(d.ctx, "admin@demo.insieme.it", demoPassword)
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
