package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/insieme"
)

// outputEnv runs a whole workshop: cards by an account, a guest and another account (one of
// them a formula), a cluster, a hidden card, dots, an action owned by the association; the
// workshop is left in the plan phase.
type outputEnv struct {
	*workshopEnv
	guest                          string // the guest's token
	formulaCard, guestCard, hidden string
	cluster                        string
	action                         app.ActionView
}

func newOutputEnv(t *testing.T) *outputEnv {
	t.Helper()
	oe := &outputEnv{workshopEnv: newWorkshopEnv(t, nil)}
	oe.guest, _ = oe.joinAsGuest("Amina")
	card := func(secret, text string, headers ...string) string {
		var c app.CardView
		r := oe.act(secret, map[string]any{"type": "card.create", "text": text, "colour": "green"}, headers...)
		if r.status != 200 {
			t.Fatalf("card %q: %d %s", text, r.status, r.body)
		}
		r.json(t, &c)
		return c.ID
	}
	oe.move(insieme.PhaseBrainstorm)
	oe.formulaCard = card(oe.member.secret, "=HYPERLINK(\"http://x\")")
	oe.guestCard = card("", "Case popolari", bearer(oe.guest)...)
	oe.hidden = card(oe.other.secret, "Un insulto")
	oe.move(insieme.PhaseCluster)
	var cl app.ClusterView
	oe.act(oe.member.secret, map[string]any{"type": "cluster.create", "name": "Abitare", "x": 100, "y": 100}).json(t, &cl)
	oe.cluster = cl.ID
	for _, c := range []string{oe.formulaCard, oe.guestCard} {
		if r := oe.act(oe.member.secret, map[string]any{"type": "card.move", "card": c, "cluster": cl.ID}); r.status != 200 {
			t.Fatalf("move into the cluster: %d %s", r.status, r.body)
		}
	}
	if r := oe.act(oe.facilitator.secret, map[string]any{"type": "card.hide", "card": oe.hidden, "hidden": true}); r.status != 200 {
		t.Fatalf("hide: %d %s", r.status, r.body)
	}
	oe.move(insieme.PhaseVote)
	for _, d := range []struct {
		secret, target string
		headers        []string
	}{{oe.member.secret, cl.ID, nil}, {"", cl.ID, bearer(oe.guest)}, {"", oe.guestCard, bearer(oe.guest)}} {
		if r := oe.act(d.secret, map[string]any{"type": "dot.add", "target": d.target}, d.headers...); r.status != 200 {
			t.Fatalf("dot: %d %s", r.status, r.body)
		}
	}
	oe.move(insieme.PhasePlan)
	r := oe.act(oe.facilitator.secret, map[string]any{"type": "action.create", "title": "Sportello casa", "cluster": cl.ID,
		"owner": map[string]any{"kind": "organisation", "id": oe.assoc}, "due": "2027-03-01", "resources": "-2 persone\n+1 sala"})
	if r.status != 200 {
		t.Fatalf("action: %d %s", r.status, r.body)
	}
	r.json(t, &oe.action)
	return oe
}

func TestActionPlanOwnersAndPhases(t *testing.T) {
	oe := newOutputEnv(t)
	if oe.action.Owner == nil || oe.action.Owner.Name != "Ponti" || oe.action.Due != "2027-03-01" || oe.action.Status != insieme.ActionOpen {
		t.Fatalf("action: %+v", oe.action)
	}
	status := func(secret, s string) int {
		return oe.act(secret, map[string]any{"type": "action.status", "action": oe.action.ID, "status": s}).status
	}
	if st := status(oe.other.secret, "done"); st != 403 {
		t.Fatalf("someone else sets the status: %d", st)
	}
	if st := status(oe.member.secret, "in_progress"); st != 200 { // a member of the owning association
		t.Fatalf("the owner sets the status: %d", st)
	}
	if st := status(oe.member.secret, "finished"); st != 400 {
		t.Fatalf("an unknown status: %d", st)
	}
	if r := oe.act(oe.member.secret, map[string]any{"type": "action.create", "title": "Mio"}); r.status != 403 {
		t.Fatalf("a participant writes the plan: %d", r.status)
	}
	oe.move(insieme.PhaseClosed)
	if st := status(oe.member.secret, "done"); st != 200 {
		t.Fatalf("the status after closing: %d", st)
	}
	if r := oe.act(oe.facilitator.secret, map[string]any{"type": "action.edit", "action": oe.action.ID, "title": "Altro"}); r.status != 409 || r.errorOf(t).Fields["phase"] != insieme.PhaseClosed {
		t.Fatalf("editing the plan after closing: %d %s", r.status, r.body)
	}
}

func TestWorkshopOutputContents(t *testing.T) {
	oe := newOutputEnv(t)
	oe.move(insieme.PhaseClosed)
	id := oe.ws.ID
	// Once closed, anyone who may see the forum reads it.
	get := func(path string) string {
		r := oe.do("GET", "/api/v1/workshops/"+id+path, "", nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		return string(r.body)
	}
	var out app.WorkshopOutput
	oe.do("GET", "/api/v1/workshops/"+id+"/export.json", "", nil).json(t, &out)
	if out.Title != "Casa per tutti" || out.Brief["ar"] == "" || len(out.Clusters) != 1 || out.Clusters[0].Name != "Abitare" ||
		len(out.Clusters[0].Cards) != 2 || len(out.Unclustered) != 0 || len(out.Actions) != 1 {
		t.Fatalf("json: %+v", out)
	}
	if strings.Join(out.Participants, ",") != "Amina,Member,Residente" {
		t.Fatalf("participants: %v", out.Participants)
	}
	// The forum's list tells how many took part, counted at the close: a node that never
	// loaded the workshop's board says so too, without loading it.
	other := app.New(app.Deps{Store: store.Node(t, oe.db.Name()), Clock: oe.clock, Hasher: testHasher})
	list, err := other.Workshops(context.Background(), nil, oe.forum)
	if err != nil || len(list) != 1 || list[0].Participants != 3 {
		t.Fatalf("the forum's list on another node: %+v %v", list, err)
	}
	want := []app.OutputResult{{Rank: 1, Target: oe.cluster, Kind: "cluster", Label: "Abitare", Dots: 2}, {Rank: 2, Target: oe.guestCard, Kind: "card", Label: "Case popolari", Dots: 1}}
	if len(out.Results) != 2 || out.Results[0] != want[0] || out.Results[1] != want[1] {
		t.Fatalf("results: %+v", out.Results)
	}
	md := get("/export.md")
	for _, s := range []string{"# Casa per tutti", "Come trovare casa?", "## Participants", "- Amina", "### Abitare", "Case popolari (Amina)",
		"1. Abitare: 2", "2. Case popolari: 1", "**Sportello casa** — open, Ponti, 2027-03-01"} {
		if !strings.Contains(md, s) {
			t.Errorf("markdown lacks %q:\n%s", s, md)
		}
	}
	html := get("/export.html")
	if !strings.Contains(html, "<h3>Abitare</h3>") || !strings.Contains(html, "=HYPERLINK(&#34;http://x&#34;)") {
		t.Errorf("html: %s", html)
	}
	for what, text := range map[string]string{"markdown": md, "html": html, "json": get("/export.json")} {
		if strings.Contains(text, "Un insulto") {
			t.Errorf("the %s holds the hidden card", what)
		}
	}
	rows := func(part string) [][]string {
		body := strings.TrimPrefix(get("/export.csv?part="+part), "\ufeff")
		rs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	cards := rows("cards")
	if len(cards) != 3 || cards[0][2] != "text" {
		t.Fatalf("cards csv: %v", cards)
	}
	formula := false
	for _, r := range cards[1:] {
		formula = formula || r[2] == "'=HYPERLINK(\"http://x\")"
		if r[2] == "=HYPERLINK(\"http://x\")" {
			t.Fatal("a formula cell is not escaped")
		}
	}
	if !formula {
		t.Fatalf("the formula card is missing: %v", cards)
	}
	if votes := rows("votes"); len(votes) != 3 || votes[1][3] != "Abitare" || votes[1][4] != "2" {
		t.Fatalf("votes csv: %v", votes)
	}
	if acts := rows("actions"); len(acts) != 2 || acts[1][1] != "Sportello casa" || acts[1][6] != "'-2 persone\n+1 sala" {
		t.Fatalf("actions csv: %v", acts)
	}
	if r := oe.do("GET", "/api/v1/workshops/"+id+"/export.csv?part=secrets", "", nil); r.status != 400 {
		t.Fatalf("an unknown part: %d", r.status)
	}
}

// A cluster becomes a proposal of the association: the proposal names the workshop, the
// cluster names the proposal, and the same cluster cannot become a proposal twice.
func TestClusterBecomesAProposal(t *testing.T) {
	oe := newOutputEnv(t)
	path := "/api/v1/workshops/" + oe.ws.ID + "/proposals"
	body := map[string]any{"source": oe.cluster, "orgId": oe.assoc, "language": "it", "category": "housing"}
	if r := oe.do("POST", path, oe.other.secret, body); r.status != 403 {
		t.Fatalf("not a member of the association: %d %s", r.status, r.body)
	}
	r := oe.do("POST", path, oe.member.secret, body)
	if r.status != 201 {
		t.Fatalf("proposal: %d %s", r.status, r.body)
	}
	var pv app.ProposalView
	r.json(t, &pv)
	if pv.Title != "Abitare" || !strings.Contains(pv.Body, "Case popolari") || !strings.Contains(pv.Body, "Come trovare casa?") ||
		pv.Origin == nil || pv.Origin.WorkshopID != oe.ws.ID || pv.Origin.WorkshopTitle != "Casa per tutti" || pv.Origin.Source != oe.cluster {
		t.Fatalf("proposal: %+v", pv)
	}
	var again app.ProposalView
	oe.do("GET", "/api/v1/proposals/"+pv.ID, "", nil).json(t, &again)
	if again.Origin == nil || again.Origin.WorkshopID != oe.ws.ID {
		t.Fatalf("the proposal page's origin: %+v", again.Origin)
	}
	st := oe.state(oe.member.secret)
	if len(st.Clusters) != 1 || st.Clusters[0].ProposalID != pv.ID {
		t.Fatalf("the cluster's proposal: %+v", st.Clusters)
	}
	if r := oe.do("POST", path, oe.member.secret, body); r.status != 409 {
		t.Fatalf("twice: %d", r.status)
	}
	// An action becomes a proposal too (the facilitator, for an association they are not a
	// member of, may not).
	act := map[string]any{"source": oe.action.ID, "orgId": oe.assoc, "language": "it", "category": "housing", "title": "Uno sportello"}
	if r := oe.do("POST", path, oe.facilitator.secret, act); r.status != 403 {
		t.Fatalf("a facilitator for someone else's association: %d", r.status)
	}
	r = oe.do("POST", path, oe.member.secret, act)
	r.json(t, &pv)
	if r.status != 201 || pv.Title != "Uno sportello" || !strings.Contains(pv.Body, "2027-03-01") {
		t.Fatalf("action's proposal: %d %+v", r.status, pv)
	}
	if st := oe.state(oe.member.secret); st.Actions[0].ProposalID != pv.ID {
		t.Fatalf("the action's proposal: %+v", st.Actions[0])
	}
}

// A person's data download has their workshop, cards (text included) and dots; erasing the
// account removes them as author, keeping the text.
func TestWorkshopPersonalData(t *testing.T) {
	oe := newOutputEnv(t)
	var export map[string]any
	oe.do("GET", "/api/v1/me/export", oe.member.secret, nil).json(t, &export)
	ws, _ := export["workshops"].(map[string]any)
	j := string(mustMarshal(ws))
	if !strings.Contains(j, oe.ws.ID) || !strings.Contains(j, "HYPERLINK") || !strings.Contains(j, oe.cluster) {
		t.Fatalf("data download: %s", j)
	}
	if r := oe.do("DELETE", "/api/v1/me", oe.member.secret, map[string]any{"password": oe.member.password}); r.status != 204 && r.status != 409 {
		t.Fatalf("erase: %d %s", r.status, r.body)
	}
	// The other account (no association to leave) is erased for sure.
	if r := oe.do("DELETE", "/api/v1/me", oe.other.secret, map[string]any{"password": oe.other.password}); r.status != 204 {
		t.Fatalf("erase: %d %s", r.status, r.body)
	}
	st := oe.state(oe.facilitator.secret)
	for _, c := range st.Cards {
		if c.ID == oe.hidden && (c.Text != "Un insulto" || c.Author == nil || !c.Author.Former || c.Author.ID != "") {
			t.Fatalf("the erased author's card: %+v %+v", c, c.Author)
		}
	}
	cards, err := oe.db.CardsBy(t.Context(), oe.other.id)
	if err != nil || len(cards) != 0 {
		t.Fatalf("cards still by the erased account: %v %v", cards, err)
	}
}

func mustMarshal(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// Erasing an account takes its dots (a closed workshop keeps its stored results) and its id as
// the creator of clusters.
func TestErasureTakesDotsAndCreatorIDs(t *testing.T) {
	we := newWorkshopEnv(t, nil)
	we.move(insieme.PhaseBrainstorm)
	if r := we.act(we.other.secret, map[string]any{"type": "card.create", "text": "Una panchina"}); r.status != 200 {
		t.Fatalf("card: %d %s", r.status, r.body)
	}
	we.move(insieme.PhaseCluster)
	var cl app.ClusterView
	we.act(we.other.secret, map[string]any{"type": "cluster.create", "name": "Spazi"}).json(t, &cl)
	we.move(insieme.PhaseVote)
	if r := we.act(we.other.secret, map[string]any{"type": "dot.add", "target": cl.ID}); r.status != 200 {
		t.Fatalf("dot: %d %s", r.status, r.body)
	}
	we.move(insieme.PhaseClosed)
	if r := we.do("DELETE", "/api/v1/me", we.other.secret, map[string]any{"password": we.other.password}); r.status != 204 {
		t.Fatalf("erase: %d %s", r.status, r.body)
	}
	ctx := t.Context()
	if dots, err := we.db.DotsBy(ctx, we.other.id); err != nil || len(dots) != 0 {
		t.Fatalf("dots left: %v %v", dots, err)
	}
	if n, err := we.db.Raw().Collection("clusters").CountDocuments(ctx, map[string]any{"createdBy": we.other.id}); err != nil || n != 0 {
		t.Fatalf("clusters still created by the erased account: %d %v", n, err)
	}
	var out app.WorkshopOutput
	we.do("GET", "/api/v1/workshops/"+we.ws.ID+"/export.json", "", nil).json(t, &out)
	if len(out.Results) != 1 || out.Results[0].Dots != 1 {
		t.Fatalf("the closed workshop's results: %+v", out.Results)
	}
}
