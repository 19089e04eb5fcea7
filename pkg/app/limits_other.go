//go:build !unix

package app

func addressSpaceLimit() uint64 { return 0 }
