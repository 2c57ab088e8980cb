package insieme

// Principal is who is acting: a signed-in account or a guest of a live session or workshop.
// ID is the participant id used for private rooms (participant:<ID>): the account id for
// accounts, the guest id for guests.
type Principal struct {
	ID        string `json:"id"`
	AccountID string `json:"accountId,omitempty"`
	Name      string `json:"name"`
	Guest     bool   `json:"guest"`
	Admin     bool   `json:"admin,omitempty"`
	SessionID string `json:"-"` // the server-side session (hash) that authenticated an account
	Scope     string `json:"-"` // a guest's live room: "session:<id>" or "workshop:<id>"
}

// IsAccount reports whether the principal is a signed-in account.
func (p *Principal) IsAccount() bool { return p != nil && p.AccountID != "" }
