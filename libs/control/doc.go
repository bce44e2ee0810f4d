// Package control serves riacho.control.v1.Control, the operator interface of
// every riacho service, together with gRPC health checking and server
// reflection on one gRPC server.
//
// A service keeps its lifecycle state and counters in a State, supplies Hooks
// for the calls it supports (Pause, Resume, Reload, its own Command verbs and
// extra Status facts), and runs the Server next to its main work. Every call
// except health checks needs an "authorization: Bearer <token>" metadata entry
// matching one of the configured tokens, and every Control call leaves one
// audit log line naming the caller's token name (never the token).
package control
