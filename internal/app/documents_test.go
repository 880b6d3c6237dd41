package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/app"
	"github.com/os1ai/os1/internal/documents"
	"github.com/os1ai/os1/internal/store"
)

// The writing desk is wired in os1 serve (the API's service is the app's,
// over the app's database) and in os1 talk (the tools work by voice too).
func TestDocumentsAreWired(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	a, err := app.New(ctx, cfg, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Documents == nil || a.Server == nil || a.Server.Documents != a.Documents {
		t.Fatalf("documents: app %v, server %v", a.Documents != nil, a.Server != nil && a.Server.Documents != nil)
	}
	if err := a.DB.CreateUser(ctx, store.User{ID: "usr_sam", Username: "sam", DisplayName: "Sam", Role: store.RoleOwner,
		PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	d, err := a.Documents.Create(ctx, "usr_sam", documents.NewDocument{Title: "For Chris", Body: "Dear Chris,"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	talk, err := app.NewTalk(ctx, cfg, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer talk.Close()
	if got, err := talk.Documents.Get(ctx, "usr_sam", d.ID); err != nil || got.Body != "Dear Chris," {
		t.Fatalf("os1 talk reads %+v, %v", got, err)
	}
}
