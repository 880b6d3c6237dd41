package sqlitemem_test

import (
	"testing"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
)

// DeleteUser removes the user's memory rows and their in-memory vector
// index; the other user's memory and index stay.
func TestDeleteUserDropsIndex(t *testing.T) {
	eachDB(t, func(t *testing.T, db coreDB) {
		ctx := t.Context()
		s := sqlitemem.NewFor(db, sqlitemem.Options{Clock: clock.NewFake(t0)})
		for _, u := range []string{"u1", "u2"} {
			if err := s.IndexMessage(ctx, memory.MessageDoc{ID: u + "m", UserID: u, Text: "chess with Theo", Time: t0}, vec(0)); err != nil {
				t.Fatal(err)
			}
			if err := s.SaveEntity(ctx, memory.Entity{ID: "e_" + u, UserID: u, Name: "Theo"}); err != nil {
				t.Fatal(err)
			}
			if hits, err := s.SearchVector(ctx, u, vec(0), memory.Query{}); err != nil || len(hits) != 1 {
				t.Fatalf("search %s: %v, %v", u, hits, err)
			}
		}
		both := s.IndexBytes()
		if err := s.DeleteUser(ctx, "u1"); err != nil {
			t.Fatal(err)
		}
		if got := s.IndexBytes(); got != both/2 {
			t.Errorf("index after deleting u1 holds %d bytes, want %d (u2's only)", got, both/2)
		}
		if hits, err := s.SearchVector(ctx, "u1", vec(0), memory.Query{}); err != nil || len(hits) != 0 {
			t.Errorf("u1's vector search after DeleteUser: %v, %v", hits, err)
		}
		if hits, err := s.SearchText(ctx, "u1", memory.Query{Text: "chess"}); err != nil || len(hits) != 0 {
			t.Errorf("u1's text search after DeleteUser: %v, %v", hits, err)
		}
		if hits, err := s.SearchText(ctx, "u2", memory.Query{Text: "chess"}); err != nil || len(hits) != 1 {
			t.Errorf("u2's text search after deleting u1: %v, %v", hits, err)
		}
		if _, err := s.Entity(ctx, "u1", "e_u1"); err == nil {
			t.Error("u1's person survived DeleteUser")
		}
		if _, err := s.Entity(ctx, "u2", "e_u2"); err != nil {
			t.Errorf("u2's person after deleting u1: %v", err)
		}
	}, "u1", "u2")
}
