package app

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// A workshop's output: its brief, participants, clusters with their cards (hidden cards left
// out), the ranked dot results (once the vote ended) and the action plan. Anyone who may see
// the forum reads it once the workshop is closed; facilitators at any time, and the
// brainstorm stays private from them too (they see only their own cards then).

// WorkshopOutput is the output as exported (export.json; the other formats render it).
type WorkshopOutput struct {
	ID           string              `json:"id"`
	ForumID      string              `json:"forumId"`
	Title        string              `json:"title"`
	Brief        insieme.Texts       `json:"brief"`
	ScheduledAt  time.Time           `json:"scheduledAt"`
	Phase        string              `json:"phase"`
	Anonymous    bool                `json:"anonymous"`
	Participants []string            `json:"participants"`
	Clusters     []OutputCluster     `json:"clusters"`
	Unclustered  []OutputCard        `json:"unclustered"`
	Results      []OutputResult      `json:"results"` // null until the vote ended
	Actions      []*ActionView       `json:"actions"`
	Groups       []WorkshopGroupView `json:"groups"`
}

// OutputCluster is a cluster with its cards.
type OutputCluster struct {
	ID         string       `json:"id"`
	Name       string       `json:"name"`
	ProposalID string       `json:"proposalId,omitempty"`
	Cards      []OutputCard `json:"cards"`
}

// OutputCard is a card in the output; Author is "" in anonymous workshops.
type OutputCard struct {
	ID     string `json:"id"`
	Text   string `json:"text"`
	Colour string `json:"colour"`
	Group  string `json:"group,omitempty"`
	Author string `json:"author,omitempty"`
}

// OutputResult is a ranked dot result.
type OutputResult struct {
	Rank   int    `json:"rank"`
	Target string `json:"target"`
	Kind   string `json:"kind"` // card or cluster
	Label  string `json:"label"`
	Dots   int    `json:"dots"`
}

// WorkshopExport builds the output as p may read it.
func (a *App) WorkshopExport(ctx context.Context, p *insieme.Principal, id string) (*WorkshopOutput, error) {
	r, w, fac, err := a.exportAccess(ctx, p, id)
	if err != nil {
		return nil, err
	}
	var v *viewer
	if p != nil {
		v = &viewer{id: p.ID, facilitator: fac}
	}
	a.workshops.mu.Lock()
	cards, clusters := r.cardViews(v), r.clusterViews()
	names := map[string]string{} // account or guest id → name, for the participant list
	for _, c := range r.cards {
		if c.AuthorID != "" {
			names[c.AuthorID] = c.AuthorName
		}
	}
	for pid := range r.participants() {
		if _, ok := names[pid]; !ok {
			names[pid] = ""
		}
	}
	acts := r.actionViews()
	a.workshops.mu.Unlock()
	if err := a.nameAuthors(ctx, cards); err != nil {
		return nil, err
	}
	out := &WorkshopOutput{ID: w.ID, ForumID: w.ForumID, Title: w.Title, Brief: w.Brief, ScheduledAt: w.ScheduledAt, Phase: w.Phase,
		Anonymous: w.Settings.Anonymous, Participants: []string{}, Clusters: []OutputCluster{}, Unclustered: []OutputCard{}, Actions: acts,
		Groups: a.workshopView(w, false).Groups}
	if !w.Settings.Anonymous {
		for pid, name := range names {
			if name == "" && !strings.HasPrefix(pid, "g") {
				pv, err := a.person(ctx, pid)
				if err != nil {
					return nil, err
				}
				name = pv.DisplayName
			}
			if name != "" {
				out.Participants = append(out.Participants, name)
			}
		}
		slices.Sort(out.Participants)
	}
	labels := map[string]string{}
	byCluster := map[string][]OutputCard{}
	for _, c := range cards {
		labels[c.ID] = c.Text
		if c.Hidden {
			continue
		}
		oc := OutputCard{ID: c.ID, Text: c.Text, Colour: c.Colour, Group: c.Group}
		if c.Author != nil {
			oc.Author = c.Author.Name
		}
		if c.Cluster != "" {
			byCluster[c.Cluster] = append(byCluster[c.Cluster], oc)
		} else {
			out.Unclustered = append(out.Unclustered, oc)
		}
	}
	for _, c := range clusters {
		labels[c.ID] = c.Name
		out.Clusters = append(out.Clusters, OutputCluster{ID: c.ID, Name: c.Name, ProposalID: c.ProposalID, Cards: nonNilCards(byCluster[c.ID])})
	}
	if w.VoteEnded() {
		out.Results = []OutputResult{}
		for i, res := range w.Results {
			kind := "card"
			if strings.Contains(res.Target, "~k") {
				kind = "cluster"
			}
			out.Results = append(out.Results, OutputResult{Rank: i + 1, Target: res.Target, Kind: kind, Label: labels[res.Target], Dots: res.Dots})
		}
	}
	return out, nil
}

func nonNilCards(cs []OutputCard) []OutputCard {
	if cs == nil {
		return []OutputCard{}
	}
	return cs
}

// exportAccess: anyone who may see the forum once the workshop is closed; its facilitators at
// any time.
func (a *App) exportAccess(ctx context.Context, p *insieme.Principal, id string) (*workshopRoom, *insieme.Workshop, bool, error) {
	if p != nil {
		r, w, fac, err := a.workshopAccess(ctx, p, id)
		if err != nil {
			return nil, nil, false, err
		}
		if !fac && w.Phase != insieme.PhaseClosed {
			return nil, nil, false, &insieme.Error{Code: insieme.EFORBIDDEN, Message: "The output is public once the workshop is closed."}
		}
		return r, w, fac, nil
	}
	r, err := a.workshopRoom(ctx, id)
	if err != nil {
		if insieme.ErrorCode(err) == insieme.ENOTFOUND {
			return nil, nil, false, errWorkshopGone
		}
		return nil, nil, false, err
	}
	a.workshops.mu.Lock()
	w := r.w
	a.workshops.mu.Unlock()
	if _, err := a.visibleForum(ctx, nil, w.ForumID); err != nil {
		return nil, nil, false, errWorkshopGone
	}
	if w.Phase != insieme.PhaseClosed {
		return nil, nil, false, errUnauthorized
	}
	return r, w, false, nil
}

// WorkshopMarkdown is the output as Markdown.
func WorkshopMarkdown(o *WorkshopOutput) string {
	e := mdEscape.Replace
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", e(o.Title))
	fmt.Fprintf(&b, "%s\n\n", o.ScheduledAt.Format("2006-01-02 15:04 MST"))
	b.WriteString("## Brief\n\n")
	for _, lang := range sortedKeys(o.Brief) {
		for _, line := range strings.Split(o.Brief[lang], "\n") {
			fmt.Fprintf(&b, "%s  \n", e(line))
		}
		fmt.Fprintf(&b, "*(%s)*\n\n", lang)
	}
	if !o.Anonymous {
		b.WriteString("## Participants\n\n")
		for _, n := range o.Participants {
			fmt.Fprintf(&b, "- %s\n", e(n))
		}
		b.WriteString("\n")
	}
	b.WriteString("## Clusters\n\n")
	card := func(c OutputCard) {
		fmt.Fprintf(&b, "- %s", e(c.Text))
		if c.Author != "" {
			fmt.Fprintf(&b, " (%s)", e(c.Author))
		}
		b.WriteString("\n")
	}
	for _, c := range o.Clusters {
		fmt.Fprintf(&b, "### %s\n\n", e(c.Name))
		for _, cd := range c.Cards {
			card(cd)
		}
		b.WriteString("\n")
	}
	if len(o.Unclustered) > 0 {
		b.WriteString("### Other cards\n\n")
		for _, cd := range o.Unclustered {
			card(cd)
		}
		b.WriteString("\n")
	}
	if o.Results != nil {
		b.WriteString("## Dot results\n\n")
		for _, r := range o.Results {
			fmt.Fprintf(&b, "%d. %s: %d\n", r.Rank, e(r.Label), r.Dots)
		}
		b.WriteString("\n")
	}
	b.WriteString("## Action plan\n\n")
	if len(o.Actions) == 0 {
		b.WriteString("None.\n")
	}
	for _, act := range o.Actions {
		fmt.Fprintf(&b, "- **%s** — %s", e(act.Title), act.Status)
		if act.Owner != nil {
			fmt.Fprintf(&b, ", %s", e(act.Owner.Name))
		}
		if act.Due != "" {
			fmt.Fprintf(&b, ", %s", act.Due)
		}
		if act.Resources != "" {
			fmt.Fprintf(&b, "; %s", e(act.Resources))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func sortedKeys(t insieme.Texts) []string {
	ks := make([]string, 0, len(t))
	for k := range t {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

var workshopHTML = template.Must(template.New("workshop").Parse(`<!doctype html>
<html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font:16px/1.5 system-ui,"Noto Sans","Noto Sans Arabic",sans-serif;max-inline-size:46rem;margin-inline:auto;padding:1.5rem;color:#111}
h1{font-size:1.6rem}h2{font-size:1.25rem;border-block-end:1px solid #999;margin-block-start:2rem}
ul,ol{padding-inline-start:1.5rem}.brief{white-space:pre-line}@media print{body{padding:0}}
</style></head><body>
<h1>{{.Title}}</h1>
<p>{{.ScheduledAt.Format "2006-01-02 15:04 MST"}}</p>
<h2>Brief</h2>
{{range $lang, $text := .Brief}}<p class="brief" lang="{{$lang}}" dir="auto">{{$text}}</p>{{end}}
{{if not .Anonymous}}<h2>Participants</h2><ul>{{range .Participants}}<li>{{.}}</li>{{end}}</ul>{{end}}
<h2>Clusters</h2>
{{range .Clusters}}<h3>{{.Name}}</h3><ul>{{range .Cards}}<li dir="auto">{{.Text}}{{if .Author}} <small>({{.Author}})</small>{{end}}</li>{{end}}</ul>{{end}}
{{if .Unclustered}}<h3>Other cards</h3><ul>{{range .Unclustered}}<li dir="auto">{{.Text}}{{if .Author}} <small>({{.Author}})</small>{{end}}</li>{{end}}</ul>{{end}}
{{if .Results}}<h2>Dot results</h2><ol>{{range .Results}}<li>{{.Label}}: {{.Dots}}</li>{{end}}</ol>{{end}}
<h2>Action plan</h2>
{{if .Actions}}<ul>{{range .Actions}}<li><strong>{{.Title}}</strong> — {{.Status}}{{if .Owner}}, {{.Owner.Name}}{{end}}{{if .Due}}, {{.Due}}{{end}}{{if .Resources}}; {{.Resources}}{{end}}</li>{{end}}</ul>{{else}}<p>None.</p>{{end}}
</body></html>
`))

// WorkshopHTML is the output as a printable page.
func WorkshopHTML(o *WorkshopOutput) ([]byte, error) {
	var b bytes.Buffer
	if err := workshopHTML.Execute(&b, o); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
