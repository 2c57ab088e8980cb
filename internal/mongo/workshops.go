package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/insieme/insieme/internal/insieme"
)

var _ insieme.WorkshopStore = (*DB)(nil)

// workshopDoc is a workshop as its facilitators wrote it, rewritten whole under a version
// check (like a live session). What participants write lives in documents of its own.
type workshopDoc struct {
	ID             string            `bson:"_id"`
	ForumID        string            `bson:"forumId"`
	Title          string            `bson:"title"`
	Brief          map[string]string `bson:"brief"`
	ScheduledAt    time.Time         `bson:"scheduledAt"`
	Settings       settingsDoc       `bson:"settings"`
	Groups         []groupDoc        `bson:"groups"`
	Phase          string            `bson:"phase"`
	PhaseStartedAt time.Time         `bson:"phaseStartedAt"`
	TimerEndsAt    *time.Time        `bson:"timerEndsAt,omitempty"`
	Locked         bool              `bson:"locked"`
	Spotlight      string            `bson:"spotlight"`
	JoinCode       string            `bson:"joinCode"`
	Results        []dotResultDoc    `bson:"results"`
	Participants   int               `bson:"participants"`
	CreatedBy      string            `bson:"createdBy"`
	CreatedAt      time.Time         `bson:"createdAt"`
	Version        int64             `bson:"version"`
}

type settingsDoc struct {
	Anonymous        bool `bson:"anonymous"`
	Dots             int  `bson:"dots"`
	MaxDotsPerCard   int  `bson:"maxDotsPerCard"`
	FacilitatorMoves bool `bson:"facilitatorMoves"`
}

type groupDoc struct {
	ID   string `bson:"id"`
	Name string `bson:"name"`
}

type dotResultDoc struct {
	Target string `bson:"target"`
	Dots   int    `bson:"dots"`
}

func newWorkshopDoc(w *insieme.Workshop) workshopDoc {
	d := workshopDoc{ID: w.ID, ForumID: w.ForumID, Title: w.Title, Brief: textsDoc(w.Brief), ScheduledAt: w.ScheduledAt,
		Settings: settingsDoc{Anonymous: w.Settings.Anonymous, Dots: w.Settings.Dots, MaxDotsPerCard: w.Settings.MaxDotsPerCard,
			FacilitatorMoves: w.Settings.FacilitatorMoves},
		Groups: []groupDoc{}, Phase: w.Phase, PhaseStartedAt: w.PhaseStartedAt, TimerEndsAt: w.TimerEndsAt, Locked: w.Locked,
		Spotlight: w.Spotlight, JoinCode: w.JoinCode, Results: []dotResultDoc{}, Participants: w.Participants, CreatedBy: w.CreatedBy,
		CreatedAt: w.CreatedAt, Version: w.Version}
	for _, g := range w.Groups {
		d.Groups = append(d.Groups, groupDoc{ID: g.ID, Name: g.Name})
	}
	for _, r := range w.Results {
		d.Results = append(d.Results, dotResultDoc{Target: r.Target, Dots: r.Dots})
	}
	return d
}

func (d *workshopDoc) workshop() *insieme.Workshop {
	w := &insieme.Workshop{ID: d.ID, ForumID: d.ForumID, Title: d.Title, Brief: insieme.Texts(d.Brief), ScheduledAt: d.ScheduledAt.UTC(),
		Settings: insieme.WorkshopSettings{Anonymous: d.Settings.Anonymous, Dots: d.Settings.Dots, MaxDotsPerCard: d.Settings.MaxDotsPerCard,
			FacilitatorMoves: d.Settings.FacilitatorMoves},
		Phase: d.Phase, PhaseStartedAt: d.PhaseStartedAt.UTC(), TimerEndsAt: utcPtr(d.TimerEndsAt), Locked: d.Locked,
		Spotlight: d.Spotlight, JoinCode: d.JoinCode, Participants: d.Participants, CreatedBy: d.CreatedBy, CreatedAt: d.CreatedAt.UTC(),
		Version: d.Version}
	for _, g := range d.Groups {
		w.Groups = append(w.Groups, insieme.WorkshopGroup{ID: g.ID, Name: g.Name})
	}
	for _, r := range d.Results {
		w.Results = append(w.Results, insieme.DotResult{Target: r.Target, Dots: r.Dots})
	}
	return w
}

// CreateWorkshop inserts a workshop.
func (db *DB) CreateWorkshop(ctx context.Context, w *insieme.Workshop) error {
	_, err := db.w.Collection(colWorkshops).InsertOne(ctx, newWorkshopDoc(w))
	return fail(err, "workshop")
}

// Workshop reads a workshop by id.
func (db *DB) Workshop(ctx context.Context, id string) (*insieme.Workshop, error) {
	var d workshopDoc
	// Through the write connection: the checks that read it (is the vote still open? was the
	// board revealed?) must see the latest write, which the read pool may not yet.
	if err := db.w.Collection(colWorkshops).FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return nil, fail(err, "workshop")
	}
	return d.workshop(), nil
}

// SaveWorkshop replaces a workshop if its version did not move, and bumps it.
func (db *DB) SaveWorkshop(ctx context.Context, w *insieme.Workshop) error {
	d := newWorkshopDoc(w)
	d.Version = w.Version + 1
	res, err := db.w.Collection(colWorkshops).ReplaceOne(ctx, bson.M{"_id": w.ID, "version": w.Version}, d)
	if err != nil {
		return fail(err, "workshop")
	}
	if res.MatchedCount == 0 {
		return insieme.Errorf(insieme.ECONFLICT, "The workshop changed meanwhile; try again.")
	}
	w.Version++
	return nil
}

// WorkshopsOf lists a forum's workshops, soonest first (a filter on a small collection).
func (db *DB) WorkshopsOf(ctx context.Context, forumID string) ([]*insieme.Workshop, error) {
	var docs []workshopDoc
	if err := findAll(ctx, db.r.Collection(colWorkshops), bson.M{"forumId": forumID}, &docs,
		options.Find().SetSort(bson.D{{Key: "scheduledAt", Value: 1}, {Key: "_id", Value: 1}})); err != nil {
		return nil, fail(err, "workshops")
	}
	out := make([]*insieme.Workshop, len(docs))
	for i := range docs {
		out[i] = docs[i].workshop()
	}
	return out, nil
}

// AllWorkshops visits every workshop, one document at a time.
func (db *DB) AllWorkshops(ctx context.Context, each func(*insieme.Workshop) error) error {
	cur, err := db.r.Collection(colWorkshops).Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return fail(err, "workshops")
	}
	defer func() { _ = cur.Close(context.WithoutCancel(ctx)) }()
	for cur.Next(ctx) {
		var d workshopDoc
		if err := cur.Decode(&d); err != nil {
			return fail(err, "workshops")
		}
		if err := each(d.workshop()); err != nil {
			return err
		}
	}
	return fail(cur.Err(), "workshops")
}

// actionDoc is a line of a workshop's action plan, rewritten under a version check.
type actionDoc struct {
	ID         string     `bson:"_id"`
	WorkshopID string     `bson:"workshopId"`
	Title      string     `bson:"title"`
	Cluster    string     `bson:"cluster"`
	OwnerKind  string     `bson:"ownerKind"`
	OwnerID    string     `bson:"ownerId"`
	OwnerName  string     `bson:"ownerName"`
	Due        *time.Time `bson:"due,omitempty"`
	Resources  string     `bson:"resources"`
	Status     string     `bson:"status"`
	ProposalID string     `bson:"proposalId"`
	CreatedBy  string     `bson:"createdBy"`
	CreatedAt  time.Time  `bson:"createdAt"`
	Version    int64      `bson:"version"`
}

func newActionDoc(a *insieme.WorkshopAction) actionDoc {
	return actionDoc{ID: a.ID, WorkshopID: a.WorkshopID, Title: a.Title, Cluster: a.Cluster, OwnerKind: a.Owner.Kind, OwnerID: a.Owner.ID,
		OwnerName: a.Owner.Name, Due: a.Due, Resources: a.Resources, Status: a.Status, ProposalID: a.ProposalID, CreatedBy: a.CreatedBy,
		CreatedAt: a.CreatedAt, Version: a.Version}
}

func (d *actionDoc) action() *insieme.WorkshopAction {
	return &insieme.WorkshopAction{ID: d.ID, WorkshopID: d.WorkshopID, Title: d.Title, Cluster: d.Cluster,
		Owner: insieme.ActionOwner{Kind: d.OwnerKind, ID: d.OwnerID, Name: d.OwnerName}, Due: utcPtr(d.Due), Resources: d.Resources,
		Status: d.Status, ProposalID: d.ProposalID, CreatedBy: d.CreatedBy, CreatedAt: d.CreatedAt.UTC(), Version: d.Version}
}

// CreateWorkshopAction inserts an action.
func (db *DB) CreateWorkshopAction(ctx context.Context, a *insieme.WorkshopAction) error {
	_, err := db.w.Collection(colWorkshopActions).InsertOne(ctx, newActionDoc(a))
	return fail(err, "action")
}

// WorkshopAction reads an action by id.
func (db *DB) WorkshopAction(ctx context.Context, id string) (*insieme.WorkshopAction, error) {
	var d actionDoc
	if err := db.r.Collection(colWorkshopActions).FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return nil, fail(err, "action")
	}
	return d.action(), nil
}

// SaveWorkshopAction replaces an action if its version did not move, and bumps it.
func (db *DB) SaveWorkshopAction(ctx context.Context, a *insieme.WorkshopAction) error {
	d := newActionDoc(a)
	d.Version = a.Version + 1
	res, err := db.w.Collection(colWorkshopActions).ReplaceOne(ctx, bson.M{"_id": a.ID, "version": a.Version}, d)
	if err != nil {
		return fail(err, "action")
	}
	if res.MatchedCount == 0 {
		return insieme.Errorf(insieme.ECONFLICT, "The action changed meanwhile; try again.")
	}
	a.Version++
	return nil
}

// ActionsOwnedBy lists the actions a person owns (data download, erasure).
func (db *DB) ActionsOwnedBy(ctx context.Context, ownerID string) ([]*insieme.WorkshopAction, error) {
	var docs []actionDoc
	if err := findAll(ctx, db.r.Collection(colWorkshopActions), bson.M{"ownerId": ownerID}, &docs); err != nil {
		return nil, fail(err, "actions")
	}
	out := make([]*insieme.WorkshopAction, len(docs))
	for i := range docs {
		out[i] = docs[i].action()
	}
	return out, nil
}
