package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/transfer"
)

// `os1 memory show` and `os1 memory forget`.

func (e *env) memShowCmd(username *string) *cobra.Command {
	var (
		asJSON  bool
		history bool
		limit   int
		kinds   []string
	)
	cmd := &cobra.Command{
		Use:   "show [ID]",
		Short: "List current memories (newest first), or show one memory or person with where it came from",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			m, err := e.openMemory(ctx, *username)
			if err != nil {
				return err
			}
			defer m.close()
			if len(args) == 0 {
				f := memory.ItemFilter{History: history, Limit: limit}
				for _, k := range kinds {
					switch kd := memory.Kind(k); kd {
					case memory.KindFact, memory.KindEvent, memory.KindPreference, memory.KindReflection, memory.KindPerson:
						f.Kinds = append(f.Kinds, kd)
					default:
						return fmt.Errorf("--kind %q: want fact, event, preference, reflection or person", k)
					}
				}
				return e.listItems(ctx, m, f, asJSON)
			}
			return e.showOne(ctx, m, args[0], asJSON)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print JSON")
	f.BoolVar(&history, "history", false, "include beliefs that were replaced")
	f.IntVar(&limit, "limit", 50, "at most this many memories (0: all)")
	f.StringSliceVar(&kinds, "kind", nil, "only these kinds: fact, event, preference, reflection, person")
	return cmd
}

func (e *env) listItems(ctx context.Context, m *memEnv, f memory.ItemFilter, asJSON bool) error {
	items, err := m.mem.ListItems(ctx, m.user.ID, f)
	if err != nil {
		return err
	}
	if asJSON {
		out := make([]transfer.ExportItem, len(items))
		for i, it := range items {
			out[i] = exportItem(it)
		}
		return writeJSONLine(e.stdout, map[string]any{"items": out})
	}
	if len(items) == 0 {
		fmt.Fprintf(e.stdout, "No memories for %s yet.\n", m.user.Username)
		return nil
	}
	loc := m.userLocation(ctx)
	for _, it := range items {
		mark := ""
		if !it.Current() {
			mark = " (replaced)"
		}
		fmt.Fprintf(e.stdout, "%s  %-10s %s  %s%s\n", it.ID, it.Kind, formatDate(it.ValidFrom, loc), clip(it.Text, 200), mark)
	}
	return nil
}

func exportItem(it memory.Item) transfer.ExportItem {
	return transfer.ExportItem{ID: it.ID, Kind: string(it.Kind), Text: it.Text, EntityIDs: nonNil(it.EntityIDs), Sources: nonNil(it.Sources),
		Confidence: it.Confidence, Importance: it.Importance, EventTime: it.EventTime, ValidFrom: it.ValidFrom, ValidTo: it.ValidTo,
		SupersededBy: it.SupersededBy, CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt}
}

type sourceJSON struct {
	ID             string    `json:"id"`
	ConversationID string    `json:"conversation_id"`
	Conversation   string    `json:"conversation"`
	Role           string    `json:"role"`
	Content        string    `json:"content"`
	CreatedAt      time.Time `json:"created_at"`
}

// showOne prints a memory (with its sources and the beliefs it replaced)
// or a person (with what she knows about them).
func (e *env) showOne(ctx context.Context, m *memEnv, id string, asJSON bool) error {
	loc := m.userLocation(ctx)
	it, err := m.mem.Item(ctx, m.user.ID, id)
	if errors.Is(err, memory.ErrNotFound) {
		ent, err := m.mem.Entity(ctx, m.user.ID, id)
		if errors.Is(err, memory.ErrNotFound) {
			return fmt.Errorf("%s has no memory or person %q (list them with `os1 memory show`)", m.user.Username, id)
		} else if err != nil {
			return err
		}
		return e.showPerson(ctx, m, ent, asJSON, loc)
	} else if err != nil {
		return err
	}
	var sources []sourceJSON
	for _, sid := range it.Sources {
		msg, err := m.db.Message(ctx, m.user.ID, sid)
		if err != nil {
			sources = append(sources, sourceJSON{ID: sid, Content: "(this message was deleted)"})
			continue
		}
		title := ""
		if c, err := m.db.Conversation(ctx, m.user.ID, msg.ConversationID); err == nil {
			title = c.Title
		}
		sources = append(sources, sourceJSON{ID: msg.ID, ConversationID: msg.ConversationID, Conversation: title,
			Role: string(msg.Role), Content: msg.Content, CreatedAt: msg.CreatedAt})
	}
	all, err := m.mem.ListItems(ctx, m.user.ID, memory.ItemFilter{History: true})
	if err != nil {
		return err
	}
	var history []transfer.ExportItem
	seen := map[string]bool{it.ID: true}
	for cur := it.ID; ; {
		i := slices.IndexFunc(all, func(x memory.Item) bool { return x.SupersededBy == cur && !seen[x.ID] })
		if i < 0 {
			break
		}
		seen[all[i].ID] = true
		history = append(history, exportItem(all[i]))
		cur = all[i].ID
	}
	if asJSON {
		return writeJSONLine(e.stdout, map[string]any{"item": exportItem(it), "sources": nonNilSources(sources), "history": nonNilItems(history)})
	}
	w := e.stdout
	fmt.Fprintf(w, "%s\n\n", it.Text)
	fmt.Fprintf(w, "  id          %s\n  kind        %s\n  importance  %.2f\n  confidence  %.2f\n  believed    since %s", it.ID, it.Kind, it.Importance, it.Confidence, formatDay(it.ValidFrom, loc))
	if !it.Current() {
		fmt.Fprintf(w, " until %s", formatDay(it.ValidTo, loc))
		if it.SupersededBy != "" {
			fmt.Fprintf(w, " (replaced by %s)", it.SupersededBy)
		}
	}
	fmt.Fprintln(w)
	if !it.EventTime.IsZero() {
		fmt.Fprintf(w, "  when        %s\n", formatDay(it.EventTime, loc))
	}
	for _, eid := range it.EntityIDs {
		if ent, err := m.mem.Entity(ctx, m.user.ID, eid); err == nil {
			fmt.Fprintf(w, "  about       %s (%s)\n", ent.Name, ent.ID)
		}
	}
	fmt.Fprintf(w, "\nWhy she believes it:\n")
	for _, s := range sources {
		if s.ConversationID == "" {
			fmt.Fprintf(w, "  - %s %s\n", s.ID, s.Content)
			continue
		}
		fmt.Fprintf(w, "  - %s, %s in “%s” (%s):\n      %s\n", formatDay(s.CreatedAt, loc), s.Role, s.Conversation, s.ConversationID, clip(s.Content, 400))
	}
	if len(history) > 0 {
		fmt.Fprintf(w, "\nBefore, she believed:\n")
		for _, h := range history {
			fmt.Fprintf(w, "  - %s … %s  %s (%s)\n", formatDate(h.ValidFrom, loc), formatDate(h.ValidTo, loc), clip(h.Text, 200), h.ID)
		}
	}
	return nil
}

func nonNilSources(s []sourceJSON) []sourceJSON {
	if s == nil {
		return []sourceJSON{}
	}
	return s
}

func nonNilItems(s []transfer.ExportItem) []transfer.ExportItem {
	if s == nil {
		return []transfer.ExportItem{}
	}
	return s
}

func (e *env) showPerson(ctx context.Context, m *memEnv, ent memory.Entity, asJSON bool, loc *time.Location) error {
	items, err := m.mem.ListItems(ctx, m.user.ID, memory.ItemFilter{EntityID: ent.ID})
	if err != nil {
		return err
	}
	if asJSON {
		out := make([]transfer.ExportItem, len(items))
		for i, it := range items {
			out[i] = exportItem(it)
		}
		p := transfer.ExportEntity{ID: ent.ID, Name: ent.Name, Aliases: nonNil(ent.Aliases), Relation: ent.Relation, Notes: ent.Notes,
			Sources: nonNil(ent.Sources), CreatedAt: ent.CreatedAt, UpdatedAt: ent.UpdatedAt}
		return writeJSONLine(e.stdout, map[string]any{"person": p, "items": out})
	}
	w := e.stdout
	fmt.Fprintf(w, "%s", ent.Name)
	if ent.Relation != "" {
		fmt.Fprintf(w, " (%s)", ent.Relation)
	}
	fmt.Fprintf(w, "  %s\n", ent.ID)
	if len(ent.Aliases) > 0 {
		fmt.Fprintf(w, "  also called %s\n", strings.Join(ent.Aliases, ", "))
	}
	if ent.Notes != "" {
		fmt.Fprintf(w, "  %s\n", clip(ent.Notes, 600))
	}
	for _, it := range items {
		fmt.Fprintf(w, "  - %s  %s (%s)\n", formatDate(it.ValidFrom, loc), clip(it.Text, 200), it.ID)
	}
	return nil
}

func (e *env) memForgetCmd(username *string) *cobra.Command {
	var sources bool
	cmd := &cobra.Command{
		Use:   "forget ID...",
		Short: "Delete memories from every index (or a person, or a message from recall)",
		Long: "forget deletes each memory ID from every table and index. With --sources the messages it came\n" +
			"from also leave the recall index (they stay in their conversations). A person ID deletes the\n" +
			"person (memories about them stay); a message ID removes that message from recall.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			m, err := e.openMemoryToWrite(ctx, *username, "os1 memory forget")
			if err != nil {
				return err
			}
			defer m.close()
			for _, id := range args {
				if err := e.forgetOne(ctx, m, id, sources); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&sources, "sources", false, "also remove the memory's source messages from recall")
	return cmd
}

func (e *env) forgetOne(ctx context.Context, m *memEnv, id string, sources bool) error {
	uid := m.user.ID
	it, err := m.mem.Item(ctx, uid, id)
	if err == nil {
		if err := m.mem.Forget(ctx, uid, id); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Forgot %s: %s\n", id, clip(it.Text, 200))
		if sources {
			for _, s := range it.Sources {
				if err := m.mem.ForgetMessage(ctx, uid, s); err != nil && !errors.Is(err, memory.ErrNotFound) {
					return err
				}
			}
			fmt.Fprintf(e.stdout, "  and removed its %d source message(s) from recall\n", len(it.Sources))
		}
		return nil
	} else if !errors.Is(err, memory.ErrNotFound) {
		return err
	}
	if ent, err := m.mem.Entity(ctx, uid, id); err == nil {
		if err := m.mem.DeleteEntity(ctx, uid, id); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Forgot the person %s (%s); memories about them stay\n", ent.Name, id)
		return nil
	} else if !errors.Is(err, memory.ErrNotFound) {
		return err
	}
	if _, err := m.db.Message(ctx, uid, id); err == nil {
		if err := m.mem.ForgetMessage(ctx, uid, id); err != nil && !errors.Is(err, memory.ErrNotFound) {
			return err
		}
		fmt.Fprintf(e.stdout, "Removed message %s from recall (it stays in its conversation)\n", id)
		return nil
	}
	return fmt.Errorf("%s has no memory, person or message %q; nothing was forgotten after this point", m.user.Username, id)
}
