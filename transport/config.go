package transport

import "time"

// Config holds the limits and timeouts of the network edge. Zero fields take
// the defaults of DefaultConfig, except MaxConnsPerIP, where 0 means no limit.
type Config struct {
	HandshakeTimeout time.Duration // request headers must arrive, and the 101 be written, within this
	PingInterval     time.Duration // the server pings every socket this often
	PongTimeout      time.Duration // a socket silent for PingInterval+PongTimeout is dropped
	WriteTimeout     time.Duration // deadline of every write; a slow reader past it is dropped
	CloseTimeout     time.Duration // how long a closing socket waits for the peer's close frame
	MaxMessageSize   int64         // largest inbound message, in bytes (fragments count at least one byte each)
	RateLimit        float64       // inbound messages per second, sustained (data messages and control frames)
	RateBurst        int           // inbound messages allowed at once
	MaxConnsPerIP    int           // open sockets per client address; 0 turns the limit off
	AllowedOrigins   []string      // browser origins allowed besides the server's own; "*" allows any
	ReadMode         string        // ReadPoll (default) or ReadGoroutine: how sockets are read (docs/architecture.md §7)
}

// The read modes (Config.ReadMode).
const (
	// ReadPoll: an epoll poller watches every socket and a bounded pool of
	// workers reads the ready ones; an idle socket has no goroutine. Where
	// there is no poller (not Linux) the Server falls back to ReadGoroutine.
	ReadPoll = "poll"
	// ReadGoroutine: the portable fallback, one goroutine per socket blocked
	// in Read.
	ReadGoroutine = "goroutine"
)

// ReadModes lists the read modes, for validating a setting.
func ReadModes() []string { return []string{ReadPoll, ReadGoroutine} }

// DefaultConfig returns the defaults: the ones the flags and the README name.
func DefaultConfig() Config {
	return Config{
		HandshakeTimeout: 10 * time.Second,
		PingInterval:     25 * time.Second,
		PongTimeout:      10 * time.Second,
		WriteTimeout:     5 * time.Second,
		CloseTimeout:     2 * time.Second,
		MaxMessageSize:   4096,
		RateLimit:        20,
		RateBurst:        40,
		MaxConnsPerIP:    1000,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = d.HandshakeTimeout
	}
	if c.PingInterval <= 0 {
		c.PingInterval = d.PingInterval
	}
	if c.PongTimeout <= 0 {
		c.PongTimeout = d.PongTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = d.WriteTimeout
	}
	if c.CloseTimeout <= 0 {
		c.CloseTimeout = d.CloseTimeout
	}
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = d.MaxMessageSize
	}
	if c.RateLimit <= 0 {
		c.RateLimit = d.RateLimit
	}
	if c.RateBurst <= 0 {
		c.RateBurst = d.RateBurst
	}
	if c.ReadMode == "" {
		c.ReadMode = ReadPoll
	}
	if c.MaxConnsPerIP < 0 {
		c.MaxConnsPerIP = 0
	}
	return c
}
