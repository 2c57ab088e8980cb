package app

import (
	"context"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// CommentView is a comment as the thread shows it. A deleted or hidden comment keeps its
// place (its replies stay readable) without its text.
type CommentView struct {
	ID        string      `json:"id"`
	ParentID  string      `json:"parentId,omitempty"`
	Depth     int         `json:"depth"`
	Author    *PersonView `json:"author,omitempty"`
	BodyHTML  string      `json:"bodyHtml"`
	Body      string      `json:"body,omitempty"` // the markdown, for its author to edit
	Stance    string      `json:"stance"`
	Deleted   bool        `json:"deleted,omitempty"`
	Hidden    bool        `json:"hidden,omitempty"`
	CreatedAt time.Time   `json:"createdAt"`
	EditedAt  *time.Time  `json:"editedAt,omitempty"`
	Mine      bool        `json:"mine,omitempty"`
	Editable  bool        `json:"editable,omitempty"`
}

func (a *App) commentView(ctx context.Context, p *insieme.Principal, c *insieme.Comment, moderator bool, names map[string]PersonView) (CommentView, error) {
	v := CommentView{ID: c.ID, ParentID: c.ParentID, Depth: c.Depth, Stance: c.Stance, Deleted: c.Deleted, Hidden: c.Hidden,
		CreatedAt: c.CreatedAt, EditedAt: c.EditedAt}
	mine := p.IsAccount() && p.AccountID == c.AuthorID
	if c.Deleted {
		return v, nil
	}
	if !c.Hidden || moderator || mine {
		v.BodyHTML = c.BodyHTML
		pv, ok := names[c.AuthorID]
		if !ok {
			var err error
			if pv, err = a.person(ctx, c.AuthorID); err != nil {
				return v, err
			}
			names[c.AuthorID] = pv
		}
		v.Author = &pv
	}
	v.Mine = mine
	v.Editable = mine && a.Now().Sub(c.CreatedAt) < insieme.CommentEditWindow
	if v.Editable {
		v.Body = c.Body
	}
	return v, nil
}

// Comments is a proposal's thread in order: each comment after its parent, oldest first.
func (a *App) Comments(ctx context.Context, p *insieme.Principal, proposalID string) ([]CommentView, error) {
	_, f, err := a.visibleProposal(ctx, p, proposalID)
	if err != nil {
		return nil, err
	}
	t, err := a.readThread(ctx, proposalID)
	if err != nil {
		return nil, err
	}
	moderator, err := a.managesForum(ctx, p, f)
	if err != nil {
		return nil, err
	}
	children := map[string][]*insieme.Comment{}
	for i := range t.Comments {
		c := &t.Comments[i]
		children[c.ParentID] = append(children[c.ParentID], c)
	}
	out := make([]CommentView, 0, len(t.Comments))
	names := map[string]PersonView{}
	var walk func(parent string) error
	walk = func(parent string) error {
		for _, c := range children[parent] {
			v, err := a.commentView(ctx, p, c, moderator, names)
			if err != nil {
				return err
			}
			out = append(out, v)
			if err := walk(c.ID); err != nil {
				return err
			}
		}
		return nil
	}
	return out, walk("")
}

// CommentInput is the comment form.
type CommentInput struct {
	ParentID string
	Body     *string
	Stance   *string
}

func checkComment(v *insieme.Invalid, in *CommentInput, creating bool) {
	if in.Body != nil || creating {
		body := ""
		if in.Body != nil {
			body = trimSpace(*in.Body)
			in.Body = &body
		}
		insieme.CheckText(v, "body", body, true, insieme.MaxCommentBody)
	}
	if in.Stance != nil || creating {
		if in.Stance == nil {
			n := insieme.StanceNeutral
			in.Stance = &n
		}
		switch *in.Stance {
		case insieme.StanceFor, insieme.StanceAgainst, insieme.StanceNeutral:
		default:
			v.Add("stance", insieme.FInvalidValue)
		}
	}
}

// AddComment adds a comment or a reply (up to three levels) to an open forum's proposal.
func (a *App) AddComment(ctx context.Context, p *insieme.Principal, proposalID string, in CommentInput) (*CommentView, error) {
	if _, err := a.account(ctx, p); err != nil {
		return nil, err
	}
	pr, f, err := a.visibleProposal(ctx, p, proposalID)
	if err != nil {
		return nil, err
	}
	var v insieme.Invalid
	checkComment(&v, &in, true)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !f.AcceptsPosts(a.Now()) {
		return nil, errForumClosed
	}
	if pr.Status == insieme.ProposalWithdrawn {
		return nil, &insieme.Error{Code: insieme.ECONFLICT, Message: "This proposal was withdrawn."}
	}
	t, err := a.store.Thread(ctx, proposalID)
	if err != nil {
		return nil, err
	}
	if len(t.Comments) >= insieme.MaxThreadComments {
		return nil, errThreadFull
	}
	depth := 0
	var parent *insieme.Comment
	if in.ParentID != "" {
		if parent = t.Find(in.ParentID); parent == nil {
			return nil, insieme.FieldError("parentId", insieme.FInvalidValue)
		}
		if parent.Depth >= insieme.MaxCommentDepth {
			return nil, &insieme.Error{Code: insieme.EINVALID, Message: "Replies go three levels deep at most.", Fields: map[string]string{"parentId": insieme.FTooLong}, Limits: map[string]int{"parentId": insieme.MaxCommentDepth + 1}}
		}
		depth = parent.Depth + 1
	}
	c := insieme.Comment{ID: insieme.NewCommentID(pr.ID, newID()[:16]), ParentID: in.ParentID, Depth: depth, AuthorID: p.AccountID,
		Body: *in.Body, BodyHTML: a.markup.Markdown(*in.Body), Stance: *in.Stance, CreatedAt: a.Now()}
	if !t.Fits(&c, nil) {
		return nil, errThreadFull
	}
	appended, err := a.store.AppendComment(ctx, pr.ID, f.ID, c)
	if err != nil {
		return nil, err
	}
	// The comment is stored: the rest runs to the end, and what fails is repaired.
	ctx = context.WithoutCancel(ctx)
	version := int64(0)
	if appended != nil {
		version = appended.Version
		a.threads.wrote(pr.ID, version) // other nodes drop it on the catalogue event below
	} else {
		a.threads.drop(pr.ID)
		a.repairSoon(ctx, pr.ID)
	}
	counted, err := a.store.AddToCounts(ctx, pr.ID, 0, 1)
	if err != nil {
		a.repairSoon(ctx, pr.ID)
		shown := *pr // a copy: pr may be shared
		shown.Comments++
		counted = &shown
	}
	a.catalogCounts(ctx, counted, version)
	a.scheduleRepair(ctx, pr.ID)
	public, err := a.commentView(ctx, nil, &c, false, map[string]PersonView{})
	if err != nil {
		return nil, err
	}
	// A hidden proposal's discussion is not broadcast to the forum's public room.
	if !pr.Hidden {
		a.publish(ctx, "forum:"+f.ID, map[string]any{"type": "comment.created", "proposalId": pr.ID, "comment": public})
		a.publishCounts(ctx, counted)
	}
	if parent != nil && parent.AuthorID != p.AccountID {
		a.notify(ctx, parent.AuthorID, Notification{Kind: "comment.reply", ProposalID: pr.ID, CommentID: c.ID})
	}
	mine, err := a.commentView(ctx, p, &c, false, map[string]PersonView{})
	return &mine, err
}

var errThreadFull = &insieme.Error{Code: insieme.ECONFLICT, Message: "This discussion is full."}

// changeComment stores a change of one comment as its next revision (see
// insieme.ThreadStore.ChangeComment).
func (a *App) changeComment(ctx context.Context, commentID string, change func(t *insieme.Thread, c *insieme.Comment) error) (*insieme.Thread, *insieme.Comment, error) {
	proposalID, ok := insieme.ProposalOfComment(commentID)
	if !ok {
		return nil, nil, insieme.Errorf(insieme.ENOTFOUND, "comment not found.")
	}
	t, c, err := a.store.ChangeComment(ctx, proposalID, commentID, change)
	if err != nil {
		return nil, nil, err
	}
	// The change is stored: the rest runs to the end (other nodes must hear of it).
	ctx = context.WithoutCancel(ctx)
	if t == nil { // stored, but the cached thread is behind
		a.threads.drop(proposalID)
		a.repairSoon(ctx, proposalID)
		pr, err := a.store.Proposal(ctx, proposalID)
		if err != nil {
			return nil, nil, err
		}
		return &insieme.Thread{ProposalID: proposalID, ForumID: pr.ForumID}, c, nil
	}
	a.threadChanged(ctx, proposalID, t.Version)
	a.scheduleRepair(ctx, proposalID)
	return t, c, nil
}

// EditComment changes one's own comment within the edit window.
func (a *App) EditComment(ctx context.Context, p *insieme.Principal, commentID string, in CommentInput) (*CommentView, error) {
	if _, err := a.account(ctx, p); err != nil {
		return nil, err
	}
	if err := a.commentVisible(ctx, p, commentID); err != nil {
		return nil, err
	}
	var v insieme.Invalid
	checkComment(&v, &in, false)
	if err := v.Err(); err != nil {
		return nil, err
	}
	t, c, err := a.changeComment(ctx, commentID, func(t *insieme.Thread, c *insieme.Comment) error {
		if c.AuthorID != p.AccountID {
			return &insieme.Error{Code: insieme.EFORBIDDEN, Message: "Only the author edits a comment."}
		}
		if c.Deleted {
			return &insieme.Error{Code: insieme.ECONFLICT, Message: "This comment was deleted."}
		}
		if c.Hidden {
			return &insieme.Error{Code: insieme.ECONFLICT, Message: "This comment is under review and cannot be edited."}
		}
		if a.Now().Sub(c.CreatedAt) >= insieme.CommentEditWindow {
			return &insieme.Error{Code: insieme.ECONFLICT, Message: "A comment can be edited for 15 minutes only."}
		}
		if in.Body != nil {
			edited := *c
			edited.Body, edited.BodyHTML = *in.Body, a.markup.Markdown(*in.Body)
			if !t.Fits(&edited, c) {
				return errThreadFull
			}
			c.Body, c.BodyHTML = edited.Body, edited.BodyHTML
		}
		if in.Stance != nil {
			c.Stance = *in.Stance
		}
		now := a.Now()
		c.EditedAt = &now
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.commentChanged(ctx, t, c)
	view, err := a.commentView(ctx, p, c, false, map[string]PersonView{})
	return &view, err
}

// DeleteComment removes one's own comment's text; the thread keeps a "deleted" placeholder.
func (a *App) DeleteComment(ctx context.Context, p *insieme.Principal, commentID string) error {
	if _, err := a.account(ctx, p); err != nil {
		return err
	}
	if err := a.commentVisible(ctx, p, commentID); err != nil {
		return err
	}
	t, c, err := a.changeComment(ctx, commentID, func(_ *insieme.Thread, c *insieme.Comment) error {
		if c.AuthorID != p.AccountID {
			return &insieme.Error{Code: insieme.EFORBIDDEN, Message: "Only the author deletes a comment."}
		}
		if c.Deleted {
			return &insieme.Error{Code: insieme.ECONFLICT, Message: "This comment was already deleted."}
		}
		c.Deleted, c.Body, c.BodyHTML = true, "", ""
		return nil
	})
	if err != nil {
		return err
	}
	a.commentChanged(ctx, t, c)
	return nil
}

// commentVisible refuses comments of proposals p cannot see.
func (a *App) commentVisible(ctx context.Context, p *insieme.Principal, commentID string) error {
	proposalID, ok := insieme.ProposalOfComment(commentID)
	if !ok {
		return insieme.Errorf(insieme.ENOTFOUND, "comment not found.")
	}
	_, _, err := a.visibleProposal(ctx, p, proposalID)
	return err
}

func (a *App) commentChanged(ctx context.Context, t *insieme.Thread, c *insieme.Comment) {
	if e, ok := a.cat().Get(t.ProposalID); ok && e.Hidden {
		return // a hidden proposal's discussion is not broadcast
	}
	public, err := a.commentView(ctx, nil, c, false, map[string]PersonView{})
	if err != nil {
		return
	}
	a.publish(ctx, "forum:"+t.ForumID, map[string]any{"type": "comment.updated", "proposalId": t.ProposalID, "comment": public})
}
