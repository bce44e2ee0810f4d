// Package webhook is the intake's pure parsing layer: it checks webhook signatures and turns
// authenticated request bodies (WhatsApp Business Cloud API, Meta Lead Ads, Ploomes CRM, generic
// JSON, CSV/XLSX uploads) into Events ready to be Avro-encoded and produced to raw.* topics.
//
// Nothing here does I/O. Every Event carries the original bytes of its source object in the
// "payload" field (slices of the request body, never re-serialised JSON), so the raw zone can
// be replayed, and an ID that stays the same when the source delivers the same event again:
//
//   - raw.whatsapp.messages: the message id (wamid...).
//   - raw.whatsapp.statuses: status id + ":" + status (a message has one event per status).
//   - raw.whatsapp.events, raw.meta.events: hex SHA-256 of source, entry id and the change's bytes.
//   - raw.meta.leads: the leadgen_id.
//   - raw.ploomes.<entity>: entity + ":" + resource id + ":" + action + ":" + New.LastUpdateDate,
//     or the hex SHA-256 of the notification's bytes in place of LastUpdateDate when absent.
//   - raw.<source>.<entity> (generic JSON): the Idempotency-Key (":" + 0-based index for arrays of
//     more than one object), else the hex SHA-256 of source + "/" + entity + "/" + object bytes.
//   - spreadsheet rows: hex SHA-256 of source/entity/file name/row number/row payload JSON.
//
// The Kafka key of every Event is its ID.
package webhook
