package app

import (
	"context"
	"slices"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// CaseView is a moderation case as moderators (and the content's author) see it. Reporters are
// never named to the author.
type CaseView struct {
	ID         string       `json:"id"`
	Kind       string       `json:"kind"`
	TargetID   string       `json:"targetId"`
	ProposalID string       `json:"proposalId"`
	ForumID    string       `json:"forumId"`
	Status     string       `json:"status"`
	Reports    int          `json:"reports"`
	Counting   int          `json:"countingReports"`
	Reasons    []string     `json:"reasons"`
	Reason     string       `json:"reason,omitempty"`
	Appeal     string       `json:"appeal,omitempty"`
	Author     *PersonView  `json:"author,omitempty"`
	Title      string       `json:"title,omitempty"`
	BodyHTML   string       `json:"bodyHtml,omitempty"`
	Verified   bool         `json:"verifiedOrganisation,omitempty"`
	UpdatedAt  time.Time    `json:"updatedAt"`
	Notes      []ReportNote `json:"notes,omitempty"`
}

// ReportNote is what a reporter wrote (moderators only).
type ReportNote struct {
	Reason string `json:"reason"`
	Note   string `json:"note,omitempty"`
}

// target is the reported content.
type target struct {
	proposal *insieme.Proposal
	forum    *insieme.Forum
	comment  *insieme.Comment
	authorID string
	verified bool // posted for (or by a member of) a verified organisation
}

func (a *App) findTarget(ctx context.Context, p *insieme.Principal, kind, id string) (*target, error) {
	t := &target{}
	switch kind {
	case insieme.TargetProposal:
		pr, f, err := a.visibleProposal(ctx, p, id)
		if err != nil {
			return nil, err
		}
		t.proposal, t.forum, t.authorID = pr, f, pr.AuthorID
		if pr.OrgID != "" {
			if o, err := a.store.Organisation(ctx, pr.OrgID); err == nil && o.Verified {
				t.verified = true
			}
		}
	case insieme.TargetComment:
		proposalID, ok := insieme.ProposalOfComment(id)
		if !ok {
			return nil, insieme.Errorf(insieme.ENOTFOUND, "comment not found.")
		}
		pr, f, err := a.visibleProposal(ctx, p, proposalID)
		if err != nil {
			return nil, err
		}
		th, err := a.store.Thread(ctx, proposalID)
		if err != nil {
			return nil, err
		}
		c := th.Find(id)
		if c == nil || c.Deleted {
			return nil, insieme.Errorf(insieme.ENOTFOUND, "comment not found.")
		}
		t.proposal, t.forum, t.comment, t.authorID = pr, f, c, c.AuthorID
		ms, err := a.store.MembershipsOf(ctx, c.AuthorID)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if o, err := a.store.Organisation(ctx, m.OrgID); err == nil && o.Verified && o.Kind == insieme.KindAssociation {
				t.verified = true
				break
			}
		}
	default:
		return nil, insieme.FieldError("targetKind", insieme.FInvalidValue)
	}
	return t, nil
}

// ReportInput is a report.
type ReportInput struct {
	Kind, TargetID, Reason, Note string
}

// Report records a report. At the forum's limit of distinct reports from accounts older than
// a day the content is hidden pending review; content of verified organisations goes to the
// queue without hiding, so throwaway accounts cannot silence an association.
func (a *App) Report(ctx context.Context, p *insieme.Principal, in ReportInput) (*ReportReceipt, error) {
	reporter, err := a.account(ctx, p)
	if err != nil {
		return nil, err
	}
	var v insieme.Invalid
	if in.Kind != insieme.TargetProposal && in.Kind != insieme.TargetComment {
		v.Add("targetKind", insieme.FInvalidValue)
	}
	if in.TargetID == "" {
		v.Add("targetId", insieme.FRequired)
	}
	if !slices.Contains(insieme.ReportReasons, in.Reason) {
		v.Add("reason", insieme.FInvalidValue)
	}
	note := trimSpace(in.Note)
	insieme.CheckText(&v, "note", note, false, insieme.MaxReportNote)
	if err := v.Err(); err != nil {
		return nil, err
	}
	t, err := a.findTarget(ctx, p, in.Kind, in.TargetID)
	if err != nil {
		return nil, err
	}
	if t.authorID == p.AccountID {
		return nil, &insieme.Error{Code: insieme.ECONFLICT, Message: "You cannot report what you wrote."}
	}
	now := a.Now()
	counts := now.Sub(reporter.CreatedAt) >= insieme.MinReporterAge
	var hidden, queued bool
	mc, err := a.changeCase(ctx, insieme.CaseID(in.Kind, in.TargetID), func(c *insieme.ModerationCase) error {
		if c.Version == 0 {
			*c = insieme.ModerationCase{ID: c.ID, Kind: in.Kind, TargetID: in.TargetID, ProposalID: t.proposal.ID,
				ForumID: t.forum.ID, AuthorID: t.authorID, Status: insieme.CaseOpen}
		}
		hidden, queued = false, false
		for _, r := range c.Reports {
			if r.ReporterID == p.AccountID {
				return nil // reporting twice changes nothing
			}
		}
		if len(c.Reports) >= insieme.MaxCaseReporters {
			return nil
		}
		c.Reports = append(c.Reports, insieme.ReportEntry{ReporterID: p.AccountID, Reason: in.Reason, Note: note, Counts: counts, CreatedAt: now})
		c.UpdatedAt = now
		if !counts || countingReports(c) < t.forum.ReportLimit {
			return nil
		}
		switch c.Status {
		case insieme.CaseRestored, insieme.CaseDismissed:
			// New reports after a decision put the case back in the queue; a moderator
			// decided once already, so the reports alone do not hide it again.
			c.Status, queued = insieme.CaseOpen, true
			return nil
		case insieme.CaseHidden:
			return nil
		}
		if countingReports(c) != t.forum.ReportLimit {
			return nil // already queued when the limit was reached
		}
		if t.verified {
			queued = true
		} else {
			c.Status, hidden = insieme.CaseHidden, true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	switch {
	case hidden:
		if err := a.setHidden(ctx, t, true); err != nil {
			return nil, err
		}
		a.audit(ctx, "", "auto_hide", mc, "reports reached the forum's limit")
		a.notify(ctx, t.authorID, Notification{Kind: "moderation", ProposalID: t.proposal.ID, CaseID: mc.ID, Status: insieme.CaseHidden})
	case queued:
		a.audit(ctx, "", "queue", mc, "reports reached the limit; content of a verified organisation stays visible")
	}
	// A reporter learns only that the report arrived: never the case's reason, appeal or
	// other reports.
	return &ReportReceipt{Status: "received"}, nil
}

// ReportReceipt is the answer to a report.
type ReportReceipt struct {
	Status string `json:"status"`
}

func countingReports(c *insieme.ModerationCase) int {
	n := 0
	for _, r := range c.Reports {
		if r.Counts {
			n++
		}
	}
	return n
}

// changeCase reads, changes and saves a case under its version, retrying on a race.
func (a *App) changeCase(ctx context.Context, id string, change func(c *insieme.ModerationCase) error) (*insieme.ModerationCase, error) {
	defer a.locks.lock("case:" + id)()
	for attempt := 0; ; attempt++ {
		c, err := a.store.Case(ctx, id)
		if insieme.ErrorCode(err) == insieme.ENOTFOUND {
			c, err = &insieme.ModerationCase{ID: id}, nil
		}
		if err != nil {
			return nil, err
		}
		if err := change(c); err != nil {
			return nil, err
		}
		err = a.store.SaveCase(ctx, c)
		if insieme.ErrorCode(err) == insieme.ECONFLICT && attempt < 10 {
			continue
		}
		return c, err
	}
}

// setHidden hides or shows the content everywhere it appears.
func (a *App) setHidden(ctx context.Context, t *target, hidden bool) error {
	if t.comment != nil {
		th, c, err := a.changeComment(ctx, t.comment.ID, func(_ *insieme.Thread, c *insieme.Comment) error {
			c.Hidden = hidden
			return nil
		})
		if err != nil {
			return err
		}
		a.commentChanged(ctx, th, c)
		return nil
	}
	pr, err := a.store.UpdateProposal(ctx, t.proposal.ID, insieme.ProposalUpdate{Hidden: &hidden}, a.Now())
	if err != nil {
		return err
	}
	a.catalogPut(ctx, pr)
	kind := "proposal.hidden"
	if !hidden {
		kind = "proposal.updated"
	}
	if hidden {
		a.publish(ctx, "forum:"+t.forum.ID, map[string]any{"type": kind, "id": pr.ID})
	} else {
		a.proposalChanged(ctx, kind, pr, t.forum)
	}
	return nil
}

func (a *App) audit(ctx context.Context, actor, action string, c *insieme.ModerationCase, reason string) {
	if err := a.store.AddAudit(ctx, &insieme.AuditEntry{ID: newID(), ActorID: actor, Action: action, CaseID: c.ID,
		ForumID: c.ForumID, Reason: reason, CreatedAt: a.Now()}); err != nil {
		a.log.Error("audit entry not stored", "case", c.ID, "action", action, "err", err)
	}
}

// caseView shows a case; forModerator adds the reporters' notes and the content.
func (a *App) caseView(ctx context.Context, c *insieme.ModerationCase, forModerator bool) (*CaseView, error) {
	v := &CaseView{ID: c.ID, Kind: c.Kind, TargetID: c.TargetID, ProposalID: c.ProposalID, ForumID: c.ForumID, Status: c.Status,
		Reports: len(c.Reports), Counting: countingReports(c), Reason: c.Reason, Appeal: c.Appeal, UpdatedAt: c.UpdatedAt, Reasons: []string{}}
	for _, r := range c.Reports {
		if !slices.Contains(v.Reasons, r.Reason) {
			v.Reasons = append(v.Reasons, r.Reason)
		}
		if forModerator {
			v.Notes = append(v.Notes, ReportNote{Reason: r.Reason, Note: r.Note})
		}
	}
	if !forModerator {
		return v, nil
	}
	pv, err := a.person(ctx, c.AuthorID)
	if err != nil {
		return nil, err
	}
	v.Author = &pv
	if pr, err := a.store.Proposal(ctx, c.ProposalID); err == nil {
		v.Title = pr.Title
		if c.Kind == insieme.TargetProposal {
			v.BodyHTML = pr.BodyHTML
		}
	}
	if c.Kind == insieme.TargetComment {
		if th, err := a.store.Thread(ctx, c.ProposalID); err == nil {
			if cm := th.Find(c.TargetID); cm != nil {
				v.BodyHTML = cm.BodyHTML
			}
		}
	}
	return v, nil
}

// ModerationQueue lists a forum's open and hidden cases (its moderators: the municipality's
// staff, and admins).
func (a *App) ModerationQueue(ctx context.Context, p *insieme.Principal, forumID string) ([]*CaseView, error) {
	f, err := a.manageableForum(ctx, p, forumID)
	if err != nil {
		return nil, err
	}
	cs, err := a.store.CasesOf(ctx, f.ID)
	if err != nil {
		return nil, err
	}
	out := []*CaseView{}
	for _, c := range cs {
		if c.Status == insieme.CaseOpen || c.Status == insieme.CaseHidden {
			v, err := a.caseView(ctx, c, true)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	}
	return out, nil
}

// Case shows a case to its forum's moderators, admins, and the content's author.
func (a *App) Case(ctx context.Context, p *insieme.Principal, id string) (*CaseView, error) {
	if _, err := a.account(ctx, p); err != nil {
		return nil, err
	}
	c, err := a.store.Case(ctx, id)
	if err != nil {
		return nil, err
	}
	f, err := a.store.Forum(ctx, c.ForumID)
	if err != nil {
		return nil, err
	}
	moderator, err := a.managesForum(ctx, p, f)
	if err != nil {
		return nil, err
	}
	if !moderator && c.AuthorID != p.AccountID {
		return nil, insieme.Errorf(insieme.ENOTFOUND, "case not found.")
	}
	return a.caseView(ctx, c, moderator)
}

// Moderate hides, restores or dismisses reported content with a reason the author is told.
// Moderators are the forum's municipality staff and admins; once the author appealed, only
// admins decide.
func (a *App) Moderate(ctx context.Context, p *insieme.Principal, caseID, action, reason string) (*CaseView, error) {
	if _, err := a.account(ctx, p); err != nil {
		return nil, err
	}
	var v insieme.Invalid
	status := map[string]string{"hide": insieme.CaseHidden, "restore": insieme.CaseRestored, "dismiss": insieme.CaseDismissed}[action]
	if status == "" {
		v.Add("action", insieme.FInvalidValue)
	}
	reason = trimSpace(reason)
	insieme.CheckText(&v, "reason", reason, true, insieme.MaxModReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	c, err := a.store.Case(ctx, caseID)
	if err != nil {
		return nil, err
	}
	t, err := a.findTarget(ctx, p, c.Kind, c.TargetID)
	if err != nil {
		return nil, err
	}
	moderator, err := a.managesForum(ctx, p, t.forum)
	if err != nil {
		return nil, err
	}
	if !moderator {
		return nil, errForbidden
	}
	var wasHidden bool
	c, err = a.changeCase(ctx, caseID, func(c *insieme.ModerationCase) error {
		// Decided on the case as it is now, not as it was read above.
		if c.Appeal != "" && !p.Admin {
			return &insieme.Error{Code: insieme.EFORBIDDEN, Message: "The author appealed: the administrators decide."}
		}
		wasHidden = c.Status == insieme.CaseHidden
		c.Status, c.Reason, c.UpdatedAt = status, reason, a.Now()
		c.Appeal, c.AppealedAt = "", nil
		return nil
	})
	if err != nil {
		return nil, err
	}
	if hide := status == insieme.CaseHidden; hide != wasHidden {
		if err := a.setHidden(ctx, t, hide); err != nil {
			return nil, err
		}
	}
	a.audit(ctx, p.AccountID, action, c, reason)
	a.notify(ctx, c.AuthorID, Notification{Kind: "moderation", ProposalID: c.ProposalID, CaseID: c.ID, Status: status})
	return a.caseView(ctx, c, true)
}

// Appeal lets the author of hidden content ask the admins to look again.
func (a *App) Appeal(ctx context.Context, p *insieme.Principal, caseID, text string) (*CaseView, error) {
	if _, err := a.account(ctx, p); err != nil {
		return nil, err
	}
	text = trimSpace(text)
	var v insieme.Invalid
	insieme.CheckText(&v, "text", text, true, insieme.MaxModReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	c, err := a.store.Case(ctx, caseID)
	if err != nil {
		return nil, err
	}
	if c.AuthorID != p.AccountID {
		return nil, insieme.Errorf(insieme.ENOTFOUND, "case not found.")
	}
	c, err = a.changeCase(ctx, caseID, func(c *insieme.ModerationCase) error {
		if c.Status != insieme.CaseHidden {
			return &insieme.Error{Code: insieme.ECONFLICT, Message: "Only hidden content can be appealed."}
		}
		if c.Appeal != "" {
			return &insieme.Error{Code: insieme.ECONFLICT, Message: "Your appeal is already with the administrators."}
		}
		now := a.Now()
		c.Appeal, c.AppealedAt, c.UpdatedAt = text, &now, now
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.audit(ctx, p.AccountID, "appeal", c, text)
	return a.caseView(ctx, c, false)
}

// Appeals lists the cases waiting for the admins.
func (a *App) Appeals(ctx context.Context, p *insieme.Principal) ([]*CaseView, error) {
	if err := a.requireAdmin(ctx, p); err != nil {
		return nil, err
	}
	cs, err := a.store.Appeals(ctx)
	if err != nil {
		return nil, err
	}
	out := []*CaseView{}
	for _, c := range cs {
		v, err := a.caseView(ctx, c, true)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// AuditEntryView is one line of the audit log.
type AuditEntryView struct {
	ID        string      `json:"id"`
	Actor     *PersonView `json:"actor,omitempty"`
	Action    string      `json:"action"`
	CaseID    string      `json:"caseId"`
	ForumID   string      `json:"forumId"`
	Reason    string      `json:"reason"`
	CreatedAt time.Time   `json:"createdAt"`
}

// AuditLog lists the newest moderation actions (admins).
func (a *App) AuditLog(ctx context.Context, p *insieme.Principal) ([]AuditEntryView, error) {
	if err := a.requireAdmin(ctx, p); err != nil {
		return nil, err
	}
	es, err := a.store.Audit(ctx, 500)
	if err != nil {
		return nil, err
	}
	out := make([]AuditEntryView, len(es))
	for i, e := range es {
		v := AuditEntryView{ID: e.ID, Action: e.Action, CaseID: e.CaseID, ForumID: e.ForumID, Reason: e.Reason, CreatedAt: e.CreatedAt}
		if e.ActorID != "" {
			pv, err := a.person(ctx, e.ActorID)
			if err != nil {
				return nil, err
			}
			v.Actor = &pv
		}
		out[i] = v
	}
	return out, nil
}
