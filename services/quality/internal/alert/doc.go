// Package alert sends riacho's operational alerts to Slack and Microsoft
// Teams incoming webhooks.
//
// A Notifier holds a list of routes. Each Alert goes to every route whose
// Kinds and Severities match it (an empty list matches everything);
// DefaultRoutes builds the routing the platform design asks for: pipeline
// failures and critical SLA breaches to a critical Slack channel, data-quality
// alerts to the data stewards' channel, degraded performance to the DevOps
// Teams channel.
//
// Send never blocks on the network. Per route it first drops duplicates (the
// same Alert.Key sent to the route within Options.DedupeWindow), then applies
// a token-bucket rate limit (Options.RateLimit alerts per minute), then queues
// the alert; Run's per-route workers post it, retrying on network errors,
// 429 and 5xx answers with exponential backoff or the server's Retry-After.
// An alert that finally fails is forgotten by the de-duplication so the next
// occurrence is tried again.
//
// Payloads: Slack gets {"text", "blocks"} (Block Kit: header, section,
// fields, context); Teams gets a message with one Adaptive Card attachment,
// the format both the legacy Office 365 connector webhooks and the Workflows
// ("Post to a channel when a webhook request is received") webhooks accept.
//
// Metrics, on the injected Registerer: riacho_quality_alerts_sent_total,
// _failed_total, _deduplicated_total, _rate_limited_total and
// _retries_total, each labelled by route.
package alert
