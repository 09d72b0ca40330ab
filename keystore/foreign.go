package keystore

// ReadForeign reads the public keys of zone in dir that other providers of
// a multi-signer setup (RFC 8901 model 2) sign with: their .key files only,
// never a .private. Their timers are dropped: another provider's key is
// published as long as its file is in dir, and never signs here.
func ReadForeign(dir, zone string) ([]*Key, error) {
	keys, err := ReadKeys(dir, Selection{Zone: zone, Private: PublicOnly})
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		k.Timers = Timers{}
	}
	return keys, nil
}
