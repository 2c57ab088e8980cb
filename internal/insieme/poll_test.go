package insieme

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func opts(n int) []Texts {
	out := make([]Texts, n)
	for i := range out {
		out[i] = Texts{"it": "opzione " + string(rune('A'+i))}
	}
	return out
}

func fieldOf(err error) map[string]string {
	var e *Error
	if !errors.As(err, &e) {
		return nil
	}
	return e.Fields
}

func TestCheckPoll(t *testing.T) {
	long := strings.Repeat("a", MaxPollTitle+1)
	cases := map[string]struct {
		p     Poll
		field string // "" when valid
	}{
		"single":         {Poll{Kind: PollSingle, Title: Texts{"it": "Quale?"}, Options: opts(2)}, ""},
		"multiple":       {Poll{Kind: PollMultiple, Title: Texts{"it": "Quali?"}, Options: opts(4), MaxChoices: 2}, ""},
		"ranking":        {Poll{Kind: PollRanking, Title: Texts{"ar": "رتّب"}, Options: opts(MaxPollOptions)}, ""},
		"scale":          {Poll{Kind: PollScale, Title: Texts{"it": "Quanto?"}}, ""},
		"words":          {Poll{Kind: PollWords, Title: Texts{"it": "Una parola"}, ShowResults: ResultsClosed}, ""},
		"no kind":        {Poll{Title: Texts{"it": "x"}}, "kind"},
		"bad kind":       {Poll{Kind: "poll", Title: Texts{"it": "x"}}, "kind"},
		"no title":       {Poll{Kind: PollScale}, "title"},
		"blank title":    {Poll{Kind: PollScale, Title: Texts{"it": "  "}}, "title"},
		"long title":     {Poll{Kind: PollScale, Title: Texts{"it": long}}, "title"},
		"bad language":   {Poll{Kind: PollScale, Title: Texts{"xx": "x"}}, "title"},
		"one option":     {Poll{Kind: PollSingle, Title: Texts{"it": "x"}, Options: opts(1)}, "options"},
		"13 options":     {Poll{Kind: PollSingle, Title: Texts{"it": "x"}, Options: opts(MaxPollOptions + 1)}, "options"},
		"long option":    {Poll{Kind: PollSingle, Title: Texts{"it": "x"}, Options: []Texts{{"it": "a"}, {"it": strings.Repeat("b", MaxPollOption+1)}}}, "options"},
		"empty option":   {Poll{Kind: PollSingle, Title: Texts{"it": "x"}, Options: []Texts{{"it": "a"}, {"it": ""}}}, "options"},
		"too many picks": {Poll{Kind: PollMultiple, Title: Texts{"it": "x"}, Options: opts(3), MaxChoices: 4}, "maxChoices"},
		"bad results":    {Poll{Kind: PollScale, Title: Texts{"it": "x"}, ShowResults: "never"}, "showResults"},
	}
	for name, c := range cases {
		var v Invalid
		p := c.p
		CheckPoll(&v, &p)
		err := v.Err()
		if c.field == "" {
			if err != nil {
				t.Errorf("%s: %v %v", name, err, fieldOf(err))
			}
			continue
		}
		if _, ok := fieldOf(err)[c.field]; !ok {
			t.Errorf("%s: want a problem with %s, got %v", name, c.field, fieldOf(err))
		}
	}
	// Defaults: live results, all options choosable, no options for scales and words.
	p := Poll{Kind: PollMultiple, Title: Texts{"it": " Quali? "}, Options: opts(3)}
	var v Invalid
	CheckPoll(&v, &p)
	if p.ShowResults != ResultsLive || p.MaxChoices != 3 || p.Title["it"] != "Quali?" {
		t.Fatalf("defaults: %+v", p)
	}
	p = Poll{Kind: PollScale, Title: Texts{"it": "x"}, Options: opts(3), MaxChoices: 2}
	CheckPoll(&v, &p)
	if p.Options != nil || p.MaxChoices != 0 {
		t.Fatalf("a scale keeps options: %+v", p)
	}
}

func TestCheckBallot(t *testing.T) {
	single := &Poll{Kind: PollSingle, Options: opts(3), MaxChoices: 1}
	multiple := &Poll{Kind: PollMultiple, Options: opts(4), MaxChoices: 2}
	ranking := &Poll{Kind: PollRanking, Options: opts(3)}
	scale := &Poll{Kind: PollScale}
	words := &Poll{Kind: PollWords}
	cases := map[string]struct {
		p     *Poll
		b     Ballot
		field string
	}{
		"single":              {single, Ballot{Choices: []int{2}}, ""},
		"single none":         {single, Ballot{}, "choices"},
		"single two":          {single, Ballot{Choices: []int{0, 1}}, "choices"},
		"single out of range": {single, Ballot{Choices: []int{3}}, "choices"},
		"single negative":     {single, Ballot{Choices: []int{-1}}, "choices"},
		"multiple":            {multiple, Ballot{Choices: []int{3, 0}}, ""},
		"multiple too many":   {multiple, Ballot{Choices: []int{0, 1, 2}}, "choices"},
		"multiple twice":      {multiple, Ballot{Choices: []int{1, 1}}, "choices"},
		"ranking":             {ranking, Ballot{Ranking: []int{2, 0, 1}}, ""},
		"ranking partial":     {ranking, Ballot{Ranking: []int{1}}, ""},
		"ranking repeated":    {ranking, Ballot{Ranking: []int{1, 1}}, "ranking"},
		"ranking none":        {ranking, Ballot{Choices: []int{1}}, "ranking"},
		"scale":               {scale, Ballot{Scale: 5}, ""},
		"scale zero":          {scale, Ballot{}, "scale"},
		"scale six":           {scale, Ballot{Scale: 6}, "scale"},
		"words":               {words, Ballot{Words: []string{"Casa", "lavoro!"}}, ""},
		"words none":          {words, Ballot{Words: []string{" ", "..."}}, "words"},
		"words four":          {words, Ballot{Words: []string{"a", "b", "c", "d"}}, "words"},
		"word too long":       {words, Ballot{Words: []string{strings.Repeat("x", MaxBallotWord+1)}}, "words"},
	}
	for name, c := range cases {
		b := c.b
		err := c.p.CheckBallot(&b)
		if c.field == "" {
			if err != nil {
				t.Errorf("%s: %v %v", name, err, fieldOf(err))
			}
			continue
		}
		if _, ok := fieldOf(err)[c.field]; !ok {
			t.Errorf("%s: want a problem with %s, got %v", name, c.field, fieldOf(err))
		}
	}
	b := Ballot{Choices: []int{3, 0}, Words: []string{"x"}, Scale: 3}
	if err := multiple.CheckBallot(&b); err != nil || !reflect.DeepEqual(b.Choices, []int{0, 3}) || b.Words != nil || b.Scale != 0 {
		t.Fatalf("normalised multiple ballot: %+v %v", b, err)
	}
	b = Ballot{Words: []string{"  Casa ", "CASA", "Lavoro  sicuro!", "«scuola»"}}
	if err := words.CheckBallot(&b); err == nil {
		t.Fatalf("four words accepted")
	}
	b = Ballot{Words: []string{"  Casa ", "CASA", "Lavoro  sicuro!"}}
	if err := words.CheckBallot(&b); err != nil || !reflect.DeepEqual(b.Words, []string{"casa", "lavoro sicuro"}) {
		t.Fatalf("normalised words: %q %v", b.Words, err)
	}
}

func TestCountKeepsEachVotersLatestBallot(t *testing.T) {
	p := &Poll{ID: "p", Kind: PollMultiple, Options: opts(3), MaxChoices: 3}
	c := NewCount()
	add := func(voter string, version int64, guest bool, choices ...int) bool {
		return c.Add(&Ballot{PollID: "p", VoterID: voter, Version: version, Guest: guest, Choices: choices})
	}
	add("a", 1, false, 0)
	add("b", 5, true, 0, 1)
	add("a", 3, false, 2) // a changes their mind
	if add("a", 2, false, 1) {
		t.Fatal("an older ballot replaced a newer one")
	}
	if add("b", 5, true, 0, 1) {
		t.Fatal("the same ballot counted twice")
	}
	got := c.Tally(p)
	if got.Voters != 2 || got.Guests != 1 || got.Accounts != 1 || !reflect.DeepEqual(got.Counts, []int{1, 1, 1}) {
		t.Fatalf("tally: %+v", got)
	}
	if l := c.Latest("a"); l == nil || l.Version != 3 {
		t.Fatalf("latest of a: %+v", l)
	}
	c.Remove("b")
	if got := c.Tally(p); got.Voters != 1 || got.Guests != 0 || !reflect.DeepEqual(got.Counts, []int{0, 0, 1}) {
		t.Fatalf("after removing b: %+v", got)
	}
}

func TestTallyByKind(t *testing.T) {
	ranking := &Poll{ID: "r", Kind: PollRanking, Options: opts(3)}
	got := CountBallots(ranking, []*Ballot{
		{PollID: "r", VoterID: "a", Version: 1, Ranking: []int{0, 1, 2}},
		{PollID: "r", VoterID: "b", Version: 1, Ranking: []int{1, 0}},
		{PollID: "r", VoterID: "c", Version: 1, Ranking: []int{2}},
		{PollID: "r", VoterID: "c", Version: 2, Ranking: []int{1, 2, 0}},
		{PollID: "other", VoterID: "d", Version: 1, Ranking: []int{0}},
	})
	// a: 0→3 1→2 2→1; b: 1→3 0→2; c (latest): 1→3 2→2 0→1.
	if !reflect.DeepEqual(got.Points, []int{6, 8, 3}) || !reflect.DeepEqual(got.Counts, []int{1, 2, 0}) || got.Voters != 3 || got.Ballots != 5 {
		t.Fatalf("ranking: %+v", got)
	}
	scale := &Poll{ID: "s", Kind: PollScale}
	got = CountBallots(scale, []*Ballot{
		{PollID: "s", VoterID: "a", Version: 1, Scale: 5},
		{PollID: "s", VoterID: "b", Version: 1, Scale: 2, Guest: true},
		{PollID: "s", VoterID: "a", Version: 2, Scale: 4},
	})
	if !reflect.DeepEqual(got.Distribution, []int{0, 1, 0, 1, 0}) || got.Average != 3 || got.Guests != 1 || got.Accounts != 1 {
		t.Fatalf("scale: %+v", got)
	}
	words := &Poll{ID: "w", Kind: PollWords}
	got = CountBallots(words, []*Ballot{
		{PollID: "w", VoterID: "a", Version: 1, Words: []string{"casa", "lavoro"}},
		{PollID: "w", VoterID: "b", Version: 1, Words: []string{"lavoro"}},
		{PollID: "w", VoterID: "c", Version: 1, Words: []string{"scuola"}},
		{PollID: "w", VoterID: "c", Version: 2, Words: []string{"casa"}},
	})
	want := []WordCount{{"casa", 2}, {"lavoro", 2}}
	if !reflect.DeepEqual(got.Words, want) {
		t.Fatalf("words: %+v", got.Words)
	}
	if got := NewCount().Tally(scale); got.Average != 0 || got.Voters != 0 {
		t.Fatalf("empty scale: %+v", got)
	}
}

// The running count and the recount agree whatever order the versions arrive in, and
// however often each arrives.
func TestCountMatchesRecountInAnyOrder(t *testing.T) {
	p := &Poll{ID: "p", Kind: PollRanking, Options: opts(5)}
	r := rand.New(rand.NewPCG(1, 2))
	var all []*Ballot
	for v := range 200 {
		for version := range 1 + r.IntN(4) {
			all = append(all, &Ballot{PollID: "p", VoterID: string(rune('A' + v)), Guest: v%3 == 0, Version: int64(version + 1),
				Ranking: r.Perm(5)[:1+r.IntN(5)]})
		}
	}
	want := CountBallots(p, all)
	c := NewCount()
	for range 3 {
		r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		for _, b := range all {
			c.Add(b)
		}
	}
	got := c.Tally(p)
	got.Ballots = want.Ballots
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("running %+v\nrecount %+v", got, want)
	}
}

func TestWordCloudIsBounded(t *testing.T) {
	p := &Poll{ID: "w", Kind: PollWords}
	var bs []*Ballot
	for i := range MaxCloudWords + 50 {
		bs = append(bs, &Ballot{PollID: "w", VoterID: string(rune(0x4e00 + i)), Version: 1, Words: []string{string(rune(0x4e00 + i))}})
	}
	bs = append(bs, &Ballot{PollID: "w", VoterID: "x", Version: 1, Words: []string{"zzz"}},
		&Ballot{PollID: "w", VoterID: "y", Version: 1, Words: []string{"zzz"}})
	got := CountBallots(p, bs)
	if len(got.Words) != MaxCloudWords || got.Words[0] != (WordCount{"zzz", 2}) {
		t.Fatalf("cloud: %d words, first %+v", len(got.Words), got.Words[0])
	}
}

func TestBallotKeysSortByVersion(t *testing.T) {
	a, b := BallotKey("p", "v", 9), BallotKey("p", "v", 10)
	if a >= b || len(a) != len("p:v:")+20 {
		t.Fatalf("keys %q %q", a, b)
	}
}
