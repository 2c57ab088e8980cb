package main

import (
	"time"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/insieme"
)

// demoWorkshop is a co-design workshop the demo runs from the brief to its output, so that a
// newcomer finds a closed workshop with clusters, dot results, an action plan and the proposal
// that came from it.
type demoWorkshop struct {
	title    string
	brief    insieme.Texts
	cards    [][2]string         // author, text
	clusters map[string][]int    // name -> the cards in it (indexes into cards)
	dots     map[string][]string // voter -> the clusters they put their dots on
	action   struct{ title, cluster, owner, due, resources string }
	proposal struct{ by, cluster, org, lang, category string } // by: a member of org
}

func barWorkshop() *demoWorkshop {
	w := &demoWorkshop{
		title: "Laboratorio: una città più accogliente per chi arriva",
		brief: insieme.Texts{"it": "Che cosa rende difficili i primi mesi a Bari, e che cosa potremmo fare insieme?",
			"fr": "Qu'est-ce qui rend difficiles les premiers mois à Bari, et que pourrions-nous faire ensemble ?",
			"ar": "ما الذي يجعل الأشهر الأولى في باري صعبة، وماذا يمكننا أن نفعل معًا؟"},
		cards: [][2]string{
			{"ioana@casaculture.demo", "Nessuno spiega dove fare la tessera sanitaria"},
			{"yusuf@casaculture.demo", "Le informazioni del Comune sono solo in italiano"},
			{"giulia@cittadini.demo", "Una guida in più lingue per i primi passi"},
			{"marco@cittadini.demo", "Affitti: molti proprietari rifiutano chi è straniero"},
			{"yusuf@casaculture.demo", "Un elenco di proprietari disponibili, con garanzia del Comune"},
			{"ioana@casaculture.demo", "Serate di quartiere per conoscersi"},
		},
		clusters: map[string][]int{"Informazioni nelle nostre lingue": {0, 1, 2}, "Trovare casa": {3, 4}, "Conoscersi": {5}},
		dots: map[string][]string{
			"ioana@casaculture.demo": {"Informazioni nelle nostre lingue", "Informazioni nelle nostre lingue", "Trovare casa"},
			"yusuf@casaculture.demo": {"Informazioni nelle nostre lingue", "Trovare casa", "Trovare casa"},
			"giulia@cittadini.demo":  {"Informazioni nelle nostre lingue", "Conoscersi"},
			"marco@cittadini.demo":   {"Trovare casa", "Informazioni nelle nostre lingue"},
		},
	}
	w.action.title, w.action.cluster, w.action.owner = "Guida \"Primi passi a Bari\" in sei lingue", "Informazioni nelle nostre lingue", "Casa delle Culture"
	w.action.due, w.action.resources = time.Now().AddDate(0, 3, 0).Format(time.DateOnly), "Mediatori per le traduzioni, stampa di 2.000 copie, una pagina sul sito del Comune"
	w.proposal.by, w.proposal.cluster, w.proposal.org = "ioana@casaculture.demo", "Informazioni nelle nostre lingue", "Casa delle Culture"
	w.proposal.lang, w.proposal.category = "it", "documents"
	return w
}

// runWorkshop runs a demo workshop in a forum, its facilitator being the forum's staff.
func (d *demoSeeder) runWorkshop(forumID string, staff *insieme.Principal, orgs map[string]string, dw *demoWorkshop) error {
	ctx := d.ctx
	w, err := d.a.CreateWorkshop(ctx, staff, forumID, app.WorkshopInput{Title: ptr(dw.title), Brief: &dw.brief, ScheduledAt: ptr(time.Now().UTC())})
	if err != nil {
		return err
	}
	move := func(phase string) error {
		_, err := d.a.MoveWorkshop(ctx, staff, w.ID, phase)
		return err
	}
	if err := move(insieme.PhaseBrainstorm); err != nil {
		return err
	}
	cards := make([]string, len(dw.cards))
	for i, c := range dw.cards {
		cv, err := d.a.CreateCard(ctx, d.person(c[0], c[0][:indexAt(c[0])], "it"), w.ID, app.CardInput{Text: ptr(c[1])})
		if err != nil {
			return err
		}
		cards[i] = cv.ID
	}
	if err := move(insieme.PhaseCluster); err != nil {
		return err
	}
	clusters := map[string]string{}
	x := 400.0
	for name, members := range dw.clusters {
		k, err := d.a.CreateCluster(ctx, staff, w.ID, app.ClusterInput{Name: ptr(name), X: ptr(x), Y: ptr(300.0)})
		if err != nil {
			return err
		}
		x += 2000
		clusters[name] = k.ID
		for _, i := range members {
			if _, err := d.a.MoveCard(ctx, staff, w.ID, app.CardInput{Card: cards[i], Cluster: ptr(k.ID)}); err != nil {
				return err
			}
		}
	}
	if err := move(insieme.PhaseVote); err != nil {
		return err
	}
	for voter, targets := range dw.dots {
		for _, t := range targets {
			if _, err := d.a.AddDot(ctx, d.people[voter], w.ID, clusters[t]); err != nil {
				return err
			}
		}
	}
	if err := move(insieme.PhasePlan); err != nil {
		return err
	}
	if _, err := d.a.CreateWorkshopAction(ctx, staff, w.ID, app.ActionInput{Title: ptr(dw.action.title), Cluster: ptr(clusters[dw.action.cluster]),
		Owner: &app.OwnerInput{Kind: "organisation", ID: orgs[dw.action.owner]}, Due: ptr(dw.action.due), Resources: ptr(dw.action.resources)}); err != nil {
		return err
	}
	if err := move(insieme.PhaseClosed); err != nil {
		return err
	}
	// The association that brought the idea carries it into the forum.
	_, err = d.a.WorkshopProposal(ctx, d.people[dw.proposal.by], w.ID, app.WorkshopProposalInput{Source: clusters[dw.proposal.cluster],
		OrgID: orgs[dw.proposal.org], Language: dw.proposal.lang, Category: dw.proposal.category})
	if err == nil {
		d.proposals++
		d.workshops++
	}
	return err
}
