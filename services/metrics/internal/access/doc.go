// Package access decides who may query which metrics: it authenticates
// MetricsService callers (bearer tokens or verified mTLS client
// certificates), maps them through roles to the metrics and dimensions they
// may read, and writes one JSON audit line per query.
//
// The policy is a YAML file (see ParsePolicy). Tokens are kept only as
// SHA-256 digests and compared in constant time; no error, log or audit line
// ever contains a token, only the client name the policy gives it.
//
// Audit lines record filter fields, operators and the number of values, never
// the values themselves: a filter value can be personal data (a customer id or
// e-mail), and the audit log is kept longer and read more widely than the
// warehouse it describes.
package access
