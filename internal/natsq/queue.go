package natsq

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/s3load/s3load/messages"
)

// Names of the JetStream resources s3load owns.
const (
	TaskStream   = "S3LOAD_TASKS"
	taskSubjects = "s3load.tasks.>"
	StateBucket  = "s3load_state"
)

// ErrNoTask means no task arrived within the queue's wait; ask again.
var ErrNoTask = errors.New("no task available")

// Options shape the JetStream resources. The zero value suits one server.
type Options struct {
	// Replicas of the stream and the state bucket (1, or 3 on a cluster).
	Replicas int
	// AckWait is how long a task may go without an ack or heartbeat before it
	// is redelivered.
	AckWait time.Duration
	// DuplicateWindow is how long the stream remembers task IDs.
	DuplicateWindow time.Duration
	// FetchWait bounds one wait for a task, so a stopping worker notices soon.
	FetchWait time.Duration
	// AsyncPersist lets the server acknowledge a write to the state bucket
	// before it has written it to its files (JetStream's async persist
	// mode, set when the bucket is created), sparing a write system call
	// per record: a fifth of listing a million keys. It is for the server
	// `s3load run` embeds, which stops only with the process that acted on
	// its acknowledgements: a crash loses at most the last writes' window,
	// and the load resumes from the records kept, as after any lost window
	// (docs/deploy.md). A separate server flushes each write, and keeps
	// `sync_interval: always`, which async persist mode turns off.
	AsyncPersist bool
	// DeleteMarkerAge is how long the state bucket keeps the marker a
	// deleted record leaves; older ones go when the next load drops the
	// records of the last (negative: all).
	DeleteMarkerAge time.Duration
}

// Defaults of Options.
const (
	DefaultAckWait         = time.Minute
	DefaultDuplicateWindow = 10 * time.Minute
	DefaultFetchWait       = 2 * time.Second
	// DefaultDeleteMarkerAge is JetStream's own default for KV markers.
	DefaultDeleteMarkerAge = 30 * time.Minute
	// maxAckPending bounds tasks delivered and not yet acked per job.
	maxAckPending = 10000
)

func (o Options) withDefaults() Options {
	o.Replicas = max(o.Replicas, 1)
	if o.AckWait == 0 {
		o.AckWait = DefaultAckWait
	}
	if o.DuplicateWindow == 0 {
		o.DuplicateWindow = DefaultDuplicateWindow
	}
	if o.FetchWait == 0 {
		o.FetchWait = DefaultFetchWait
	}
	if o.DeleteMarkerAge == 0 {
		o.DeleteMarkerAge = DefaultDeleteMarkerAge
	}
	return o
}

// Queue is the work queue of one job's tasks. JetStream is its transport,
// not its record of truth: if the stream or the consumer disappear (deleted
// by an operator, lost with a server's storage) the queue creates them
// again, and the coordinator, told by Ensure, publishes every unfinished
// file again.
type Queue struct {
	js   jetstream.JetStream
	job  string
	opts Options

	mu      sync.Mutex
	cons    jetstream.Consumer
	created time.Time // the task stream's creation time, as last seen
}

// OpenQueue creates or updates the task stream and returns the queue of
// job. Tasks of different jobs live on disjoint subjects so workers of one job
// never take another's.
func OpenQueue(ctx context.Context, js jetstream.JetStream, job string, opts Options) (*Queue, error) {
	q := &Queue{js: js, job: job, opts: opts.withDefaults()}
	if _, err := q.Ensure(ctx); err != nil {
		return nil, err
	}
	return q, nil
}

func (q *Queue) streamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        TaskStream,
		Description: "s3load: one task per source file",
		Subjects:    []string{taskSubjects},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    q.opts.Replicas,
		Duplicates:  q.opts.DuplicateWindow,
	}
}

func (q *Queue) consumerConfig() jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       "workers-" + q.job,
		Description:   "s3load workers of job " + q.job,
		FilterSubject: "s3load.tasks." + q.job + ".>",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       q.opts.AckWait,
		// Workers decide when a file has had enough tries; the server never
		// drops a task on its own.
		MaxDeliver:    -1,
		MaxAckPending: maxAckPending,
		Replicas:      q.opts.Replicas,
	}
}

// Ensure checks that the task stream and the job's consumer exist, and
// creates what is missing. The generation it returns is the stream's
// creation time: a stream deleted and created again (here or by another
// process) has a new one, and its tasks are gone.
func (q *Queue) Ensure(ctx context.Context) (generation time.Time, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, err := q.ensureLocked(ctx); err != nil {
		return time.Time{}, err
	}
	return q.created, nil
}

func (q *Queue) ensureLocked(ctx context.Context) (recreated bool, err error) {
	s, err := q.js.Stream(ctx, TaskStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		s, err = q.js.CreateOrUpdateStream(ctx, q.streamConfig())
	}
	if err != nil {
		return false, fmt.Errorf("opening stream %s: %w", TaskStream, err)
	}
	created := s.CachedInfo().Created
	recreated = !q.created.IsZero() && !created.Equal(q.created)
	if q.created.IsZero() {
		// First sight: make sure the stream has our settings.
		if _, err := q.js.CreateOrUpdateStream(ctx, q.streamConfig()); err != nil {
			return false, fmt.Errorf("configuring stream %s: %w", TaskStream, err)
		}
	}
	q.created = created
	if recreated || q.cons == nil {
		cons, err := q.js.CreateOrUpdateConsumer(ctx, TaskStream, q.consumerConfig())
		if err != nil {
			return recreated, fmt.Errorf("creating consumer of job %s: %w", q.job, err)
		}
		q.cons = cons
	} else if _, err := q.cons.Info(ctx); errors.Is(err, jetstream.ErrConsumerNotFound) {
		q.cons = nil
		return q.ensureLocked(ctx)
	} else if err != nil {
		return false, fmt.Errorf("checking consumer of job %s: %w", q.job, err)
	}
	return recreated, nil
}

// Backlog counts a table's tasks not yet acknowledged: waiting to be
// delivered, or delivered and in work (or waiting out a retry delay). The
// stream keeps a task until it is acked, so its count on the table's
// subject is exactly that.
func (q *Queue) Backlog(ctx context.Context, table string) (int, error) {
	s, err := q.js.Stream(ctx, TaskStream)
	if err != nil {
		return 0, fmt.Errorf("reading stream %s: %w", TaskStream, err)
	}
	subject := q.subject(table)
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		return 0, fmt.Errorf("reading stream %s: %w", TaskStream, err)
	}
	return int(info.State.Subjects[subject]), nil
}

// Depth is the job's consumer's count of tasks waiting to be delivered
// (pending) and of tasks delivered and not yet acked (ackPending), for
// metrics.
func (q *Queue) Depth(ctx context.Context) (pending, ackPending int, err error) {
	cons, err := q.consumer(ctx)
	if err != nil {
		return 0, 0, err
	}
	info, err := cons.Info(ctx)
	if err != nil {
		q.forget(cons)
		return 0, 0, fmt.Errorf("reading consumer of job %s: %w", q.job, err)
	}
	return int(info.NumPending), info.NumAckPending, nil
}

func (q *Queue) subject(table string) string { return "s3load.tasks." + q.job + "." + table }

// Publish puts tasks on the queue, each under its ID (the stream drops a
// second publish of an ID within its duplicate window), and returns once the
// stream has stored them all. Publishing is asynchronous and pipelined:
// one round trip per batch, not per task. A task larger than the server's
// max payload fails with messages.ErrTooLarge.
func (q *Queue) Publish(ctx context.Context, tasks ...messages.Task) error {
	limit := q.js.Conn().MaxPayload()
	futures := make([]jetstream.PubAckFuture, 0, len(tasks))
	for _, task := range tasks {
		data, err := messages.Marshal(task)
		if err != nil {
			return fmt.Errorf("encoding task: %w", err)
		}
		if limit > 0 && int64(len(data)) > limit {
			return fmt.Errorf("task %s of table %s is %d bytes, over the NATS server's max_payload of %d: %w",
				task.ID, task.Table, len(data), limit, messages.ErrTooLarge)
		}
		msg := nats.NewMsg(q.subject(task.Table))
		msg.Data = data
		f, err := q.js.PublishMsgAsync(msg, jetstream.WithMsgID(task.ID), jetstream.WithStallWait(publishStallWait))
		if err != nil {
			return fmt.Errorf("publishing task %s of table %s: %w", task.ID, task.Table, err)
		}
		futures = append(futures, f)
	}
	for i, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			if errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) {
				// The stream is gone: make it again for the retry.
				_, _ = q.Ensure(ctx)
			}
			return fmt.Errorf("publishing task %s of table %s: %w", tasks[i].ID, tasks[i].Table, err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// consumer returns the job's consumer, creating it (and the stream) if
// needed.
func (q *Queue) consumer(ctx context.Context) (jetstream.Consumer, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.cons != nil {
		return q.cons, nil
	}
	if _, err := q.ensureLocked(ctx); err != nil {
		return nil, err
	}
	return q.cons, nil
}

// forget drops a consumer handle that failed, so the next call checks the
// stream and the consumer again (they may have been deleted).
func (q *Queue) forget(cons jetstream.Consumer) {
	q.mu.Lock()
	if q.cons == cons {
		q.cons = nil
	}
	q.mu.Unlock()
}

// Next waits up to the fetch wait for one task. It pulls exactly one message,
// so no task sits in a local buffer with its ack timer running. A pull that
// fails for another reason than an empty wait makes the next one check the
// stream and consumer again, recreating them if they are gone.
func (q *Queue) Next(ctx context.Context) (*Delivery, error) {
	cons, err := q.consumer(ctx)
	if err != nil {
		return nil, err
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(q.opts.FetchWait))
	if err != nil {
		q.forget(cons)
		return nil, fmt.Errorf("fetching a task: %w", err)
	}
	var msg jetstream.Msg
	select {
	case msg = <-batch.Messages():
	case <-ctx.Done():
		// The pull request expires on its own within FetchWait; a message it
		// still delivers is redelivered after AckWait.
		return nil, ctx.Err()
	}
	if msg == nil {
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			q.forget(cons)
			return nil, fmt.Errorf("fetching a task: %w", err)
		}
		return nil, ErrNoTask
	}
	meta, err := msg.Metadata()
	if err != nil {
		_ = msg.Term()
		return nil, fmt.Errorf("reading task metadata: %w", err)
	}
	task, err := messages.Unmarshal[messages.Task](msg.Data())
	if err != nil {
		// A task no version of this worker can read will never succeed here.
		_ = msg.TermWithReason(err.Error())
		return nil, fmt.Errorf("decoding task: %w", err)
	}
	return &Delivery{msg: msg, task: task, delivered: int(meta.NumDelivered)}, nil
}

// Delivery is one received task and the handle to settle it.
type Delivery struct {
	msg       jetstream.Msg
	task      messages.Task
	delivered int
}

func (d *Delivery) Task() messages.Task { return d.task }

// Delivered counts deliveries of this task, 1 the first time.
func (d *Delivery) Delivered() int { return d.delivered }

// InProgress resets the task's ack timer.
func (d *Delivery) InProgress(context.Context) error { return d.msg.InProgress() }

// Ack settles the task. It does not wait for the server's confirmation:
// the worker acks only after the file's record is final, so a lost ack costs
// one redelivery that finds the record final and acks again.
func (d *Delivery) Ack(context.Context) error { return d.msg.Ack() }

// Retry asks for redelivery after delay.
func (d *Delivery) Retry(_ context.Context, delay time.Duration) error {
	if delay <= 0 {
		return d.msg.Nak()
	}
	return d.msg.NakWithDelay(delay)
}

// Term drops the task for good.
func (d *Delivery) Term(_ context.Context, reason string) error {
	return d.msg.TermWithReason(reason)
}
