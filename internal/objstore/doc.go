// Package objstore owns the archive's object storage: the narrow Store
// interface (buckets of whole objects named by keys) and its two backends,
//
//   - NewLocal, the default: buckets are directories under one directory,
//     objects are files written crash-safely (temporary file, fsync,
//     rename, fsync of the directory) through internal/fsutil;
//   - NewS3: AWS S3 or an S3-compatible server, with aws-sdk-go-v2 and the
//     SDK's standard credential chain;
//
// both passing the one conformance suite in package objstoretest, and both
// refusing the same bucket names and keys (ValidateBucketName, ValidateKey)
// so an archive can move from one to the other.
//
// It also owns Layout: where each tenant's archive and the errors archive
// live (a bucket per tenant, or one bucket with a key prefix per tenant),
// and the mapping from any tenant id to a valid, collision-free S3 bucket
// name. docs/archive-buckets.md describes both for operators.
//
// It stores opaque bytes: it must not know about Parquet, events, streams
// or what the keys mean, and it never decides when to write or delete.
package objstore
