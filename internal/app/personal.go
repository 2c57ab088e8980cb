package app

import (
	"context"
	"slices"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// PersonalData is one feature's share of what Insieme holds about a person: Export returns it
// for the person's data download, Erase removes it when they delete their account. Every
// feature that stores something about a person adds one (see corePersonalData), so the
// download and the erasure stay complete as features are added.
type PersonalData struct {
	Name   string
	Export func(ctx context.Context, acct *insieme.Account) (any, error)
	Erase  func(ctx context.Context, acct *insieme.Account) error
}

// AddPersonalData registers a feature's personal data.
func (a *App) AddPersonalData(pd PersonalData) { a.personal = append(a.personal, pd) }

func (a *App) corePersonalData() []PersonalData {
	return []PersonalData{
		{Name: "account", Export: func(ctx context.Context, acct *insieme.Account) (any, error) {
			return userView(acct), nil
		}},
		{Name: "sessions", Export: func(ctx context.Context, acct *insieme.Account) (any, error) {
			ss, err := a.store.SessionsOf(ctx, acct.ID)
			out := make([]map[string]time.Time, 0, len(ss))
			for _, s := range ss {
				out = append(out, map[string]time.Time{"createdAt": s.CreatedAt, "lastSeenAt": s.LastSeenAt, "expiresAt": s.ExpiresAt})
			}
			return out, err
		}, Erase: func(ctx context.Context, acct *insieme.Account) error {
			return a.store.DeleteSessions(ctx, acct.ID, "")
		}},
		{Name: "links", Export: func(ctx context.Context, acct *insieme.Account) (any, error) {
			ts, err := a.store.TokensOf(ctx, acct.ID)
			out := make([]map[string]any, 0, len(ts))
			for _, t := range ts {
				out = append(out, map[string]any{"kind": t.Kind, "email": t.Email, "createdAt": t.CreatedAt, "expiresAt": t.ExpiresAt})
			}
			return out, err
		}, Erase: func(ctx context.Context, acct *insieme.Account) error {
			return a.store.DeleteTokensOf(ctx, acct.ID)
		}},
		{Name: "memberships", Export: func(ctx context.Context, acct *insieme.Account) (any, error) {
			ms, err := a.store.MembershipsOf(ctx, acct.ID)
			out := make([]map[string]any, 0, len(ms))
			for _, m := range ms {
				out = append(out, map[string]any{"organisationId": m.OrgID, "role": m.Role, "listed": m.Listed, "since": m.CreatedAt})
			}
			return out, err
		}, Erase: func(ctx context.Context, acct *insieme.Account) error {
			ms, err := a.store.MembershipsOf(ctx, acct.ID)
			if err != nil {
				return err
			}
			for _, m := range ms {
				if err := a.store.RemoveMember(ctx, m.OrgID, acct.ID); err != nil && insieme.ErrorCode(err) != insieme.ENOTFOUND {
					return err
				}
			}
			return nil
		}},
		{Name: "organisationsCreated", Export: func(ctx context.Context, acct *insieme.Account) (any, error) {
			os, err := a.store.OrganisationsCreatedBy(ctx, acct.ID)
			out := make([]map[string]any, 0, len(os))
			for _, o := range os {
				out = append(out, map[string]any{"id": o.ID, "kind": o.Kind, "name": o.Name, "createdAt": o.CreatedAt})
			}
			return out, err
		}},
		// The organisation itself belongs to its members: erasing its creator keeps it.
		{Name: "invitationsSent", Export: func(ctx context.Context, acct *insieme.Account) (any, error) {
			is, err := a.store.InvitationsBy(ctx, acct.ID)
			out := make([]map[string]any, 0, len(is))
			for _, i := range is {
				out = append(out, map[string]any{"organisationId": i.OrgID, "email": i.Email, "role": i.Role, "status": i.Status, "createdAt": i.CreatedAt})
			}
			return out, err
		}, Erase: func(ctx context.Context, acct *insieme.Account) error {
			return a.store.EraseInvitationsBy(ctx, acct.ID)
		}},
		{Name: "invitationsReceived", Export: func(ctx context.Context, acct *insieme.Account) (any, error) {
			is, err := a.store.InvitationsFor(ctx, acct.Email)
			out := make([]map[string]any, 0, len(is))
			for _, i := range is {
				out = append(out, map[string]any{"organisationId": i.OrgID, "role": i.Role, "status": i.Status, "createdAt": i.CreatedAt})
			}
			return out, err
		}, Erase: func(ctx context.Context, acct *insieme.Account) error {
			return a.store.DeleteInvitationsFor(ctx, acct.Email)
		}},
		// Proposals, supports and translations are contributions: they stay after an erasure,
		// under a "former participant" (the account id no longer leads to a person).
		{Name: "proposals", Export: func(ctx context.Context, acct *insieme.Account) (any, error) {
			ps, err := a.store.ProposalsBy(ctx, acct.ID)
			out := make([]map[string]any, 0, len(ps))
			for _, p := range ps {
				out = append(out, map[string]any{"id": p.ID, "forumId": p.ForumID, "organisationId": p.OrgID, "title": p.Title,
					"body": p.Body, "language": p.Language, "category": p.Category, "status": p.Status, "createdAt": p.CreatedAt})
			}
			return out, err
		}},
		{Name: "supports", Export: func(ctx context.Context, acct *insieme.Account) (any, error) {
			ss, err := a.store.SupportsBy(ctx, acct.ID)
			out := make([]map[string]any, 0, len(ss))
			for _, s := range ss {
				out = append(out, map[string]any{"proposalId": s.ProposalID, "forumId": s.ForumID, "createdAt": s.CreatedAt})
			}
			return out, err
		}},
		{Name: "translations", Export: func(ctx context.Context, acct *insieme.Account) (any, error) {
			ts, err := a.store.TranslationsBy(ctx, acct.ID)
			out := make([]map[string]any, 0, len(ts))
			for _, t := range ts {
				out = append(out, map[string]any{"proposalId": t.ProposalID, "language": t.Language, "title": t.Title, "body": t.Body, "createdAt": t.CreatedAt})
			}
			return out, err
		}},
		{Name: "forumRoles", Export: func(ctx context.Context, acct *insieme.Account) (any, error) {
			rs, err := a.store.ForumRolesOf(ctx, acct.ID)
			out := make([]map[string]any, 0, len(rs))
			for _, r := range rs {
				out = append(out, map[string]any{"forumId": r.ForumID, "role": r.Role, "since": r.CreatedAt})
			}
			return out, err
		}, Erase: func(ctx context.Context, acct *insieme.Account) error {
			rs, err := a.store.ForumRolesOf(ctx, acct.ID)
			if err != nil {
				return err
			}
			for _, r := range rs {
				if err := a.store.RemoveForumRole(ctx, r.ForumID, acct.ID); err != nil && insieme.ErrorCode(err) != insieme.ENOTFOUND {
					return err
				}
			}
			return nil
		}},
		{Name: "comments", Export: func(ctx context.Context, acct *insieme.Account) (any, error) {
			cs, err := a.store.CommentsBy(ctx, acct.ID)
			out := make([]map[string]any, 0, len(cs))
			for _, c := range cs {
				proposalID, _ := insieme.ProposalOfComment(c.ID)
				out = append(out, map[string]any{"proposalId": proposalID, "id": c.ID, "parentId": c.ParentID, "body": c.Body,
					"stance": c.Stance, "deleted": c.Deleted, "hidden": c.Hidden, "createdAt": c.CreatedAt, "editedAt": c.EditedAt})
			}
			return out, err
		}},
		{Name: "following", Export: func(ctx context.Context, acct *insieme.Account) (any, error) {
			ids, err := a.store.Following(ctx, acct.ID)
			if ids == nil {
				ids = []string{}
			}
			return ids, err
		}, Erase: func(ctx context.Context, acct *insieme.Account) error {
			ids, err := a.store.Following(ctx, acct.ID)
			if err != nil {
				return err
			}
			if err := a.store.UnfollowAll(ctx, acct.ID); err != nil {
				return err
			}
			for _, id := range ids { // a repair running meanwhile must not keep them following
				a.scheduleRepair(ctx, id)
			}
			return nil
		}},
		{Name: "notifications", Export: func(ctx context.Context, acct *insieme.Account) (any, error) {
			in, err := a.store.Inbox(ctx, acct.ID)
			if err != nil {
				return nil, err
			}
			out := make([]map[string]any, 0, len(in.Notifications))
			for _, n := range in.Notifications {
				out = append(out, map[string]any{"kind": n.Kind, "proposalId": n.ProposalID, "createdAt": n.CreatedAt})
			}
			return out, nil
		}, Erase: func(ctx context.Context, acct *insieme.Account) error {
			return a.store.DeleteInbox(ctx, acct.ID)
		}},
		{Name: "reports", Export: func(ctx context.Context, acct *insieme.Account) (any, error) {
			out := []map[string]any{}
			err := a.store.AllCases(ctx, func(c *insieme.ModerationCase) error {
				for _, r := range c.Reports {
					if r.ReporterID == acct.ID {
						out = append(out, map[string]any{"target": c.ID, "reason": r.Reason, "note": r.Note, "createdAt": r.CreatedAt})
					}
				}
				return nil
			})
			return out, err
		}, Erase: func(ctx context.Context, acct *insieme.Account) error {
			// The report still counts; what the person wrote in it goes.
			return a.changeCasesWhere(ctx, func(c *insieme.ModerationCase) bool {
				return slices.ContainsFunc(c.Reports, func(r insieme.ReportEntry) bool { return r.ReporterID == acct.ID && r.Note != "" })
			}, func(c *insieme.ModerationCase) {
				for i := range c.Reports {
					if c.Reports[i].ReporterID == acct.ID {
						c.Reports[i].Note = ""
					}
				}
			})
		}},
		{Name: "appeals", Export: func(ctx context.Context, acct *insieme.Account) (any, error) {
			out := []map[string]any{}
			err := a.store.AllCases(ctx, func(c *insieme.ModerationCase) error {
				if c.AuthorID == acct.ID {
					out = append(out, map[string]any{"case": c.ID, "status": c.Status, "reason": c.Reason, "appeal": c.Appeal})
				}
				return nil
			})
			return out, err
		}, Erase: func(ctx context.Context, acct *insieme.Account) error {
			return a.changeCasesWhere(ctx, func(c *insieme.ModerationCase) bool {
				return c.AuthorID == acct.ID && c.Appeal != ""
			}, func(c *insieme.ModerationCase) { c.Appeal, c.AppealedAt = "", nil })
		}},
		{Name: "mails", Export: func(ctx context.Context, acct *insieme.Account) (any, error) {
			ms, err := a.store.MailTo(ctx, acct.ID, acct.Email)
			out := make([]map[string]any, 0, len(ms))
			for _, m := range ms {
				// The links in old mails are secrets; the download shows what was sent, not the link.
				out = append(out, map[string]any{"kind": m.Kind, "subject": m.Subject, "sentAt": m.CreatedAt})
			}
			return out, err
		}, Erase: func(ctx context.Context, acct *insieme.Account) error {
			return a.store.DeleteMailTo(ctx, acct.ID, acct.Email)
		}},
	}
}

// Export is the person's data download: everything every feature holds about them.
func (a *App) Export(ctx context.Context, p *insieme.Principal) (map[string]any, error) {
	acct, err := a.account(ctx, p)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"exportedAt": a.Now(), "format": "insieme-personal-data/1"}
	for _, pd := range a.personal {
		if pd.Export == nil {
			continue
		}
		v, err := pd.Export(ctx, acct)
		if err != nil {
			return nil, err
		}
		out[pd.Name] = v
	}
	return out, nil
}

// PersonalDataNames lists the registered parts of the data download (a test checks every
// collection is covered).
func (a *App) PersonalDataNames() []string {
	names := make([]string, len(a.personal))
	for i, pd := range a.personal {
		names[i] = pd.Name
	}
	return names
}

// changeCasesWhere applies change to every moderation case that match selects (erasures).
func (a *App) changeCasesWhere(ctx context.Context, match func(*insieme.ModerationCase) bool, change func(*insieme.ModerationCase)) error {
	var ids []string
	err := a.store.AllCases(ctx, func(c *insieme.ModerationCase) error {
		if match(c) {
			ids = append(ids, c.ID)
		}
		return nil
	})
	for _, id := range ids {
		if err != nil {
			break
		}
		_, err = a.changeCase(ctx, id, func(c *insieme.ModerationCase) error { change(c); return nil })
	}
	return err
}
