package validators

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// startTimeout bounds the wait for a started validator to answer.
const startTimeout = 15 * time.Second

// process is a validator daemon run as a child of the test: its command,
// its output (the daemon's log) and the logs of earlier runs (unbound is
// restarted by Flush, StartKresd retries on another port).
type process struct {
	name string // for messages: "unbound", "kresd"

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	log  *LogBuffer    // the running daemon's stdout and stderr
	logs []string      // logs of the runs before

	// What launch was given, for restart.
	what   string
	addr   *string
	conf   string
	render func() string
	run    func() error
	busy   []string
}

// launch starts the daemon on a free 127.0.0.1 port: it sets *addr, writes
// render() to conf and calls start, and tries another port (startAttempts
// in all) when the log says the port was taken between FreePort and the
// daemon's bind (a line with one of busy). The daemon stops on t.Cleanup,
// logging its output if the test failed. what names the caller in errors.
func (p *process) launch(t testing.TB, what string, addr *string, conf string, render func() string, start func() error, busy ...string) {
	t.Helper()
	p.what, p.addr, p.conf, p.render, p.run, p.busy = what, addr, conf, render, start, busy
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("validators: %s %s log:\n%s", p.name, *addr, p.allLogs())
		}
	})
	p.tryPorts(t, startAttempts, nil)
}

// tryPorts starts the daemon on new free ports, at most attempts times, as long as the last
// start failed because its port was taken (busy); it fails the test with lastErr (the error of a
// start before, if any) when no start succeeds.
func (p *process) tryPorts(t testing.TB, attempts int, lastErr error) {
	t.Helper()
	for range attempts {
		*p.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(FreePort(t)))
		if err := os.WriteFile(p.conf, []byte(p.render()), 0o644); err != nil {
			t.Fatalf("validators: %s: %v", p.what, err)
		}
		if lastErr = p.run(); lastErr == nil {
			return
		}
		p.stop()
		if !p.portTaken() {
			break
		}
	}
	t.Fatalf("validators: %s: %v\nconfig:\n%s\nlog:\n%s", p.what, lastErr, fileText(p.conf), p.allLogs())
}

// portTaken says whether the log of the last run says its port was taken (a line with one of
// the words launch was given).
func (p *process) portTaken() bool {
	return slices.ContainsFunc(p.busy, func(w string) bool { return strings.Contains(p.lastLog(), w) })
}

// restart stops the daemon and starts it again with the same configuration on the same
// address. Another process may have taken the port in between: the daemon then moves to a new
// free port (as launch does), which *addr gives.
func (p *process) restart(t testing.TB) {
	t.Helper()
	p.stop()
	err := p.run()
	if err == nil {
		return
	}
	p.stop()
	if !p.portTaken() {
		t.Fatalf("validators: %s: restart on %s: %v\nlog:\n%s", p.what, *p.addr, err, p.allLogs())
	}
	p.tryPorts(t, startAttempts, err)
}

// start runs cmd with its output captured and waits until a query for
// "localhost. A" to addr gets an answer that up accepts: the daemon answers
// it itself, so the server under test sees nothing.
func (p *process) start(cmd *exec.Cmd, addr string, up func(*dns.Msg) bool) error {
	logBuf := &LogBuffer{}
	cmd.Stdout = logBuf
	cmd.Stderr = logBuf
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	p.mu.Lock()
	p.cmd, p.done, p.log = cmd, done, logBuf
	p.mu.Unlock()

	probe := new(dns.Msg)
	probe.SetQuestion("localhost.", dns.TypeA)
	c := &dns.Client{Net: "udp", Timeout: 250 * time.Millisecond}
	for deadline := time.Now().Add(startTimeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case <-done:
			return fmt.Errorf("%s exited during startup (%v)", p.name, cmd.ProcessState)
		default:
		}
		if r, _, err := c.Exchange(probe, addr); err == nil && up(r) {
			return nil
		}
	}
	return fmt.Errorf("%s did not answer on %s within %v", p.name, addr, startTimeout)
}

// stop terminates the running daemon, if any, and waits for it; its log is
// kept.
func (p *process) stop() {
	p.mu.Lock()
	cmd, done, logBuf := p.cmd, p.done, p.log
	p.cmd = nil
	if logBuf != nil {
		p.logs = append(p.logs, logBuf.String())
		p.log = nil
	}
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// allLogs returns the logs of every run, oldest first.
func (p *process) allLogs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	logs := p.logs
	if p.log != nil {
		logs = append(logs[:len(logs):len(logs)], p.log.String())
	}
	return strings.Join(logs, "--- "+p.name+" restarted ---\n")
}

// lastLog returns the log of the most recent run.
func (p *process) lastLog() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.log != nil {
		return p.log.String()
	}
	if n := len(p.logs); n > 0 {
		return p.logs[n-1]
	}
	return ""
}

// fileText returns the text of a configuration file for error messages.
func fileText(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// exchange sends name/qtype with DO+RD and EDNS 1232 over UDP to addr, and again over TCP if
// the answer is truncated; it returns the answer and the transport of the last attempt.
func exchange(addr, name string, qtype uint16) (*dns.Msg, string, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = true
	m.SetEdns0(1232, true)

	c := &dns.Client{Net: "udp", Timeout: queryTimeout, UDPSize: 1232}
	r, _, err := c.Exchange(m, addr)
	if err == nil && r.Truncated {
		c.Net = "tcp"
		r, _, err = c.Exchange(m, addr)
	}
	return r, c.Net, err
}

// LogBuffer collects a child process's output: a bytes.Buffer safe for one
// writer (the child) and concurrent readers (the test).
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
