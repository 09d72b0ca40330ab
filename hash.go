package livesign

import "hash/maphash"

// hashSeed seeds the hashes of every cache key of the process.
var hashSeed = maphash.MakeSeed()

// hashString hashes a cache key.
func hashString(s string) uint64 { return maphash.String(hashSeed, s) }
