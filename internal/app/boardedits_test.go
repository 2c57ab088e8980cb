package app

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

func emptyRoom(id string) *workshopRoom {
	return &workshopRoom{id: id, w: &insieme.Workshop{ID: id}, cards: map[string]*insieme.Card{}, clusters: map[string]*insieme.Cluster{},
		fields: map[string]map[string]*insieme.BoardEdit{}, groups: map[string]*insieme.GroupChoice{}, dots: map[string]*insieme.Dot{},
		actions: map[string]*insieme.WorkshopAction{}}
}

// A node draws versions above the greatest it has seen of a field, even one from a node whose
// clock is far ahead, and above every version it drew; edit keys then order like versions.
func TestEditVersionsKeepOrderAfterClockSkew(t *testing.T) {
	a := New(Deps{})
	r := emptyRoom("w")
	ahead := time.Now().Add(24 * time.Hour).UnixMicro()
	other := &insieme.BoardEdit{ID: insieme.BoardEditID("w~c", insieme.FieldPos, fmt.Sprintf("%020d.othernode0000000000001", ahead)), Item: "w~c", Field: insieme.FieldPos}
	r.applyBoard(nil, nil, []*insieme.BoardEdit{other})
	last := other.ID
	for range 100 {
		e := a.newEdit(r, "w~c", insieme.FieldPos)
		if e.ID <= last {
			t.Fatalf("edit %s is not after %s", e.ID, last)
		}
		r.applyBoard(nil, nil, []*insieme.BoardEdit{e})
		last = e.ID
	}
}

// Every node keeps each field's greatest edit, whatever order the edits arrive in.
func TestBoardFieldsConvergeInAnyOrder(t *testing.T) {
	var edits []*insieme.BoardEdit
	for i := range 60 {
		item := fmt.Sprintf("w~c%d", i%3)
		field := []string{insieme.FieldPos, insieme.FieldCluster, insieme.FieldText}[i%3]
		edits = append(edits, &insieme.BoardEdit{ID: insieme.BoardEditID(item, field, fmt.Sprintf("%020d.n%d", 1000+i*7%50, i)), Item: item, Field: field, X: float64(i)})
	}
	want := map[string]string{}
	for _, e := range edits {
		if k := e.Item + "|" + e.Field; e.ID > want[k] {
			want[k] = e.ID
		}
	}
	for seed := range 20 {
		r := emptyRoom("w")
		shuffled := append([]*insieme.BoardEdit(nil), edits...)
		rand.New(rand.NewPCG(uint64(seed), 1)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		for _, e := range shuffled { // one by one, and some twice: applying again changes nothing
			r.applyBoard(nil, nil, []*insieme.BoardEdit{e, e})
		}
		for k, id := range want {
			item, field, _ := cutTwo(k)
			if got := r.fields[item][field].ID; got != id {
				t.Fatalf("seed %d: %s is %s, want %s", seed, k, got, id)
			}
		}
	}
}

func cutTwo(k string) (string, string, bool) {
	for i := len(k) - 1; i >= 0; i-- {
		if k[i] == '|' {
			return k[:i], k[i+1:], true
		}
	}
	return k, "", false
}
