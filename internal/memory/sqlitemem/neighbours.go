package sqlitemem

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/os1ai/os1/internal/memory"
)

// maxTurnWalk bounds how many messages PreviousTurns steps over (tool
// calls and their results) looking for the turn before a message.
const maxTurnWalk = 8

// PreviousTurns returns, for each of the user's indexed messages in ids,
// the turn right before it in its conversation (recall's context units):
// its parent in the conversation's tree (so an edited branch gets its own
// past, not the old branch's), stepping over what is not a turn (tool
// calls, tool results, empty messages). The turn must be indexed for
// recall, the same user's and in the same conversation; a message without
// one (the first of its conversation, a forgotten turn, one with no row in
// the conversation log) is absent from the map. One query for all ids.
func (s *Store) PreviousTurns(ctx context.Context, userID string, ids []string) (_ map[string]memory.Hit, err error) {
	defer survive(&err, "read the turns before messages")
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("read the turns before messages: %w", err)
	}
	// up walks from each hit to its parent, and on past parents that are
	// not turns; the first turn reached is the hit's neighbour. Every step
	// stays in the hit's conversation and the user's rows. CROSS JOIN keeps
	// SQLite's join order, from the few hits out by primary keys; left to
	// itself the planner walked all of the user's documents.
	rows, err := s.query(ctx, `
		WITH RECURSIVE up(hit, conv, id, depth) AS (
			SELECT mm.id, mm.conversation_id, m.parent_id, 1
			FROM json_each(?2) h
			JOIN memory_messages mm ON mm.id = h.value AND mm.user_id = ?1
			JOIN messages m ON m.id = mm.id AND m.user_id = ?1
			UNION ALL
			SELECT u.hit, u.conv, m.parent_id, u.depth + 1
			FROM up u JOIN messages m ON m.id = u.id AND m.user_id = ?1 AND m.conversation_id = u.conv
			WHERE u.depth < ?3 AND (m.role NOT IN ('user', 'assistant') OR trim(m.content) = '')
		)
		SELECT u.hit, p.id, d.text, d.time, u.depth
		FROM up u
		CROSS JOIN messages m ON m.id = u.id AND m.user_id = ?1 AND m.conversation_id = u.conv
			AND m.role IN ('user', 'assistant') AND trim(m.content) != ''
		CROSS JOIN memory_messages p ON p.id = u.id AND p.user_id = ?1 AND p.conversation_id = u.conv
		CROSS JOIN memory_docs d ON d.seq = p.seq AND d.user_id = ?1
		ORDER BY u.depth`, userID, string(list), maxTurnWalk)
	if err != nil {
		return nil, mapErr(err, "read the turns before messages")
	}
	defer rows.Close()
	out := map[string]memory.Hit{}
	for rows.Next() {
		var hit string
		var h memory.Hit
		var t time.Time
		var depth int
		if err := rows.Scan(&hit, &h.ID, &h.Text, scanTime(&t), &depth); err != nil {
			return nil, mapErr(err, "read the turns before messages")
		}
		if _, ok := out[hit]; ok {
			continue
		}
		h.Kind, h.Time, h.Sources = memory.DocMessage, t, []string{h.ID}
		out[hit] = h
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err, "read the turns before messages")
	}
	return out, nil
}
