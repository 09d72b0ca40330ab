package test

import (
	"fmt"
	"net"
	"strconv"
	"testing"

	"github.com/miekg/dns"

	"github.com/livesign/livesign/internal/validators"
)

// TestStartCoreDNSTakenPort: when the port a Corefile names is taken before CoreDNS binds it,
// startCoreDNS renders the Corefile again, with a new port, and the server starts there.
func TestStartCoreDNSTakenPort(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenPort := taken.Addr().(*net.TCPAddr).Port
	renders, port := 0, 0
	startCoreDNS(t, func() string {
		renders++
		if port = takenPort; renders > 1 {
			port = validators.FreePort(t)
		}
		return fmt.Sprintf("example.org:%d {\n    bind 127.0.0.1\n    whoami\n}\n", port)
	})
	if renders != 2 || port == takenPort {
		t.Fatalf("%d renders, port %d (taken: %d): want a second render on another port", renders, port, takenPort)
	}
	q := new(dns.Msg)
	q.SetQuestion("example.org.", dns.TypeA)
	if _, err := dns.Exchange(q, net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err != nil {
		t.Fatalf("CoreDNS on port %d does not answer: %v", port, err)
	}
}
