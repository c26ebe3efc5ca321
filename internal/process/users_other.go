//go:build !unix

package process

func loadUsers() map[int]string { return nil }
