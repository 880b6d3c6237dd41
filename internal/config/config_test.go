package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaults(t *testing.T) {
	c, err := Load(envOf(map[string]string{"HOME": "/home/theo", "XDG_CONFIG_HOME": t.TempDir()}), Flags{})
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/home/theo/.local/share/os1" || c.Addr != "127.0.0.1:7810" || c.File != "" {
		t.Fatalf("defaults: %+v", c)
	}
	c, _ = Load(envOf(map[string]string{"XDG_DATA_HOME": "/x", "XDG_CONFIG_HOME": t.TempDir()}), Flags{})
	if c.DataDir != "/x/os1" {
		t.Fatalf("XDG_DATA_HOME ignored: %s", c.DataDir)
	}
	if c.BaseURL() != "http://127.0.0.1:7810" || c.DBPath() != "/x/os1/os1.db" {
		t.Fatalf("derived paths: %s %s", c.BaseURL(), c.DBPath())
	}
}

func TestPrecedenceFileEnvFlags(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.toml")
	err := os.WriteFile(file, []byte(`
data_dir = "/from/file"
addr = "127.0.0.1:9000"
[llm]
url = "http://file:11434/v1"
model = "file-model"
idle_timeout = "90s"
[companion]
context_tokens = 4000
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"OS1_CONFIG": file, "OS1_ADDR": "127.0.0.1:9001", "OS1_LLM_MODEL": "env-model",
		"ANTHROPIC_API_KEY": "sk-ant", "OPENAI_API_KEY": "sk-oa", "OS1_LLM_KEY": "k", "OS1_DATA_DIR": "/from/env"}
	c, err := Load(envOf(env), Flags{DataDir: "/from/flag"})
	if err != nil {
		t.Fatal(err)
	}
	if c.File != file || c.DataDir != "/from/flag" || c.Addr != "127.0.0.1:9001" || c.LLM.URL != "http://file:11434/v1" ||
		c.LLM.Model != "env-model" || c.LLM.IdleTimeout.Duration != 90*time.Second || c.Companion.ContextTokens != 4000 ||
		c.LLM.AnthropicAPIKey != "sk-ant" || c.LLM.OpenAIAPIKey != "sk-oa" || c.LLM.Key != "k" {
		t.Fatalf("precedence wrong: %+v", c)
	}
	if s := c.String(); strings.Contains(s, "sk-ant") || strings.Contains(s, "sk-oa") || !strings.Contains(s, "(set)") {
		t.Fatalf("String leaks secrets:\n%s", s)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	_ = os.WriteFile(bad, []byte("adr = \"x\"\n"), 0o600)
	broken := filepath.Join(dir, "broken.toml")
	_ = os.WriteFile(broken, []byte("addr = \n"), 0o600)
	for _, tc := range []struct {
		name  string
		env   map[string]string
		flags Flags
		want  string
	}{
		{"missing named file", nil, Flags{ConfigFile: filepath.Join(dir, "nope.toml")}, "nope.toml"},
		{"unknown key", nil, Flags{ConfigFile: bad}, "unknown keys adr"},
		{"broken toml", nil, Flags{ConfigFile: broken}, "broken.toml"},
		{"bad addr", map[string]string{"OS1_ADDR": "7810"}, Flags{}, "not host:port"},
		{"bad url", map[string]string{"OS1_LLM_URL": "localhost:11434"}, Flags{}, "OS1_LLM_URL"},
		{"bad provider", map[string]string{"OS1_LLM_PROVIDER": "gemini"}, Flags{}, "gemini"},
		{"bad timeout", map[string]string{"OS1_LLM_IDLE_TIMEOUT": "soon"}, Flags{}, "OS1_LLM_IDLE_TIMEOUT"},
		{"bad log level", nil, Flags{LogLevel: "loud"}, "loud"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"HOME": dir, "XDG_CONFIG_HOME": dir}
			for k, v := range tc.env {
				env[k] = v
			}
			_, err := Load(envOf(env), tc.flags)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestBaseURL(t *testing.T) {
	for addr, want := range map[string]string{"0.0.0.0:80": "http://127.0.0.1:80", ":7810": "http://127.0.0.1:7810", "[::1]:7810": "http://[::1]:7810"} {
		if got := (Config{Addr: addr}).BaseURL(); got != want {
			t.Errorf("BaseURL(%s) = %s, want %s", addr, got, want)
		}
	}
	if got := (Config{Addr: ":1", PublicURL: "https://os1.example/"}).BaseURL(); got != "https://os1.example" {
		t.Errorf("PublicURL: %s", got)
	}
}
