package catalog

import (
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// vocab interns the tokens of every entry (entries keep token ids, so a word used by
// thousands of proposals is stored once) and finds the tokens that can match a query token:
//   - those starting with it, a range of the sorted vocabulary. New tokens go to a small
//     sorted pending list, merged into the main list every mergeAt new tokens, so loading
//     costs O(V) per mergeAt new tokens rather than per token;
//   - for a query token of one character, also those containing that character further on
//     (inner, by character), for match functions such as search.Match where a single Han
//     character matches a pair containing it.
//
// Tokens are never forgotten (a forum's postings are): the vocabulary grows only with the
// distinct words ever written.
type vocab struct {
	ids     map[string]int32
	strs    []string // by id
	sorted  []int32  // ids, sorted by token
	pending []int32  // ids, sorted by token; merged into sorted at mergeAt
	inner   map[rune][]int32
	mark    []uint32 // by id: the last dedupe pass that saw the token
	pass    uint32
}

const mergeAt = 4096

func newVocab() vocab {
	return vocab{ids: make(map[string]int32), inner: make(map[rune][]int32)}
}

// id returns a token's id, adding the token.
func (v *vocab) id(tok string) int32 {
	if id, ok := v.ids[tok]; ok {
		return id
	}
	id := int32(len(v.strs))
	v.ids[tok] = id
	v.strs = append(v.strs, tok)
	v.mark = append(v.mark, 0)
	i := sort.Search(len(v.pending), func(i int) bool { return v.strs[v.pending[i]] >= tok })
	v.pending = slices.Insert(v.pending, i, id)
	if len(v.pending) >= mergeAt {
		v.merge()
	}
	_, first := utf8.DecodeRuneInString(tok)
	for i, r := range tok[first:] {
		if !strings.ContainsRune(tok[first:first+i], r) { // each character once per token
			v.inner[r] = append(v.inner[r], id)
		}
	}
	return id
}

// ids returns the ids of tokens, adding new tokens; nil for nil.
func (v *vocab) idsOf(tokens []string) []int32 {
	if tokens == nil {
		return nil
	}
	out := make([]int32, len(tokens))
	for i, t := range tokens {
		out[i] = v.id(t)
	}
	return out
}

// stringsOf appends the tokens of ids to buf.
func (v *vocab) stringsOf(buf []string, ids []int32) []string {
	for _, id := range ids {
		buf = append(buf, v.strs[id])
	}
	return buf
}

// distinct calls yield once for each distinct id in ids (an entry may repeat a token).
func (v *vocab) distinct(ids []int32, yield func(int32)) {
	v.pass++
	if v.pass == 0 { // wrapped: forget every mark
		clear(v.mark)
		v.pass = 1
	}
	for _, id := range ids {
		if v.mark[id] != v.pass {
			v.mark[id] = v.pass
			yield(id)
		}
	}
}

func (v *vocab) merge() {
	out := make([]int32, 0, len(v.sorted)+len(v.pending))
	a, b := v.sorted, v.pending
	for len(a) > 0 && len(b) > 0 {
		if v.strs[a[0]] < v.strs[b[0]] {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	out = append(append(out, a...), b...)
	v.sorted, v.pending = out, v.pending[:0]
}

// candidates calls yield with the id of every token that may match query token q: those
// starting with q and, when q is one character, those containing it. A token may come twice.
func (v *vocab) candidates(q string, yield func(id int32)) {
	for _, list := range [2][]int32{v.sorted, v.pending} {
		i := sort.Search(len(list), func(i int) bool { return v.strs[list[i]] >= q })
		for ; i < len(list) && strings.HasPrefix(v.strs[list[i]], q); i++ {
			yield(list[i])
		}
	}
	if r, size := utf8.DecodeRuneInString(q); size == len(q) && size > 0 {
		for _, id := range v.inner[r] {
			yield(id)
		}
	}
}
