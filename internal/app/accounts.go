package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// Lifetimes of one-time links.
const (
	resetTTL   = time.Hour
	confirmTTL = 7 * 24 * time.Hour
)

// UserView is the signed-in person's own account as the API shows it.
type UserView struct {
	ID             string    `json:"id"`
	DisplayName    string    `json:"displayName"`
	Email          string    `json:"email"`
	Language       string    `json:"language"`
	Role           string    `json:"role"`
	Status         string    `json:"status"`
	EmailConfirmed bool      `json:"emailConfirmed"`
	CreatedAt      time.Time `json:"createdAt"`
}

func userView(a *insieme.Account) *UserView {
	return &UserView{ID: a.ID, DisplayName: a.DisplayName, Email: a.Email, Language: a.Language, Role: a.Role,
		Status: a.Status, EmailConfirmed: a.EmailConfirmed, CreatedAt: a.CreatedAt}
}

// PersonView is someone else: never their email. An erased account is a "former participant".
type PersonView struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Former      bool   `json:"former,omitempty"`
}

func personView(a *insieme.Account) PersonView {
	if a == nil || a.Status == insieme.StatusErased {
		id := ""
		if a != nil {
			id = a.ID
		}
		return PersonView{ID: id, Former: true}
	}
	return PersonView{ID: a.ID, DisplayName: a.DisplayName}
}

// RegisterInput is a sign-up form.
type RegisterInput struct {
	Email, Password, DisplayName, Language string
}

// SignedIn is a new session: its secret goes into the cookie, never into the store.
type SignedIn struct {
	User   *UserView
	Secret string
	Expiry time.Time
}

// Register creates an account, signs it in and mails an email-confirmation link.
func (a *App) Register(ctx context.Context, in RegisterInput) (*SignedIn, error) {
	email := insieme.NormaliseEmail(in.Email)
	name := insieme.CleanText(in.DisplayName)
	var v insieme.Invalid
	insieme.CheckEmail(&v, "email", email)
	insieme.CheckPassword(&v, "password", in.Password)
	insieme.CheckText(&v, "displayName", name, true, insieme.MaxDisplayName)
	insieme.CheckLanguage(&v, "language", in.Language)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return a.createAccount(ctx, email, in.Password, name, in.Language, insieme.RoleUser, true)
}

func (a *App) createAccount(ctx context.Context, email, password, name, lang, role string, signIn bool) (*SignedIn, error) {
	now := a.Now()
	acct := &insieme.Account{ID: newID(), Email: email, DisplayName: name, Language: lang,
		PasswordHash: a.hasher.Hash(password), Role: role, Status: insieme.StatusActive, CreatedAt: now, UpdatedAt: now}
	if err := a.store.CreateAccount(ctx, acct); err != nil {
		return nil, err
	}
	if err := a.sendConfirmation(ctx, acct); err != nil {
		a.log.Warn("confirmation mail not sent", "account", acct.ID, "err", err)
	}
	if !signIn {
		return &SignedIn{User: userView(acct)}, nil
	}
	return a.startSession(ctx, acct)
}

func (a *App) startSession(ctx context.Context, acct *insieme.Account) (*SignedIn, error) {
	now := a.Now()
	secret := newSecret()
	s := &insieme.Session{ID: HashSecret(secret), AccountID: acct.ID, CreatedAt: now, ExpiresAt: now.Add(a.sessionTTL), LastSeenAt: now}
	if err := a.store.CreateSession(ctx, s); err != nil {
		return nil, err
	}
	return &SignedIn{User: userView(acct), Secret: secret, Expiry: s.ExpiresAt}, nil
}

// errBadCredentials is the one answer to a wrong email, a wrong password and a suspended account,
// so sign-in tells nobody which emails have accounts.
var errBadCredentials = &insieme.Error{Code: insieme.EUNAUTHORIZED, Message: "The email or the password is not right."}

// Login checks an email and password and starts a session.
func (a *App) Login(ctx context.Context, email, password string) (*SignedIn, error) {
	email = insieme.NormaliseEmail(email)
	var v insieme.Invalid
	if email == "" {
		v.Add("email", insieme.FRequired)
	}
	if password == "" {
		v.Add("password", insieme.FRequired)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	acct, err := a.store.AccountByEmail(ctx, email)
	if insieme.ErrorCode(err) == insieme.ENOTFOUND {
		// Spend the same time as a real check so timing does not reveal the address.
		a.hasher.Verify(password, a.dummyHash)
		return nil, errBadCredentials
	} else if err != nil {
		return nil, err
	}
	if !a.hasher.Verify(password, acct.PasswordHash) || !acct.Active() {
		return nil, errBadCredentials
	}
	return a.startSession(ctx, acct)
}

// Logout ends the session with this secret.
func (a *App) Logout(ctx context.Context, p *insieme.Principal) error {
	if !p.IsAccount() {
		return errUnauthorized
	}
	return a.store.DeleteSession(ctx, p.SessionID)
}

var errUnauthorized = &insieme.Error{Code: insieme.EUNAUTHORIZED, Message: "Please sign in."}

// Authenticate turns a session secret into a principal; nil principal and nil error when the
// secret is empty, EUNAUTHORIZED when it is unknown, expired, or the account may not act.
func (a *App) Authenticate(ctx context.Context, secret string) (*insieme.Principal, error) {
	if secret == "" {
		return nil, nil
	}
	now := a.Now()
	s, err := a.store.Session(ctx, HashSecret(secret), now)
	if insieme.ErrorCode(err) == insieme.ENOTFOUND {
		// Not an account's session: perhaps a guest's token (live sessions, workshops).
		if g, err := a.authenticateGuest(ctx, secret); g != nil || err != nil {
			return g, err
		}
		return nil, errUnauthorized
	} else if err != nil {
		return nil, err
	}
	acct, err := a.store.Account(ctx, s.AccountID)
	if insieme.ErrorCode(err) == insieme.ENOTFOUND || (err == nil && !acct.Active()) {
		return nil, errUnauthorized
	} else if err != nil {
		return nil, err
	}
	// Record use at most every few minutes: a write per request would be wasted I/O.
	if now.Sub(s.LastSeenAt) > 5*time.Minute {
		if err := a.store.TouchSession(ctx, s.ID, now); err != nil {
			a.log.Warn("session touch failed", "err", err)
		}
	}
	return &insieme.Principal{ID: acct.ID, AccountID: acct.ID, Name: acct.DisplayName, Admin: acct.Role == insieme.RoleAdmin, SessionID: s.ID}, nil
}

// account loads the principal's account, EUNAUTHORIZED without one.
func (a *App) account(ctx context.Context, p *insieme.Principal) (*insieme.Account, error) {
	if !p.IsAccount() {
		return nil, errUnauthorized
	}
	acct, err := a.store.Account(ctx, p.AccountID)
	if insieme.ErrorCode(err) == insieme.ENOTFOUND || (err == nil && !acct.Active()) {
		return nil, errUnauthorized
	}
	return acct, err
}

// Me is the signed-in person's account.
func (a *App) Me(ctx context.Context, p *insieme.Principal) (*UserView, error) {
	acct, err := a.account(ctx, p)
	if err != nil {
		return nil, err
	}
	return userView(acct), nil
}

// UpdateMeInput changes one's own name or language; nil leaves a field as it is.
type UpdateMeInput struct {
	DisplayName *string
	Language    *string
}

// UpdateMe changes one's display name or language.
func (a *App) UpdateMe(ctx context.Context, p *insieme.Principal, in UpdateMeInput) (*UserView, error) {
	if _, err := a.account(ctx, p); err != nil {
		return nil, err
	}
	var v insieme.Invalid
	upd := insieme.AccountUpdate{}
	if in.DisplayName != nil {
		name := insieme.CleanText(*in.DisplayName)
		insieme.CheckText(&v, "displayName", name, true, insieme.MaxDisplayName)
		upd.DisplayName = &name
	}
	if in.Language != nil {
		insieme.CheckLanguage(&v, "language", *in.Language)
		upd.Language = in.Language
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	acct, err := a.store.UpdateAccount(ctx, p.AccountID, upd)
	if err != nil {
		return nil, err
	}
	a.names.forget(acct.ID)
	a.publish(ctx, "participant:"+acct.ID, map[string]any{"type": "account.updated"})
	return userView(acct), nil
}

// ChangePassword sets a new password after checking the current one, and ends every other
// session of the account (someone who knew the old password is signed out).
func (a *App) ChangePassword(ctx context.Context, p *insieme.Principal, current, next string) error {
	acct, err := a.account(ctx, p)
	if err != nil {
		return err
	}
	var v insieme.Invalid
	if current == "" {
		v.Add("currentPassword", insieme.FRequired)
	} else if !a.hasher.Verify(current, acct.PasswordHash) {
		v.Add("currentPassword", insieme.FWrongPassword)
	}
	insieme.CheckPassword(&v, "newPassword", next)
	if err := v.Err(); err != nil {
		return err
	}
	hash := a.hasher.Hash(next)
	if _, err := a.store.UpdateAccount(ctx, acct.ID, insieme.AccountUpdate{PasswordHash: &hash}); err != nil {
		return err
	}
	return a.store.DeleteSessions(ctx, acct.ID, p.SessionID)
}

// RequestPasswordReset mails a reset link when the address has an account; the answer is the
// same either way.
func (a *App) RequestPasswordReset(ctx context.Context, email string) error {
	email = insieme.NormaliseEmail(email)
	var v insieme.Invalid
	insieme.CheckEmail(&v, "email", email)
	if err := v.Err(); err != nil {
		return err
	}
	acct, err := a.store.AccountByEmail(ctx, email)
	if insieme.ErrorCode(err) == insieme.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if !acct.Active() {
		return nil
	}
	// The link is made and mailed after the answer, so neither the answer nor its timing tells
	// whether the address has an account; a failure is logged.
	a.background(ctx, func(ctx context.Context) {
		secret, err := a.oneTimeToken(ctx, acct, insieme.TokenPasswordReset, resetTTL)
		if err == nil {
			err = a.sendMail(ctx, acct.Email, acct.ID, "password_reset", "Reset your Insieme password",
				fmt.Sprintf("Someone asked to reset the password of your Insieme account.\n\nTo choose a new password, open this link within an hour:\n%s/reset?token=%s\n\nIf it was not you, ignore this message: your password stays as it is.\n", a.baseURL, secret))
		}
		if err != nil {
			a.log.Warn("password reset mail not sent", "account", acct.ID, "err", err)
		}
	})
	return nil
}

// ResetPassword sets a new password with a reset link's token and ends every session.
func (a *App) ResetPassword(ctx context.Context, token, password string) error {
	var v insieme.Invalid
	if token == "" {
		v.Add("token", insieme.FRequired)
	}
	insieme.CheckPassword(&v, "password", password)
	if err := v.Err(); err != nil {
		return err
	}
	t, err := a.store.TakeToken(ctx, HashSecret(token), insieme.TokenPasswordReset, a.Now())
	if insieme.ErrorCode(err) == insieme.ENOTFOUND {
		return &insieme.Error{Code: insieme.EINVALID, Message: "This link has expired or was already used.", Fields: map[string]string{"token": insieme.FInvalidValue}}
	} else if err != nil {
		return err
	}
	hash := a.hasher.Hash(password)
	if _, err := a.store.UpdateAccount(ctx, t.AccountID, insieme.AccountUpdate{PasswordHash: &hash}); err != nil {
		return err
	}
	return a.store.DeleteSessions(ctx, t.AccountID, "")
}

// ConfirmEmail marks the address of a confirmation link as confirmed.
func (a *App) ConfirmEmail(ctx context.Context, token string) error {
	if token == "" {
		return insieme.FieldError("token", insieme.FRequired)
	}
	t, err := a.store.TakeToken(ctx, HashSecret(token), insieme.TokenConfirmEmail, a.Now())
	if insieme.ErrorCode(err) == insieme.ENOTFOUND {
		return &insieme.Error{Code: insieme.EINVALID, Message: "This link has expired or was already used.", Fields: map[string]string{"token": insieme.FInvalidValue}}
	} else if err != nil {
		return err
	}
	acct, err := a.store.Account(ctx, t.AccountID)
	if err != nil {
		return err
	}
	if acct.Email != t.Email {
		return &insieme.Error{Code: insieme.EINVALID, Message: "This link was for another address.", Fields: map[string]string{"token": insieme.FInvalidValue}}
	}
	yes := true
	_, err = a.store.UpdateAccount(ctx, acct.ID, insieme.AccountUpdate{EmailConfirmed: &yes})
	return err
}

// ResendConfirmation mails a new email-confirmation link to the signed-in person.
func (a *App) ResendConfirmation(ctx context.Context, p *insieme.Principal) error {
	acct, err := a.account(ctx, p)
	if err != nil {
		return err
	}
	if acct.EmailConfirmed {
		return &insieme.Error{Code: insieme.ECONFLICT, Message: "Your email address is already confirmed."}
	}
	return a.sendConfirmation(ctx, acct)
}

func (a *App) sendConfirmation(ctx context.Context, acct *insieme.Account) error {
	secret, err := a.oneTimeToken(ctx, acct, insieme.TokenConfirmEmail, confirmTTL)
	if err != nil {
		return err
	}
	return a.sendMail(ctx, acct.Email, acct.ID, "confirm_email", "Confirm your email address for Insieme",
		fmt.Sprintf("Welcome to Insieme.\n\nTo confirm this email address, open this link within 7 days:\n%s/confirm?token=%s\n", a.baseURL, secret))
}

func (a *App) oneTimeToken(ctx context.Context, acct *insieme.Account, kind string, ttl time.Duration) (string, error) {
	now := a.Now()
	secret := newSecret()
	err := a.store.CreateToken(ctx, &insieme.OneTimeToken{ID: HashSecret(secret), Kind: kind, AccountID: acct.ID,
		Email: acct.Email, CreatedAt: now, ExpiresAt: now.Add(ttl)})
	return secret, err
}

// DeleteAccount erases the person after checking their password: personal data goes from every
// collection, contributions stay under a "former participant".
func (a *App) DeleteAccount(ctx context.Context, p *insieme.Principal, password string) error {
	acct, err := a.account(ctx, p)
	if err != nil {
		return err
	}
	if password == "" {
		return insieme.FieldError("password", insieme.FRequired)
	}
	if !a.hasher.Verify(password, acct.PasswordHash) {
		return insieme.FieldError("password", insieme.FWrongPassword)
	}
	if err := a.canLeaveAll(ctx, acct.ID); err != nil {
		return err
	}
	return a.erase(ctx, acct)
}

// erase runs every feature's erasure, then the account's own.
func (a *App) erase(ctx context.Context, acct *insieme.Account) error {
	var errs []error
	for _, pd := range a.personal {
		if pd.Erase != nil {
			if err := pd.Erase(ctx, acct); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", pd.Name, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := a.store.EraseAccount(ctx, acct.ID, a.Now()); err != nil {
		return err
	}
	a.names.forget(acct.ID)
	a.live.DisconnectPrincipal(acct.ID, CloseSignedOut)
	return nil
}

// CloseSignedOut is the websocket close code for a suspended, erased or signed-out account.
const CloseSignedOut = 4003

// CreateAdmin creates an admin account or promotes an existing one (the `insieme admin create`
// command). The password is only set for a new account.
func (a *App) CreateAdmin(ctx context.Context, email, password, name string) (*UserView, bool, error) {
	email = insieme.NormaliseEmail(email)
	var v insieme.Invalid
	insieme.CheckEmail(&v, "email", email)
	if err := v.Err(); err != nil {
		return nil, false, err
	}
	acct, err := a.store.AccountByEmail(ctx, email)
	if err == nil {
		role := insieme.RoleAdmin
		acct, err = a.store.UpdateAccount(ctx, acct.ID, insieme.AccountUpdate{Role: &role})
		if err != nil {
			return nil, false, err
		}
		return userView(acct), false, nil
	} else if insieme.ErrorCode(err) != insieme.ENOTFOUND {
		return nil, false, err
	}
	if name == "" {
		name = "Admin"
	}
	insieme.CheckPassword(&v, "password", password)
	if err := v.Err(); err != nil {
		return nil, false, err
	}
	si, err := a.createAccount(ctx, email, password, insieme.CleanText(name), "it", insieme.RoleAdmin, false)
	if err != nil {
		return nil, false, err
	}
	// Whoever runs the command on the server vouches for the address.
	yes := true
	acct, err = a.store.UpdateAccount(ctx, si.User.ID, insieme.AccountUpdate{EmailConfirmed: &yes})
	if err != nil {
		return nil, false, err
	}
	return userView(acct), true, nil
}
