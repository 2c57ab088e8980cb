package app

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// Questions in live sessions: participants ask (accounts always, guests when the session lets
// them), optionally anonymously; others upvote once; hosts approve (when the session is
// pre-moderated), mark answered or dismiss. An anonymous question's author is never shown to
// anyone but its author (as "mine"): not to the hosts, the projector, the minutes or the exports.

// QuestionAuthor is who asked a question that is not anonymous.
type QuestionAuthor struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Guest  bool   `json:"guest,omitempty"`
	Former bool   `json:"former,omitempty"` // an erased account
}

// QuestionView is a question as a participant or a host sees it. Mine and Upvoted are p's own;
// the events of the session's room carry the public view, without them.
type QuestionView struct {
	ID        string          `json:"id"`
	Text      string          `json:"text"`
	Status    string          `json:"status"`
	Anonymous bool            `json:"anonymous,omitempty"`
	Author    *QuestionAuthor `json:"author,omitempty"`
	Votes     int             `json:"votes"`
	CreatedAt time.Time       `json:"createdAt"`
	Mine      bool            `json:"mine,omitempty"`
	Upvoted   bool            `json:"upvoted,omitempty"`
}

// VotesView answers an upvote.
type VotesView struct {
	Question string `json:"question"`
	Votes    int    `json:"votes"`
}

var (
	errQuestionNotFound = insieme.Errorf(insieme.ENOTFOUND, "question not found.")
	errGuestsMayNotAsk  = &insieme.Error{Code: insieme.EFORBIDDEN, Message: "Guests may not ask questions in this session."}
	errOwnQuestion      = &insieme.Error{Code: insieme.EFORBIDDEN, Message: "You cannot upvote your own question."}
)

// questionSnap is a question with its counts, copied out of the node's copy.
type questionSnap struct {
	q       insieme.Question
	votes   int
	upvoted bool
}

// snapQuestions copies the questions keep selects, oldest first, with p's upvotes.
func (a *App) snapQuestions(sp *sessionParts, p *insieme.Principal, keep func(q *insieme.Question) bool) []questionSnap {
	a.parts.mu.Lock()
	defer a.parts.mu.Unlock()
	var out []questionSnap
	for _, q := range sp.questions {
		if keep(q) {
			s := questionSnap{q: *q, votes: len(sp.upvotes[q.ID])}
			if p != nil {
				s.upvoted = sp.upvotes[q.ID][p.ID]
			}
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(x, y questionSnap) int {
		if c := x.q.CreatedAt.Compare(y.q.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(x.q.ID, y.q.ID)
	})
	return out
}

// questionView shows a question to p (nil: the public view of the room's events).
func (a *App) questionView(ctx context.Context, p *insieme.Principal, s questionSnap) (QuestionView, error) {
	q := &s.q
	v := QuestionView{ID: q.ID, Text: q.Text, Status: q.Status, Anonymous: q.Anonymous, Votes: s.votes, CreatedAt: q.CreatedAt}
	if p != nil {
		v.Mine = p.ID == q.AuthorID
		v.Upvoted = s.upvoted
	}
	if q.Status == insieme.QuestionDismissed && !v.Mine {
		v.Text = "" // a dismissed question is not shown again
	}
	switch {
	case q.Anonymous:
		// Nobody sees who asked, hosts included.
	case q.Guest:
		v.Author = &QuestionAuthor{ID: q.AuthorID, Name: q.AuthorName, Guest: true}
	default:
		pv, err := a.person(ctx, q.AuthorID)
		if err != nil {
			return v, err
		}
		v.Author = &QuestionAuthor{ID: pv.ID, Name: pv.DisplayName, Former: pv.Former}
	}
	return v, nil
}

func (a *App) questionViews(ctx context.Context, p *insieme.Principal, snaps []questionSnap) ([]QuestionView, error) {
	out := make([]QuestionView, 0, len(snaps))
	for _, s := range snaps {
		v, err := a.questionView(ctx, p, s)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// sessionQuestions are the questions p sees in a session: approved and answered ones, and p's
// own pending ones.
func (a *App) sessionQuestions(ctx context.Context, p *insieme.Principal, sessionID string) ([]QuestionView, error) {
	sp, err := a.sessionParts(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	snaps := a.snapQuestions(sp, p, func(q *insieme.Question) bool {
		return q.Public() || (q.Status == insieme.QuestionPending && p != nil && q.AuthorID == p.ID)
	})
	return a.questionViews(ctx, p, snaps)
}

// pendingQuestions are the questions waiting for a host's approval (the host room).
func (a *App) pendingQuestions(ctx context.Context, p *insieme.Principal, sessionID string) ([]QuestionView, error) {
	sp, err := a.sessionParts(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	snaps := a.snapQuestions(sp, p, func(q *insieme.Question) bool { return q.Status == insieme.QuestionPending })
	return a.questionViews(ctx, p, snaps)
}

// SessionQuestions lists a session's questions with every status, authors of anonymous ones
// hidden (for the minutes: filter the answered ones).
func (a *App) SessionQuestions(ctx context.Context, sessionID string) ([]QuestionView, error) {
	sp, err := a.sessionParts(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	snaps := a.snapQuestions(sp, nil, func(*insieme.Question) bool { return true })
	return a.questionViews(ctx, nil, snaps)
}

// participantAction loads the session a participant acts in, refusing ended sessions.
func (a *App) participantAction(ctx context.Context, p *insieme.Principal, sessionID string) (*insieme.LiveSession, error) {
	if p == nil {
		return nil, errUnauthorized
	}
	s, _, _, err := a.sessionAccess(ctx, p, sessionID)
	if err != nil {
		return nil, err
	}
	if s.Status == insieme.SessionEnded {
		return nil, errSessionEnded
	}
	return s, nil
}

// QuestionInput is a question being asked.
type QuestionInput struct {
	Text      string `json:"text"`
	Anonymous bool   `json:"anonymous"`
}

// AskQuestion asks a question in a live session: pending when the session is pre-moderated,
// approved otherwise.
func (a *App) AskQuestion(ctx context.Context, p *insieme.Principal, sessionID string, in QuestionInput) (*QuestionView, error) {
	s, err := a.participantAction(ctx, p, sessionID)
	if err != nil {
		return nil, err
	}
	if p.Guest && !s.GuestsMayAsk {
		return nil, errGuestsMayNotAsk
	}
	text := insieme.CleanText(in.Text)
	var v insieme.Invalid
	insieme.CheckText(&v, "text", text, true, insieme.MaxQuestionText)
	if err := v.Err(); err != nil {
		return nil, err
	}
	sp, err := a.sessionParts(ctx, s.ID)
	if err != nil {
		return nil, err
	}
	defer a.locks.lock("questions:" + s.ID + ":" + p.ID)() // one participant's questions, one at a time
	a.parts.mu.Lock()
	mine := 0
	for _, q := range sp.questions {
		if q.AuthorID == p.ID {
			mine++
		}
	}
	total := len(sp.questions)
	a.parts.mu.Unlock()
	if mine >= insieme.MaxQuestionsPerParticipant {
		return nil, &insieme.Error{Code: insieme.ETOOMANY, Message: "You asked as many questions as one person may in a session.",
			Limits: map[string]int{"questions": insieme.MaxQuestionsPerParticipant}}
	}
	if total >= insieme.MaxSessionQuestions {
		return nil, &insieme.Error{Code: insieme.ECONFLICT, Message: "This session takes no more questions."}
	}
	status := insieme.QuestionApproved
	if s.PreModerate {
		status = insieme.QuestionPending
	}
	q := &insieme.Question{ID: insieme.NewQuestionID(s.ID, newID()[:16]), SessionID: s.ID, AuthorID: p.ID, Guest: p.Guest,
		Anonymous: in.Anonymous, Text: text, Status: status, CreatedAt: a.Now()}
	if p.Guest && !in.Anonymous {
		q.AuthorName = p.Name
	}
	if err := a.store.CreateQuestion(ctx, q); err != nil {
		return nil, err
	}
	a.partWritten(ctx, sp, "question", questionEvent{Question: q})
	snap := questionSnap{q: *q}
	if q.Public() {
		a.publishQuestion(ctx, "session:"+s.ID, snap, nil)
	} else {
		a.publishQuestion(ctx, "session-host:"+s.ID, snap, nil, "question.pending")
		a.publishQuestion(ctx, "participant:"+p.ID, snap, p) // the author's other screens
	}
	mv, err := a.questionView(ctx, p, snap)
	return &mv, err
}

// publishQuestion publishes a question as p sees it (nil: the public view) to a room, as
// question.state unless another type is given.
func (a *App) publishQuestion(ctx context.Context, room string, s questionSnap, p *insieme.Principal, typ ...string) {
	v, err := a.questionView(ctx, p, s)
	if err != nil {
		a.log.Warn("question not published", "question", s.q.ID, "err", err)
		return
	}
	t := "question.state"
	if len(typ) > 0 {
		t = typ[0]
	}
	a.publish(ctx, room, map[string]any{"type": t, "question": v})
}

// findQuestion returns a copy of a session's question with its votes, or errQuestionNotFound.
func (a *App) findQuestion(sp *sessionParts, p *insieme.Principal, id string) (questionSnap, error) {
	a.parts.mu.Lock()
	defer a.parts.mu.Unlock()
	q, ok := sp.questions[id]
	if !ok {
		return questionSnap{}, errQuestionNotFound
	}
	s := questionSnap{q: *q, votes: len(sp.upvotes[id])}
	if p != nil {
		s.upvoted = sp.upvotes[id][p.ID]
	}
	return s, nil
}

// UpvoteQuestion upvotes another participant's approved question, once: upvoting again
// changes nothing (on any node: the upvote's key is the question and the voter).
func (a *App) UpvoteQuestion(ctx context.Context, p *insieme.Principal, sessionID, questionID string) (*VotesView, error) {
	s, err := a.participantAction(ctx, p, sessionID)
	if err != nil {
		return nil, err
	}
	if sid, ok := insieme.SessionOfQuestion(questionID); !ok || sid != s.ID {
		return nil, errQuestionNotFound
	}
	sp, err := a.sessionParts(ctx, s.ID)
	if err != nil {
		return nil, err
	}
	snap, err := a.findQuestion(sp, p, questionID)
	if err != nil {
		return nil, err
	}
	switch {
	case snap.q.AuthorID == p.ID:
		return nil, errOwnQuestion
	case snap.q.Status == insieme.QuestionAnswered:
		return nil, &insieme.Error{Code: insieme.ECONFLICT, Message: "This question was answered."}
	case snap.q.Status != insieme.QuestionApproved:
		return nil, errQuestionNotFound
	case snap.upvoted:
		return &VotesView{Question: questionID, Votes: snap.votes}, nil
	}
	err = a.store.AddUpvote(ctx, &insieme.Upvote{QuestionID: questionID, SessionID: s.ID, VoterID: p.ID, CreatedAt: a.Now()})
	switch insieme.ErrorCode(err) {
	case "":
		a.partWritten(ctx, sp, "upvote", upvoteEvent{Question: questionID, Voter: p.ID})
	case insieme.ECONFLICT:
		// Upvoted already (a concurrent request, or another node whose event is on its way):
		// it is stored, so it counts once.
		a.parts.mu.Lock()
		sp.addUpvote(questionID, p.ID)
		a.parts.mu.Unlock()
	default:
		return nil, err
	}
	snap, err = a.findQuestion(sp, p, questionID)
	if err != nil {
		return nil, err
	}
	return &VotesView{Question: questionID, Votes: snap.votes}, nil
}

// ModerateQuestion sets a question's status (hosts): approved, answered or dismissed.
func (a *App) ModerateQuestion(ctx context.Context, p *insieme.Principal, sessionID, questionID, status string) (*QuestionView, error) {
	s, err := a.requireHost(ctx, p, sessionID)
	if err != nil {
		return nil, err
	}
	switch status {
	case insieme.QuestionApproved, insieme.QuestionAnswered, insieme.QuestionDismissed:
	default:
		return nil, insieme.FieldError("status", insieme.FInvalidValue)
	}
	if s.Status == insieme.SessionEnded {
		return nil, errSessionEnded
	}
	if sid, ok := insieme.SessionOfQuestion(questionID); !ok || sid != s.ID {
		return nil, errQuestionNotFound
	}
	sp, err := a.sessionParts(ctx, s.ID)
	if err != nil {
		return nil, err
	}
	defer a.locks.lock("question:" + questionID)()
	before, err := a.findQuestion(sp, p, questionID)
	if err != nil {
		return nil, err
	}
	if before.q.Status == status {
		v, err := a.questionView(ctx, p, before)
		return &v, err
	}
	if err := a.store.SetQuestionStatus(ctx, questionID, status); err != nil {
		return nil, err
	}
	a.partWritten(ctx, sp, "question", questionEvent{ID: questionID, Status: status})
	after, err := a.findQuestion(sp, p, questionID)
	if err != nil {
		return nil, err
	}
	after.q.Status = status // even if another host's change got in meanwhile: this is what was written
	wasPublic := before.q.Public()
	if wasPublic || after.q.Public() {
		a.publishQuestion(ctx, "session:"+s.ID, after, nil)
	}
	if before.q.Status == insieme.QuestionPending {
		// Hosts take it off their pending list; the author learns what became of it.
		a.publishQuestion(ctx, "session-host:"+s.ID, after, nil)
		if !after.q.Public() {
			a.publishQuestion(ctx, "participant:"+after.q.AuthorID, after, &insieme.Principal{ID: after.q.AuthorID})
		}
	}
	v, err := a.questionView(ctx, p, after)
	return &v, err
}

// Live messages about questions.

func (a *App) askAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	var m struct {
		sessionMsg
		QuestionInput
	}
	if err := decodeLive(msg, &m); err != nil {
		return nil, err
	}
	return a.AskQuestion(ctx, p, m.Session, m.QuestionInput)
}

func (a *App) upvoteAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	var m struct {
		sessionMsg
		Question string `json:"question"`
	}
	if err := decodeLive(msg, &m); err != nil {
		return nil, err
	}
	return a.UpvoteQuestion(ctx, p, m.Session, m.Question)
}

func (a *App) moderateAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	var m struct {
		sessionMsg
		Question string `json:"question"`
		Status   string `json:"status"`
	}
	if err := decodeLive(msg, &m); err != nil {
		return nil, err
	}
	return a.ModerateQuestion(ctx, p, m.Session, m.Question, m.Status)
}

// questionsPersonalData: a person's questions (anonymous ones too, marked so), upvotes and
// raised hands are in their data download and go with their erasure.
func (a *App) questionsPersonalData() []PersonalData {
	return []PersonalData{
		{Name: "questions", Export: func(ctx context.Context, acct *insieme.Account) (any, error) {
			qs, err := a.store.QuestionsBy(ctx, acct.ID)
			out := make([]map[string]any, 0, len(qs))
			for _, q := range qs {
				out = append(out, map[string]any{"id": q.ID, "sessionId": q.SessionID, "text": q.Text, "anonymous": q.Anonymous,
					"status": q.Status, "createdAt": q.CreatedAt})
			}
			return out, err
		}, Erase: a.eraseQuestionsBy},
		{Name: "upvotes", Export: func(ctx context.Context, acct *insieme.Account) (any, error) {
			us, err := a.store.UpvotesBy(ctx, acct.ID)
			out := make([]map[string]any, 0, len(us))
			for _, u := range us {
				out = append(out, map[string]any{"questionId": u.QuestionID, "sessionId": u.SessionID, "createdAt": u.CreatedAt})
			}
			return out, err
		}, Erase: a.eraseUpvotesBy},
		{Name: "hands", Export: func(ctx context.Context, acct *insieme.Account) (any, error) {
			hs, err := a.store.HandsBy(ctx, acct.ID)
			out := make([]map[string]any, 0, len(hs))
			for _, h := range hs {
				out = append(out, map[string]any{"sessionId": h.SessionID, "since": h.Since})
			}
			return out, err
		}, Erase: a.eraseHandsBy},
	}
}

// eraseQuestionsBy removes a person's questions (and their upvotes) and takes them off every
// screen.
func (a *App) eraseQuestionsBy(ctx context.Context, acct *insieme.Account) error {
	qs, err := a.store.QuestionsBy(ctx, acct.ID)
	if err != nil || len(qs) == 0 {
		return err
	}
	ids := make([]string, len(qs))
	for i, q := range qs {
		ids[i] = q.ID
	}
	if err := a.store.DeleteQuestions(ctx, ids); err != nil {
		return err
	}
	for _, q := range qs {
		if sp, err := a.sessionParts(ctx, q.SessionID); err == nil {
			a.partWritten(ctx, sp, "question", questionEvent{ID: q.ID, Deleted: true})
		} else {
			a.publish(ctx, LiveRoom, liveEvent{Session: q.SessionID, Kind: "question", Data: mustJSON(questionEvent{ID: q.ID, Deleted: true})})
		}
		room := "session:" + q.SessionID
		if q.Status == insieme.QuestionPending {
			room = "session-host:" + q.SessionID
		}
		a.publish(ctx, room, map[string]any{"type": "question.removed", "question": q.ID})
	}
	return nil
}

// eraseUpvotesBy removes a person's upvotes; the counts shown follow.
func (a *App) eraseUpvotesBy(ctx context.Context, acct *insieme.Account) error {
	us, err := a.store.UpvotesBy(ctx, acct.ID)
	if err != nil || len(us) == 0 {
		return err
	}
	if err := a.store.DeleteUpvotesBy(ctx, acct.ID); err != nil {
		return err
	}
	for _, u := range us {
		ev := upvoteEvent{Question: u.QuestionID, Voter: u.VoterID, Removed: true}
		if sp, err := a.sessionParts(ctx, u.SessionID); err == nil {
			a.partWritten(ctx, sp, "upvote", ev)
		} else {
			a.publish(ctx, LiveRoom, liveEvent{Session: u.SessionID, Kind: "upvote", Data: mustJSON(ev)})
		}
	}
	return nil
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
