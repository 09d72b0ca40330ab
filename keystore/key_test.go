package keystore

import (
	"os"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestKeyTimers(t *testing.T) {
	at := func(d int) time.Time { return time.Date(2027, 1, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name          string
		timers        Timers
		when          time.Time
		pub, act      bool
		wantZeroTimer bool
	}{
		{"no timers: always", Timers{}, at(1), true, true, true},
		{"created only, before", Timers{Created: at(5)}, at(4), false, false, false},
		{"created only, after", Timers{Created: at(5)}, at(5), true, true, false},
		{"published not active", Timers{Created: at(1), Publish: at(2), Activate: at(4)}, at(3), true, false, false},
		{"active", Timers{Publish: at(2), Activate: at(4)}, at(4), true, true, false},
		{"inactive still published", Timers{Publish: at(2), Activate: at(4), Inactive: at(6), Delete: at(8)}, at(7), true, false, false},
		{"deleted", Timers{Publish: at(2), Activate: at(4), Inactive: at(6), Delete: at(8)}, at(8), false, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := &Key{DNSKEY: &dns.DNSKEY{Flags: 256, Protocol: 3, Algorithm: 13}, Timers: tc.timers}
			if got := k.PublishedAt(tc.when); got != tc.pub {
				t.Errorf("PublishedAt = %v, want %v", got, tc.pub)
			}
			if got := k.ActiveAt(tc.when); got != tc.act {
				t.Errorf("ActiveAt = %v, want %v", got, tc.act)
			}
			if got := tc.timers.IsZero(); got != tc.wantZeroTimer {
				t.Errorf("IsZero = %v, want %v", got, tc.wantZeroTimer)
			}
		})
	}
}

func TestKeyIsKSK(t *testing.T) {
	for flags, want := range map[uint16]bool{256: false, 257: true, 385: true} {
		k := &Key{DNSKEY: &dns.DNSKEY{Flags: flags}}
		if k.IsKSK() != want {
			t.Errorf("flags %d: IsKSK = %v, want %v", flags, k.IsKSK(), want)
		}
	}
}

// TestPrivateModeGroupReadRoot: a .private that root owns may be group
// readable (Kubernetes Secret volumes with fsGroup); owned by anyone else
// it may not.
func TestPrivateModeGroupReadRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files to root and to another user")
	}
	dir := t.TempDir()
	k, err := GenerateKey("example.net.", dns.ECDSAP256SHA256, false, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	base, err := WriteKey(dir, k)
	if err != nil {
		t.Fatal(err)
	}
	priv := base + ".private"
	for _, tc := range []struct {
		mode os.FileMode
		uid  int
		ok   bool
	}{
		{0o440, 0, true}, {0o640, 0, true}, {0o400, 0, true},
		{0o440, 65534, false}, {0o444, 0, false}, {0o460, 0, false}, {0o604, 0, false},
	} {
		if err := os.Chown(priv, tc.uid, tc.uid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(priv, tc.mode); err != nil {
			t.Fatal(err)
		}
		_, err := ReadKey(base)
		if (err == nil) != tc.ok {
			t.Errorf("mode %04o owner %d: error %v, want ok=%v", tc.mode, tc.uid, err, tc.ok)
		}
	}
}
