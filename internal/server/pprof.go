package server

import (
	"net/http"
	"net/http/pprof"
	"os"
)

// profilingOn reports whether OS1_PPROF=1 asks for Go's profiler on the
// metrics listener (metrics_addr, which the server's operator chooses and
// which is never the main listener): for measuring under load, off by
// default.
func profilingOn() bool { return os.Getenv("OS1_PPROF") == "1" }

// addProfiling serves net/http/pprof's handlers under /debug/pprof/.
func addProfiling(m *http.ServeMux) {
	m.HandleFunc("GET /debug/pprof/", pprof.Index)
	m.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	m.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	m.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	m.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}
