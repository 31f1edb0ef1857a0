package natsq

import (
	"context"
	"errors"
	"fmt"
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
}

func (o Options) withDefaults() Options {
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	if o.AckWait == 0 {
		o.AckWait = time.Minute
	}
	if o.DuplicateWindow == 0 {
		o.DuplicateWindow = 10 * time.Minute
	}
	if o.FetchWait == 0 {
		o.FetchWait = 2 * time.Second
	}
	return o
}

// Queue is the work queue of one job's tasks.
type Queue struct {
	js   jetstream.JetStream
	job  string
	opts Options
	cons jetstream.Consumer
}

// OpenQueue creates or updates the task stream and returns the queue of
// job. Tasks of different jobs live on disjoint subjects so workers of one job
// never take another's.
func OpenQueue(ctx context.Context, js jetstream.JetStream, job string, opts Options) (*Queue, error) {
	opts = opts.withDefaults()
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        TaskStream,
		Description: "s3load: one task per source file",
		Subjects:    []string{taskSubjects},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    opts.Replicas,
		Duplicates:  opts.DuplicateWindow,
	})
	if err != nil {
		return nil, fmt.Errorf("creating stream %s: %w", TaskStream, err)
	}
	return &Queue{js: js, job: job, opts: opts}, nil
}

func (q *Queue) subject(table string) string { return "s3load.tasks." + q.job + "." + table }

// Publish puts tasks on the queue, each under its ID (the stream drops a
// second publish of an ID within its duplicate window), and returns once the
// stream has stored them all. Publishing is asynchronous and pipelined:
// one round trip per batch, not per task.
func (q *Queue) Publish(ctx context.Context, tasks ...messages.Task) error {
	futures := make([]jetstream.PubAckFuture, 0, len(tasks))
	for _, task := range tasks {
		data, err := messages.Marshal(task)
		if err != nil {
			return fmt.Errorf("encoding task: %w", err)
		}
		msg := nats.NewMsg(q.subject(task.Table))
		msg.Data = data
		f, err := q.js.PublishMsgAsync(msg, jetstream.WithMsgID(task.ID))
		if err != nil {
			return fmt.Errorf("publishing task %s of table %s: %w", task.ID, task.Table, err)
		}
		futures = append(futures, f)
	}
	for i, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("publishing task %s of table %s: %w", tasks[i].ID, tasks[i].Table, err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (q *Queue) consumer(ctx context.Context) (jetstream.Consumer, error) {
	if q.cons != nil {
		return q.cons, nil
	}
	cons, err := q.js.CreateOrUpdateConsumer(ctx, TaskStream, jetstream.ConsumerConfig{
		Durable:       "workers-" + q.job,
		Description:   "s3load workers of job " + q.job,
		FilterSubject: "s3load.tasks." + q.job + ".>",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       q.opts.AckWait,
		// Workers decide when a file has had enough tries; the server never
		// drops a task on its own.
		MaxDeliver:    -1,
		MaxAckPending: 10000,
		Replicas:      q.opts.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("creating consumer of job %s: %w", q.job, err)
	}
	q.cons = cons
	return cons, nil
}

// Next waits up to the fetch wait for one task. It pulls exactly one message,
// so no task sits in a local buffer with its ack timer running.
func (q *Queue) Next(ctx context.Context) (*Delivery, error) {
	cons, err := q.consumer(ctx)
	if err != nil {
		return nil, err
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(q.opts.FetchWait))
	if err != nil {
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
	return d.msg.NakWithDelay(delay)
}

// Term drops the task for good.
func (d *Delivery) Term(_ context.Context, reason string) error {
	return d.msg.TermWithReason(reason)
}
