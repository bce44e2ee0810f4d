// Package cli implements riachoctl: it parses the command line, calls the
// Control, health or both APIs of one riacho service (or of every devstack
// service) over gRPC and prints the answer for humans or as protojson.
package cli
