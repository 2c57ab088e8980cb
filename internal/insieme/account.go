package insieme

import (
	"context"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Account roles and statuses.
const (
	RoleUser  = "user"
	RoleAdmin = "admin"

	StatusActive    = "active"
	StatusSuspended = "suspended"
	StatusErased    = "erased"
)

// Limits of account fields.
const (
	MaxEmail       = 254
	MinPassword    = 10
	MaxPassword    = 256
	MaxDisplayName = 60
)

// Languages are the interface languages Insieme offers (ISO 639-1).
var Languages = []string{"it", "en", "fr", "ar", "sq", "ro", "zh", "uk", "ka", "wo"}

// Account is a person who signed up. Email is never shown to anyone but its owner and admins.
type Account struct {
	ID             string
	Email          string // normalised: trimmed, lower case
	DisplayName    string // a pseudonym is fine
	Language       string
	PasswordHash   string
	Role           string
	Status         string
	EmailConfirmed bool
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Active reports whether the account may act.
func (a *Account) Active() bool { return a != nil && a.Status == StatusActive }

// Session is a signed-in browser. ID is the hash of the cookie's token, so a copy of the store
// cannot be used to sign in.
type Session struct {
	ID         string
	AccountID  string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastSeenAt time.Time
}

// One-time token kinds.
const (
	TokenPasswordReset = "password_reset"
	TokenConfirmEmail  = "confirm_email"
)

// OneTimeToken is a password-reset or email-confirmation link's secret, stored hashed.
type OneTimeToken struct {
	ID        string // hash of the secret
	Kind      string
	AccountID string
	Email     string // the address it was sent to (a confirmation is for that address only)
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Mail is a message to a person. Without SMTP it stays in the development outbox.
type Mail struct {
	ID        string
	To        string
	AccountID string // "" when the address has no account (an invitation)
	Kind      string
	Subject   string
	Body      string
	CreatedAt time.Time
}

// AccountUpdate lists the fields to change; nil means unchanged.
type AccountUpdate struct {
	DisplayName    *string
	Language       *string
	PasswordHash   *string
	Status         *string
	EmailConfirmed *bool
	Role           *string
}

// AccountFilter pages through accounts in id order.
type AccountFilter struct {
	Query string // a substring of the email or display name (admins only)
	After string // the last id of the previous page
	Limit int
}

// AccountStore keeps accounts. Errors: ENOTFOUND for an unknown id or email, ECONFLICT
// (field "email", FTaken) when the email belongs to another account.
type AccountStore interface {
	CreateAccount(ctx context.Context, a *Account) error
	Account(ctx context.Context, id string) (*Account, error)
	AccountByEmail(ctx context.Context, email string) (*Account, error)
	UpdateAccount(ctx context.Context, id string, upd AccountUpdate) (*Account, error)
	ListAccounts(ctx context.Context, f AccountFilter) ([]*Account, error)
	CountAccounts(ctx context.Context) (int64, error)
	// EraseAccount removes the email, name and password and marks the account erased; the
	// id stays so contributions keep pointing at a "former participant".
	EraseAccount(ctx context.Context, id string, now time.Time) error
}

// SessionStore keeps signed-in sessions and one-time tokens. ENOTFOUND for unknown or
// expired ones.
type SessionStore interface {
	CreateSession(ctx context.Context, s *Session) error
	Session(ctx context.Context, id string, now time.Time) (*Session, error)
	TouchSession(ctx context.Context, id string, now time.Time) error
	DeleteSession(ctx context.Context, id string) error
	// DeleteSessions ends every session of the account except keep ("" ends them all).
	DeleteSessions(ctx context.Context, accountID, keep string) error
	SessionsOf(ctx context.Context, accountID string) ([]*Session, error)

	CreateToken(ctx context.Context, t *OneTimeToken) error
	// TakeToken returns and deletes a token of that kind, so it works once.
	TakeToken(ctx context.Context, id, kind string, now time.Time) (*OneTimeToken, error)
	TokensOf(ctx context.Context, accountID string) ([]*OneTimeToken, error)
	DeleteTokensOf(ctx context.Context, accountID string) error

	// DeleteExpired removes sessions, tokens, invitations, live guests and join codes past
	// their expiry.
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)
}

// Outbox keeps mails: the development outbox, and a record of what was sent.
type Outbox interface {
	AddMail(ctx context.Context, m *Mail) error
	ListMail(ctx context.Context, limit int) ([]*Mail, error)
	MailTo(ctx context.Context, accountID, email string) ([]*Mail, error)
	DeleteMailTo(ctx context.Context, accountID, email string) error
}

// NormaliseEmail trims and lower-cases an address.
func NormaliseEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// CheckEmail adds a problem with an email address to v.
func CheckEmail(v *Invalid, field, email string) {
	switch {
	case email == "":
		v.Add(field, FRequired)
	case len(email) > MaxEmail:
		v.Add(field, FTooLong)
		v.Limit(field, MaxEmail)
	default:
		addr, err := mail.ParseAddress(email)
		if err != nil || addr.Address != email || !strings.Contains(email[strings.LastIndex(email, "@"):], ".") {
			v.Add(field, FInvalidEmail)
		}
	}
}

// CheckPassword adds a problem with a new password to v.
func CheckPassword(v *Invalid, field, pw string) {
	n := utf8.RuneCountInString(pw)
	switch {
	case pw == "":
		v.Add(field, FRequired)
	case n < MinPassword:
		v.Add(field, FTooShort)
		v.Limit(field, MinPassword)
	case len(pw) > MaxPassword:
		v.Add(field, FTooLong)
		v.Limit(field, MaxPassword)
	}
}

// CleanText trims a single-line text and drops control characters.
func CleanText(s string) string {
	s = strings.TrimSpace(s)
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
}

// CheckText adds a problem with a required or optional single-line text to v.
func CheckText(v *Invalid, field, s string, required bool, max int) {
	switch {
	case s == "" && required:
		v.Add(field, FRequired)
	case utf8.RuneCountInString(s) > max:
		v.Add(field, FTooLong)
		v.Limit(field, max)
	}
}

// CheckLanguage adds a problem to v when lang is not an offered language.
func CheckLanguage(v *Invalid, field, lang string) {
	for _, l := range Languages {
		if l == lang {
			return
		}
	}
	v.Add(field, FInvalidLanguage)
}
