//! The transactional outbox, and the crash between a commit and a publish.
//!
//! A service with an outbox writes what it would publish as rows of its store's outbox table,
//! in the transaction of its store calls: the rows exist exactly when the business change does.
//! A relay (in the service's process: it stops while no replica is up) polls the table, publishes
//! rows in order with publisher confirms (a publish over a partitioned or lossy link is not
//! confirmed: the row stays, and the relay stops for this poll), then marks what it published
//! as sent with a store call; if that call fails, the rows are published again at the next poll.
//!
//! Without an outbox a service writes, then publishes: the dual write. A crash between the two
//! (the `crash_after_commit` fault) leaves the change committed and the message unpublished;
//! with an idempotent consumer's processed-messages row in the same commit, the redelivered
//! message is skipped as a duplicate, and the event is never published.

use std::collections::VecDeque;

use super::Engine;
use super::capture::LogKind;
use super::event::Ev;
use super::message::NONE;
use crate::time::Time;
use crate::topology::When;

/// A row of an outbox table: the message to publish, and the link it goes over.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Row {
    pub link: u32,
    pub root: u64,
    pub origin: Time,
    pub key: u64,
    pub event: u32,
    pub poison: u32,
    pub written: Time,
}

pub(crate) struct OutboxRt {
    pub poll: Time,
    pub batch: u32,
    pub rows: VecDeque<Row>,
    /// Rows it may hold at most (the run's memory bound); past that a row is not written and
    /// is counted in `full` (its event is lost, as a full table would refuse it).
    pub max_rows: usize,
    pub written: u64,
    pub published: u64,
    /// Rows published again because marking them sent failed.
    pub republished: u64,
    /// Publishes not confirmed (the broker unreachable): the row stayed.
    pub unconfirmed: u64,
    /// Rows refused for lack of room.
    pub full: u64,
    /// The oldest row's age at each poll, in ns, at most.
    pub lag_max: Time,
}

impl OutboxRt {
    pub fn new(poll: Time, batch: u32) -> OutboxRt {
        OutboxRt {
            poll: poll.max(1),
            batch,
            rows: VecDeque::new(),
            max_rows: usize::MAX,
            written: 0,
            published: 0,
            republished: 0,
            unconfirmed: 0,
            full: 0,
            lag_max: 0,
        }
    }
}

impl Engine {
    /// Service `s` committed `m`'s transaction: what it publishes on success becomes outbox
    /// rows. Returns how many it wrote (a row that finds the table full is left out).
    pub(super) fn outbox_write(&mut self, m: u32, s: u32) -> u32 {
        let now = self.now;
        let src = self.msgs[m];
        // A saga participant's rows answer the command it committed, as its publishes would.
        let answer = self.saga_reply(src.event, true);
        let mut n = 0;
        for i in 0..self.services[s as usize].publishes.len() {
            let svc = &mut self.services[s as usize];
            let link = svc.publishes[i];
            let l = &self.links[link as usize];
            if l.when != When::Success || !svc.rng.chance(l.probability) {
                continue;
            }
            let event = l.event.unwrap_or(if answer == NONE { src.event } else { answer });
            let key = match l.message_id {
                crate::topology::MessageId::Keep => src.key,
                crate::topology::MessageId::None => super::message::NO_KEY,
                // The row's own id, fixed when it is written: every publish of it carries it.
                crate::topology::MessageId::New => self.next_msg_id + 1 + u64::from(n),
            };
            let Some(ob) = self.services[s as usize].outbox.as_mut() else { return 0 };
            if ob.rows.len() >= ob.max_rows {
                ob.full += 1;
                continue;
            }
            ob.rows.push_back(Row {
                link,
                root: src.root,
                origin: src.origin,
                key,
                event,
                poison: src.poison,
                written: now,
            });
            ob.written += 1;
            n += 1;
        }
        // Ids taken by the rows' keys are not handed out again.
        self.next_msg_id += u64::from(n);
        n
    }

    /// The relay of service `s` polls its outbox.
    pub(super) fn on_outbox_poll(&mut self, s: u32) {
        self.n_events += 1;
        let now = self.now;
        let Some(ob) = self.services[s as usize].outbox.as_ref() else { return };
        self.events.push(now.saturating_add(ob.poll), Ev::OutboxPoll { service: s });
        if ob.rows.is_empty() || self.services[s as usize].replicas_up() == 0 {
            return;
        }
        let node = self.services[s as usize].node;
        self.last_node = node;
        let batch = (ob.batch as usize).min(ob.rows.len());
        let mut sent = 0;
        for i in 0..batch {
            let Some(ob) = self.services[s as usize].outbox.as_mut() else { return };
            let row = ob.rows[i];
            ob.lag_max = ob.lag_max.max(now - row.written);
            let l = &mut self.links[row.link as usize];
            // Publisher confirms: a publish the broker does not confirm is not sent.
            let lost = l.loss.is_some_and(|(rate, _)| l.rng.chance(rate));
            if l.partitioned.is_some() || lost {
                ob.unconfirmed += 1;
                break;
            }
            self.relay_publish(row);
            sent += 1;
        }
        if sent == 0 {
            return;
        }
        // Mark them sent: one store call over the service's first call link.
        let (store, link) = self.services[s as usize].calls[0];
        let (_, ok) = self.store_call(store, link);
        let Some(ob) = self.services[s as usize].outbox.as_mut() else { return };
        ob.published += sent as u64;
        if ok {
            ob.rows.drain(..sent);
        } else {
            ob.republished += sent as u64;
            self.log_event(node, LogKind::OutboxRepublish, sent as u32);
        }
    }

    fn relay_publish(&mut self, row: Row) {
        self.publish_new(row.link, |msg| {
            msg.root = row.root;
            msg.origin = row.origin;
            msg.key = row.key;
            msg.event = row.event;
            msg.poison = row.poison;
        });
    }

    /// A `crash_after_commit` fault on `s`: the replica `r` that just committed crashes now,
    /// before it publishes or acknowledges; it restarts at the fault's end. Returns whether it
    /// crashed.
    pub(super) fn crash_after_commit(&mut self, s: u32, r: u32) -> bool {
        let Some(f) = self.services[s as usize].crash_after_commit else { return false };
        let held = self.replica_down(s, r);
        let fr = &mut self.faults[f as usize];
        fr.affected += 1;
        if !fr.downed.contains(&r) {
            fr.downed.push(r);
        }
        let node = self.services[s as usize].node;
        self.log_event(node, LogKind::Crashed, held);
        true
    }
}

/// What an outbox and its relay did, for a report or a view.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OutboxStats {
    /// Rows written, each in its business change's transaction.
    pub written: u64,
    /// Publishes the relay made (the republished included).
    pub published: u64,
    /// Publishes made again because marking the rows sent failed: the consumer sees them twice.
    pub republished: u64,
    /// Publishes the broker did not confirm (unreachable): their rows stayed for the next poll.
    pub unconfirmed: u64,
    /// Rows waiting now.
    pub pending: u64,
    /// The oldest row's age at a poll, at most (ms).
    pub lag_max_ms: f64,
    /// Rows refused because the table held the run's memory bound of rows: their events are
    /// lost, as a full table's would be.
    #[serde(default)]
    pub full: u64,
}

impl Engine {
    /// The outbox of the service at `node` (`None`: it has none).
    pub fn outbox_stats(&self, node: usize) -> Option<OutboxStats> {
        let super::KindRef::Service(s) = self.nodes.get(node)?.kind else { return None };
        let ob = self.services[s as usize].outbox.as_deref()?;
        Some(OutboxStats {
            written: ob.written,
            published: ob.published,
            republished: ob.republished,
            unconfirmed: ob.unconfirmed,
            pending: ob.rows.len() as u64,
            lag_max_ms: crate::time::ns_to_ms(ob.lag_max),
            full: ob.full,
        })
    }
}
