// Package lake is the sink's object storage: a bucket opened by URL through gocloud.dev/blob
// (file:// — the embedded default —, s3://, gs://, azblob://) and the key layout of the raw zone.
//
// Writes are atomic per object: a writer's object becomes visible only when Close succeeds
// (fileblob renames a temporary file; s3blob completes a single PUT or a multipart upload),
// and a writer whose context is cancelled before Close leaves no object behind.
//
// The layout follows the seed's example by default:
//
//	raw/ploomes/year=2024/month=01/day=15/leads_20240115_001.parquet
//
// rendered from the template DefaultTemplate; the template is configurable and validated when
// it is loaded (NewLayout). Files that are written but not yet committed to the Iceberg table
// live under StagingKey, outside the layout, so readers of the layout never see them.
package lake
