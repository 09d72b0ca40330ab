// Command livesign is the operator tool for the livesign CoreDNS plugin: it
// generates keys, signs the DNSKEY RRset with an offline KSK into a bundle,
// prints the DS records to hand to the parent zone, pre-generates ZSKs into a
// key signing request (plan), signs KSRs into signed key responses on the
// offline side (sign-ksr), and checks bundles against the keys (check).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// now is the clock; tests replace it.
var now = time.Now

// command is one livesign subcommand.
type command struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"keygen", "generate a KSK or ZSK in BIND key file format", keygen},
	{"bundle", "sign the DNSKEY RRset with the offline KSK(s) into a bundle file", bundle},
	{"ds", "print the DS records of the KSK(s) in a key, bundle or zone file", ds},
	{"plan", "pre-generate ZSKs with rollover timers and write the key signing request (KSR)", plan},
	{"sign-ksr", "sign a KSR with the offline KSK(s) into a signed key response (SKR)", signKSR},
	{"check", "check a bundle or SKR against the keys: slots, signing ZSK, timeline, coverage", check},
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line args and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "livesign: no command given")
		usage(stderr)
		return 1
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(args[1:], stdout, stderr)
		var ue *usageError
		var ee *exitError
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ee):
			fmt.Fprintf(stderr, "livesign: %s\n", ee.msg)
			return ee.code
		case errors.As(err, &ue):
			fmt.Fprintf(stderr, "livesign: %s\n", ue.msg)
			ue.fs.SetOutput(stderr)
			ue.fs.Usage()
		default:
			fmt.Fprintf(stderr, "livesign: %v\n", err)
		}
		return 1
	}
	fmt.Fprintf(stderr, "livesign: unknown command %q\n", args[0])
	usage(stderr)
	return 1
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: livesign <command> [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'livesign <command> -h' for the flags of a command.")
}

// usageError is a command-line mistake: run prints it with the command's usage.
type usageError struct {
	fs  *flag.FlagSet
	msg string
}

// Error returns the message without the usage text.
func (e *usageError) Error() string { return e.msg }

func usageErrorf(fs *flag.FlagSet, format string, a ...any) error {
	return &usageError{fs: fs, msg: fmt.Sprintf(format, a...)}
}

// newFlagSet makes a flag set whose usage shows synopsis and help text.
func newFlagSet(name, synopsis, help string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s\n\n%s\n\nflags:\n", synopsis, strings.TrimSpace(help))
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments, and
// returns the positional arguments. -h prints the usage on stdout and
// returns flag.ErrHelp; a bad flag returns a usageError.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) ([]string, error) {
	usageFn := fs.Usage
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	defer func() { fs.Usage = usageFn }()
	var pos []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			usageFn()
			return nil, flag.ErrHelp
		}
		if err != nil {
			return nil, usageErrorf(fs, "%v", err)
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
