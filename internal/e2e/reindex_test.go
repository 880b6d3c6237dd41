package e2e

import (
	"encoding/json"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/os1ai/os1/internal/llm/llmtest"
)

// wordEmbeddings speaks the OpenAI /v1/embeddings protocol with two small
// models: "a" hashes words into 64 dimensions, "b" into 32.
func wordEmbeddings(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		dim := map[string]int{"a": 64, "b": 32}[in.Model]
		type item struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		var out struct {
			Data []item `json:"data"`
		}
		for i, text := range in.Input {
			v := make([]float32, dim)
			v[0] = 0.01
			for _, word := range strings.Fields(strings.ToLower(text)) {
				h := fnv.New32a()
				h.Write([]byte(in.Model + word))
				v[h.Sum32()%uint32(dim)]++
			}
			out.Data = append(out.Data, item{Index: i, Embedding: v})
		}
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestReindexAfterModelChange (issue 11): after the embedding model
// changes, the running server says so; `os1 memory reindex --all` beside it
// hands the work to the server and follows it to the end; after a second
// change the owner's "Reindex now" on the memory page does the same.
func TestReindexAfterModelChange(t *testing.T) {
	t.Parallel() // its own os1 and Chromium
	emb := wordEmbeddings(t)
	model := llmtest.NewServer(t)
	scriptMemory(model)
	model.Handle(func(r llmtest.Request) llmtest.Reply {
		if strings.Contains(r.System, "You choose your own name") {
			return llmtest.Reply{Chunks: []string{`{"name": "Samantha"}`}}
		}
		return llmtest.Reply{Chunks: []string{"Okay."}}
	})
	env := func(embedModel string, more ...string) []string {
		return append([]string{"OS1_LLM_URL=" + model.OpenAIBaseURL(), "OS1_LLM_MODEL=" + llmtest.DefaultModel,
			"OS1_EMBED_URL=" + emb.URL + "/v1", "OS1_EMBED_MODEL=" + embedModel}, more...)
	}
	p := startOS1(t, env("a")...)
	const user, pw = "theo", "correct horse"
	c := newClient(t, p.URL)
	c.setup(p.SetupToken, user, pw, "Theo")
	c.waitModel()
	c.onboard()
	conv := c.newConversation()
	for _, text := range []string{"My sister Maya moved to Lisbon.", "Pasta again for dinner."} {
		if evs := c.stream("/api/conversations/"+conv+"/messages", map[string]string{"text": text}).rest(); !strings.Contains(types(evs), "assistant_done") {
			t.Fatalf("the turn %q: %s", text, types(evs))
		}
	}
	eventually(t, "the messages are indexed", func() (bool, string) {
		var res struct{ Results []struct{ ID string } }
		code, body := c.call("GET", "/api/memory?q=dinner", nil, &res)
		return code == 200 && len(res.Results) > 0, body
	})
	token := c.newToken("reindex")
	p.stop()

	notice := func(c *client) string {
		var st struct {
			MemoryNotice string `json:"memory_notice"`
		}
		c.call("GET", "/api/status", nil, &st)
		return st.MemoryNotice
	}

	// Model b: the server notices at start-up; the CLI hands the reindex over.
	p = startOS1(t, env("b", "OS1_DATA_DIR="+p.DataDir)...)
	c = newClient(t, p.URL)
	c.login(user, pw)
	eventually(t, "the server notices the model change", func() (bool, string) {
		n := notice(c)
		return strings.Contains(n, "from remote:a") && strings.Contains(n, "os1 memory reindex --all"), n
	})
	addr := strings.TrimPrefix(p.URL, "http://")
	r := runOS1(t, env("b", "OS1_DATA_DIR="+p.DataDir, "OS1_ADDR="+addr, "OS1_TOKEN="+token), "memory", "reindex", "--all")
	if r.code != 0 || !strings.Contains(r.stderr, "the reindex runs inside it") || !strings.Contains(r.stdout, "theo done:") {
		t.Fatalf("os1 memory reindex beside the server: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if n := notice(c); n != "" {
		t.Errorf("after the CLI's reindex the status still says %q", n)
	}
	p.stop()

	// Back to model a: the owner reindexes from the memory page.
	p = startOS1(t, env("a", "OS1_DATA_DIR="+p.DataDir)...)
	c = newClient(t, p.URL)
	c.login(user, pw)
	eventually(t, "the server notices the second change", func() (bool, string) {
		n := notice(c)
		return strings.Contains(n, "from remote:b"), n
	})
	b := newBrowser(t)
	tab := b.ctx
	b.do(tab, "sign in and open the memory page",
		chromedp.Navigate(p.URL+"/#/login"),
		chromedp.WaitVisible(css(`#login-form`)),
		chromedp.SendKeys(css(`#login-username`), user),
		chromedp.SendKeys(css(`#login-password`), pw),
		chromedp.Click(css(`#login-form button[type="submit"]`)),
		screen("chat"),
		chromedp.Navigate(p.URL+"/#/memory"),
		chromedp.WaitVisible(css(`#memory-reindex-run`)),
	)
	if shown := eval[string](b, tab, "the notice", `document.querySelector('#memory-reindex').innerText`); !strings.Contains(shown, "os1 memory reindex --all") {
		t.Errorf("the memory page's notice: %q", shown)
	}
	b.do(tab, "click Reindex now", chromedp.Click(css(`#memory-reindex-run`)))
	done := poll[string](b, tab, "the reindex's progress ends", `(() => { const t = document.querySelector('#memory-reindex-progress').textContent; return t.startsWith('Done:') ? t : ''; })()`)
	if !strings.Contains(done, "documents reindexed") {
		t.Errorf("progress at the end: %q", done)
	}
	if n := notice(c); n != "" {
		t.Errorf("after Reindex now the status still says %q", n)
	}
	if ex := b.exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}
