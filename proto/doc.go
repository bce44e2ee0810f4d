// Package proto holds riacho's protobuf definitions and the Go code generated from them.
//
// Regenerate with `make generate`; `make generate-check` fails when the committed code
// differs from what the .proto files produce.
package proto
