package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/insieme/insieme/internal/insieme"
)

var _ insieme.ModerationStore = (*DB)(nil)

type caseDoc struct {
	ID         string      `bson:"_id"`
	Kind       string      `bson:"kind"`
	TargetID   string      `bson:"targetId"`
	ProposalID string      `bson:"proposalId"`
	ForumID    string      `bson:"forumId"`
	AuthorID   string      `bson:"authorId"`
	Status     string      `bson:"status"`
	Reports    []reportDoc `bson:"reports"`
	Reason     string      `bson:"reason"`
	Appeal     string      `bson:"appeal"`
	AppealedAt *time.Time  `bson:"appealedAt,omitempty"`
	Appealing  bool        `bson:"appealing"`
	UpdatedAt  time.Time   `bson:"updatedAt"`
	Version    int64       `bson:"version"`
}

type reportDoc struct {
	ReporterID string    `bson:"reporterId"`
	Reason     string    `bson:"reason"`
	Note       string    `bson:"note"`
	Counts     bool      `bson:"counts"`
	CreatedAt  time.Time `bson:"createdAt"`
}

type auditDoc struct {
	ID        string    `bson:"_id"`
	ActorID   string    `bson:"actorId"`
	Action    string    `bson:"action"`
	CaseID    string    `bson:"caseId"`
	ForumID   string    `bson:"forumId"`
	Reason    string    `bson:"reason"`
	CreatedAt time.Time `bson:"createdAt"`
}

func (d *caseDoc) modCase() *insieme.ModerationCase {
	c := &insieme.ModerationCase{ID: d.ID, Kind: d.Kind, TargetID: d.TargetID, ProposalID: d.ProposalID, ForumID: d.ForumID,
		AuthorID: d.AuthorID, Status: d.Status, Reason: d.Reason, Appeal: d.Appeal, UpdatedAt: d.UpdatedAt.UTC(), Version: d.Version}
	if d.AppealedAt != nil {
		t := d.AppealedAt.UTC()
		c.AppealedAt = &t
	}
	for _, r := range d.Reports {
		c.Reports = append(c.Reports, insieme.ReportEntry{ReporterID: r.ReporterID, Reason: r.Reason, Note: r.Note, Counts: r.Counts, CreatedAt: r.CreatedAt.UTC()})
	}
	return c
}

func toCaseDoc(c *insieme.ModerationCase, version int64) caseDoc {
	d := caseDoc{ID: c.ID, Kind: c.Kind, TargetID: c.TargetID, ProposalID: c.ProposalID, ForumID: c.ForumID, AuthorID: c.AuthorID,
		Status: c.Status, Reason: c.Reason, Appeal: c.Appeal, AppealedAt: c.AppealedAt, Appealing: c.Appeal != "", UpdatedAt: c.UpdatedAt,
		Version: version, Reports: []reportDoc{}}
	for _, r := range c.Reports {
		d.Reports = append(d.Reports, reportDoc{ReporterID: r.ReporterID, Reason: r.Reason, Note: r.Note, Counts: r.Counts, CreatedAt: r.CreatedAt})
	}
	return d
}

// Case reads a case by _id.
func (db *DB) Case(ctx context.Context, id string) (*insieme.ModerationCase, error) {
	var d caseDoc
	if err := db.r.Collection(colCases).FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return nil, fail(err, "case")
	}
	return d.modCase(), nil
}

// SaveCase inserts or rewrites a case under its version.
func (db *DB) SaveCase(ctx context.Context, c *insieme.ModerationCase) error {
	if c.Version == 0 {
		if _, err := db.w.Collection(colCases).InsertOne(ctx, toCaseDoc(c, 1)); err != nil {
			if e := fail(err, "case"); insieme.ErrorCode(e) == insieme.ECONFLICT {
				return insieme.Errorf(insieme.ECONFLICT, "The case changed meanwhile; try again.")
			}
			return fail(err, "case")
		}
		c.Version = 1
		return nil
	}
	res, err := db.w.Collection(colCases).ReplaceOne(ctx, bson.M{"_id": c.ID, "version": c.Version}, toCaseDoc(c, c.Version+1))
	if err != nil {
		return fail(err, "case")
	}
	if res.MatchedCount == 0 {
		return insieme.Errorf(insieme.ECONFLICT, "The case changed meanwhile; try again.")
	}
	c.Version++
	return nil
}

// CasesOf lists a forum's cases, most recently changed first.
func (db *DB) CasesOf(ctx context.Context, forumID string) ([]*insieme.ModerationCase, error) {
	return db.cases(ctx, bson.M{"forumId": forumID})
}

// Appeals lists the cases whose author appealed to the admins.
func (db *DB) Appeals(ctx context.Context) ([]*insieme.ModerationCase, error) {
	return db.cases(ctx, bson.M{"appealing": true})
}

func (db *DB) cases(ctx context.Context, filter bson.M) ([]*insieme.ModerationCase, error) {
	var docs []caseDoc
	if err := findAll(ctx, db.r.Collection(colCases), filter, &docs, options.Find().SetSort(bson.D{{Key: "updatedAt", Value: -1}})); err != nil {
		return nil, fail(err, "cases")
	}
	out := make([]*insieme.ModerationCase, len(docs))
	for i := range docs {
		out[i] = docs[i].modCase()
	}
	return out, nil
}

// AllCases visits every case (exports).
func (db *DB) AllCases(ctx context.Context, each func(*insieme.ModerationCase) error) error {
	cs, err := db.cases(ctx, bson.M{})
	if err != nil {
		return err
	}
	for _, c := range cs {
		if err := each(c); err != nil {
			return err
		}
	}
	return nil
}

// AddAudit appends to the audit log.
func (db *DB) AddAudit(ctx context.Context, e *insieme.AuditEntry) error {
	_, err := db.w.Collection(colAudit).InsertOne(ctx, auditDoc{ID: e.ID, ActorID: e.ActorID, Action: e.Action, CaseID: e.CaseID,
		ForumID: e.ForumID, Reason: e.Reason, CreatedAt: e.CreatedAt})
	return fail(err, "audit")
}

// Audit lists the newest audit entries.
func (db *DB) Audit(ctx context.Context, limit int) ([]*insieme.AuditEntry, error) {
	var docs []auditDoc
	if err := findAll(ctx, db.r.Collection(colAudit), bson.M{}, &docs, options.Find().SetSort(bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit))); err != nil {
		return nil, fail(err, "audit")
	}
	out := make([]*insieme.AuditEntry, len(docs))
	for i, d := range docs {
		out[i] = &insieme.AuditEntry{ID: d.ID, ActorID: d.ActorID, Action: d.Action, CaseID: d.CaseID, ForumID: d.ForumID, Reason: d.Reason, CreatedAt: d.CreatedAt.UTC()}
	}
	return out, nil
}
