package transport

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// DefaultRoom is the room of a /ws request that names none.
const DefaultRoom = "lobby"

// MaxRoomNameLen is the longest room name accepted.
const MaxRoomNameLen = 64

// ValidateRoom checks a room name against the wire contract: 1–64 of
// A-Z a-z 0-9 . _ -. The error says what is wrong in words a user can act on.
func ValidateRoom(name string) error {
	if name == "" {
		return fmt.Errorf("room name is empty")
	}
	if len(name) > MaxRoomNameLen {
		return fmt.Errorf("room name is %d bytes long; the limit is %d", len(name), MaxRoomNameLen)
	}
	for i := 0; i < len(name); i++ {
		if !roomChar(name[i]) {
			return fmt.Errorf("room name has %q at position %d; use only A-Z, a-z, 0-9, '.', '_' and '-'", rune(name[i]), i+1)
		}
	}
	return nil
}

func roomChar(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '.' || b == '_' || b == '-'
}

// originPolicy decides which browser origins may open a WebSocket: the
// server's own (the Origin's host equals the request's Host) and an explicit
// allow-list. Requests without an Origin come from non-browser clients,
// which cannot be tricked into sending a user's cookies, and are allowed
// (RFC 6455 §10.2; the same rule as gorilla, coder and centrifuge).
type originPolicy struct {
	any     bool
	allowed map[string]bool // normalised "scheme://host[:port]"
}

func newOriginPolicy(allowed []string) (originPolicy, error) {
	p := originPolicy{allowed: make(map[string]bool)}
	for _, o := range allowed {
		o = strings.TrimSpace(o)
		switch o {
		case "":
			continue
		case "*":
			p.any = true
			continue
		}
		n, err := normaliseOrigin(o)
		if err != nil {
			return p, fmt.Errorf("allowed origin %q: %w", o, err)
		}
		p.allowed[n] = true
	}
	return p, nil
}

// allows reports whether r may be upgraded, and the origin it judged.
func (p originPolicy) allows(r *http.Request) (bool, string) {
	origin := r.Header.Get("Origin")
	if origin == "" || p.any {
		return true, origin
	}
	n, err := normaliseOrigin(origin)
	if err != nil {
		return false, origin // "null" (sandboxed pages, file://) and garbage
	}
	u, _ := url.Parse(n)
	if strings.EqualFold(u.Host, r.Host) {
		return true, origin
	}
	return p.allowed[n], origin
}

// normaliseOrigin returns origin as lower-case "scheme://host[:port]", with
// the scheme's default port dropped, as browsers send it.
func normaliseOrigin(origin string) (string, error) {
	u, err := url.Parse(origin)
	if err != nil {
		return "", err
	}
	if u.Scheme == "" || u.Host == "" || u.Path != "" && u.Path != "/" || u.User != nil {
		return "", fmt.Errorf("want scheme://host[:port]")
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if port == "80" && scheme == "http" || port == "443" && scheme == "https" {
		port = ""
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host, nil
}

// clientAddr is the address the per-address limit counts. It is the TCP
// peer's IP: headers such as X-Forwarded-For are not trusted, because any
// client can set them.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
