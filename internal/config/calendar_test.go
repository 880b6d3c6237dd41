package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCalendarFeedsAllow: no private range by default; the ranges from the
// file or OS1_CALENDAR_FEEDS_ALLOW (which replaces the file's); an entry
// that is no address is refused at load, naming the setting.
func TestCalendarFeedsAllow(t *testing.T) {
	home := t.TempDir()
	c, err := Load(envOf(map[string]string{"HOME": home, "XDG_CONFIG_HOME": t.TempDir()}), Flags{})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := c.FeedPrefixes(); err != nil || len(p) != 0 {
		t.Fatalf("default: %v %v", p, err)
	}
	file := filepath.Join(t.TempDir(), "os1.toml")
	if err := os.WriteFile(file, []byte("[calendar]\nfeeds_allow = [\"192.168.1.0/24\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load(envOf(map[string]string{"HOME": home}), Flags{ConfigFile: file})
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := c.FeedPrefixes(); len(p) != 1 || p[0].String() != "192.168.1.0/24" {
		t.Errorf("from the file: %v", p)
	}
	c, err = Load(envOf(map[string]string{"HOME": home, "OS1_CALENDAR_FEEDS_ALLOW": "10.1.2.3, fd00::/8"}), Flags{ConfigFile: file})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	p, _ := c.FeedPrefixes()
	for _, x := range p {
		got = append(got, x.String())
	}
	if strings.Join(got, " ") != "10.1.2.3/32 fd00::/8" {
		t.Errorf("from the environment: %v", got)
	}
	if _, err := Load(envOf(map[string]string{"HOME": home, "OS1_CALENDAR_FEEDS_ALLOW": "my-nas"}), Flags{}); err == nil || !strings.Contains(err.Error(), "OS1_CALENDAR_FEEDS_ALLOW") {
		t.Errorf("a name instead of an address: %v", err)
	}
}
