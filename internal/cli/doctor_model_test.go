package cli

import (
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/llm/llmtest"
)

// The configured model is "test" (startApp). A server that lists its one
// model under another name, as llama-server lists the file it loaded, is
// fine when it answers for "test": doctor asks it for one token to know.
func TestDoctorModelListedUnderAnotherName(t *testing.T) {
	r := startApp(t)
	r.env["OS1_ADDR"] = strings.TrimPrefix(r.url, "http://")

	t.Run("one model that answers", func(t *testing.T) {
		r.llm.SetModels("tiny.gguf")
		r.llm.Enqueue(llmtest.Reply{Chunks: []string{"Hi"}})
		before := len(r.llm.Requests())
		code, out, _ := r.run("", "doctor")
		if code != 0 || !strings.Contains(out, `[ok  ] model`) || !strings.Contains(out, `serves one model, "tiny.gguf", and uses it for "test"`) ||
			!strings.Contains(out, "--alias test") {
			t.Fatalf("doctor: %d\n%s", code, out)
		}
		reqs := r.llm.Requests()[before:]
		if len(reqs) != 1 || reqs[0].Model != "test" || reqs[0].MaxTokens != 1 {
			t.Fatalf("doctor's test request: %+v", reqs)
		}
	})

	t.Run("one model that does not answer for the name", func(t *testing.T) {
		r.llm.SetModels("tiny.gguf")
		r.llm.Enqueue(llmtest.Reply{Status: 404, Error: "model 'test' not found"})
		code, out, _ := r.run("", "doctor")
		if code != 1 || !strings.Contains(out, "[FAIL] model") || !strings.Contains(out, "model 'test' not found") ||
			!strings.Contains(out, "fix: start llama-server with --alias test, or set OS1_LLM_MODEL") {
			t.Fatalf("doctor: %d\n%s", code, out)
		}
	})

	t.Run("several models, none of them the configured one", func(t *testing.T) {
		r.llm.SetModels("llama3:latest", "qwen3:8b")
		r.llm.Enqueue(llmtest.Reply{Chunks: []string{"Hi"}})
		code, out, _ := r.run("", "doctor")
		if code != 0 || !strings.Contains(out, `[warn] model`) || !strings.Contains(out, `answers requests for "test", but does not list it (it has: llama3:latest, qwen3:8b)`) ||
			strings.Contains(out, "--alias") {
			t.Fatalf("doctor: %d\n%s", code, out)
		}
	})

	t.Run("listed by its name: no test request", func(t *testing.T) {
		r.llm.SetModels("other", "test")
		before := len(r.llm.Requests())
		if code, out, _ := r.run("", "doctor"); code != 0 || !strings.Contains(out, "[ok  ] model") {
			t.Fatalf("doctor: %d\n%s", code, out)
		}
		if n := len(r.llm.Requests()) - before; n != 0 {
			t.Fatalf("doctor sent %d completion requests for a listed model", n)
		}
	})
}
