// Command gohub is the "classic Go hub" baseline for bench/run.sh: a live
// user count written the way a Go user would write it from the well-known
// chat-hub pattern (the gorilla/websocket chat example's shape). Each
// connection has a read goroutine and a write goroutine joined by a buffered
// send channel; one hub goroutine owns the rooms in a map and handles
// register and unregister over channels; every join and every leave
// broadcasts the room's currentUsers to every member.
//
// It speaks the presence server's wire format on /ws?room=NAME, so the same
// load generator drives both:
//
//	{"event":"user count","data":{"room":"lobby","currentUsers":3,"seq":7}}
//
// It is a baseline, not a product: it keeps the pattern's behaviour, including
// an O(N) broadcast per membership change and dropping a member whose send
// buffer is full (see hub.go).
//
// Usage: gohub [-addr 127.0.0.1:8081]   (or ADDR=… gohub)
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
	"regexp"
	"time"
)

func main() {
	addr := flag.String("addr", envOr("ADDR", "127.0.0.1:8081"), "address to serve on (env ADDR)")
	flag.Parse()
	if flag.NArg() > 0 {
		log.Fatalf("gohub: unexpected argument %q (use -addr)", flag.Arg(0))
	}

	hub := newHub()
	go hub.run()

	mux := http.NewServeMux()
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		room := r.URL.Query().Get("room")
		if room == "" {
			room = "lobby"
		}
		if !validRoom.MatchString(room) {
			http.Error(w, "invalid room name", http.StatusBadRequest)
			return
		}
		serveWs(hub, room, w, r)
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })

	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Printf("gohub: listening on %s", *addr)
	log.Fatal(srv.ListenAndServe())
}

var validRoom = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
