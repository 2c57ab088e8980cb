package app

import (
	"context"

	"github.com/insieme/insieme/internal/insieme"
)

// sendMail keeps every mail in the outbox (the development outbox, and the record of what was
// sent to a person, in their download) and hands it to SMTP when one is configured. Logs name
// the kind and the id, never the address or the text.
func (a *App) sendMail(ctx context.Context, to, accountID, kind, subject, body string) error {
	m := &insieme.Mail{ID: newID(), To: to, AccountID: accountID, Kind: kind, Subject: subject, Body: body, CreatedAt: a.Now()}
	if err := a.store.AddMail(ctx, m); err != nil {
		return err
	}
	if a.mail == nil {
		a.log.Info("mail kept in the development outbox (admins read it at /admin)", "mail", m.ID, "kind", kind)
		return nil
	}
	if err := a.mail.Send(ctx, m); err != nil {
		a.log.Error("mail not delivered", "mail", m.ID, "kind", kind, "err", err)
		return &insieme.Error{Code: insieme.EUNAVAILABLE, Message: "The mail could not be sent; try again later."}
	}
	return nil
}
