package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestLimitSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte("max_connections: 500\nbody_timeout: 5s\nmax_inflight_bytes: 33554432\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := defaultConfig()
	if err := loadConfig(path, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.MaxConnections != 500 || cfg.BodyTimeout != 5*time.Second || cfg.MaxInflightBytes != 32<<20 || cfg.validate() != nil {
		t.Errorf("loaded %d %s %d, validate %v", cfg.MaxConnections, cfg.BodyTimeout, cfg.MaxInflightBytes, cfg.validate())
	}
	for _, c := range []struct {
		set  func(*Config)
		want string
	}{
		{func(c *Config) { c.MaxConnections = -1 }, "max_connections is -1"},
		{func(c *Config) { c.BodyTimeout = 0 }, "body_timeout 0s must be positive"},
		{func(c *Config) { c.MaxInflightBytes = 1 << 20 }, "max_inflight_bytes 1048576 must be at least 16777216"},
	} {
		cfg := defaultConfig()
		c.set(&cfg)
		if err := cfg.validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("validate: %v, want %q", err, c.want)
		}
	}
}

func TestMaxConnectionsDefault(t *testing.T) {
	if n := maxConnections(123); n != 123 {
		t.Errorf("maxConnections(123) = %d", n)
	}
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	if n, want := maxConnections(0), int(min(rl.Cur/4*3, 10000)); n != want || n <= 0 {
		t.Errorf("maxConnections(0) = %d with RLIMIT_NOFILE %d; want %d", n, rl.Cur, want)
	}
}
