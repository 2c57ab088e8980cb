package insieme

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Poll kinds.
const (
	PollSingle   = "single"   // one option
	PollMultiple = "multiple" // up to MaxChoices options
	PollRanking  = "ranking"  // options in order, best first (Borda points)
	PollScale    = "scale"    // a value from ScaleMin to ScaleMax
	PollWords    = "words"    // up to MaxBallotWords short words (a word cloud)
)

// Poll statuses: draft → open → closed.
const (
	PollDraft  = "draft"
	PollOpen   = "open"
	PollClosed = "closed"
)

// When a poll's results are shown to participants (hosts always see them).
const (
	ResultsLive   = "live"
	ResultsClosed = "closed"
)

// Limits of polls and ballots.
const (
	MaxPollTitle       = 200
	MinPollOptions     = 2
	MaxPollOptions     = 12
	MaxPollOption      = 100
	MaxBallotWords     = 3
	MaxBallotWord      = 30
	ScaleMin           = 1
	ScaleMax           = 5
	MaxPollsPerSession = 60
	// MaxCloudWords is how many words a tally shows, most frequent first.
	MaxCloudWords = 100
)

// Poll is a live session's poll. Its hosts write it (Version guards the rewrites); the
// ballots are documents of their own. Final is the tally recounted from the stored ballots
// when the poll closed.
type Poll struct {
	ID            string
	SessionID     string
	Kind          string
	Title         Texts
	Options       []Texts // single, multiple and ranking only
	MaxChoices    int     // multiple: how many options a ballot may choose (1 for single)
	GuestsMayVote bool
	ShowResults   string
	Status        string
	CreatedBy     string
	CreatedAt     time.Time
	OpenedAt      *time.Time
	ClosedAt      *time.Time
	Final         *Tally
	Version       int64
}

// HasOptions says whether the poll's kind has options to choose from.
func (p *Poll) HasOptions() bool {
	return p.Kind == PollSingle || p.Kind == PollMultiple || p.Kind == PollRanking
}

// ResultsPublic says whether participants see the poll's results now.
func (p *Poll) ResultsPublic() bool {
	return p.Status == PollClosed || (p.Status == PollOpen && p.ShowResults == ResultsLive)
}

// CheckPoll validates and normalises a poll's definition (title, options, settings) in place.
func CheckPoll(v *Invalid, p *Poll) {
	switch p.Kind {
	case PollSingle, PollMultiple, PollRanking, PollScale, PollWords:
	case "":
		v.Add("kind", FRequired)
	default:
		v.Add("kind", FInvalidValue)
	}
	p.Title = cleanTexts(v, "title", p.Title, MaxPollTitle)
	switch p.ShowResults {
	case "":
		p.ShowResults = ResultsLive
	case ResultsLive, ResultsClosed:
	default:
		v.Add("showResults", FInvalidValue)
	}
	if !p.HasOptions() {
		p.Options, p.MaxChoices = nil, 0
		return
	}
	switch n := len(p.Options); {
	case n < MinPollOptions:
		v.Add("options", FTooShort)
		v.Limit("options", MinPollOptions)
	case n > MaxPollOptions:
		v.Add("options", FTooLong)
		v.Limit("options", MaxPollOptions)
	}
	for i := range p.Options {
		p.Options[i] = cleanTexts(v, "options", p.Options[i], MaxPollOption)
	}
	switch p.Kind {
	case PollSingle:
		p.MaxChoices = 1
	case PollMultiple:
		if p.MaxChoices == 0 {
			p.MaxChoices = len(p.Options)
		}
		if p.MaxChoices < 1 || p.MaxChoices > len(p.Options) {
			v.Add("maxChoices", FInvalidValue)
		}
	case PollRanking:
		p.MaxChoices = len(p.Options)
	}
}

// cleanTexts checks a required text in one or more languages: offered languages only, one
// line each, at most max runes.
func cleanTexts(v *Invalid, field string, t Texts, max int) Texts {
	clean := Texts{}
	for lang, s := range t {
		if !slices.Contains(Languages, lang) {
			v.Add(field, FInvalidLanguage)
			return t
		}
		s = CleanText(s)
		if utf8.RuneCountInString(s) > max {
			v.Add(field, FTooLong)
			v.Limit(field, max)
			return t
		}
		if s != "" {
			clean[lang] = s
		}
	}
	if len(clean) == 0 {
		v.Add(field, FRequired)
	}
	return clean
}

// Ballot is one version of a participant's answer to a poll: stored once, never changed. A
// voter's ballot with the highest version counts. VoterID is the participant id (the account
// id, or the guest id).
type Ballot struct {
	PollID    string
	SessionID string
	VoterID   string
	Guest     bool
	Version   int64
	Choices   []int    // single, multiple: option indexes, ascending
	Ranking   []int    // ranking: option indexes, best first
	Scale     int      // scale: ScaleMin..ScaleMax
	Words     []string // words: normalised (lower case), distinct
	CreatedAt time.Time
}

// BallotKey is a ballot's unique key: "<poll>:<voter>:<version, 20 digits>", so the keys of
// one voter's versions sort in version order.
func BallotKey(pollID, voterID string, version int64) string {
	return fmt.Sprintf("%s:%s:%020d", pollID, voterID, version)
}

// CheckBallot validates a ballot against the poll's kind and options and normalises it in
// place (sorted choices, lower-case distinct words; the fields of other kinds cleared).
func (p *Poll) CheckBallot(b *Ballot) error {
	var v Invalid
	inRange := func(i int) bool { return i >= 0 && i < len(p.Options) }
	distinct := func(xs []int) bool {
		seen := map[int]bool{}
		for _, x := range xs {
			if seen[x] {
				return false
			}
			seen[x] = true
		}
		return true
	}
	switch p.Kind {
	case PollSingle, PollMultiple:
		b.Ranking, b.Scale, b.Words = nil, 0, nil
		max := p.MaxChoices
		if p.Kind == PollSingle {
			max = 1
		}
		switch {
		case len(b.Choices) == 0:
			v.Add("choices", FRequired)
		case len(b.Choices) > max:
			v.Add("choices", FTooLong)
			v.Limit("choices", max)
		case !distinct(b.Choices) || !allOf(b.Choices, inRange):
			v.Add("choices", FInvalidValue)
		}
		b.Choices = slices.Clone(b.Choices)
		slices.Sort(b.Choices)
	case PollRanking:
		b.Choices, b.Scale, b.Words = nil, 0, nil
		switch {
		case len(b.Ranking) == 0:
			v.Add("ranking", FRequired)
		case len(b.Ranking) > len(p.Options) || !distinct(b.Ranking) || !allOf(b.Ranking, inRange):
			v.Add("ranking", FInvalidValue)
		}
		b.Ranking = slices.Clone(b.Ranking)
	case PollScale:
		b.Choices, b.Ranking, b.Words = nil, nil, nil
		if b.Scale < ScaleMin || b.Scale > ScaleMax {
			v.Add("scale", FInvalidValue)
		}
	case PollWords:
		b.Choices, b.Ranking, b.Scale = nil, nil, 0
		if len(b.Words) > MaxBallotWords {
			v.Add("words", FTooLong)
			v.Limit("words", MaxBallotWords)
			break
		}
		var words []string
		for _, w := range b.Words {
			w = NormaliseWord(w)
			if utf8.RuneCountInString(w) > MaxBallotWord {
				v.Add("words", FTooLong)
				v.Limit("words", MaxBallotWord)
			}
			if w != "" && !slices.Contains(words, w) {
				words = append(words, w)
			}
		}
		if len(words) == 0 {
			v.Add("words", FRequired)
		}
		b.Words = words
	default:
		v.Add("poll", FInvalidValue)
	}
	return v.Err()
}

func allOf(xs []int, ok func(int) bool) bool {
	for _, x := range xs {
		if !ok(x) {
			return false
		}
	}
	return true
}

// NormaliseWord is how a word is counted in a word cloud: one line, single spaces, lower
// case, without punctuation around it.
func NormaliseWord(s string) string {
	s = strings.Join(strings.Fields(CleanText(s)), " ")
	s = strings.TrimFunc(s, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) || unicode.IsSymbol(r) })
	return strings.ToLower(s)
}

// Tally is a poll's result: each voter's latest ballot counted once.
type Tally struct {
	Voters   int // voters counted
	Guests   int // of them, guests
	Accounts int // of them, accounts
	// Ballots is how many ballot documents a recount read (every version): a later recount
	// of an append-only collection reads at least as many.
	Ballots int
	// Counts: single and multiple, voters per option; ranking, first places per option.
	Counts []int
	// Points: ranking, Borda points per option (a voter's first of n options gets n points,
	// the next n-1, ...; options a voter did not rank get none).
	Points []int
	// Distribution: scale, voters per value from ScaleMin; Average their mean (0 without voters).
	Distribution []int
	Average      float64
	// Words: the most frequent words first (ties by word), at most MaxCloudWords.
	Words []WordCount
}

// WordCount is a word of a word cloud and how many voters wrote it.
type WordCount struct {
	Word  string
	Count int
}

// Count is a poll's running count: each voter's latest ballot, and the sums of them, kept as
// ballots arrive in any order (a ballot older than the voter's latest changes nothing, so
// applying one twice is harmless). It is not safe for concurrent use.
type Count struct {
	latest   map[string]*Ballot
	guests   int
	choices  []int   // voters per option
	ranks    [][]int // ranks[option][position]: voters who put the option there
	scale    [ScaleMax + 1]int
	scaleSum int
	words    map[string]int
}

// NewCount returns an empty count.
func NewCount() *Count {
	return &Count{latest: map[string]*Ballot{}, words: map[string]int{}}
}

// Add counts b if it is newer than its voter's latest ballot, and says whether it was.
func (c *Count) Add(b *Ballot) bool {
	old := c.latest[b.VoterID]
	if old != nil && old.Version >= b.Version {
		return false
	}
	if old != nil {
		c.apply(old, -1)
	}
	c.apply(b, 1)
	c.latest[b.VoterID] = b
	return true
}

// Remove forgets a voter's ballots (an erased account), and says whether there were any.
func (c *Count) Remove(voterID string) bool {
	old := c.latest[voterID]
	if old == nil {
		return false
	}
	c.apply(old, -1)
	delete(c.latest, voterID)
	return true
}

// Latest is a voter's latest ballot, or nil.
func (c *Count) Latest(voterID string) *Ballot { return c.latest[voterID] }

// Voters is how many voters are counted.
func (c *Count) Voters() int { return len(c.latest) }

func (c *Count) apply(b *Ballot, d int) {
	if b.Guest {
		c.guests += d
	}
	for _, i := range b.Choices {
		if i < 0 || i >= MaxPollOptions {
			continue
		}
		for len(c.choices) <= i {
			c.choices = append(c.choices, 0)
		}
		c.choices[i] += d
	}
	for pos, i := range b.Ranking {
		if i < 0 || i >= MaxPollOptions || pos >= MaxPollOptions {
			continue
		}
		for len(c.ranks) <= i {
			c.ranks = append(c.ranks, nil)
		}
		for len(c.ranks[i]) <= pos {
			c.ranks[i] = append(c.ranks[i], 0)
		}
		c.ranks[i][pos] += d
	}
	if b.Scale >= ScaleMin && b.Scale <= ScaleMax {
		c.scale[b.Scale] += d
		c.scaleSum += d * b.Scale
	}
	for _, w := range b.Words {
		if c.words[w] += d; c.words[w] <= 0 {
			delete(c.words, w)
		}
	}
}

// Tally is the count's result for the poll's kind and options.
func (c *Count) Tally(p *Poll) *Tally {
	t := &Tally{Voters: len(c.latest), Guests: c.guests, Accounts: len(c.latest) - c.guests}
	n := len(p.Options)
	switch p.Kind {
	case PollSingle, PollMultiple:
		t.Counts = make([]int, n)
		copy(t.Counts, c.choices)
	case PollRanking:
		t.Counts, t.Points = make([]int, n), make([]int, n)
		for i := 0; i < n && i < len(c.ranks); i++ {
			for pos, voters := range c.ranks[i] {
				if pos == 0 {
					t.Counts[i] = voters
				}
				if pos < n {
					t.Points[i] += voters * (n - pos)
				}
			}
		}
	case PollScale:
		t.Distribution = make([]int, ScaleMax-ScaleMin+1)
		voters := 0
		for v := ScaleMin; v <= ScaleMax; v++ {
			t.Distribution[v-ScaleMin] = c.scale[v]
			voters += c.scale[v]
		}
		if voters > 0 {
			t.Average = float64(c.scaleSum) / float64(voters)
		}
	case PollWords:
		t.Words = make([]WordCount, 0, min(len(c.words), MaxCloudWords))
		for w, k := range c.words {
			t.Words = append(t.Words, WordCount{Word: w, Count: k})
		}
		sort.Slice(t.Words, func(i, j int) bool {
			if t.Words[i].Count != t.Words[j].Count {
				return t.Words[i].Count > t.Words[j].Count
			}
			return t.Words[i].Word < t.Words[j].Word
		})
		if len(t.Words) > MaxCloudWords {
			t.Words = t.Words[:MaxCloudWords]
		}
	}
	return t
}

// CountBallots is the recount: the tally of each voter's latest ballot among bs (every stored
// version of the poll's ballots, in any order).
func CountBallots(p *Poll, bs []*Ballot) *Tally {
	c := NewCount()
	for _, b := range bs {
		if b.PollID == p.ID {
			c.Add(b)
		}
	}
	t := c.Tally(p)
	t.Ballots = len(bs)
	return t
}

// BatchError says which items of a batched write were not stored; the others were.
type BatchError struct {
	Failed map[int]error // by index in the batch
}

func (e *BatchError) Error() string {
	for _, err := range e.Failed {
		return fmt.Sprintf("%d of the batch not stored: %v", len(e.Failed), err)
	}
	return "batch not stored"
}

// PollStore keeps live polls and their ballots.
type PollStore interface {
	CreatePoll(ctx context.Context, p *Poll) error
	Poll(ctx context.Context, id string) (*Poll, error)
	// SavePoll rewrites a poll if its version is still p.Version and bumps it; ECONFLICT when
	// it moved meanwhile.
	SavePoll(ctx context.Context, p *Poll) error
	// DeletePoll removes a poll if its version is still p.Version; ECONFLICT otherwise.
	DeletePoll(ctx context.Context, p *Poll) error
	// PollsOf lists a session's polls, oldest first.
	PollsOf(ctx context.Context, sessionID string) ([]*Poll, error)

	// InsertBallots stores a batch of ballots (each under its BallotKey, never updated). nil:
	// all are stored; a *BatchError: all but the ones it names are; any other error: none
	// may be taken as stored.
	InsertBallots(ctx context.Context, bs []*Ballot) error
	// Ballots reads every stored version of a poll's ballots (a scan: for the recount at
	// close, never for a request).
	Ballots(ctx context.Context, pollID string) ([]*Ballot, error)
	// SessionBallots reads every stored ballot of a session's polls (a scan: when a node
	// loads a session's polls).
	SessionBallots(ctx context.Context, sessionID string) ([]*Ballot, error)
	// BallotsBy lists a voter's ballots (data download); DeleteBallotsBy removes them (erasure).
	BallotsBy(ctx context.Context, voterID string) ([]*Ballot, error)
	DeleteBallotsBy(ctx context.Context, voterID string) error
}
