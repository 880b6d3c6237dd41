// Package config loads os1's typed configuration from, in rising order of
// precedence, built-in defaults, a TOML file, the environment and
// command-line flags, and validates it.
//
// It is the only package that looks at the environment; every other package
// receives plain values from here. It must never hold mutable globals or
// print secrets (String redacts them).
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// DefaultAddr is where os1 listens unless told otherwise.
const DefaultAddr = "127.0.0.1:7810"

// Config is everything os1 can be told.
type Config struct {
	// DataDir holds the SQLite database and the secret key.
	DataDir string `toml:"data_dir"`
	// CacheDir holds downloaded models (scripts/assets.sh fills it).
	CacheDir string `toml:"cache_dir"`
	// Addr is the host:port `os1 serve` listens on.
	Addr string `toml:"addr"`
	// PublicURL is the base URL printed in setup and invite links; derived from Addr when empty.
	PublicURL string `toml:"public_url"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `toml:"log_level"`
	// TrustedProxies are the addresses or CIDR ranges of reverse proxies in
	// front of os1. Only from them are X-Forwarded-For (the client address
	// for rate limits) and X-Forwarded-Proto (the cookie's Secure flag) believed.
	TrustedProxies []string `toml:"trusted_proxies"`
	// MetricsAddr is a separate host:port serving /metrics (Prometheus);
	// empty keeps metrics off unless MetricsToken is set.
	MetricsAddr string `toml:"metrics_addr"`
	// MetricsToken, when set, serves /metrics on the main listener to
	// requests bearing "Authorization: Bearer <token>".
	MetricsToken string `toml:"metrics_token"`

	LLM       LLM       `toml:"llm"`
	Embed     Embed     `toml:"embed"`
	Memory    Memory    `toml:"memory"`
	Mail      Mail      `toml:"mail"`
	Calendar  Calendar  `toml:"calendar"`
	Companion Companion `toml:"companion"`
	Client    Client    `toml:"client"`
	Voice     Voice     `toml:"voice"`
	Database  Database  `toml:"database"`
	Cluster   Cluster   `toml:"cluster"`
	Secrets   Secrets   `toml:"secrets"` // secrets.go

	// File is the config file that was read, empty if none.
	File string `toml:"-"`
}

// Database chooses where os1 keeps its data (docs/scale.md): unset, the
// SQLite file in the data dir (the default); a PostgreSQL URL, every store
// in that database.
type Database struct {
	// URL is postgres://user:password@host:port/database. OS1_DATABASE_URL
	// overrides it. Empty: SQLite in the data dir.
	URL string `toml:"url"`
	// URLFile names a file holding the URL (one line, mode 0600), so the
	// password stays out of the config file; OS1_DATABASE_URL_FILE
	// overrides it. Load reads it into URL.
	URLFile string `toml:"url_file"`
}

// Postgres reports whether os1 runs on PostgreSQL rather than SQLite.
func (c Config) Postgres() bool { return c.Database.URL != "" }

// DatabaseName is the database for messages: the SQLite file's path, or the
// PostgreSQL URL without its password.
func (c Config) DatabaseName() string {
	if c.Postgres() {
		return RedactURL(c.Database.URL)
	}
	return c.DBPath()
}

// RedactURL is a database URL without its password (in the user part or a
// password= parameter), for logs and messages. A string that is not a URL
// is not shown at all: a key=value connection string may hold a password.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Opaque != "" {
		return "(a database URL that does not parse)"
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	q := u.Query()
	for k := range q {
		if strings.EqualFold(k, "password") {
			q.Set(k, "xxxxx")
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

// LLM configures the language model connection.
type LLM struct {
	// Provider is "openai" (any OpenAI-compatible server) or "anthropic"; empty
	// means auto-detect (URL set → openai; then API keys; then local Ollama).
	Provider string `toml:"provider"`
	URL      string `toml:"url"`
	Model    string `toml:"model"`
	Key      string `toml:"key"`

	AnthropicAPIKey string `toml:"anthropic_api_key"`
	OpenAIAPIKey    string `toml:"openai_api_key"`
	// OllamaURL is probed during auto-detection; "off" disables the probe.
	OllamaURL string `toml:"ollama_url"`

	// Fallback is used when the main provider fails before answering.
	Fallback Fallback `toml:"fallback"`

	ConnectTimeout Duration `toml:"connect_timeout"`
	IdleTimeout    Duration `toml:"idle_timeout"`
	MaxRetries     int      `toml:"max_retries"`
}

// Embed chooses the sentence-embedding model for memory recall: the
// embedded USE-lite model (default, no service needed) or a model server's
// OpenAI-compatible /v1/embeddings (Ollama, OpenAI, llama.cpp, vLLM).
type Embed struct {
	URL   string `toml:"url"`   // empty: the embedded model
	Model string `toml:"model"` // e.g. nomic-embed-text
	Key   string `toml:"key"`
}

// Memory tunes recall.
type Memory struct {
	// Mode is "on" (default) or "off". Off, she neither recalls memories
	// into her answers nor learns from conversations: no recall in the
	// prompt, no recall tool, no background indexing, extraction or
	// journal. What she already remembers stays, on the memory page, to
	// read, correct or delete (docs/memory.md).
	Mode string `toml:"mode"`
	// Rerank is "off" (default) or "model": the connected chat model
	// rewrites each recall's question and re-orders its top 50 hits in one
	// short call, falling back to the plain ranking (docs/memory.md).
	Rerank string `toml:"rerank"`
	// RerankBudget is how long that call may take before the plain ranking
	// is used.
	RerankBudget Duration `toml:"rerank_budget"`
}

// Mail tunes the mail companion (docs/mail.md).
type Mail struct {
	// SyncEvery is how often every account is synced in the background
	// (default 5m; "0s" turns the background sync off: only "Sync now").
	SyncEvery Duration `toml:"sync_every"`
	// Triage is "rules" (default: no model calls) or "model": the chat model
	// triages new mail in batches within DailyTokens.
	Triage string `toml:"triage"`
	// DailyTokens is each user's daily hard cap of model tokens for triage.
	DailyTokens int `toml:"daily_tokens"`
	// OAuth lists the providers users may sign in to with OAuth 2.0
	// ([[mail.oauth]]): "google" and "microsoft" need only the client id and
	// secret of an app the operator registered; others give every URL.
	OAuth []MailOAuth `toml:"oauth"`
}

// Calendar tunes the calendar (docs/calendar.md).
type Calendar struct {
	// FeedsAllow are the addresses or CIDR ranges on a private or local
	// network that calendar subscriptions may be fetched from (a feed on
	// the LAN). Empty (the default): public addresses only.
	FeedsAllow []string `toml:"feeds_allow"`
}

// FeedPrefixes parses Calendar.FeedsAllow: each an IP address or a CIDR range.
func (c Config) FeedPrefixes() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range c.Calendar.FeedsAllow {
		if pre, err := netip.ParsePrefix(p); err == nil {
			out = append(out, pre.Masked())
			continue
		}
		a, err := netip.ParseAddr(p)
		if err != nil {
			return nil, fmt.Errorf("calendar.feeds_allow entry %q is neither an IP address nor a CIDR range (for example 192.168.1.0/24): set OS1_CALENDAR_FEEDS_ALLOW", p)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// MailOAuth is one OAuth 2.0 mail provider.
type MailOAuth struct {
	Name         string   `toml:"name"`
	ClientID     string   `toml:"client_id"`
	ClientSecret string   `toml:"client_secret"`
	AuthURL      string   `toml:"auth_url"`
	TokenURL     string   `toml:"token_url"`
	Scopes       []string `toml:"scopes"`
	IMAPHost     string   `toml:"imap_host"`
	SMTPHost     string   `toml:"smtp_host"`
}

// Fallback is an optional second provider.
type Fallback struct {
	Provider string `toml:"provider"`
	URL      string `toml:"url"`
	Model    string `toml:"model"`
	Key      string `toml:"key"`
}

// Companion tunes the conversation loop.
type Companion struct {
	// ContextTokens is the prompt budget; older messages beyond it are left out
	// of the prompt (never deleted).
	ContextTokens int `toml:"context_tokens"`
	// MaxReplyTokens caps one reply.
	MaxReplyTokens int `toml:"max_reply_tokens"`
	// MaxToolRounds caps tool calls in one turn.
	MaxToolRounds int `toml:"max_tool_rounds"`
}

// Client configures `os1 chat` and `os1 login`.
type Client struct {
	// Server is the os1 server to talk to; empty means BaseURL().
	Server string `toml:"server"`
	// Token is an API token (os1_…); empty means the one saved by `os1 login`.
	Token string `toml:"token"`
}

// Voice chooses the speech engines and tunes turn-taking in voice
// conversations.
type Voice struct {
	// STT is the speech-to-text engine: "auto" (the embedded PocketSphinx when
	// installed), "pocketsphinx", "openai" (any OpenAI-compatible
	// /v1/audio/transcriptions), "wyoming" (a Wyoming server such as
	// wyoming-faster-whisper) or "off".
	STT      string `toml:"stt"`
	STTURL   string `toml:"stt_url"`
	STTModel string `toml:"stt_model"`
	// TTS is the text-to-speech engine: "auto" (the first installed of
	// festival, flite, espeak-ng), one of those, "openai" (/v1/audio/speech),
	// "wyoming" (a Wyoming server such as wyoming-piper) or "off".
	TTS      string `toml:"tts"`
	TTSURL   string `toml:"tts_url"`
	TTSModel string `toml:"tts_model"`
	TTSVoice string `toml:"tts_voice"`
	// Key is the API key for openai engines.
	Key string `toml:"key"`
	// EndSilence is how long a pause ends the speaker's turn.
	EndSilence Duration `toml:"end_silence"`
	// MidSentenceGrace is how long a pause may last when the words so far
	// stop mid-sentence before the turn ends anyway.
	MidSentenceGrace Duration `toml:"mid_sentence_grace"`
	// OutputRate is the sample rate (Hz) of the audio sent to listeners.
	OutputRate int `toml:"output_rate"`
}

// Engine choices for Voice.STT and Voice.TTS.
func sttEngines() []string { return []string{"auto", "pocketsphinx", "openai", "wyoming", "off"} }

func ttsEngines() []string {
	return []string{"auto", "festival", "flite", "espeak-ng", "openai", "wyoming", "off"}
}

// Duration is a time.Duration written as "30s" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText parses "1m30s".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Defaults returns the built-in configuration. env supplies XDG_DATA_HOME and HOME.
func Defaults(env func(string) string) Config {
	return Config{
		DataDir:  defaultDataDir(env),
		CacheDir: defaultCacheDir(env),
		Addr:     DefaultAddr,
		LogLevel: "info",
		LLM: LLM{
			OllamaURL:      "http://127.0.0.1:11434",
			ConnectTimeout: Duration{10 * time.Second},
			IdleTimeout:    Duration{60 * time.Second},
			MaxRetries:     3,
		},
		Companion: Companion{ContextTokens: 8000, MaxReplyTokens: 1024, MaxToolRounds: 4},
		Memory:    Memory{Mode: "on", Rerank: "off", RerankBudget: Duration{1500 * time.Millisecond}},
		Mail:      Mail{SyncEvery: Duration{5 * time.Minute}, Triage: "rules", DailyTokens: 50000},
		Voice: Voice{
			STT: "auto", TTS: "auto",
			EndSilence:       Duration{600 * time.Millisecond},
			MidSentenceGrace: Duration{1500 * time.Millisecond},
			OutputRate:       24000,
		},
	}
}

func defaultDataDir(env func(string) string) string {
	if x := env("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "os1")
	}
	if h := env("HOME"); h != "" {
		return filepath.Join(h, ".local", "share", "os1")
	}
	return filepath.Join(os.TempDir(), "os1")
}

func defaultCacheDir(env func(string) string) string {
	if x := env("XDG_CACHE_HOME"); x != "" {
		return filepath.Join(x, "os1")
	}
	if h := env("HOME"); h != "" {
		return filepath.Join(h, ".cache", "os1")
	}
	return filepath.Join(os.TempDir(), "os1-cache")
}

// DefaultFile is the config file read when none is named: $OS1_CONFIG, else
// $XDG_CONFIG_HOME/os1/config.toml (or ~/.config/os1/config.toml).
func DefaultFile(env func(string) string) string {
	if f := env("OS1_CONFIG"); f != "" {
		return f
	}
	if x := env("XDG_CONFIG_HOME"); x != "" {
		return filepath.Join(x, "os1", "config.toml")
	}
	if h := env("HOME"); h != "" {
		return filepath.Join(h, ".config", "os1", "config.toml")
	}
	return ""
}

// Flags are command-line overrides; empty fields are not set.
type Flags struct {
	ConfigFile string
	DataDir    string
	Addr       string
	LLMURL     string
	LLMModel   string
	LogLevel   string
}

// Load builds the configuration: defaults, then the file (flags.ConfigFile or
// DefaultFile; a missing default file is fine, a missing named file is an
// error), then the environment, then flags, then validation.
func Load(env func(string) string, flags Flags) (Config, error) {
	c := Defaults(env)
	file, named := flags.ConfigFile, flags.ConfigFile != ""
	if !named {
		file = DefaultFile(env)
		named = env("OS1_CONFIG") != ""
	}
	if file != "" {
		if _, err := os.Stat(file); err == nil || named {
			md, err := toml.DecodeFile(file, &c)
			if err != nil {
				return c, fmt.Errorf("read config file %s: %w", file, err)
			}
			if und := md.Undecoded(); len(und) > 0 {
				keys := make([]string, len(und))
				for i, k := range und {
					keys[i] = k.String()
				}
				return c, fmt.Errorf("config file %s: unknown keys %s", file, strings.Join(keys, ", "))
			}
			c.File = file
		}
	}
	if err := applyEnv(&c, env); err != nil {
		return c, err
	}
	setIf(&c.DataDir, flags.DataDir)
	setIf(&c.Addr, flags.Addr)
	setIf(&c.LLM.URL, flags.LLMURL)
	setIf(&c.LLM.Model, flags.LLMModel)
	setIf(&c.LogLevel, flags.LogLevel)
	if err := c.readDatabaseURLFile(); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// readDatabaseURLFile reads Database.URLFile into Database.URL. The file's
// content is never quoted in an error: it holds a password.
func (c *Config) readDatabaseURLFile() error {
	f := c.Database.URLFile
	if f == "" {
		return nil
	}
	if c.Database.URL != "" {
		return errors.New("database.url and database.url_file are both set: keep one (OS1_DATABASE_URL and OS1_DATABASE_URL_FILE override the file's)")
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return fmt.Errorf("database.url_file: %w", err)
	}
	c.Database.URL = strings.TrimSpace(string(b))
	if c.Database.URL == "" || strings.ContainsAny(c.Database.URL, "\n\r") {
		return fmt.Errorf("database.url_file %s must hold one line, the PostgreSQL URL (postgres://user:password@host:port/database)", f)
	}
	return nil
}

func setIf(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

func applyEnv(c *Config, env func(string) string) error {
	setIf(&c.DataDir, env("OS1_DATA_DIR"))
	setIf(&c.CacheDir, env("OS1_CACHE_DIR"))
	setIf(&c.Addr, env("OS1_ADDR"))
	setIf(&c.PublicURL, env("OS1_PUBLIC_URL"))
	setIf(&c.LogLevel, env("OS1_LOG_LEVEL"))
	// The environment's database setting wins over the file's, whichever
	// of the two forms each uses.
	if v := env("OS1_DATABASE_URL"); v != "" {
		if env("OS1_DATABASE_URL_FILE") != "" {
			return errors.New("OS1_DATABASE_URL and OS1_DATABASE_URL_FILE are both set: keep one")
		}
		c.Database = Database{URL: v}
	} else if v := env("OS1_DATABASE_URL_FILE"); v != "" {
		c.Database = Database{URLFile: v}
	}
	applySecretsEnv(c, env)                         // secrets.go
	if err := applyClusterEnv(c, env); err != nil { // cluster.go
		return err
	}
	setIf(&c.MetricsAddr, env("OS1_METRICS_ADDR"))
	setIf(&c.MetricsToken, env("OS1_METRICS_TOKEN"))
	if v := env("OS1_TRUSTED_PROXIES"); v != "" {
		c.TrustedProxies = nil
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				c.TrustedProxies = append(c.TrustedProxies, p)
			}
		}
	}
	if v := env("OS1_CALENDAR_FEEDS_ALLOW"); v != "" {
		c.Calendar.FeedsAllow = nil
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				c.Calendar.FeedsAllow = append(c.Calendar.FeedsAllow, p)
			}
		}
	}
	setIf(&c.LLM.Provider, env("OS1_LLM_PROVIDER"))
	setIf(&c.LLM.URL, env("OS1_LLM_URL"))
	setIf(&c.LLM.Model, env("OS1_LLM_MODEL"))
	setIf(&c.LLM.Key, env("OS1_LLM_KEY"))
	setIf(&c.LLM.AnthropicAPIKey, env("ANTHROPIC_API_KEY"))
	setIf(&c.LLM.OpenAIAPIKey, env("OPENAI_API_KEY"))
	setIf(&c.LLM.OllamaURL, env("OS1_OLLAMA_URL"))
	setIf(&c.Embed.URL, env("OS1_EMBED_URL"))
	setIf(&c.Embed.Model, env("OS1_EMBED_MODEL"))
	setIf(&c.Embed.Key, env("OS1_EMBED_KEY"))
	setIf(&c.Memory.Mode, env("OS1_MEMORY"))
	setIf(&c.Memory.Rerank, env("OS1_MEMORY_RERANK"))
	setIf(&c.Mail.Triage, env("OS1_MAIL_TRIAGE"))
	setIf(&c.Client.Server, env("OS1_SERVER"))
	setIf(&c.Client.Token, env("OS1_TOKEN"))
	setIf(&c.Voice.STT, env("OS1_STT"))
	setIf(&c.Voice.STTURL, env("OS1_STT_URL"))
	setIf(&c.Voice.STTModel, env("OS1_STT_MODEL"))
	setIf(&c.Voice.TTS, env("OS1_TTS"))
	setIf(&c.Voice.TTSURL, env("OS1_TTS_URL"))
	setIf(&c.Voice.TTSModel, env("OS1_TTS_MODEL"))
	setIf(&c.Voice.TTSVoice, env("OS1_TTS_VOICE"))
	setIf(&c.Voice.Key, env("OS1_VOICE_KEY"))
	for _, d := range []struct {
		name string
		dst  *Duration
	}{{"OS1_VOICE_END_SILENCE", &c.Voice.EndSilence}, {"OS1_VOICE_MID_SENTENCE_GRACE", &c.Voice.MidSentenceGrace},
		{"OS1_MEMORY_RERANK_BUDGET", &c.Memory.RerankBudget}, {"OS1_MAIL_SYNC_EVERY", &c.Mail.SyncEvery}} {
		if v := env(d.name); v != "" {
			p, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%s=%q: want a duration like 600ms: %w", d.name, v, err)
			}
			d.dst.Duration = p
		}
	}
	if v := env("OS1_LLM_IDLE_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("OS1_LLM_IDLE_TIMEOUT=%q: want a duration like 60s: %w", v, err)
		}
		c.LLM.IdleTimeout = Duration{d}
	}
	if v := env("OS1_LLM_MAX_RETRIES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("OS1_LLM_MAX_RETRIES=%q: want a whole number: %w", v, err)
		}
		c.LLM.MaxRetries = n
	}
	if v := env("OS1_CONTEXT_TOKENS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("OS1_CONTEXT_TOKENS=%q: want a whole number of tokens, like 8192: %w", v, err)
		}
		c.Companion.ContextTokens = n
	}
	return nil
}

// Validate reports the first problem in words a user can act on.
func (c Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir is empty: set OS1_DATA_DIR or --data-dir"))
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("addr %q is not host:port (for example %s): set OS1_ADDR or --addr", c.Addr, DefaultAddr))
	}
	if _, err := c.ProxyPrefixes(); err != nil {
		errs = append(errs, err)
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			errs = append(errs, fmt.Errorf("metrics_addr %q is not host:port (for example 127.0.0.1:7811): set OS1_METRICS_ADDR", c.MetricsAddr))
		} else if c.MetricsAddr == c.Addr {
			errs = append(errs, fmt.Errorf("metrics_addr %q is the same as addr: choose another port, or set metrics_token to serve /metrics on the main listener", c.MetricsAddr))
		}
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		errs = append(errs, errors.New("metrics_token is shorter than 16 characters: use a long random value (for example from `openssl rand -hex 24`)"))
	}
	switch c.LLM.Provider {
	case "", "openai", "anthropic":
	default:
		errs = append(errs, fmt.Errorf("llm.provider %q is unknown: use \"openai\" (any OpenAI-compatible server) or \"anthropic\"", c.LLM.Provider))
	}
	if c.Database.URL != "" {
		// The URL itself is never quoted: it may hold the password.
		if u, err := url.Parse(c.Database.URL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Opaque != "" {
			errs = append(errs, errors.New("database url is not a PostgreSQL URL (postgres://user:password@host:port/database): set OS1_DATABASE_URL, or leave it unset for SQLite in the data dir"))
		}
	}
	if c.LLM.URL != "" {
		if u, err := url.Parse(c.LLM.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("llm url %q is not an http(s) URL (for example http://127.0.0.1:11434/v1): set OS1_LLM_URL", c.LLM.URL))
		}
	}
	if c.Embed.URL != "" {
		if u, err := url.Parse(c.Embed.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("embed url %q is not an http(s) URL (for example http://127.0.0.1:11434/v1): set OS1_EMBED_URL", c.Embed.URL))
		}
		if c.Embed.Model == "" {
			errs = append(errs, errors.New("embed url is set but no embed model: set OS1_EMBED_MODEL (for example nomic-embed-text)"))
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log level %q is unknown: use debug, info, warn or error", c.LogLevel))
	}
	if c.Companion.ContextTokens < 512 {
		errs = append(errs, fmt.Errorf("companion.context_tokens %d is too small: use at least 512", c.Companion.ContextTokens))
	}
	switch c.Memory.Mode {
	case "on", "off":
	default:
		errs = append(errs, fmt.Errorf("memory.mode %q is unknown: use \"on\" or \"off\" (set OS1_MEMORY)", c.Memory.Mode))
	}
	switch c.Memory.Rerank {
	case "off", "model":
	default:
		errs = append(errs, fmt.Errorf("memory.rerank %q is unknown: use \"off\" or \"model\" (set OS1_MEMORY_RERANK)", c.Memory.Rerank))
	}
	if c.Memory.RerankBudget.Duration <= 0 {
		errs = append(errs, fmt.Errorf("memory.rerank_budget %v must be positive (for example 1500ms): set OS1_MEMORY_RERANK_BUDGET", c.Memory.RerankBudget.Duration))
	}
	switch c.Mail.Triage {
	case "rules", "model":
	default:
		errs = append(errs, fmt.Errorf("mail.triage %q is unknown: use \"rules\" or \"model\" (set OS1_MAIL_TRIAGE)", c.Mail.Triage))
	}
	if c.Mail.SyncEvery.Duration < 0 || (c.Mail.SyncEvery.Duration > 0 && c.Mail.SyncEvery.Duration < 30*time.Second) {
		errs = append(errs, fmt.Errorf("mail.sync_every %v: use 0s (off) or at least 30s (set OS1_MAIL_SYNC_EVERY)", c.Mail.SyncEvery.Duration))
	}
	for i, o := range c.Mail.OAuth {
		if o.Name == "" || o.ClientID == "" {
			errs = append(errs, fmt.Errorf("mail.oauth[%d] needs a name and a client_id", i))
		}
	}
	if c.Mail.DailyTokens < 0 {
		errs = append(errs, fmt.Errorf("mail.daily_tokens %d is negative", c.Mail.DailyTokens))
	}
	if _, err := c.FeedPrefixes(); err != nil {
		errs = append(errs, err)
	}
	if c.LLM.MaxRetries < 0 {
		errs = append(errs, fmt.Errorf("llm.max_retries %d is negative", c.LLM.MaxRetries))
	}
	errs = append(errs, c.Voice.validate()...)
	errs = append(errs, c.validateCluster()...) // cluster.go
	errs = append(errs, c.validateSecrets()...) // secrets.go
	return errors.Join(errs...)
}

func (v Voice) validate() []error {
	var errs []error
	for _, e := range []struct {
		key, engine, url, env string
		choices               []string
		wyomingPort           string
	}{
		{"stt", v.STT, v.STTURL, "OS1_STT", sttEngines(), "10300"},
		{"tts", v.TTS, v.TTSURL, "OS1_TTS", ttsEngines(), "10200"},
	} {
		if !slices.Contains(e.choices, e.engine) {
			errs = append(errs, fmt.Errorf("voice.%s %q is unknown: use one of %s (set %s)", e.key, e.engine, strings.Join(e.choices, ", "), e.env))
			continue
		}
		switch e.engine {
		case "openai":
			if u, err := url.Parse(e.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				errs = append(errs, fmt.Errorf("voice.%s is openai, so voice.%s_url must be an http(s) URL (for example http://127.0.0.1:8000/v1), not %q: set %s_URL", e.key, e.key, e.url, e.env))
			}
		case "wyoming":
			u, err := url.Parse(e.url)
			if e.url == "" || (strings.Contains(e.url, "://") && (err != nil || (u.Scheme != "tcp" && u.Scheme != "unix"))) {
				errs = append(errs, fmt.Errorf("voice.%s is wyoming, so voice.%s_url must be a server address (for example tcp://127.0.0.1:%s), not %q: set %s_URL", e.key, e.key, e.wyomingPort, e.url, e.env))
			}
		}
	}
	if v.EndSilence.Duration <= 0 {
		errs = append(errs, fmt.Errorf("voice.end_silence %v must be positive (for example 600ms): set OS1_VOICE_END_SILENCE", v.EndSilence.Duration))
	}
	if v.MidSentenceGrace.Duration < v.EndSilence.Duration {
		errs = append(errs, fmt.Errorf("voice.mid_sentence_grace %v is shorter than voice.end_silence %v: set OS1_VOICE_MID_SENTENCE_GRACE (for example 1500ms)", v.MidSentenceGrace.Duration, v.EndSilence.Duration))
	}
	if v.OutputRate < 8000 || v.OutputRate > 48000 {
		errs = append(errs, fmt.Errorf("voice.output_rate %d Hz is outside 8000..48000 (for example 24000)", v.OutputRate))
	}
	return errs
}

// ProxyPrefixes parses TrustedProxies: each an IP address or a CIDR range.
func (c Config) ProxyPrefixes() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range c.TrustedProxies {
		if pre, err := netip.ParsePrefix(p); err == nil {
			out = append(out, pre.Masked())
			continue
		}
		a, err := netip.ParseAddr(p)
		if err != nil {
			return nil, fmt.Errorf("trusted_proxies entry %q is neither an IP address nor a CIDR range (for example 127.0.0.1 or 10.0.0.0/8): set OS1_TRUSTED_PROXIES", p)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// BaseURL is the URL users open: PublicURL, or http://Addr (with 0.0.0.0 or
// :: shown as 127.0.0.1).
func (c Config) BaseURL() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return "http://" + c.Addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// ServerURL is where `os1 chat` connects.
func (c Config) ServerURL() string {
	if c.Client.Server != "" {
		return strings.TrimRight(c.Client.Server, "/")
	}
	return c.BaseURL()
}

// CredentialsPath is where `os1 login` keeps API tokens (mode 0600).
func CredentialsPath(env func(string) string) string {
	if x := env("XDG_CONFIG_HOME"); x != "" {
		return filepath.Join(x, "os1", "credentials.json")
	}
	if h := env("HOME"); h != "" {
		return filepath.Join(h, ".config", "os1", "credentials.json")
	}
	return ""
}

// DBPath is the SQLite database file.
func (c Config) DBPath() string { return filepath.Join(c.DataDir, "os1.db") }

// KeyPath is the file holding the key that encrypts secrets at rest:
// [secrets] key_file, else secret.key in the data dir.
func (c Config) KeyPath() string {
	if c.Secrets.KeyFile != "" {
		return c.Secrets.KeyFile
	}
	return filepath.Join(c.DataDir, "secret.key")
}

// String renders the effective configuration with secrets redacted.
func (c Config) String() string {
	r := c
	for _, s := range []*string{&r.MetricsToken, &r.Embed.Key, &r.Client.Token, &r.LLM.Key, &r.LLM.AnthropicAPIKey, &r.LLM.OpenAIAPIKey, &r.LLM.Fallback.Key, &r.Voice.Key} {
		if *s != "" {
			*s = "(set)"
		}
	}
	if r.Database.URL != "" {
		r.Database.URL = RedactURL(r.Database.URL)
	}
	var b strings.Builder
	_ = toml.NewEncoder(&b).Encode(r)
	return b.String()
}
