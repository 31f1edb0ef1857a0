// Package icebergrest owns a test Iceberg REST catalog server: the endpoints
// of the Iceberg REST spec that iceberg-go's REST client (catalog/rest) calls,
// served over real HTTP and backed by iceberg-go's SQL catalog on a SQLite
// file in the test's temporary directory.
//
// It exists so code that commits Iceberg tables through the REST client is
// tested against a server speaking the wire protocol, with bearer and
// client-credentials auth, the spec's error model, and injectable commit
// faults (a refused commit, or an applied commit whose reply is lost).
package icebergrest
