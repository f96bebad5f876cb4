//! The message books. Every message copy is created by exactly one source and ended by exactly
//! one sink, and the difference is what is in the system; `docs/accounting.md` explains the
//! terms. A dead-lettered message leaves the books of live messages (it is counted as
//! dead-lettered) and is followed in its own small ledger while it sits in a dead-letter queue
//! or is handled there.

use serde::Serialize;

use super::Engine;
use super::capture::LogKind;
use super::message::{NONE, Where};

/// Messages dropped, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Drops {
    /// A full queue: reject-publish, or drop-head without a dead-letter link.
    pub overflow: u64,
    /// An exchange routed it nowhere.
    pub unroutable: u64,
    /// Rejected by its consumer, with no dead-letter link.
    pub rejected: u64,
    /// Its TTL passed, with no dead-letter link.
    pub expired: u64,
    /// A gateway's rate limit answered 429.
    #[serde(skip_serializing_if = "is_zero")]
    pub throttled: u64,
    /// The broker refused publishes (memory alarm): the API behind a gateway answered 503.
    #[serde(skip_serializing_if = "is_zero")]
    pub refused: u64,
    /// Shed by its consumer: older than its deadline when a worker took it.
    #[serde(skip_serializing_if = "is_zero")]
    pub shed: u64,
    /// Lost on a faulty link (a lossy one, or an unreliable one partitioned).
    #[serde(skip_serializing_if = "is_zero")]
    pub lost: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Drops {
    pub fn total(&self) -> u64 {
        self.overflow
            + self.unroutable
            + self.rejected
            + self.expired
            + self.throttled
            + self.refused
            + self.shed
            + self.lost
    }
}

/// Why a message is dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DropReason {
    Overflow,
    Unroutable,
    Rejected,
    Expired,
    /// A dead letter that would go round a dead-letter cycle again (only dead letters).
    Cycle,
    /// A gateway's rate limit: 429.
    Throttled,
    /// The broker refuses publishes: 503.
    Refused,
    /// Past its deadline when a worker took it.
    Shed,
    /// Lost on a faulty link.
    Lost,
}

/// Dead letters after they were dead-lettered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeadLedger {
    /// Extra copies made by routing a dead letter to several queues.
    pub copied: u64,
    /// Consumed by a service (a failed-order handler).
    pub consumed: u64,
    /// Dropped on the way or in the dead-letter queue.
    pub dropped: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Ledger {
    /// Emitted by producers.
    pub produced: u64,
    /// Published by services.
    pub published: u64,
    /// Extra copies: one message routed to several queues, or published on several links.
    pub copied: u64,
    /// Acknowledged by a service that published nothing for it (a leaf).
    pub completed: u64,
    /// Acknowledged by a service that published onwards (its publishes carry it on).
    pub forwarded: u64,
    /// Acknowledged and skipped by a dedup store.
    pub duplicates_skipped: u64,
    /// Dead-lettered (each message once, however often it is dead-lettered again).
    pub dead_lettered: u64,
    pub dropped: Drops,
    pub dead: DeadLedger,
}

impl Ledger {
    /// Live messages: created and not yet ended or dead-lettered.
    pub fn in_system(&self) -> u64 {
        let created = self.produced + self.published + self.copied;
        let ended =
            self.completed + self.forwarded + self.duplicates_skipped + self.dead_lettered + self.dropped.total();
        created - ended
    }

    /// Dead letters still in the system (in dead-letter queues, or being handled).
    pub fn dead_in_system(&self) -> u64 {
        self.dead_lettered + self.dead.copied - self.dead.consumed - self.dead.dropped
    }
}

/// How a consumed message ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Consumed {
    Completed,
    Forwarded,
    Duplicate,
}

impl Engine {
    /// A new message, not yet counted by any source.
    pub(super) fn new_message(&mut self) -> u32 {
        let m = self.msgs.alloc();
        self.next_msg_id += 1;
        self.msgs[m].id = self.next_msg_id;
        m
    }

    /// A copy of `src` (fan-out), counted as a copy.
    pub(super) fn copy_message(&mut self, src: u32) -> u32 {
        let m = self.msgs.clone_of(src);
        self.next_msg_id += 1;
        self.msgs[m].id = self.next_msg_id;
        if self.msgs[m].dead {
            self.ledger.dead.copied += 1;
        } else {
            self.ledger.copied += 1;
        }
        m
    }

    pub(super) fn end_consumed(&mut self, m: u32, how: Consumed) {
        if self.msgs[m].dead {
            self.ledger.dead.consumed += 1;
        } else {
            match how {
                Consumed::Completed => self.ledger.completed += 1,
                Consumed::Forwarded => self.ledger.forwarded += 1,
                Consumed::Duplicate => self.ledger.duplicates_skipped += 1,
            }
        }
        self.msgs.free(m);
    }

    /// Drops `m` at `node` for `reason`.
    pub(super) fn drop_message(&mut self, m: u32, node: u32, reason: DropReason) {
        if self.msgs[m].dead {
            self.ledger.dead.dropped += 1;
        } else {
            let d = &mut self.ledger.dropped;
            match reason {
                DropReason::Overflow => d.overflow += 1,
                DropReason::Unroutable => d.unroutable += 1,
                // Only a dead letter can cycle; a live message never reaches this arm.
                DropReason::Rejected | DropReason::Cycle => d.rejected += 1,
                DropReason::Expired => d.expired += 1,
                DropReason::Throttled => d.throttled += 1,
                DropReason::Refused => d.refused += 1,
                DropReason::Shed => d.shed += 1,
                DropReason::Lost => d.lost += 1,
            }
        }
        self.nodes[node as usize].second.dropped += 1;
        let kind = match reason {
            DropReason::Overflow => LogKind::Overflow,
            DropReason::Unroutable => LogKind::Unroutable,
            DropReason::Rejected => LogKind::Dropped,
            DropReason::Expired => LogKind::Expired,
            DropReason::Cycle => LogKind::Cycle,
            DropReason::Throttled => LogKind::Throttled,
            DropReason::Refused => LogKind::Refused,
            DropReason::Shed => LogKind::Shed,
            DropReason::Lost => LogKind::Lost,
        };
        self.log(node, m, kind);
        self.msgs.free(m);
    }

    /// Marks `m` dead-lettered (the first time only).
    pub(super) fn mark_dead(&mut self, m: u32) {
        if !self.msgs[m].dead {
            self.msgs[m].dead = true;
            self.ledger.dead_lettered += 1;
        }
    }

    /// The books balance: the messages alive in the slab are exactly those the ledger says are
    /// in the system. Cheap enough to run after every event in debug builds.
    #[cfg(debug_assertions)]
    pub(super) fn assert_books_balance(&self) {
        let l = &self.ledger;
        debug_assert_eq!(
            self.msgs.live(),
            l.in_system() + l.dead_in_system(),
            "message books do not balance at t={} ns: {l:?}",
            self.now
        );
    }

    /// A thorough check of the books, walking every message and queue: for tests.
    ///
    /// - the ledger's live and dead counts equal the messages found in the slab;
    /// - each queue's ready list holds exactly the slab's ready messages of that queue;
    /// - each replica's busy and unacknowledged counts equal the messages held there.
    pub fn check_conservation(&self) -> Result<(), String> {
        let l = &self.ledger;
        let (mut live, mut dead) = (0u64, 0u64);
        let mut ready = vec![0usize; self.queues.len()];
        let mut held: std::collections::HashMap<(u32, u32), (u32, u32)> = std::collections::HashMap::new();
        for (_, m) in self.msgs.iter_live() {
            if m.dead {
                dead += 1
            } else {
                live += 1
            }
            match m.at {
                Where::Ready => {
                    *ready.get_mut(m.queue as usize).ok_or("a ready message names no queue")? += 1;
                }
                Where::Delivering | Where::Prefetched | Where::Processing | Where::Backoff | Where::Acking => {
                    if m.service == NONE {
                        return Err(format!("message {} is held by no service", m.id));
                    }
                    let rep = &self.services[m.service as usize].replicas[m.replica as usize];
                    if m.at == Where::Delivering && m.epoch != rep.epoch {
                        continue; // on its way to a replica that went down since
                    }
                    let e = held.entry((m.service, m.replica)).or_default();
                    e.0 += 1;
                    if m.at == Where::Processing {
                        e.1 += 1;
                    }
                }
                Where::Transit | Where::Free => {}
            }
        }
        if self.msgs.live() != live + dead {
            return Err(format!("the slab counts {} live messages, {} are marked live", self.msgs.live(), live + dead));
        }
        if live != l.in_system() || dead != l.dead_in_system() {
            return Err(format!(
                "ledger says {} live and {} dead, the slab holds {live} live and {dead} dead: {l:?}",
                l.in_system(),
                l.dead_in_system()
            ));
        }
        for (q, n) in ready.iter().enumerate() {
            if self.queues[q].ready.len() != *n {
                return Err(format!(
                    "queue {} lists {} ready, {n} are marked ready",
                    self.nodes[self.queues[q].node as usize].id,
                    self.queues[q].ready.len()
                ));
            }
        }
        for (si, s) in self.services.iter().enumerate() {
            for (ri, r) in s.replicas.iter().enumerate() {
                let (unacked, busy) = held.get(&(si as u32, ri as u32)).copied().unwrap_or_default();
                if r.up && (r.unacked != unacked || r.busy != busy) {
                    return Err(format!(
                        "{} replica {ri}: counts {} unacked and {} busy, holds {unacked} and {busy}",
                        self.nodes[s.node as usize].id, r.unacked, r.busy
                    ));
                }
            }
        }
        Ok(())
    }
}
