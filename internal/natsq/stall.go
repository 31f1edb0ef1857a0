package natsq

import "time"

// publishStallWait is how long a pipelined publish (task batches, a
// listing's file records) waits for room among the unacknowledged ones
// before it fails. nats.go's default, 200 ms, failed a listing's recording
// whenever the server's disk fell behind for that long (20,000 creates on
// a busy 2-core machine); a server that is gone fails the acks themselves.
const publishStallWait = 30 * time.Second
