package app

import (
	"context"
	"sync"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// nameCacheTTL bounds how long another node's rename or erasure may show in lists; this node
// forgets a name at once when it changes it.
const nameCacheTTL = 30 * time.Second

// names caches the person and organisation names that list pages show, so a page of 20
// proposals does not look up 40 documents.
type names struct {
	mu     sync.Mutex
	people map[string]cachedName[PersonView]
	orgs   map[string]cachedName[*OrgRef]
}

type cachedName[T any] struct {
	v       T
	expires time.Time
}

func (n *names) forget(id string) {
	n.mu.Lock()
	delete(n.people, id)
	delete(n.orgs, id)
	n.mu.Unlock()
}

// person is a person's public view, cached.
func (a *App) person(ctx context.Context, id string) (PersonView, error) {
	now := time.Now()
	a.names.mu.Lock()
	c, ok := a.names.people[id]
	a.names.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.v, nil
	}
	acct, err := a.store.Account(ctx, id)
	if err != nil && insieme.ErrorCode(err) != insieme.ENOTFOUND {
		return PersonView{}, err
	}
	v := personView(acct)
	a.names.mu.Lock()
	if a.names.people == nil {
		a.names.people = map[string]cachedName[PersonView]{}
	}
	a.names.people[id] = cachedName[PersonView]{v: v, expires: now.Add(nameCacheTTL)}
	a.names.mu.Unlock()
	return v, nil
}

// orgRef is an organisation's name and badge, cached; nil when it does not exist.
func (a *App) orgRef(ctx context.Context, id string) (*OrgRef, error) {
	now := time.Now()
	a.names.mu.Lock()
	c, ok := a.names.orgs[id]
	a.names.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.v, nil
	}
	var v *OrgRef
	o, err := a.store.Organisation(ctx, id)
	switch {
	case err == nil:
		v = &OrgRef{ID: o.ID, Name: o.Name, Verified: o.Verified}
	case insieme.ErrorCode(err) != insieme.ENOTFOUND:
		return nil, err
	}
	a.names.mu.Lock()
	if a.names.orgs == nil {
		a.names.orgs = map[string]cachedName[*OrgRef]{}
	}
	a.names.orgs[id] = cachedName[*OrgRef]{v: v, expires: now.Add(nameCacheTTL)}
	a.names.mu.Unlock()
	return v, nil
}

func (n *names) clear() {
	n.mu.Lock()
	n.people, n.orgs = nil, nil
	n.mu.Unlock()
}
