//! What a view reads back after a step: the hops messages made and notable events, each kept
//! in a bounded buffer; past the bound only a count is kept, so a slow reader costs nothing.

use serde::{Deserialize, Serialize};

use super::Engine;
use crate::time::Time;

/// A message crossing a link (start and end in simulated time; equal for an instant hop).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Hop {
    pub msg: u64,
    pub root: u64,
    /// Index of the link in the topology.
    pub link: u32,
    pub from: u32,
    pub to: u32,
    /// Interned event type: see [`Engine::symbol`].
    pub event: u32,
    pub start: Time,
    pub end: Time,
    pub dead: bool,
    /// Delivered again after a requeue or a crash.
    pub redelivered: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Warn,
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogKind {
    /// A processing attempt failed.
    Failed,
    /// A failed attempt will be retried after a back-off.
    Retry,
    DeadLettered,
    Duplicate,
    /// Returned to its queue (requeue or crash) and delivered again later.
    Redelivered,
    Overflow,
    Expired,
    Unroutable,
    /// Rejected by its consumer with nowhere to dead-letter it.
    Dropped,
    /// A dead letter dropped because it would go round a dead-letter cycle again.
    Cycle,
    /// The broker's memory alarm went off: the run holds its limit of messages, and publishers
    /// are blocked until consumers catch up (RabbitMQ's high watermark).
    MemoryAlarm,
    /// The memory alarm cleared: publishers may publish again.
    AlarmCleared,
    /// A replica crashed (`count`: the messages it held, redelivered).
    Crashed,
    /// A crashed replica is up again.
    Restarted,
    /// A gateway's rate limit answered 429.
    Throttled,
    /// The broker refused publishes: the API behind a gateway answered 503.
    Refused,
    /// The autoscaler asked for more replicas (`count`: how many in all).
    ScaledUp,
    /// The autoscaler removed replicas (`count`: how many are left).
    ScaledDown,
    /// A scheduled fault started at the node (`count`: its index in the file's `faults`).
    FaultStarted,
    /// A scheduled fault ended (`count`: its index).
    FaultEnded,
    /// A retry refused by the retry budget: the message goes to the error queue.
    BudgetRefused,
    /// Older than its deadline when a worker took it: dropped unprocessed.
    Shed,
    /// Processed again after its effects were done once (redelivered before its ack).
    DuplicateProcessed,
    /// A dead-letter handler parked a message past its redrive bound.
    Parked,
    /// Lost on a faulty link.
    Lost,
    /// A circuit breaker opened (`count`: the failed calls in its window).
    BreakerOpened,
    /// A circuit breaker lets probes through.
    BreakerHalfOpen,
    /// A circuit breaker closed again.
    BreakerClosed,
    /// An orchestrator started a saga (`root`: the saga's id).
    SagaStarted,
    /// A saga's steps are all done.
    SagaCompleted,
    /// A step failed: the saga undoes the steps done, newest first.
    SagaCompensating,
    /// A saga's compensations are all done.
    SagaCompensated,
    /// A compensation got no reply after all its resends: failed while compensating.
    SagaFailed,
    /// A saga's step waited past its timeout.
    SagaTimeout,
    /// A reply the orchestrator was not waiting for (a duplicate, or late): ignored.
    SagaIgnored,
    /// An outbox relay could not mark what it published as sent: it publishes it again
    /// (`count`: how many).
    OutboxRepublish,
    /// A consumer group's partitions were assigned again (`count`: its consumers now).
    Rebalanced,
    /// An orchestrator without a saga log crashed: its sagas in progress are lost (`count`).
    SagasLost,
}

impl LogKind {
    /// What happened, in a few words, as a log view shows it.
    pub fn describe(self) -> &'static str {
        match self {
            LogKind::Failed => "failed",
            LogKind::Retry => "retry",
            LogKind::DeadLettered => "dead-lettered",
            LogKind::Duplicate => "duplicate skipped",
            LogKind::Redelivered => "redelivered",
            LogKind::Overflow => "overflow",
            LogKind::Expired => "expired",
            LogKind::Unroutable => "unroutable",
            LogKind::Dropped => "dropped",
            LogKind::Cycle => "dead-letter cycle: dropped",
            LogKind::MemoryAlarm => "memory alarm: producers blocked",
            LogKind::AlarmCleared => "memory alarm cleared",
            LogKind::Crashed => "replica crashed",
            LogKind::Restarted => "replica restarted",
            LogKind::Throttled => "rate limited (429)",
            LogKind::Refused => "broker refused (503)",
            LogKind::ScaledUp => "scaled up",
            LogKind::ScaledDown => "scaled down",
            LogKind::FaultStarted => "fault started",
            LogKind::FaultEnded => "fault ended",
            LogKind::BudgetRefused => "retry budget spent: not retried",
            LogKind::Shed => "shed: past its deadline",
            LogKind::DuplicateProcessed => "processed twice",
            LogKind::Parked => "parked",
            LogKind::Lost => "lost on a faulty link",
            LogKind::BreakerOpened => "circuit breaker opened",
            LogKind::BreakerHalfOpen => "circuit breaker half-open",
            LogKind::BreakerClosed => "circuit breaker closed",
            LogKind::SagaStarted => "saga started",
            LogKind::SagaCompleted => "saga completed",
            LogKind::SagaCompensating => "saga compensating",
            LogKind::SagaCompensated => "saga compensated",
            LogKind::SagaFailed => "saga failed while compensating",
            LogKind::SagaTimeout => "saga step timed out",
            LogKind::SagaIgnored => "saga reply ignored (duplicate or late)",
            LogKind::SagasLost => "sagas lost with the orchestrator's memory",
            LogKind::OutboxRepublish => "outbox rows not marked sent: published again",
            LogKind::Rebalanced => "consumer group rebalanced",
        }
    }

    pub fn level(self) -> Level {
        match self {
            LogKind::Duplicate
            | LogKind::Redelivered
            | LogKind::Retry
            | LogKind::AlarmCleared
            | LogKind::Restarted
            | LogKind::ScaledUp
            | LogKind::ScaledDown
            | LogKind::FaultEnded
            | LogKind::BreakerHalfOpen
            | LogKind::BreakerClosed
            | LogKind::SagaStarted
            | LogKind::SagaCompleted
            | LogKind::SagaCompensated
            | LogKind::SagaIgnored
            | LogKind::Rebalanced => Level::Info,
            LogKind::Failed
            | LogKind::DeadLettered
            | LogKind::Expired
            | LogKind::Crashed
            | LogKind::Throttled
            | LogKind::FaultStarted
            | LogKind::BudgetRefused
            | LogKind::Shed
            | LogKind::Parked
            | LogKind::BreakerOpened
            | LogKind::SagaCompensating
            | LogKind::SagaTimeout
            | LogKind::OutboxRepublish => Level::Warn,
            LogKind::Overflow
            | LogKind::Unroutable
            | LogKind::Dropped
            | LogKind::Cycle
            | LogKind::MemoryAlarm
            | LogKind::Refused
            | LogKind::DuplicateProcessed
            | LogKind::Lost
            | LogKind::SagaFailed
            | LogKind::SagasLost => Level::Error,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct LogEvent {
    pub time: Time,
    pub level: Level,
    pub kind: LogKind,
    pub node: u32,
    pub msg: u64,
    pub root: u64,
    pub event: u32,
    /// How many, for an event that counts something (a crash: the messages redelivered).
    pub count: u32,
}

#[derive(Debug)]
pub(crate) struct Capture<T> {
    cap: usize,
    buf: Vec<T>,
    missed: u64,
}

impl<T> Capture<T> {
    pub fn new(cap: usize) -> Self {
        Capture { cap, buf: Vec::with_capacity(cap.min(4096)), missed: 0 }
    }

    #[inline]
    pub fn on(&self) -> bool {
        self.cap > 0
    }

    #[inline]
    pub fn push(&mut self, x: T) {
        if self.buf.len() < self.cap {
            self.buf.push(x);
        } else {
            self.missed += 1;
        }
    }

    /// Moves up to `max` items into `out` (oldest first); returns how many were not delivered
    /// (over `max`, or missed for lack of room since the last take). The buffer is emptied.
    pub fn take(&mut self, max: usize, out: &mut Vec<T>) -> u64 {
        let n = self.buf.len().min(max);
        let rest = (self.buf.len() - n) as u64 + self.missed;
        out.extend(self.buf.drain(..n));
        self.buf.clear();
        self.missed = 0;
        rest
    }
}

impl Engine {
    /// Hops since the last call, at most `max` (a view's budget per frame) appended to `out`;
    /// returns the number of hops left out.
    pub fn take_hops(&mut self, max: usize, out: &mut Vec<Hop>) -> u64 {
        self.hops.take(max, out)
    }

    /// Notable events since the last call, at most `max`; returns the number left out.
    pub fn take_logs(&mut self, max: usize, out: &mut Vec<LogEvent>) -> u64 {
        self.logs.take(max, out)
    }

    #[inline]
    pub(super) fn record_hop(&mut self, m: u32, link: u32, start: Time, end: Time) {
        self.crossings[link as usize] += 1;
        if self.hops.on() {
            let msg = &self.msgs[m];
            let l = &self.links[link as usize];
            let hop = Hop {
                msg: msg.id,
                root: msg.root,
                link,
                from: l.from,
                to: l.to,
                event: msg.event,
                start,
                end,
                dead: msg.dead,
                redelivered: msg.redelivered,
            };
            self.hops.push(hop);
        }
    }

    #[inline]
    /// Logs an event of a node that concerns no one message (the memory alarm, a crash):
    /// message 0, and what it counts.
    pub(super) fn log_event(&mut self, node: u32, kind: LogKind, count: u32) {
        if self.logs.on() {
            let e = LogEvent { time: self.now, level: kind.level(), kind, node, msg: 0, root: 0, event: 0, count };
            self.logs.push(e);
        }
    }

    /// Logs an event of a node about a chain of messages rather than one (a saga: `root` is its
    /// id).
    pub(super) fn log_root(&mut self, node: u32, root: u64, kind: LogKind) {
        self.last_node = node;
        if self.logs.on() {
            let e = LogEvent { time: self.now, level: kind.level(), kind, node, msg: 0, root, event: 0, count: 0 };
            self.logs.push(e);
        }
    }

    pub(super) fn log(&mut self, node: u32, m: u32, kind: LogKind) {
        self.last_node = node;
        if self.logs.on() {
            let msg = &self.msgs[m];
            let e = LogEvent {
                time: self.now,
                level: kind.level(),
                kind,
                node,
                msg: msg.id,
                root: msg.root,
                event: msg.event,
                count: 0,
            };
            self.logs.push(e);
        }
    }
}
