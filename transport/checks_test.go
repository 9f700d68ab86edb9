package transport

import (
	"net/http"
	"strings"
	"testing"
)

func TestValidateRoom(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"lobby", "a", "A-b_c.9", strings.Repeat("x", 64), "..", "-"} {
		if err := ValidateRoom(ok); err != nil {
			t.Errorf("ValidateRoom(%q) = %v, want nil", ok, err)
		}
	}
	for name, want := range map[string]string{
		"":                      "empty",
		strings.Repeat("x", 65): "the limit is 64",
		"has space":             "' ' at position 4",
		"été":                   "position 1",
		"a/b":                   "'/' at position 2",
		"a\x00":                 "position 2",
	} {
		err := ValidateRoom(name)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateRoom(%q) = %v, want an error saying %q", name, err, want)
		}
	}
}

func TestOriginPolicy(t *testing.T) {
	t.Parallel()
	p, err := newOriginPolicy([]string{"https://app.example.com", " http://LOCALHOST:3000 ", ""})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		host, origin string
		want         bool
	}{
		{"presence.example:8080", "", true},                              // not a browser
		{"presence.example:8080", "http://presence.example:8080", true},  // same origin
		{"Presence.Example:8080", "http://presence.example:8080", true},  // hosts are case-insensitive
		{"presence.example", "https://presence.example:443", true},       // default port
		{"presence.example:8080", "http://evil.example", false},          // cross-site
		{"presence.example:8080", "http://presence.example:9090", false}, // another port is another origin
		{"presence.example:8080", "https://app.example.com", true},       // allow-listed
		{"presence.example:8080", "http://localhost:3000", true},         // allow-listed, normalised
		{"presence.example:8080", "null", false},                         // sandboxed or file:// page
		{"presence.example:8080", "http://app.example.com", false},       // scheme differs from the list
		{"presence.example:8080", "::garbage", false},
	} {
		r := &http.Request{Host: tc.host, Header: http.Header{}}
		if tc.origin != "" {
			r.Header.Set("Origin", tc.origin)
		}
		if got, _ := p.allows(r); got != tc.want {
			t.Errorf("Host %s, Origin %q: allowed=%v, want %v", tc.host, tc.origin, got, tc.want)
		}
	}

	anyOrigin, _ := newOriginPolicy([]string{"*"})
	r := &http.Request{Host: "a", Header: http.Header{"Origin": {"http://evil.example"}}}
	if ok, _ := anyOrigin.allows(r); !ok {
		t.Error(`"*" should allow any origin`)
	}
	if _, err := newOriginPolicy([]string{"not an origin"}); err == nil {
		t.Error("a malformed allowed origin should be refused at start-up")
	}
}
