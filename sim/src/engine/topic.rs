//! Partitioned topics: an event goes to the partition of its key and stays in the log; each
//! consuming service is a consumer group with its own offsets.
//!
//! A group's partition is held as an internal queue of the events it has not committed yet
//! (the log from the group's committed offset to its end), so delivery, prefetch, crashes and
//! redelivery work as they do for queues. What differs: a partition delivers only to the
//! replica it is assigned to, one event at a time (the next only once the last is committed),
//! and when the group's replicas change its partitions are assigned again. A partition that
//! moves while an event is in flight has that event delivered again to its new consumer; the
//! old one finishes it too, but cannot commit it (a zombie), so it is processed twice.
//!
//! Each group's consumers check the order they commit in: per key (the producer's sequence
//! numbers) and across keys (the order of production).

use rustc_hash::FxHashMap;

use super::Engine;
use super::capture::LogKind;
use super::message::{NONE, Where};
use super::runtime::QueueRt;
use crate::time::Time;

/// A group's partition: which replica it is assigned to, and the event in flight there.
#[derive(Clone, Debug)]
pub(crate) struct PartRt {
    pub owner: u32,
    pub inflight: u32,
    /// Its lag gauge's area at the start of the current second (the topic's series).
    pub area_before: u128,
}

pub(crate) struct GroupRt {
    pub service: u32,
    /// The partitions' queues, by partition.
    pub parts: Vec<u32>,
    pub rebalances: u64,
    /// Events delivered again because their partition moved while they were in flight.
    pub redelivered: u64,
}

pub(crate) struct TopicRt {
    pub node: u32,
    pub partitions: u32,
    pub retention: Option<Time>,
    pub groups: Vec<GroupRt>,
    /// Events appended per partition (each partition's end offset).
    pub appended: Vec<u64>,
    /// Round-robin partition for events without a key.
    pub next: u32,
}

/// A consumer's view of the order it committed events in.
#[derive(Debug, Default)]
pub(crate) struct OrderCheck {
    /// The last sequence number committed per key.
    pub last: FxHashMap<u32, u32>,
    /// The newest root committed (roots grow in the order producers emit).
    pub newest_root: u64,
    /// Events committed before an event of their key they followed.
    pub per_key: u64,
    /// Events committed after an event produced later (of another key).
    pub across_keys: u64,
    /// Events of a key committed again (its sequence number seen already).
    pub repeats: u64,
    /// Events a zombie finished after its partition moved: not committed.
    pub zombies: u64,
}

/// What a group did, for a report or a view.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct GroupStats {
    /// The consuming service.
    pub group: String,
    /// Events not yet committed, per partition (the log's end minus the committed offset).
    pub lag: Vec<u64>,
    /// Their sum.
    pub lag_total: u64,
    /// The largest lag any partition had.
    pub lag_max: u64,
    pub rebalances: u64,
    pub redelivered: u64,
    /// Events deleted by retention before the group read them.
    pub expired: u64,
}

/// What a topic holds, for a report or a view.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TopicStats {
    pub partitions: u32,
    /// Events appended, per partition.
    pub appended: Vec<u64>,
    pub groups: Vec<GroupStats>,
}

/// A consumer group's order, for a report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct OrderStats {
    pub per_key_violations: u64,
    pub across_keys_inversions: u64,
    pub repeats: u64,
    pub zombies: u64,
}

impl Engine {
    /// An event reaches topic `t`: appended to its key's partition, a copy for each group.
    pub(super) fn at_topic(&mut self, m: u32, t: u32) {
        self.n_events += 1;
        let tp = &mut self.topics[t as usize];
        let node = tp.node;
        self.last_node = node;
        let key = self.msgs[m].pkey;
        let p = if key == NONE {
            tp.next = (tp.next + 1) % tp.partitions;
            tp.next
        } else {
            key % tp.partitions
        };
        tp.appended[p as usize] += 1;
        let groups = tp.groups.len();
        if groups == 0 {
            // Kept in the log, read by no one: it leaves the books here.
            self.nodes[node as usize].second.inflow += 1;
            self.msgs[m].at = Where::Transit;
            self.end_consumed(m, super::accounting::Consumed::Completed);
            return;
        }
        for g in 0..groups {
            let q = self.topics[t as usize].groups[g].parts[p as usize];
            let c = if g + 1 == groups { m } else { self.copy_message(m) };
            self.enqueue(c, q);
        }
    }

    /// The partition queue `q` may deliver: to its owner, if nothing of it is in flight.
    pub(super) fn partition_consumer(&self, q: u32) -> Option<(u32, u32, u32)> {
        let qr = &self.queues[q as usize];
        let part = qr.part.as_ref()?;
        if part.owner == NONE || part.inflight != NONE {
            return None;
        }
        let (s, link) = *qr.consumers.first()?;
        let svc = &self.services[s as usize];
        let rep = svc.replicas.get(part.owner as usize)?;
        let cut = qr.cut > 0 && self.links[link as usize].partitioned.is_some();
        (rep.up && rep.unacked < svc.prefetch && !cut).then_some((s, part.owner, link))
    }

    /// A consumer `r` of service `s` with room polls its partitions: the oldest event at the
    /// head of any of them first, so that one consumer commits its partitions' events in the
    /// order they were appended.
    pub(super) fn poll_partitions(&mut self, s: u32, r: u32) {
        loop {
            let mut oldest: Option<(Time, u32)> = None;
            for &q in &self.services[s as usize].inputs {
                let qr = &self.queues[q as usize];
                let Some(part) = qr.part.as_ref() else { continue };
                if part.owner != r || part.inflight != NONE {
                    continue;
                }
                if let Some(&head) = qr.ready.front() {
                    let at = self.msgs[head].enqueued;
                    if oldest.is_none_or(|(t, _)| at < t) {
                        oldest = Some((at, q));
                    }
                }
            }
            let Some((_, q)) = oldest else { return };
            let delivered = self.queues[q as usize].delivered;
            self.dispatch(q);
            if self.queues[q as usize].delivered == delivered {
                return; // the consumer is full
            }
        }
    }

    /// Assigns the partitions of every group of service `s` to its replicas up, round robin (the
    /// range assignor's spread): a partition that moves while an event of it is in flight has
    /// that event delivered again to its new owner.
    pub(super) fn rebalance(&mut self, s: u32) {
        let up: Vec<u32> = self.services[s as usize]
            .replicas
            .iter()
            .enumerate()
            .filter(|(_, r)| r.up)
            .map(|(i, _)| i as u32)
            .collect();
        for t in 0..self.topics.len() {
            for g in 0..self.topics[t].groups.len() {
                if self.topics[t].groups[g].service != s {
                    continue;
                }
                let mut moved = false;
                for p in 0..self.topics[t].partitions as usize {
                    let q = self.topics[t].groups[g].parts[p];
                    let owner = if up.is_empty() { NONE } else { up[p % up.len()] };
                    let Some(part) = self.queues[q as usize].part.as_mut() else { continue };
                    if part.owner == owner {
                        continue;
                    }
                    moved = true;
                    part.owner = owner;
                    let inflight = std::mem::replace(&mut part.inflight, NONE);
                    if inflight != NONE {
                        self.revoke(inflight, q);
                        self.topics[t].groups[g].redelivered += 1;
                    }
                }
                if moved {
                    self.topics[t].groups[g].rebalances += 1;
                    let node = self.topics[t].node;
                    self.log_event(node, LogKind::Rebalanced, up.len() as u32);
                    for p in 0..self.topics[t].partitions as usize {
                        let q = self.topics[t].groups[g].parts[p];
                        self.dispatch(q);
                    }
                }
            }
        }
    }

    /// The event `m` in flight on partition queue `q` is revoked: a copy goes back to the head
    /// of the partition for its new owner; the original, a zombie, can no longer commit.
    fn revoke(&mut self, m: u32, q: u32) {
        self.msgs[m].revoked = true;
        let c = self.copy_message(m);
        let now = self.now;
        let msg = &mut self.msgs[c];
        msg.revoked = false;
        msg.redelivered = true;
        msg.at = Where::Ready;
        msg.service = NONE;
        msg.enqueued = now;
        let qr = &mut self.queues[q as usize];
        qr.redelivered += 1;
        qr.ready.push_front(c);
        qr.depth.set(now, qr.ready.len() as u64);
        let node = qr.node;
        self.log(node, c, LogKind::Redelivered);
    }

    /// A consumer of a topic committed `m` (or a zombie finished it): its order is checked.
    pub(super) fn check_order(&mut self, m: u32, s: u32) {
        let msg = self.msgs[m];
        let Some(oc) = self.services[s as usize].order.as_deref_mut() else { return };
        if msg.revoked {
            oc.zombies += 1;
            return;
        }
        if msg.root < oc.newest_root {
            oc.across_keys += 1;
        }
        oc.newest_root = oc.newest_root.max(msg.root);
        if msg.pkey == NONE {
            return;
        }
        match oc.last.get(&msg.pkey) {
            Some(&last) if msg.seq < last => oc.per_key += 1,
            Some(&last) if msg.seq == last => oc.repeats += 1,
            _ => {
                oc.last.insert(msg.pkey, msg.seq);
            }
        }
    }

    /// The topic at `node` (`None`: the node is not one).
    pub fn topic_stats(&self, node: usize) -> Option<TopicStats> {
        let super::KindRef::Topic(t) = self.nodes.get(node)?.kind else { return None };
        let tp = &self.topics[t as usize];
        let groups = tp
            .groups
            .iter()
            .map(|g| {
                let qs = g.parts.iter().map(|&q| &self.queues[q as usize]);
                let lag: Vec<u64> = qs.clone().map(|q| q.ready.len() as u64 + q.unacked.min(1)).collect();
                GroupStats {
                    group: self.nodes[self.services[g.service as usize].node as usize].id.clone(),
                    lag_total: lag.iter().sum(),
                    lag,
                    lag_max: qs.clone().map(|q| q.depth.max()).max().unwrap_or(0),
                    rebalances: g.rebalances,
                    redelivered: g.redelivered,
                    expired: qs.map(|q| q.expired).sum(),
                }
            })
            .collect();
        Some(TopicStats { partitions: tp.partitions, appended: tp.appended.clone(), groups })
    }

    /// The order the service at `node` committed a topic's events in (`None`: it reads none).
    pub fn order_stats(&self, node: usize) -> Option<OrderStats> {
        let super::KindRef::Service(s) = self.nodes.get(node)?.kind else { return None };
        let oc = self.services[s as usize].order.as_deref()?;
        Some(OrderStats {
            per_key_violations: oc.per_key,
            across_keys_inversions: oc.across_keys,
            repeats: oc.repeats,
            zombies: oc.zombies,
        })
    }

    /// Events of topic `t` not yet committed by its groups, and in flight.
    pub(super) fn topic_lag(&self, t: u32) -> (u64, u64) {
        let tp = &self.topics[t as usize];
        tp.groups.iter().flat_map(|g| g.parts.iter()).fold((0, 0), |(ready, busy), &q| {
            let q = &self.queues[q as usize];
            (ready + q.ready.len() as u64, busy + q.unacked)
        })
    }
}

/// The queue of a group's partition: the topic's retention is its TTL.
pub(crate) fn partition_queue(node: u32, retention: Option<Time>) -> QueueRt {
    let mut q = QueueRt::new(node);
    q.ttl = retention;
    q.part = Some(PartRt { owner: NONE, inflight: NONE, area_before: 0 });
    q
}
