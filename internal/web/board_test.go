package web

import (
	"context"
	"strings"
	"testing"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/insieme"
)

// The board's rules message by message: phases, who, the lock, input limits.
func TestBoardRules(t *testing.T) {
	we := newWorkshopEnv(t, map[string]any{"facilitatorMoves": true})
	token, _ := we.joinAsGuest("Ospite")
	guest := bearer(token)
	code := func(r resp) string {
		if r.status < 300 {
			return ""
		}
		return r.errorOf(t).Code
	}
	// Nothing is written in the lobby.
	r := we.act(we.member.secret, map[string]any{"type": "card.create", "text": "presto"})
	if r.status != 409 || r.errorOf(t).Fields["phase"] != insieme.PhaseLobby || !strings.Contains(r.errorOf(t).Message, "lobby") {
		t.Fatalf("a card in the lobby: %d %s", r.status, r.body)
	}
	we.move(insieme.PhaseBrainstorm)
	// Sitting at a table first: the card takes it.
	if r := we.act(we.member.secret, map[string]any{"type": "workshop.group", "group": we.ws.Groups[1].ID}); r.status != 200 {
		t.Fatalf("table: %d %s", r.status, r.body)
	}
	if r := we.act(we.member.secret, map[string]any{"type": "workshop.group", "group": "nope"}); r.status != 404 || r.errorOf(t).Fields["group"] == "" {
		t.Fatalf("an unknown table: %d", r.status)
	}
	long := we.act(we.member.secret, map[string]any{"type": "card.create", "text": strings.Repeat("é", insieme.MaxCardText+1)})
	if long.status != 400 || long.errorOf(t).Limits["text"] != insieme.MaxCardText {
		t.Fatalf("a long card: %d %s", long.status, long.body)
	}
	for name, body := range map[string]map[string]any{
		"empty":      {"type": "card.create", "text": " \x07 "},
		"no text":    {"type": "card.create"},
		"bad colour": {"type": "card.create", "text": "x", "colour": "black"},
	} {
		if r := we.act(we.member.secret, body); r.status != 400 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	var mine app.CardView
	we.act(we.member.secret, map[string]any{"type": "card.create", "text": "  <script>x</script>\x07 ", "colour": "blue"}).json(t, &mine)
	if mine.Text != "<script>x</script>" || mine.Colour != "blue" || mine.Group != we.ws.Groups[1].ID || !mine.Mine || mine.Versions["text"] == "" {
		t.Fatalf("the card: %+v", mine)
	}
	var gc app.CardView
	we.act("", map[string]any{"type": "card.create", "text": "del ospite"}, guest...).json(t, &gc)
	// The lock stops participants, not facilitators.
	we.act(we.facilitator.secret, map[string]any{"type": "workshop.lock", "locked": true})
	if r := we.act("", map[string]any{"type": "card.create", "text": "chiuso"}, guest...); r.status != 409 || r.errorOf(t).Message != "The board is locked." {
		t.Fatalf("a card on a locked board: %d %s", r.status, r.body)
	}
	if r := we.act(we.facilitator.secret, map[string]any{"type": "card.create", "text": "della facilitatrice"}); r.status != 200 {
		t.Fatalf("the facilitator writes on a locked board: %d %s", r.status, r.body)
	}
	we.act(we.facilitator.secret, map[string]any{"type": "workshop.lock", "locked": false})
	// Counts, not texts, for the others.
	st := we.state(we.other.secret)
	if st.Counts.Total != 3 || st.Counts.ByGroup[we.ws.Groups[1].ID] != 1 || len(st.Cards) != 0 || *st.Counts.Mine != 0 {
		t.Fatalf("another participant's view: %+v", st.Counts)
	}
	we.move(insieme.PhaseReveal)
	if code(we.act(we.member.secret, map[string]any{"type": "card.edit", "card": gc.ID, "text": "mio"})) != insieme.EFORBIDDEN {
		t.Fatal("someone else's card edited")
	}
	if code(we.act(we.member.secret, map[string]any{"type": "card.edit", "card": "nope", "text": "mio"})) != insieme.ENOTFOUND {
		t.Fatal("an unknown card is not 404")
	}
	if code(we.act(we.member.secret, map[string]any{"type": "card.move", "card": mine.ID, "x": 1, "y": 1})) != insieme.EFORBIDDEN {
		t.Fatal("a participant moves in the reveal")
	}
	we.move(insieme.PhaseCluster)
	// facilitatorMoves: only facilitators move and make clusters.
	if code(we.act(we.member.secret, map[string]any{"type": "cluster.create", "name": "Tema"})) != insieme.EFORBIDDEN {
		t.Fatal("a participant makes a cluster with facilitatorMoves")
	}
	var cl app.ClusterView
	we.act(we.facilitator.secret, map[string]any{"type": "cluster.create", "name": "Tema", "x": 10, "y": 20}).json(t, &cl)
	if cl.Name != "Tema" || cl.Pos != (app.PosView{X: 10, Y: 20}) {
		t.Fatalf("cluster: %+v", cl)
	}
	for name, body := range map[string]map[string]any{
		"off the canvas": {"type": "card.move", "card": mine.ID, "x": -1, "y": 5},
		"x without y":    {"type": "card.move", "card": mine.ID, "x": 5},
		"nothing":        {"type": "card.move", "card": mine.ID},
	} {
		if r := we.act(we.facilitator.secret, body); r.status != 400 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	if r := we.act(we.facilitator.secret, map[string]any{"type": "card.move", "card": mine.ID, "cluster": "nope"}); r.status != 404 || r.errorOf(t).Fields["cluster"] == "" {
		t.Errorf("into an unknown cluster: %d %s", r.status, r.body)
	}
	var moved app.CardView
	we.act(we.facilitator.secret, map[string]any{"type": "card.move", "card": mine.ID, "x": 300, "y": 400, "cluster": cl.ID}).json(t, &moved)
	if moved.Pos != (app.PosView{X: 300, Y: 400}) || moved.Cluster != cl.ID || moved.Text != mine.Text || moved.Versions["text"] != mine.Versions["text"] {
		t.Fatalf("moved: %+v", moved)
	}
	// Hiding: the text goes for participants but its author, stays for facilitators.
	if code(we.act(we.member.secret, map[string]any{"type": "card.hide", "card": gc.ID, "hidden": true})) != insieme.EFORBIDDEN {
		t.Fatal("a participant hides a card")
	}
	we.act(we.facilitator.secret, map[string]any{"type": "card.hide", "card": gc.ID, "hidden": true})
	textOf := func(st app.WorkshopState) string {
		for _, c := range st.Cards {
			if c.ID == gc.ID {
				if !c.Hidden {
					t.Fatalf("not hidden: %+v", c)
				}
				return c.Text
			}
		}
		t.Fatal("the hidden card is missing")
		return ""
	}
	if textOf(we.state(we.member.secret)) != "" || textOf(we.state(we.facilitator.secret)) != "del ospite" || textOf(we.state("", guest...)) != "del ospite" {
		t.Fatal("a hidden card's text shown to the wrong people")
	}
	// The spotlight takes a card or a cluster, and a move clears it.
	if r := we.act(we.facilitator.secret, map[string]any{"type": "workshop.spotlight", "target": "nope"}); r.status != 404 {
		t.Fatalf("spotlight on nothing: %d", r.status)
	}
	var w app.WorkshopView
	we.act(we.facilitator.secret, map[string]any{"type": "workshop.spotlight", "target": cl.ID}).json(t, &w)
	if w.Spotlight != cl.ID {
		t.Fatalf("spotlight: %+v", w)
	}
	we.move(insieme.PhaseVote)
	if st := we.state(we.member.secret); st.Workshop.Spotlight != "" {
		t.Fatalf("the spotlight stayed: %q", st.Workshop.Spotlight)
	}
	if code(we.act(we.member.secret, map[string]any{"type": "dot.add", "target": gc.ID})) != insieme.ENOTFOUND {
		t.Fatal("a dot on a hidden card")
	}
	if code(we.act(we.member.secret, map[string]any{"type": "dot.remove", "target": cl.ID})) != insieme.ENOTFOUND {
		t.Fatal("removing a dot that is not there")
	}
	// Dots and maxDotsPerCard cannot change once the vote started.
	if r := we.do("PATCH", "/api/v1/workshops/"+we.ws.ID, we.facilitator.secret, map[string]any{"settings": map[string]any{"dots": 3}}); r.status != 409 {
		t.Fatalf("dots changed in the vote: %d %s", r.status, r.body)
	}
}

// flakyBoard is the real store, failing the inserts of board edits on demand.
type flakyBoard struct {
	app.Store
	fail bool
}

func (f *flakyBoard) InsertBoardEdits(ctx context.Context, es []*insieme.BoardEdit) error {
	if f.fail {
		return &insieme.Error{Code: insieme.EUNAVAILABLE, Message: "down"}
	}
	return f.Store.InsertBoardEdits(ctx, es)
}

// A board write the store did not take is refused with unavailable and shown nowhere.
func TestBoardWritesAreAcknowledgedOnlyOnceStored(t *testing.T) {
	we := newWorkshopEnv(t, nil)
	fs := &flakyBoard{Store: we.db}
	a := app.New(app.Deps{Store: fs, Live: &capLive{}, Clock: we.clock, Hasher: testHasher})
	p := we.principal(we.member)
	we.move(insieme.PhaseBrainstorm)
	fs.fail = true
	if _, err := wsAct(a, p, we.ws.ID, "card.create", map[string]any{"text": "perduta"}); insieme.ErrorCode(err) != insieme.EUNAVAILABLE {
		t.Fatalf("a card not stored: %v", err)
	}
	fs.fail = false
	v, err := wsAct(a, p, we.ws.ID, "card.create", map[string]any{"text": "salvata"})
	if err != nil {
		t.Fatal(err)
	}
	fs.fail = true
	if _, err := wsAct(a, p, we.ws.ID, "card.edit", map[string]any{"card": v.(*app.CardView).ID, "text": "cambiata"}); insieme.ErrorCode(err) != insieme.EUNAVAILABLE {
		t.Fatalf("an edit not stored: %v", err)
	}
	fs.fail = false
	for _, node := range []*app.App{a, app.New(app.Deps{Store: we.db, Clock: we.clock, Hasher: testHasher})} {
		st, err := node.Workshop(context.Background(), p, we.ws.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Cards) != 1 || st.Cards[0].Text != "salvata" || st.Counts.Total != 1 {
			t.Fatalf("cards shown: %+v", st.Cards)
		}
	}
}
