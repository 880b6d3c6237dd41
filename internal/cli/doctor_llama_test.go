package cli

import (
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/llm/llamatest"
)

// Against the real llama-server: without --alias it lists the GGUF's path,
// and answers for any model name; doctor must accept it, say which model it
// uses and how to name it.
func TestDoctorRealLlamaServer(t *testing.T) {
	srv := llamatest.Start(t, llamatest.Options{Ctx: 4096})
	r := startApp(t, "OS1_LLM_URL", srv.OpenAIBaseURL(), "OS1_LLM_MODEL", "tiny")
	r.env["OS1_ADDR"] = strings.TrimPrefix(r.url, "http://")
	code, out, _ := r.run("", "doctor")
	if code != 0 || !strings.Contains(out, "[ok  ] model") || !strings.Contains(out, srv.ModelPath+`", and uses it for "tiny"`) ||
		!strings.Contains(out, "--alias tiny") {
		t.Fatalf("doctor against llama-server: %d\n%s", code, out)
	}

	aliased := llamatest.Start(t, llamatest.Options{Ctx: 4096, Alias: "tiny"})
	r.env["OS1_LLM_URL"] = aliased.OpenAIBaseURL()
	code, out, _ = r.run("", "doctor")
	if code != 0 || !strings.Contains(out, "[ok  ] model") || strings.Contains(out, "--alias") {
		t.Fatalf("doctor against llama-server --alias tiny: %d\n%s", code, out)
	}
}
