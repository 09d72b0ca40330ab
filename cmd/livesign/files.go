package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// needFile checks that the file given as what (a flag such as "-ksr", or
// "FILE") to command cmd exists and is not a directory. Its error names the
// file, says what it should be (purpose) and, when the file is missing,
// suggests the files meant: a name that differs only in case (key files are
// named in lower case), the .key file of a key's base name, the matches of a
// glob pattern the shell left unexpanded.
func needFile(cmd, what, path, purpose string) error {
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return fmt.Errorf("%s: %s %s is a directory: give %s", cmd, what, path, purpose)
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: %s %s: no such file%s", cmd, what, path, orGive(suggest(path, false), purpose))
	}
	return fmt.Errorf("%s: %s %s: %v", cmd, what, path, unwrapPath(err))
}

// needDir is needFile for a directory.
func needDir(cmd, what, path, purpose string) error {
	fi, err := os.Stat(path)
	switch {
	case err == nil && !fi.IsDir():
		if b := filepath.Base(path); keyFileName.MatchString(b) || strings.HasSuffix(b, ".private") {
			return fmt.Errorf("%s: %s %s is a key file, not a directory: give the directory that holds it, %s", cmd, what, path, filepath.Dir(path))
		}
		return fmt.Errorf("%s: %s %s is a file, not a directory: give %s", cmd, what, path, purpose)
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: %s %s: no such directory%s", cmd, what, path, orGive(suggest(path, true), purpose))
	}
	return fmt.Errorf("%s: %s %s: %v", cmd, what, path, unwrapPath(err))
}

// orGive is the suggestion s, or ": give purpose" when there is none.
func orGive(s, purpose string) string {
	if strings.HasPrefix(s, "; did you mean") {
		return s
	}
	return s + ": give " + purpose
}

// unwrapPath drops the "stat PATH: " of a path error, which the caller names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// suggest says what a missing path may have meant, as "; did you mean X?"
// (or that its directory is missing), or "".
func suggest(path string, wantDir bool) string {
	dir, base := filepath.Dir(path), filepath.Base(path)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Sprintf(" (nor does its directory %s)", dir)
	}
	if err != nil {
		return ""
	}
	pattern := strings.ToLower(base)
	glob := strings.ContainsAny(base, "*?[")
	var found []string
	caseOnly := false
	for _, e := range entries {
		if e.IsDir() != wantDir {
			continue
		}
		name, lower := e.Name(), strings.ToLower(e.Name())
		switch {
		case glob:
			if ok, _ := filepath.Match(pattern, lower); !ok {
				continue
			}
			caseOnly = caseOnly || name != base
		case lower == pattern:
			caseOnly = true
		case !wantDir && lower == pattern+".key":
			caseOnly = caseOnly || name != base+".key"
		default:
			continue
		}
		found = append(found, filepath.Join(dir, name))
	}
	if len(found) == 0 {
		return ""
	}
	sort.Strings(found)
	if len(found) > 3 {
		found = append(found[:3], "...")
	}
	s := "; did you mean " + strings.Join(found, " or ") + "?"
	if caseOnly && !wantDir && strings.HasPrefix(base, "K") && strings.Contains(base, "+") {
		s += " (livesign keygen and BIND write key file names with the zone in lower case)"
	} else if caseOnly {
		s += " (names differ in case)"
	}
	return s
}

// keyFileName matches BIND key file names: K<zone>+<alg>+<tag>.key.
var keyFileName = regexp.MustCompile(`^K(.+)\+(\d{3})\+(\d{5})\.key$`)

// otherZones lists, as " (DIR holds keys of a., b.)", the zones other than
// zone that have key files in dir, or "" when there are none.
func otherZones(dir, zone string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	seen := map[string]bool{}
	var zones []string
	for _, e := range entries {
		m := keyFileName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		z := dns.CanonicalName(m[1])
		if z == dns.CanonicalName(zone) || seen[z] {
			continue
		}
		seen[z] = true
		zones = append(zones, z)
	}
	if len(zones) == 0 {
		return ""
	}
	sort.Strings(zones)
	return fmt.Sprintf(" (%s holds keys of %s: check -zone)", dir, strings.Join(zones, ", "))
}
