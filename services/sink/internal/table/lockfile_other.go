//go:build !unix

package table

import "context"

// fileLock is a no-op where flock is unavailable: SQLite catalogs are then safe for one process
// only (the in-process mutex still serialises its writers).
func fileLock(context.Context, string) (func(), error) { return func() {}, nil }
