package web

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/insieme/insieme/internal/app"
)

func TestOpenDataHasNoPersonalDataAndSafeCells(t *testing.T) {
	fe := newForumEnv(t)
	pr := fe.post("=HYPERLINK(\"http://evil\")", "+cmd|' /C calc'!A0", "it")
	fe.post("Scuola serale", "Per adulti.", "it")
	supporter := fe.register("Zeynep")
	fe.do("PUT", "/api/v1/proposals/"+pr.ID+"/support", supporter.secret, nil)
	fe.do("POST", "/api/v1/proposals/"+pr.ID+"/answers", fe.admin.secret, map[string]any{"status": "rejected", "text": "@SUM(1) non possibile"})

	r := fe.do("GET", "/api/v1/forums/"+fe.forum+"/export.json", "", nil)
	var d app.OpenData
	r.json(t, &d)
	if r.status != 200 || len(d.Proposals) != 2 || d.Municipality != "Comune di Nardò" {
		t.Fatalf("json: %d %+v", r.status, d)
	}
	var got app.OpenProposal
	for _, p := range d.Proposals {
		if p.ID == pr.ID {
			got = p
		}
	}
	if got.Supports != 1 || got.Status != "rejected" || got.Organisation != "Ponti" || len(got.Timeline) != 1 || got.Timeline[0].Text != "@SUM(1) non possibile" {
		t.Fatalf("exported proposal: %+v", got)
	}
	for _, personal := range []string{"Member", "Zeynep", fe.member.email, fe.member.id, supporter.id, "Admin"} {
		if strings.Contains(string(r.body), personal) {
			t.Errorf("the JSON export names %q", personal)
		}
	}
	r = fe.do("GET", "/api/v1/forums/"+fe.forum+"/export.csv", "", nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %v", r.status, r.header)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(r.body), "\ufeff"))).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("csv rows: %d %v", len(rows), err)
	}
	for _, row := range rows[1:] {
		if row[0] != pr.ID {
			continue
		}
		if row[1] != `'=HYPERLINK("http://evil")` || row[11] != "'@SUM(1) non possibile" || row[13] != "'+cmd|' /C calc'!A0" || row[6] != "1" {
			t.Fatalf("csv cells not neutralised: %q", row)
		}
	}
	for _, personal := range []string{"Zeynep", fe.member.email} {
		if strings.Contains(string(r.body), personal) {
			t.Errorf("the CSV export names %q", personal)
		}
	}
}
