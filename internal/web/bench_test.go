package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/embedded"
	"github.com/insieme/insieme/internal/insieme"
	"github.com/insieme/insieme/internal/mongo"
)

// The read-speed goals of forums (issue: p99 <= 20 ms) as benchmarks: a forum's newest 20 of
// 5,000 proposals with filters, and a proposal with 200 comments, each through the whole HTTP
// stack, on the embedded store (FerretDB on SQLite) and, when BENCH_FERRETDB_PG is a
// PostgreSQL URL, on FerretDB over PostgreSQL. Each reports p50 and p99 in milliseconds.

const (
	benchProposals = 5000
	benchComments  = 200
)

// benchStores returns the stores to measure on: the embedded one, and FerretDB on PostgreSQL.
func benchStores(b *testing.B) map[string]func(b *testing.B) *mongo.DB {
	stores := map[string]func(b *testing.B) *mongo.DB{"sqlite": func(b *testing.B) *mongo.DB { return store.DB(b) }}
	if pg := os.Getenv("BENCH_FERRETDB_PG"); pg != "" {
		stores["postgresql"] = func(b *testing.B) *mongo.DB {
			e, err := embedded.Start(context.Background(), embedded.Options{PostgreSQLURL: pg})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = e.Close() })
			db, err := mongo.Open(context.Background(), mongo.Options{URI: e.URI(), Database: fmt.Sprintf("bench_%d", time.Now().UnixNano()), SingleWriter: true})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = db.Drop(context.Background()); _ = db.Close(context.Background()) })
			if err := db.EnsureIndexes(context.Background()); err != nil {
				b.Fatal(err)
			}
			return db
		}
	}
	return stores
}

// benchForum fills a store with a forum of benchProposals proposals (one with benchComments
// comments) and returns a server on it, the forum and the commented proposal.
func benchForum(b *testing.B, db *mongo.DB) (*Server, string, string) {
	ctx := context.Background()
	cfg, _ := loadTestConfig()
	a := app.New(app.Deps{Store: db, BaseURL: cfg.BaseURL, Hasher: testHasher})
	srv, err := NewServer(Deps{App: a, Config: cfg, Logger: discard(), StorePing: db.Ping})
	if err != nil {
		b.Fatal(err)
	}
	si, _ := a.Register(ctx, app.RegisterInput{Email: "admin@example.org", Password: "a long enough password", DisplayName: "Admin", Language: "it"})
	if _, _, err := a.CreateAdmin(ctx, "admin@example.org", "", ""); err != nil {
		b.Fatal(err)
	}
	admin, _ := a.Authenticate(ctx, si.Secret)
	mname, aname := "Comune", "Associazione"
	m, _ := a.CreateOrganisation(ctx, admin, app.OrganisationInput{Kind: insieme.KindMunicipality, Name: &mname})
	org, _ := a.CreateOrganisation(ctx, admin, app.OrganisationInput{Kind: insieme.KindAssociation, Name: &aname})
	title, status := insieme.Texts{"it": "Forum"}, insieme.ForumOpen
	f, err := a.CreateForum(ctx, admin, app.ForumInput{MunicipalityID: m.ID, Title: &title, Status: &status})
	if err != nil {
		b.Fatal(err)
	}
	cats := []string{"housing", "work", "school", "health", "documents", "culture"}
	var first string
	for i := 0; i < benchProposals; i++ {
		t, body, lang, cat := fmt.Sprintf("Proposta numero %d per la città", i), "Un testo di qualche riga sulla proposta, con *markdown*.", "it", cats[i%len(cats)]
		v, err := a.CreateProposal(ctx, admin, f.ID, app.ProposalInput{OrgID: org.ID, Title: &t, Body: &body, Language: &lang, Category: &cat})
		if err != nil {
			b.Fatal(err)
		}
		if first == "" {
			first = v.ID
		}
	}
	for i := 0; i < benchComments; i++ {
		body := fmt.Sprintf("Commento %d: sono d'accordo, ma serve anche altro.", i)
		if _, err := a.AddComment(ctx, admin, first, app.CommentInput{Body: &body}); err != nil {
			b.Fatal(err)
		}
	}
	return srv, f.ID, first
}

// measure runs b.N requests and reports p50 and p99 in milliseconds; before, when given,
// runs before each request, outside the measured time.
func measure(b *testing.B, srv *Server, path string, before ...func()) {
	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, f := range before {
			f()
		}
		start := time.Now()
		res, err := srv.Handler().Test(httptest.NewRequest("GET", path, nil), 30000)
		if err != nil || res.StatusCode != 200 {
			b.Fatalf("GET %s: %v %v", path, err, res)
		}
		res.Body.Close()
		durations = append(durations, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(durations)
	ms := func(q float64) float64 {
		return float64(durations[int(q*float64(len(durations)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
}

func BenchmarkForumPages(b *testing.B) {
	for name, open := range benchStores(b) {
		b.Run(name, func(b *testing.B) {
			srv, forum, commented := benchForum(b, open(b))
			b.Run("newest-20-of-5000", func(b *testing.B) { measure(b, srv, "/api/v1/forums/"+forum+"/proposals?limit=20") })
			b.Run("filtered", func(b *testing.B) {
				measure(b, srv, "/api/v1/forums/"+forum+"/proposals?limit=20&category=work&status=submitted&language=it")
			})
			b.Run("searched", func(b *testing.B) { measure(b, srv, "/api/v1/forums/"+forum+"/proposals?limit=20&q=citta") })
			b.Run("proposal", func(b *testing.B) { measure(b, srv, "/api/v1/proposals/"+commented) })
			b.Run("200-comments", func(b *testing.B) { measure(b, srv, "/api/v1/proposals/"+commented+"/comments") })
			// As on every node right after someone comments on another node: the change event
			// makes the node read the thread again in the background, serving its copy meanwhile.
			drop := func() {
				srv.app.ApplyCatalogEvent(context.Background(), []byte(`{"id":"`+commented+`","thread":true}`))
			}
			b.Run("200-comments-after-a-change", func(b *testing.B) { measure(b, srv, "/api/v1/proposals/"+commented+"/comments", drop) })
			// A node's first read of the thread: nothing cached, decoded from the store.
			b.Run("200-comments-cold", func(b *testing.B) { measure(b, srv, "/api/v1/proposals/"+commented+"/comments", srv.app.ForgetThreads) })
		})
	}
}
