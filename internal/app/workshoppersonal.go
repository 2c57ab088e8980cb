package app

import (
	"context"
	"slices"

	"github.com/insieme/insieme/internal/insieme"
)

// workshopsPersonalData: the workshops a person took part in, their cards (with their text,
// even in anonymous workshops: they are theirs), their dots, their tables and the actions they
// own. Erasing the account removes the author from their cards (the texts stay in the output,
// as comments stay), deletes their dots of workshops not yet closed and their tables, and
// clears them as an action's owner.
func (a *App) workshopsPersonalData() PersonalData {
	return PersonalData{Name: "workshops", Export: a.exportWorkshopData, Erase: a.eraseWorkshopData}
}

func (a *App) exportWorkshopData(ctx context.Context, acct *insieme.Account) (any, error) {
	cards, err := a.store.CardsBy(ctx, acct.ID)
	if err != nil {
		return nil, err
	}
	dots, err := a.store.DotsBy(ctx, acct.ID)
	if err != nil {
		return nil, err
	}
	groups, err := a.store.GroupChoicesBy(ctx, acct.ID)
	if err != nil {
		return nil, err
	}
	actions, err := a.store.ActionsOwnedBy(ctx, acct.ID)
	if err != nil {
		return nil, err
	}
	var ids []string
	add := func(id string) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	outCards := []map[string]any{}
	for _, c := range cards {
		add(c.WorkshopID)
		text := ""
		if r, err := a.workshopRoom(ctx, c.WorkshopID); err == nil {
			a.workshops.mu.Lock()
			if e := r.fields[c.ID][insieme.FieldText]; e != nil {
				text = e.Text
			}
			a.workshops.mu.Unlock()
		}
		outCards = append(outCards, map[string]any{"workshopId": c.WorkshopID, "id": c.ID, "text": text, "group": c.Group, "createdAt": c.CreatedAt})
	}
	outDots := []map[string]any{}
	for _, d := range dots {
		add(d.WorkshopID)
		outDots = append(outDots, map[string]any{"workshopId": d.WorkshopID, "target": d.Target, "at": d.At})
	}
	outGroups := []map[string]any{}
	for _, g := range groups {
		add(g.WorkshopID)
		outGroups = append(outGroups, map[string]any{"workshopId": g.WorkshopID, "group": g.Group, "at": g.At})
	}
	outActions := []*ActionView{}
	for _, act := range actions {
		outActions = append(outActions, actionView(act))
	}
	joined := []map[string]any{}
	for _, id := range ids {
		if w, err := a.store.Workshop(ctx, id); err == nil {
			joined = append(joined, map[string]any{"id": w.ID, "forumId": w.ForumID, "title": w.Title, "scheduledAt": w.ScheduledAt})
		}
	}
	return map[string]any{"joined": joined, "cards": outCards, "dots": outDots, "tables": outGroups, "actionsOwned": outActions}, nil
}

func (a *App) eraseWorkshopData(ctx context.Context, acct *insieme.Account) error {
	touched := map[string]bool{}
	cards, err := a.store.CardsBy(ctx, acct.ID)
	if err != nil {
		return err
	}
	for _, c := range cards {
		touched[c.WorkshopID] = true
	}
	if err := a.store.EraseCardAuthor(ctx, acct.ID); err != nil {
		return err
	}
	if err := a.store.EraseWorkshopCreator(ctx, acct.ID); err != nil {
		return err
	}
	dots, err := a.store.DotsBy(ctx, acct.ID)
	if err != nil {
		return err
	}
	// The results of a vote that ended are stored with the workshop: its dots can go too.
	for _, d := range dots {
		if err := a.store.DeleteDot(ctx, d.ID()); err != nil && insieme.ErrorCode(err) != insieme.ENOTFOUND {
			return err
		}
		touched[d.WorkshopID] = true
	}
	groups, err := a.store.GroupChoicesBy(ctx, acct.ID)
	if err != nil {
		return err
	}
	for _, g := range groups {
		touched[g.WorkshopID] = true
	}
	if err := a.store.DeleteGroupChoicesBy(ctx, acct.ID); err != nil {
		return err
	}
	actions, err := a.store.ActionsOwnedBy(ctx, acct.ID)
	if err != nil {
		return err
	}
	for _, act := range actions {
		for attempt := 0; ; attempt++ {
			act.Owner = insieme.ActionOwner{}
			err := a.store.SaveWorkshopAction(ctx, act)
			if insieme.ErrorCode(err) == insieme.ECONFLICT && attempt < 5 {
				if act, err = a.store.WorkshopAction(ctx, act.ID); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return err
			}
			break
		}
		touched[act.WorkshopID] = true
	}
	// Every node reads these workshops again when next needed.
	for id := range touched {
		a.publish(ctx, WorkshopRoom, workshopEvent{Workshop: id, Kind: "reload", Node: a.node})
		a.workshops.mu.Lock()
		delete(a.workshops.rooms, id)
		a.workshops.mu.Unlock()
	}
	return nil
}
