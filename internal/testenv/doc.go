// Package testenv owns the real servers integration tests run against: a
// versitygw S3 server per test, with helpers to seed its buckets and to read
// its access log, so tests can assert what requests s3load actually made;
// and the few helpers that read back what s3load wrote (EncodedColumns).
//
// A missing server binary fails the test rather than skipping it: a suite
// that silently skips its integration tests proves nothing.
package testenv
