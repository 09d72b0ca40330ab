package keystore

import "testing"

func TestParseAlgorithm(t *testing.T) {
	tests := []struct {
		in      string
		want    uint8
		wantErr bool
	}{
		{"ECDSAP256SHA256", 13, false},
		{"ecdsap256sha256", 13, false},
		{"13", 13, false},
		{"ECDSAP384SHA384", 14, false},
		{"ed25519", 15, false},
		{"15", 15, false},
		{"RSASHA256", 8, false},
		{"8", 8, false},
		{"RSASHA1", 0, true},
		{"5", 0, true},
		{"ED448", 0, true},
		{"", 0, true},
		{"300", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseAlgorithm(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseAlgorithm(%q) = %d, %v; want %d, err %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}
