//go:build pprof

package main

// Built only with -tags pprof, for bench/run.sh's profiling pass: it serves
// net/http/pprof on PRESENCE_PPROF_ADDR (default 127.0.0.1:6060), a listener
// of its own, so the benchmark can show where an idle connection's memory
// goes. The product binary (built without the tag) has no such listener.

import (
	"log/slog"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"os"
)

func init() {
	addr := os.Getenv("PRESENCE_PPROF_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6060"
	}
	go func() {
		srv := &http.Server{Addr: addr, Handler: http.DefaultServeMux}
		slog.Warn("pprof build: serving /debug/pprof/", "addr", addr, "err", srv.ListenAndServe())
	}()
}
