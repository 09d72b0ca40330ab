package livesign

// Ready implements ready.Readiness: true once every zone has a valid key set.
func (l *Livesign) Ready() bool {
	for _, z := range l.zones {
		if _, err := z.Keys(l.now()); err != nil {
			return false
		}
	}
	return true
}
