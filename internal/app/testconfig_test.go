package app

import (
	"path/filepath"
	"testing"

	"github.com/os1ai/os1/internal/config"
)

// testConfigWith is the configuration of a test's os1: a home, data and
// cache dir of its own, no Ollama, no speech engines, plus the variables
// given as name, value pairs.
func testConfigWith(t *testing.T, kv ...string) config.Config {
	t.Helper()
	home := t.TempDir()
	env := map[string]string{
		"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "config"), "OS1_DATA_DIR": filepath.Join(home, "data"),
		"OS1_CACHE_DIR": filepath.Join(home, "cache"), "OS1_OLLAMA_URL": "off", "OS1_STT": "off", "OS1_TTS": "off",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	cfg, err := config.Load(func(k string) string { return env[k] }, config.Flags{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// ConfigForTest is testConfigWith for the package's external tests
// (package app_test).
var ConfigForTest = testConfigWith
