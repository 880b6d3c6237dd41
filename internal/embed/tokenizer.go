package embed

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"unicode/utf16"

	"golang.org/x/text/unicode/norm"
)

// Tokenizer is the SentencePiece unigram tokenizer of the Universal Sentence
// Encoder, ported line for line from @energetic-ai/embeddings 0.2.0 (itself
// from @tensorflow-models/universal-sentence-encoder). Its quirks are kept on
// purpose, because the model was run with them: only ASCII spaces become "▁",
// null scores count as 0, a zero best score counts as "unset", ties go to the
// later start, and runs of unknown symbols collapse into one id 0.
type Tokenizer struct {
	pieceLen []int // UTF-16 length of each piece, as JS's String.length
	edges    map[trieEdge]int32
	nodes    []trieNode
}

// reservedPieces are the first vocabulary entries (unk, <s>, </s>, extra
// ids) that never match text.
const reservedPieces = 6

const separator = '\u2581' // "▁"

type trieEdge struct {
	node int32
	sym  rune
}

type trieNode struct {
	end   bool
	score float64
	id    int32
	depth int32 // symbols from the root
}

// LoadTokenizer reads a vocab.json of [piece, score] pairs.
func LoadTokenizer(path string) (*Tokenizer, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist", ErrModelMissing, path)
	}
	if err != nil {
		return nil, fmt.Errorf("read vocabulary: %w", err)
	}
	var entries [][2]json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf("%w: %s is not a list of [piece, score] pairs: %v", ErrBadModel, path, err)
	}
	pieces := make([]string, len(entries))
	scores := make([]float64, len(entries))
	for k, e := range entries {
		if err := json.Unmarshal(e[0], &pieces[k]); err != nil {
			return nil, fmt.Errorf("%w: %s entry %d: piece is not a string", ErrBadModel, path, k)
		}
		// JSON null scores (a few punctuation pieces have them) add as 0 in JS.
		if string(e[1]) != "null" {
			if err := json.Unmarshal(e[1], &scores[k]); err != nil {
				return nil, fmt.Errorf("%w: %s entry %d: score is not a number", ErrBadModel, path, k)
			}
		}
	}
	return newTokenizer(pieces, scores)
}

func newTokenizer(pieces []string, scores []float64) (*Tokenizer, error) {
	if len(pieces) <= reservedPieces {
		return nil, fmt.Errorf("%w: vocabulary has %d pieces, want more than %d", ErrBadModel, len(pieces), reservedPieces)
	}
	t := &Tokenizer{
		pieceLen: make([]int, len(pieces)),
		edges:    make(map[trieEdge]int32),
		nodes:    []trieNode{{}},
	}
	for id, p := range pieces {
		t.pieceLen[id] = len(utf16.Encode([]rune(p)))
		if id < reservedPieces {
			continue
		}
		cur := int32(0)
		for _, r := range p {
			next, ok := t.edges[trieEdge{cur, r}]
			if !ok {
				next = int32(len(t.nodes))
				t.nodes = append(t.nodes, trieNode{depth: t.nodes[cur].depth + 1})
				t.edges[trieEdge{cur, r}] = next
			}
			cur = next
		}
		if cur != 0 { // a later duplicate piece overwrites, as in the JS trie
			t.nodes[cur].end, t.nodes[cur].score, t.nodes[cur].id = true, scores[id], int32(id)
		}
	}
	return t, nil
}

// latticeEdge is a piece spanning symbols [start, end).
type latticeEdge struct {
	start int
	id    int32
	score float64
}

// Encode returns the vocabulary ids of text.
func (t *Tokenizer) Encode(text string) []int32 {
	s := norm.NFKC.String(strings.ToValidUTF8(text, "\uFFFD"))
	if s == "" {
		return nil
	}
	syms := []rune(string(separator) + strings.ReplaceAll(s, " ", string(separator)))
	n := len(syms)
	ends := make([][]latticeEdge, n+1) // edges by end position, starts ascending
	for i := range n {
		found := false
		cur, ok := t.edges[trieEdge{0, syms[i]}]
		for j := i; ok; {
			if nd := t.nodes[cur]; nd.end {
				ends[j+1] = append(ends[j+1], latticeEdge{i, nd.id, nd.score})
				found = true
			}
			j++
			if j >= n {
				break
			}
			cur, ok = t.edges[trieEdge{cur, syms[j]}]
		}
		if !found { // unknown symbol: id 0, score 0, one symbol long
			ends[i+1] = append(ends[i+1], latticeEdge{i, 0, 0})
		}
	}
	best := make([]float64, n+1)
	words := make([]int32, n+1)
	for end := range n + 1 {
		for _, e := range ends[end] {
			score := e.score + best[e.start]
			if best[end] == 0 || score >= best[end] {
				best[end], words[end] = score, e.id
			}
		}
	}
	var ids []int32
	for at := n; at > 0; at -= max(1, t.pieceLen[words[at]]) { // max: no endless loop on an empty piece 0
		ids = append(ids, words[at])
	}
	// Collapse runs of unknowns (in reverse order, as JS does) and reverse.
	out := make([]int32, 0, len(ids))
	prevUnk := false
	for _, id := range ids {
		if !(prevUnk && id == 0) {
			out = append(out, id)
		}
		prevUnk = id == 0
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
