package transport

// Observer receives the network edge's events, for the metrics. Its methods
// are called from any goroutine, so implementations must be safe for
// concurrent use and cheap.
type Observer interface {
	ConnOpened()               // a socket was upgraded
	ConnClosed()               // an upgraded socket's connection is closed
	Rejected(reason Rejection) // an upgrade request was refused before the upgrade
}

// Rejection says why an upgrade request was refused: the values of the
// presence_upgrade_rejections_total{reason} metric.
type Rejection string

const (
	RejectBadRoom   Rejection = "bad_room"     // the room name breaks the rules (400)
	RejectOrigin    Rejection = "origin"       // a browser origin that may not connect (403)
	RejectPerIP     Rejection = "per_ip_limit" // too many sockets from one address (429)
	RejectDraining  Rejection = "draining"     // the server is shutting down (503)
	RejectHandshake Rejection = "handshake"    // the WebSocket handshake itself failed
)

// Rejections lists every Rejection, for metrics that show each label from
// the start.
func Rejections() []Rejection {
	return []Rejection{RejectBadRoom, RejectOrigin, RejectPerIP, RejectDraining, RejectHandshake}
}

type nopObserver struct{}

func (nopObserver) ConnOpened()        {}
func (nopObserver) ConnClosed()        {}
func (nopObserver) Rejected(Rejection) {}
