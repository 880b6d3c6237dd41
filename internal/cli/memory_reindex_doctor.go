package cli

import (
	"context"
	"fmt"

	"github.com/os1ai/os1/internal/app"
	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/embed"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
)

// embedModelCheck is the doctor's line about memory's vectors: whether the
// configured embedding model built them, or a model change left some to
// rebuild (and what to run). The model is loaded only when the database
// holds vectors, so a fresh install's doctor stays fast; the check writes
// nothing (a server may hold the data dir).
func embedModelCheck(ctx context.Context, cfg config.Config, db app.DB) check {
	const name = "embedding"
	mem := sqlitemem.NewFor(db, sqlitemem.Options{})
	has, err := mem.HasVectors(ctx)
	switch {
	case err != nil:
		return check{name: name, warn: true, msg: err.Error()}
	case !has:
		return check{name: name, ok: true, msg: "no memory vectors yet (the model is checked once there are some)"}
	}
	emb, err := app.OpenEmbedder(ctx, cfg)
	if err != nil {
		return check{name: name, warn: true, msg: "memory has vectors, but the embedding model cannot be used: " + err.Error(),
			fix: "install it with scripts/assets.sh model, or check [embed] url (OS1_EMBED_URL); until then memory search uses text only"}
	}
	id, err := embed.Identify(ctx, emb)
	if err == nil {
		err = mem.UseModel(ctx, id, emb, false)
	}
	var st sqlitemem.ModelStatus
	if err == nil {
		st, err = mem.ModelStatus(ctx)
	}
	if err != nil {
		return check{name: name, warn: true, msg: err.Error()}
	}
	if st.NeedsReindex() {
		return check{name: name, warn: true, msg: st.Notice(),
			fix: "run `os1 memory reindex --all` (with `os1 serve` running it runs inside the server; sign in as the owner first)"}
	}
	return check{name: name, ok: true, msg: fmt.Sprintf("memory's vectors are %s's", id)}
}
