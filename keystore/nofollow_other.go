//go:build unix && !netbsd

package keystore

func isEFTYPE(error) bool { return false }
