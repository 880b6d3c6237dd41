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
	v := c.Voice
	if v.STT != "auto" || v.TTS != "auto" || v.EndSilence.Duration != 600*time.Millisecond ||
		v.MidSentenceGrace.Duration != 1500*time.Millisecond || v.OutputRate != 24000 {
		t.Fatalf("voice defaults: %+v", v)
	}
}

func TestVoice(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.toml")
	err := os.WriteFile(file, []byte(`
[voice]
stt = "wyoming"
stt_url = "tcp://127.0.0.1:10300"
tts = "openai"
tts_url = "http://file:8000/v1"
tts_model = "file-tts"
tts_voice = "nova"
end_silence = "700ms"
output_rate = 16000
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"OS1_CONFIG": file, "HOME": dir, "OS1_TTS_MODEL": "tts-1", "OS1_VOICE_KEY": "sk-voice",
		"OS1_VOICE_MID_SENTENCE_GRACE": "2s", "OS1_STT_MODEL": "whisper-1", "OS1_TTS_VOICE": "alloy"}
	c, err := Load(envOf(env), Flags{})
	if err != nil {
		t.Fatal(err)
	}
	want := Voice{STT: "wyoming", STTURL: "tcp://127.0.0.1:10300", STTModel: "whisper-1",
		TTS: "openai", TTSURL: "http://file:8000/v1", TTSModel: "tts-1", TTSVoice: "alloy", Key: "sk-voice",
		EndSilence: Duration{700 * time.Millisecond}, MidSentenceGrace: Duration{2 * time.Second}, OutputRate: 16000}
	if c.Voice != want {
		t.Fatalf("voice:\n got %+v\nwant %+v", c.Voice, want)
	}
	if s := c.String(); strings.Contains(s, "sk-voice") || !strings.Contains(s, "[voice]") {
		t.Fatalf("String leaks the voice key or lacks [voice]:\n%s", s)
	}
	for _, tc := range []map[string]string{
		{"OS1_STT": "off", "OS1_TTS": "off"},
		{"OS1_STT": "pocketsphinx", "OS1_TTS": "espeak-ng"},
		{"OS1_STT": "openai", "OS1_STT_URL": "https://api.openai.com/v1", "OS1_TTS": "wyoming", "OS1_TTS_URL": "127.0.0.1:10200"},
		{"OS1_TTS": "wyoming", "OS1_TTS_URL": "unix:///run/piper.sock"},
	} {
		tc["HOME"], tc["XDG_CONFIG_HOME"] = dir, dir
		if _, err := Load(envOf(tc), Flags{}); err != nil {
			t.Errorf("%v: %v", tc, err)
		}
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
		{"unknown stt", map[string]string{"OS1_STT": "whisper"}, Flags{}, `voice.stt "whisper" is unknown: use one of auto, pocketsphinx, openai, wyoming, off`},
		{"unknown tts", map[string]string{"OS1_TTS": "piper"}, Flags{}, "auto, festival, flite, espeak-ng, openai, wyoming, off (set OS1_TTS)"},
		{"openai stt without url", map[string]string{"OS1_STT": "openai"}, Flags{}, "OS1_STT_URL"},
		{"openai tts with a bad url", map[string]string{"OS1_TTS": "openai", "OS1_TTS_URL": "localhost:8000"}, Flags{}, "OS1_TTS_URL"},
		{"wyoming stt without url", map[string]string{"OS1_STT": "wyoming"}, Flags{}, "OS1_STT_URL"},
		{"wyoming tts over http", map[string]string{"OS1_TTS": "wyoming", "OS1_TTS_URL": "http://piper:10200"}, Flags{}, "tcp://127.0.0.1:10200"},
		{"bad end silence", map[string]string{"OS1_VOICE_END_SILENCE": "short"}, Flags{}, "OS1_VOICE_END_SILENCE"},
		{"bad trusted proxy", map[string]string{"OS1_TRUSTED_PROXIES": "10.0.0.0/8, proxy.lan"}, Flags{}, `trusted_proxies entry "proxy.lan"`},
		{"bad metrics addr", map[string]string{"OS1_METRICS_ADDR": "7811"}, Flags{}, "OS1_METRICS_ADDR"},
		{"metrics addr is addr", map[string]string{"OS1_METRICS_ADDR": DefaultAddr}, Flags{}, "same as addr"},
		{"short metrics token", map[string]string{"OS1_METRICS_TOKEN": "abc"}, Flags{}, "metrics_token is shorter"},
		{"grace shorter than end silence", map[string]string{"OS1_VOICE_END_SILENCE": "2s"}, Flags{}, "OS1_VOICE_MID_SENTENCE_GRACE"},
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

func TestTrustedProxies(t *testing.T) {
	c, err := Load(envOf(map[string]string{"HOME": t.TempDir(), "OS1_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1,::1", "OS1_METRICS_TOKEN": "metrics-secret-0123456789"}), Flags{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.ProxyPrefixes()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range p {
		got = append(got, x.String())
	}
	if strings.Join(got, " ") != "10.0.0.0/8 127.0.0.1/32 ::1/128" {
		t.Fatalf("prefixes %v", got)
	}
	if strings.Contains(c.String(), "metrics-secret") {
		t.Fatal("String() prints the metrics token")
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

// TestContextTokensFromEnv: OS1_CONTEXT_TOKENS sets [companion]
// context_tokens, and a word there is an error that names it.
func TestContextTokensFromEnv(t *testing.T) {
	var c Config
	c.Companion.ContextTokens = 8000
	if err := applyEnv(&c, func(k string) string { return map[string]string{"OS1_CONTEXT_TOKENS": "4096"}[k] }); err != nil || c.Companion.ContextTokens != 4096 {
		t.Errorf("context_tokens = %d, %v; want 4096", c.Companion.ContextTokens, err)
	}
	err := applyEnv(&c, func(k string) string { return map[string]string{"OS1_CONTEXT_TOKENS": "lots"}[k] })
	if err == nil || !strings.Contains(err.Error(), "OS1_CONTEXT_TOKENS") {
		t.Errorf("err = %v, want one naming OS1_CONTEXT_TOKENS", err)
	}
}

// Re-ranking recall with the model is off unless asked for, in the file or
// the environment, and a wrong value says what to write.
func TestMemoryRerank(t *testing.T) {
	c, err := Load(envOf(map[string]string{"HOME": "/home/theo", "XDG_CONFIG_HOME": t.TempDir()}), Flags{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Memory.Rerank != "off" || c.Memory.RerankBudget.Duration != 1500*time.Millisecond {
		t.Fatalf("memory defaults: %+v", c.Memory)
	}
	file := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(file, []byte("[memory]\nrerank = \"model\"\nrerank_budget = \"900ms\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load(envOf(map[string]string{"HOME": "/home/theo"}), Flags{ConfigFile: file})
	if err != nil || c.Memory.Rerank != "model" || c.Memory.RerankBudget.Duration != 900*time.Millisecond {
		t.Fatalf("from the file: %+v, %v", c.Memory, err)
	}
	c, err = Load(envOf(map[string]string{"HOME": "/home/theo", "OS1_MEMORY_RERANK": "off", "OS1_MEMORY_RERANK_BUDGET": "2s"}), Flags{ConfigFile: file})
	if err != nil || c.Memory.Rerank != "off" || c.Memory.RerankBudget.Duration != 2*time.Second {
		t.Fatalf("the environment wins over the file: %+v, %v", c.Memory, err)
	}
	_, err = Load(envOf(map[string]string{"HOME": "/home/theo", "XDG_CONFIG_HOME": t.TempDir(), "OS1_MEMORY_RERANK": "llm"}), Flags{})
	if err == nil || !strings.Contains(err.Error(), `use "off" or "model"`) {
		t.Fatalf("an unknown rerank value: %v", err)
	}
}

// Mail syncs every 5 minutes and triages by rules unless told otherwise;
// nonsense values say which setting to fix.
func TestMailConfig(t *testing.T) {
	c, err := Load(envOf(map[string]string{"HOME": "/home/theo", "XDG_CONFIG_HOME": t.TempDir()}), Flags{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Mail.SyncEvery.Duration != 5*time.Minute || c.Mail.Triage != "rules" || c.Mail.DailyTokens != 50000 {
		t.Fatalf("mail defaults: %+v", c.Mail)
	}
	file := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(file, []byte("[mail]\nsync_every = \"0s\"\ntriage = \"model\"\ndaily_tokens = 1000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load(envOf(map[string]string{"HOME": "/home/theo"}), Flags{ConfigFile: file})
	if err != nil || c.Mail.SyncEvery.Duration != 0 || c.Mail.Triage != "model" || c.Mail.DailyTokens != 1000 {
		t.Fatalf("from the file: %+v, %v", c.Mail, err)
	}
	for env, want := range map[string]string{"OS1_MAIL_TRIAGE": "mail.triage", "OS1_MAIL_SYNC_EVERY": "mail.sync_every"} {
		val := map[string]string{"OS1_MAIL_TRIAGE": "magic", "OS1_MAIL_SYNC_EVERY": "1s"}[env]
		_, err = Load(envOf(map[string]string{"HOME": "/home/theo", "XDG_CONFIG_HOME": t.TempDir(), env: val}), Flags{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s=%s: %v, want an error naming %s", env, val, err, want)
		}
	}
}

// Memory is on unless turned off, in the file or the environment; a wrong
// value says what to write.
func TestMemoryMode(t *testing.T) {
	c, err := Load(envOf(map[string]string{"HOME": "/home/theo", "XDG_CONFIG_HOME": t.TempDir()}), Flags{})
	if err != nil || c.Memory.Mode != "on" {
		t.Fatalf("default memory mode %q, %v; want on", c.Memory.Mode, err)
	}
	file := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(file, []byte("[memory]\nmode = \"off\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load(envOf(map[string]string{"HOME": "/home/theo"}), Flags{ConfigFile: file})
	if err != nil || c.Memory.Mode != "off" {
		t.Fatalf("from the file: %q, %v", c.Memory.Mode, err)
	}
	c, err = Load(envOf(map[string]string{"HOME": "/home/theo", "OS1_MEMORY": "on"}), Flags{ConfigFile: file})
	if err != nil || c.Memory.Mode != "on" {
		t.Fatalf("the environment wins over the file: %q, %v", c.Memory.Mode, err)
	}
	_, err = Load(envOf(map[string]string{"HOME": "/home/theo", "XDG_CONFIG_HOME": t.TempDir(), "OS1_MEMORY": "false"}), Flags{})
	if err == nil || !strings.Contains(err.Error(), `use "on" or "off" (set OS1_MEMORY)`) {
		t.Fatalf("an unknown memory mode: %v", err)
	}
}
