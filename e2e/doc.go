// Package e2e holds s3load's end-to-end tests: the images `make images`
// builds, run as a fleet in containers (testcontainers-go) on a private
// network, loading a generated bucket of 510 files while the tests inject
// the faults a fleet meets: killed and paused workers, a restarted NATS
// server, a killed coordinator, a lost cluster node, scaling, and an S3
// store that throttles and drops connections (the proxy in faultproxy/).
//
// The tests carry the build tag e2e and need a Docker engine; without one
// they fail, never skip:
//
//	make test-e2e
package e2e
