package app

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// writeMinutes records an ended session: attendance, the agenda with actual durations, every
// poll's final tally, the answered questions and the speakers. It runs on the node that ended
// the session, after the polls' final recounts.
func (a *App) writeMinutes(ctx context.Context, s *insieme.LiveSession) error {
	m := &insieme.Minutes{SessionID: s.ID, ForumID: s.ForumID, Title: s.Title, ScheduledAt: s.ScheduledAt, StartedAt: s.StartedAt,
		Mode: s.Mode, Place: s.Place, WrittenAt: a.Now()}
	if s.EndedAt != nil {
		m.EndedAt = *s.EndedAt
	}
	peak, guests, accounts, ids := a.attendance(s.ID)
	m.Peak, m.Guests, m.Accounts = peak, guests, accounts
	for _, id := range ids {
		if !isGuestID(id) {
			m.Participants = append(m.Participants, id)
		}
	}
	// The agenda: an item may have been current more than once.
	spent := map[string]time.Duration{}
	for _, r := range s.Runs {
		end := m.EndedAt
		if r.EndedAt != nil {
			end = *r.EndedAt
		}
		spent[r.ItemID] += end.Sub(r.StartedAt)
	}
	for _, it := range s.Agenda {
		m.Agenda = append(m.Agenda, insieme.MinutesItem{Title: it.Title, PlannedMinutes: it.Minutes, ActualSeconds: int(spent[it.ID].Seconds())})
	}
	polls, err := a.store.PollsOf(ctx, s.ID)
	if err != nil {
		return err
	}
	for _, p := range polls {
		if p.Final == nil {
			continue // never opened
		}
		m.Polls = append(m.Polls, insieme.MinutesPoll{Title: p.Title, Kind: p.Kind, Options: p.Options, Tally: *p.Final})
	}
	qs, err := a.SessionQuestions(ctx, s.ID)
	if err != nil {
		return err
	}
	for _, q := range qs {
		if q.Status != insieme.QuestionAnswered {
			continue
		}
		mq := insieme.MinutesQuestion{Text: q.Text, Anonymous: q.Anonymous, Votes: q.Votes}
		if q.Author != nil && !q.Anonymous {
			if q.Author.Guest {
				mq.GuestName = q.Author.Name
			} else {
				mq.AuthorID = q.Author.ID
			}
		}
		m.Questions = append(m.Questions, mq)
	}
	slices.SortStableFunc(m.Questions, func(x, y insieme.MinutesQuestion) int { return y.Votes - x.Votes })
	for _, t := range s.Turns {
		mt := insieme.MinutesTurn{}
		if t.EndedAt != nil {
			mt.Seconds = int(t.EndedAt.Sub(t.StartedAt).Seconds())
		}
		if isGuestID(t.ParticipantID) {
			mt.GuestName = t.Name
		} else {
			mt.ParticipantID = t.ParticipantID
		}
		m.Speakers = append(m.Speakers, mt)
	}
	return a.store.PutMinutes(ctx, m)
}

// minutesLabels are the minutes' headings, in the languages municipalities write in most;
// others read them in English.
var minutesLabels = map[string]map[string]string{
	"en": {"minutes": "Minutes", "when": "When", "place": "Place", "attendance": "Attendance", "peak": "Most at once",
		"people": "Participants", "guests": "guests", "accounts": "with an account", "agenda": "Agenda", "planned": "planned",
		"actual": "actual", "min": "min", "polls": "Polls", "voters": "voters", "questions": "Answered questions",
		"votes": "votes", "anonymous": "anonymous", "speakers": "Speakers", "none": "None.", "average": "average",
		"former": "former participant", "points": "points"},
	"it": {"minutes": "Verbale", "when": "Quando", "place": "Luogo", "attendance": "Partecipazione", "peak": "Massimo contemporaneo",
		"people": "Partecipanti", "guests": "ospiti", "accounts": "con un account", "agenda": "Ordine del giorno", "planned": "previsti",
		"actual": "effettivi", "min": "min", "polls": "Sondaggi", "voters": "votanti", "questions": "Domande con risposta",
		"votes": "voti", "anonymous": "anonima", "speakers": "Interventi", "none": "Nessuno.", "average": "media",
		"former": "ex partecipante", "points": "punti"},
	"fr": {"minutes": "Procès-verbal", "when": "Quand", "place": "Lieu", "attendance": "Participation", "peak": "Maximum simultané",
		"people": "Participants", "guests": "invités", "accounts": "avec un compte", "agenda": "Ordre du jour", "planned": "prévues",
		"actual": "réelles", "min": "min", "polls": "Sondages", "voters": "votants", "questions": "Questions traitées",
		"votes": "votes", "anonymous": "anonyme", "speakers": "Prises de parole", "none": "Aucun.", "average": "moyenne",
		"former": "ancien participant", "points": "points"},
	"ar": {"minutes": "محضر الجلسة", "when": "الموعد", "place": "المكان", "attendance": "الحضور", "peak": "أقصى عدد في وقت واحد",
		"people": "المشاركون", "guests": "ضيوف", "accounts": "بحساب", "agenda": "جدول الأعمال", "planned": "المخطط",
		"actual": "الفعلي", "min": "دقيقة", "polls": "الاستطلاعات", "voters": "مصوّتون", "questions": "الأسئلة التي أجيب عنها",
		"votes": "أصوات", "anonymous": "مجهول", "speakers": "المتحدثون", "none": "لا يوجد.", "average": "المتوسط",
		"former": "مشارك سابق", "points": "نقاط"},
}

// text picks a text in lang, or in the first language Insieme offers that it has.
func text(t insieme.Texts, lang string) string {
	if s, ok := t[lang]; ok && s != "" {
		return s
	}
	for _, l := range insieme.Languages {
		if s := t[l]; s != "" {
			return s
		}
	}
	return ""
}

// minutesAccess loads a session's minutes for p: whoever may see the session's forum (or
// the guests of that session) reads them.
func (a *App) minutesAccess(ctx context.Context, p *insieme.Principal, id string) (*insieme.Minutes, error) {
	s, err := a.liveSession(ctx, id)
	if err != nil {
		return nil, err
	}
	if p != nil && p.Guest && p.Scope != insieme.JoinSession+":"+s.ID {
		return nil, insieme.Errorf(insieme.ENOTFOUND, "session not found.")
	}
	if _, err := a.visibleForum(ctx, p, s.ForumID); err != nil {
		return nil, insieme.Errorf(insieme.ENOTFOUND, "session not found.")
	}
	m, err := a.store.Minutes(ctx, id)
	if insieme.ErrorCode(err) == insieme.ENOTFOUND {
		return nil, &insieme.Error{Code: insieme.ENOTFOUND, Message: "The minutes are written when the session ends."}
	}
	return m, err
}

// minutesDoc is the minutes ready to print: names looked up, texts in one language.
type minutesDoc struct {
	Lang, Dir, Title, When, Place string
	Peak, Guests, Accounts        int
	Agenda                        []struct{ Title, Planned, Actual string }
	Polls                         []minutesPollDoc
	Questions                     []struct{ Text, By string }
	Speakers                      []struct{ Name, Time string }
	L                             map[string]string
}

type minutesPollDoc struct {
	Title, Summary string
	Lines          []string
}

func (a *App) minutesDoc(ctx context.Context, m *insieme.Minutes, lang string) (*minutesDoc, error) {
	l, ok := minutesLabels[lang]
	if !ok {
		lang, l = "en", minutesLabels["en"]
	}
	d := &minutesDoc{Lang: lang, Dir: "ltr", Title: text(m.Title, lang), Place: m.Place, Peak: m.Peak, Guests: m.Guests,
		Accounts: m.Accounts, L: l}
	if lang == "ar" {
		d.Dir = "rtl"
	}
	start := m.ScheduledAt
	if m.StartedAt != nil {
		start = *m.StartedAt
	}
	d.When = start.Format("2006-01-02 15:04") + " – " + m.EndedAt.Format("15:04") + " UTC"
	name := func(id string) (string, error) {
		pv, err := a.person(ctx, id)
		if err != nil {
			return "", err
		}
		if pv.Former || pv.DisplayName == "" {
			return l["former"], nil
		}
		return pv.DisplayName, nil
	}
	for _, it := range m.Agenda {
		d.Agenda = append(d.Agenda, struct{ Title, Planned, Actual string }{text(it.Title, lang),
			fmt.Sprintf("%d %s", it.PlannedMinutes, l["min"]), fmt.Sprintf("%.1f %s", float64(it.ActualSeconds)/60, l["min"])})
	}
	for _, p := range m.Polls {
		pd := minutesPollDoc{Title: text(p.Title, lang), Summary: fmt.Sprintf("%d %s (%d %s, %d %s)", p.Tally.Voters, l["voters"],
			p.Tally.Guests, l["guests"], p.Tally.Accounts, l["accounts"])}
		switch p.Kind {
		case insieme.PollScale:
			pd.Lines = append(pd.Lines, fmt.Sprintf("%s: %.2f", l["average"], p.Tally.Average))
			for i, n := range p.Tally.Distribution {
				pd.Lines = append(pd.Lines, fmt.Sprintf("%d: %d", insieme.ScaleMin+i, n))
			}
		case insieme.PollWords:
			for _, w := range p.Tally.Words {
				pd.Lines = append(pd.Lines, fmt.Sprintf("%s: %d", w.Word, w.Count))
			}
		default:
			for i, o := range p.Options {
				line := fmt.Sprintf("%s: %d", text(o, lang), at(p.Tally.Counts, i))
				if p.Kind == insieme.PollRanking {
					line += fmt.Sprintf(" (%d %s)", at(p.Tally.Points, i), l["points"])
				}
				pd.Lines = append(pd.Lines, line)
			}
		}
		d.Polls = append(d.Polls, pd)
	}
	for _, q := range m.Questions {
		by := l["anonymous"]
		switch {
		case q.AuthorID != "":
			n, err := name(q.AuthorID)
			if err != nil {
				return nil, err
			}
			by = n
		case q.GuestName != "":
			by = q.GuestName
		}
		d.Questions = append(d.Questions, struct{ Text, By string }{q.Text, fmt.Sprintf("%s · %d %s", by, q.Votes, l["votes"])})
	}
	for _, t := range m.Speakers {
		n := t.GuestName
		if t.ParticipantID != "" {
			var err error
			if n, err = name(t.ParticipantID); err != nil {
				return nil, err
			}
		}
		d.Speakers = append(d.Speakers, struct{ Name, Time string }{n, fmt.Sprintf("%d:%02d", t.Seconds/60, t.Seconds%60)})
	}
	return d, nil
}

func at(xs []int, i int) int {
	if i < len(xs) {
		return xs[i]
	}
	return 0
}

// mdEscape keeps people's text from becoming markdown structure (headings, links, HTML).
var mdEscape = strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", `\<`, ">", `\>`,
	"#", `\#`, "|", `\|`, "\n", " ", "\r", " ")

// MinutesMarkdown is a session's minutes as Markdown, in lang.
func (a *App) MinutesMarkdown(ctx context.Context, p *insieme.Principal, id, lang string) (string, error) {
	m, err := a.minutesAccess(ctx, p, id)
	if err != nil {
		return "", err
	}
	d, err := a.minutesDoc(ctx, m, lang)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	e := mdEscape.Replace
	fmt.Fprintf(&b, "# %s: %s\n\n", d.L["minutes"], e(d.Title))
	fmt.Fprintf(&b, "- %s: %s\n", d.L["when"], d.When)
	if d.Place != "" {
		fmt.Fprintf(&b, "- %s: %s\n", d.L["place"], e(d.Place))
	}
	fmt.Fprintf(&b, "\n## %s\n\n- %s: %d\n- %s: %d (%d %s, %d %s)\n", d.L["attendance"], d.L["peak"], d.Peak,
		d.L["people"], d.Guests+d.Accounts, d.Guests, d.L["guests"], d.Accounts, d.L["accounts"])
	fmt.Fprintf(&b, "\n## %s\n\n", d.L["agenda"])
	if len(d.Agenda) == 0 {
		fmt.Fprintln(&b, d.L["none"])
	}
	for i, it := range d.Agenda {
		fmt.Fprintf(&b, "%d. %s — %s %s, %s %s\n", i+1, e(it.Title), d.L["planned"], it.Planned, d.L["actual"], it.Actual)
	}
	fmt.Fprintf(&b, "\n## %s\n\n", d.L["polls"])
	if len(d.Polls) == 0 {
		fmt.Fprintln(&b, d.L["none"])
	}
	for _, pd := range d.Polls {
		fmt.Fprintf(&b, "### %s\n\n%s\n\n", e(pd.Title), pd.Summary)
		for _, line := range pd.Lines {
			fmt.Fprintf(&b, "- %s\n", e(line))
		}
		fmt.Fprintln(&b)
	}
	fmt.Fprintf(&b, "## %s\n\n", d.L["questions"])
	if len(d.Questions) == 0 {
		fmt.Fprintln(&b, d.L["none"])
	}
	for _, q := range d.Questions {
		fmt.Fprintf(&b, "- %s (%s)\n", e(q.Text), e(q.By))
	}
	fmt.Fprintf(&b, "\n## %s\n\n", d.L["speakers"])
	if len(d.Speakers) == 0 {
		fmt.Fprintln(&b, d.L["none"])
	}
	for i, s := range d.Speakers {
		fmt.Fprintf(&b, "%d. %s — %s\n", i+1, e(s.Name), s.Time)
	}
	return b.String(), nil
}

var minutesHTML = template.Must(template.New("minutes").Parse(`<!doctype html>
<html lang="{{.Lang}}" dir="{{.Dir}}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.L.minutes}}: {{.Title}}</title>
<style>
body{font:16px/1.5 system-ui,"Noto Sans","Noto Sans Arabic",sans-serif;max-inline-size:46rem;margin-inline:auto;padding:1.5rem;color:#111}
h1{font-size:1.6rem}h2{font-size:1.25rem;border-block-end:1px solid #999;margin-block-start:2rem}
ul,ol{padding-inline-start:1.5rem}@media print{body{padding:0}a{color:inherit}}
</style></head><body>
<h1>{{.L.minutes}}: {{.Title}}</h1>
<p>{{.L.when}}: {{.When}}{{if .Place}}<br>{{.L.place}}: {{.Place}}{{end}}</p>
<h2>{{.L.attendance}}</h2>
<ul><li>{{.L.peak}}: {{.Peak}}</li><li>{{.L.people}}: {{.Guests}} {{.L.guests}}, {{.Accounts}} {{.L.accounts}}</li></ul>
<h2>{{.L.agenda}}</h2>
{{if .Agenda}}<ol>{{range .Agenda}}<li>{{.Title}} — {{$.L.planned}} {{.Planned}}, {{$.L.actual}} {{.Actual}}</li>{{end}}</ol>{{else}}<p>{{.L.none}}</p>{{end}}
<h2>{{.L.polls}}</h2>
{{range .Polls}}<h3>{{.Title}}</h3><p>{{.Summary}}</p><ul>{{range .Lines}}<li>{{.}}</li>{{end}}</ul>{{else}}<p>{{.L.none}}</p>{{end}}
<h2>{{.L.questions}}</h2>
{{if .Questions}}<ul>{{range .Questions}}<li>{{.Text}} <small>({{.By}})</small></li>{{end}}</ul>{{else}}<p>{{.L.none}}</p>{{end}}
<h2>{{.L.speakers}}</h2>
{{if .Speakers}}<ol>{{range .Speakers}}<li>{{.Name}} — {{.Time}}</li>{{end}}</ol>{{else}}<p>{{.L.none}}</p>{{end}}
</body></html>
`))

// MinutesHTML is a session's minutes as a printable page, in lang.
func (a *App) MinutesHTML(ctx context.Context, p *insieme.Principal, id, lang string) ([]byte, error) {
	m, err := a.minutesAccess(ctx, p, id)
	if err != nil {
		return nil, err
	}
	d, err := a.minutesDoc(ctx, m, lang)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := minutesHTML.Execute(&b, d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// minutesPersonalData: the minutes an account appears in (attendance, questions, speakers)
// are in its download; erasing the account leaves them naming a former participant.
func (a *App) minutesPersonalData() PersonalData {
	return PersonalData{Name: "minutes", Export: func(ctx context.Context, acct *insieme.Account) (any, error) {
		ms, err := a.store.MinutesWith(ctx, acct.ID)
		out := make([]map[string]any, 0, len(ms))
		for _, m := range ms {
			e := map[string]any{"sessionId": m.SessionID, "endedAt": m.EndedAt, "attended": slices.Contains(m.Participants, acct.ID)}
			var asked []string
			for _, q := range m.Questions {
				if q.AuthorID == acct.ID {
					asked = append(asked, q.Text)
				}
			}
			spoke := 0
			for _, t := range m.Speakers {
				if t.ParticipantID == acct.ID {
					spoke += t.Seconds
				}
			}
			e["answeredQuestions"], e["secondsSpoken"] = asked, spoke
			out = append(out, e)
		}
		return out, err
	}}
}

// hasMinutes says whether a session's minutes were written (a look-up by _id, remembered
// once they exist: they are never removed).
func (a *App) hasMinutes(ctx context.Context, sessionID string) bool {
	a.minutesKnown.mu.Lock()
	known := a.minutesKnown.ids[sessionID]
	a.minutesKnown.mu.Unlock()
	if known {
		return true
	}
	if _, err := a.store.Minutes(ctx, sessionID); err != nil {
		return false
	}
	a.minutesKnown.mu.Lock()
	if a.minutesKnown.ids == nil || len(a.minutesKnown.ids) >= maxLiveRooms {
		a.minutesKnown.ids = map[string]bool{}
	}
	a.minutesKnown.ids[sessionID] = true
	a.minutesKnown.mu.Unlock()
	return true
}

// knownMinutes remembers the sessions whose minutes exist.
type knownMinutes struct {
	mu  sync.Mutex
	ids map[string]bool
}

// sessionsPersonalData: the live sessions an account hosted as a co-host, was removed from or
// spoke in (the sessions keep them by id; an erased account reads as a former participant).
func (a *App) sessionsPersonalData() PersonalData {
	return PersonalData{Name: "liveSessions", Export: func(ctx context.Context, acct *insieme.Account) (any, error) {
		out := []map[string]any{}
		err := a.store.AllLiveSessions(ctx, func(s *insieme.LiveSession) error {
			e := map[string]any{}
			if s.IsCoHost(acct.ID) {
				e["coHost"] = true
			}
			if s.IsRemoved(acct.ID) {
				e["removed"] = true
			}
			spoke := 0
			for _, t := range s.Turns {
				if t.ParticipantID == acct.ID && t.EndedAt != nil {
					spoke += int(t.EndedAt.Sub(t.StartedAt).Seconds())
				}
			}
			if spoke > 0 {
				e["secondsSpoken"] = spoke
			}
			if len(e) > 0 {
				e["sessionId"], e["title"] = s.ID, s.Title
				out = append(out, e)
			}
			return nil
		})
		return out, err
	}}
}
