//! Saga orchestrators: a service with a `saga` keeps one state machine per saga, keyed by the
//! id of the message that started it (its root: every command and reply of the saga carries
//! it). It sends a step's command, waits for its reply, and on a failure reply or a timeout
//! runs the compensations of the steps done, newest first. Replies it is not waiting for (a
//! duplicate, or one that comes after its timeout) are ignored and counted.
//!
//! With a saga log (a call link to a store, written while each message is handled) the sagas
//! survive a crash: when a replica is up again, each saga in progress sends its pending command
//! again and waits anew. Without one they live in the replica's memory and a crash loses them:
//! they are stuck for good.
//!
//! The participants' effects are followed too: a compensatable step's transaction is in effect
//! once its command is processed, and undone when its compensation is; a saga that ended
//! compensated with a transaction still in effect (a payment charged after its refund ran) is
//! inconsistent.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::Engine;
use super::capture::LogKind;
use super::event::Ev;
use super::message::NONE;
use crate::time::{Time, ms_to_ns};
use crate::topology::{Saga, StepRole};

/// Sagas an orchestrator remembers at most: past that, the oldest finished ones are forgotten
/// (their counts stay).
const MAX_SAGAS: usize = 100_000;
/// State changes a saga's history keeps.
const MAX_HISTORY: usize = 32;

/// Where a saga is (MassTransit's states: an initial one, one per step, and the final ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SagaState {
    /// Doing its steps; `step` is the one waiting for its reply.
    Running,
    /// Undoing its steps; `step` is the one whose compensation waits for its reply.
    Compensating,
    Completed,
    Compensated,
    /// A compensation got no reply after all its resends: failed while compensating.
    Failed,
    /// Lost in a crash of an orchestrator without a saga log: nothing will move it again.
    Stuck,
}

impl SagaState {
    pub const ALL: [SagaState; 6] = [
        SagaState::Running,
        SagaState::Compensating,
        SagaState::Completed,
        SagaState::Compensated,
        SagaState::Failed,
        SagaState::Stuck,
    ];

    pub fn is_final(self) -> bool {
        !matches!(self, SagaState::Running | SagaState::Compensating)
    }

    pub fn name(self) -> &'static str {
        match self {
            SagaState::Running => "running",
            SagaState::Compensating => "compensating",
            SagaState::Completed => "completed",
            SagaState::Compensated => "compensated",
            SagaState::Failed => "failed",
            SagaState::Stuck => "stuck",
        }
    }
}

/// An orchestrator's counts: sagas by state now, and what happened to them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SagaCounts {
    pub started: u64,
    pub running: u64,
    pub compensating: u64,
    pub completed: u64,
    pub compensated: u64,
    /// Failed while compensating.
    pub failed: u64,
    pub stuck: u64,
    /// Steps that waited past their timeout.
    pub timeouts: u64,
    /// Commands and compensations sent again (after a timeout, or a retriable step's failure).
    pub resent: u64,
    /// Replies the orchestrator was not waiting for: duplicates, and replies after a timeout.
    pub ignored_replies: u64,
    /// Commands their participant refused because their compensation had come first (its
    /// tombstone).
    pub refused_late: u64,
    /// Sagas read back from the log after a crash, to wait anew for their replies.
    pub recovered: u64,
}

impl SagaCounts {
    fn enter(&mut self, s: SagaState) {
        match s {
            SagaState::Running => self.running += 1,
            SagaState::Compensating => self.compensating += 1,
            SagaState::Completed => self.completed += 1,
            SagaState::Compensated => self.compensated += 1,
            SagaState::Failed => self.failed += 1,
            SagaState::Stuck => self.stuck += 1,
        }
    }

    fn leave(&mut self, s: SagaState) {
        match s {
            SagaState::Running => self.running -= 1,
            SagaState::Compensating => self.compensating -= 1,
            _ => {} // final states are never left
        }
    }

    pub fn in_state(&self, s: SagaState) -> u64 {
        match s {
            SagaState::Running => self.running,
            SagaState::Compensating => self.compensating,
            SagaState::Completed => self.completed,
            SagaState::Compensated => self.compensated,
            SagaState::Failed => self.failed,
            SagaState::Stuck => self.stuck,
        }
    }
}

/// One step at run time: interned event names (`NONE`: none) and the links that carry its
/// command and its compensation.
pub(crate) struct StepRt {
    pub command: u32,
    pub reply: u32,
    pub failure: u32,
    pub compensation: u32,
    pub compensation_reply: u32,
    pub timeout: Time,
    pub role: StepRole,
    pub command_links: Vec<u32>,
    pub compensation_links: Vec<u32>,
}

/// One saga.
#[derive(Clone, Debug)]
pub(crate) struct SagaRec {
    pub started: Time,
    pub origin: Time,
    pub state: SagaState,
    pub step: u8,
    /// Sends of the current command or compensation after the first.
    pub tries: u32,
    /// When the current step times out (`Time::MAX`: not waiting).
    pub deadline: Time,
    /// Guards a timeout event against a step that moved on since it was armed.
    pub generation: u32,
    /// Compensatable transactions in effect at the participants, a bit per step.
    pub applied: u32,
    /// Compensations the participants have processed, a bit per step (their tombstones).
    pub undone: u32,
    /// (when, state entered, step), oldest first.
    pub history: Vec<(Time, SagaState, u8)>,
}

pub(crate) struct SagaRt {
    pub start: u32,
    pub steps: Vec<StepRt>,
    pub resends: u32,
    /// It writes each saga's state to a log (a store) as it handles each message.
    pub durable: bool,
    pub sagas: FxHashMap<u64, SagaRec>,
    /// Roots in the order their sagas started, to forget the oldest finished ones.
    pub order: VecDeque<u64>,
    pub counts: SagaCounts,
    /// Every replica was down: the sagas wait for a recovery.
    pub down: bool,
}

/// What a message is to an orchestrator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reply {
    Done(usize),
    Failed(usize),
    Undone(usize),
}

impl SagaRt {
    /// Compiles `saga` with its interned names; `links_of(event)` gives the publish links
    /// that carry an event.
    pub fn new(
        saga: &Saga,
        durable: bool,
        intern: &mut impl FnMut(&str) -> u32,
        links_of: &impl Fn(&str) -> Vec<u32>,
    ) -> SagaRt {
        let steps = saga
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| StepRt {
                command: intern(&s.command),
                reply: intern(&s.reply),
                failure: s.failure.as_deref().map_or(NONE, &mut *intern),
                compensation: s.compensation.as_deref().map_or(NONE, &mut *intern),
                compensation_reply: s.compensation_reply.as_deref().map_or(NONE, &mut *intern),
                timeout: ms_to_ns(s.timeout_ms),
                role: saga.role(i),
                command_links: links_of(&s.command),
                compensation_links: s.compensation.as_deref().map(links_of).unwrap_or_default(),
            })
            .collect();
        SagaRt {
            start: intern(&saga.start),
            steps,
            resends: saga.resends,
            durable,
            sagas: FxHashMap::default(),
            order: VecDeque::new(),
            counts: SagaCounts::default(),
            down: false,
        }
    }

    fn reply_of(&self, event: u32) -> Option<Reply> {
        self.steps.iter().enumerate().find_map(|(i, s)| {
            if s.reply == event {
                Some(Reply::Done(i))
            } else if s.failure == event {
                Some(Reply::Failed(i))
            } else if s.compensation_reply == event {
                Some(Reply::Undone(i))
            } else {
                None
            }
        })
    }

    /// The newest step at or below `from` that has a compensation.
    fn compensatable_at_or_below(&self, from: Option<usize>) -> Option<usize> {
        let from = from?;
        (0..=from).rev().find(|&i| self.steps[i].compensation != NONE)
    }

    fn set_state(&mut self, root: u64, state: SagaState, step: usize, now: Time) {
        let Some(rec) = self.sagas.get_mut(&root) else { return };
        self.counts.leave(rec.state);
        self.counts.enter(state);
        rec.state = state;
        rec.step = step as u8;
        rec.tries = 0;
        rec.generation = rec.generation.wrapping_add(1);
        rec.deadline = Time::MAX;
        if rec.history.len() < MAX_HISTORY {
            rec.history.push((now, state, step as u8));
        }
    }

    /// Forgets the oldest finished saga once it holds too many.
    fn bound_memory(&mut self) {
        if self.sagas.len() <= MAX_SAGAS {
            return;
        }
        for _ in 0..self.order.len() {
            let Some(root) = self.order.pop_front() else { return };
            if self.sagas.get(&root).is_some_and(|r| r.state.is_final()) {
                self.sagas.remove(&root);
                return;
            }
            self.order.push_back(root);
        }
    }
}

/// What a saga's command (or compensation) is to the participant that processes it: the
/// orchestrator and step, whether it undoes the step, whether the step is compensatable (its
/// effect is followed), and the replies it answers with (`NONE`: none).
#[derive(Clone, Copy, Debug)]
pub(crate) struct EffectOf {
    pub service: u32,
    pub step: u8,
    pub undoes: bool,
    pub compensatable: bool,
    /// Its compensation leaves a tombstone that refuses a later command.
    pub tombstone: bool,
    pub reply: u32,
    pub failure: u32,
}

impl Engine {
    /// The orchestrator `s` handled `m` (its state written to the log, if it has one): a saga
    /// starts, moves on, compensates, or the reply is ignored. Returns the messages it sent.
    pub(super) fn saga_on_message(&mut self, m: u32, s: u32) -> u32 {
        let (event, root, origin) = (self.msgs[m].event, self.msgs[m].root, self.msgs[m].origin);
        let now = self.now;
        let node = self.services[s as usize].node;
        let Some(saga) = self.services[s as usize].saga.as_deref_mut() else { return 0 };
        if event == saga.start {
            if saga.sagas.contains_key(&root) {
                saga.counts.ignored_replies += 1;
                self.log(node, m, LogKind::SagaIgnored);
                return 0;
            }
            saga.sagas.insert(
                root,
                SagaRec {
                    started: now,
                    origin,
                    state: SagaState::Running,
                    step: 0,
                    tries: 0,
                    deadline: Time::MAX,
                    generation: 0,
                    applied: 0,
                    undone: 0,
                    history: Vec::with_capacity(6),
                },
            );
            saga.order.push_back(root);
            saga.counts.started += 1;
            saga.counts.enter(SagaState::Running);
            if let Some(rec) = saga.sagas.get_mut(&root) {
                rec.history.push((now, SagaState::Running, 0));
            }
            saga.bound_memory();
            self.log(node, m, LogKind::SagaStarted);
            return self.saga_send(s, root, false);
        }
        let waiting = saga.sagas.get(&root).map(|r| (r.state, r.step as usize));
        let reply = saga.reply_of(event);
        match (reply, waiting) {
            (Some(Reply::Done(k)), Some((SagaState::Running, at))) if at == k => {
                if k + 1 == saga.steps.len() {
                    saga.set_state(root, SagaState::Completed, k, now);
                    self.log(node, m, LogKind::SagaCompleted);
                    0
                } else {
                    saga.set_state(root, SagaState::Running, k + 1, now);
                    self.saga_send(s, root, false)
                }
            }
            (Some(Reply::Failed(k)), Some((SagaState::Running, at))) if at == k => {
                if saga.steps[k].role == StepRole::Retriable {
                    // A retriable step must succeed: ask again.
                    saga.counts.resent += 1;
                    self.saga_send(s, root, false)
                } else {
                    self.log(node, m, LogKind::SagaCompensating);
                    self.saga_compensate(s, root, k.checked_sub(1))
                }
            }
            (Some(Reply::Undone(k)), Some((SagaState::Compensating, at))) if at == k => {
                self.saga_compensate(s, root, k.checked_sub(1))
            }
            _ => {
                saga.counts.ignored_replies += 1;
                self.log(node, m, LogKind::SagaIgnored);
                0
            }
        }
    }

    /// Compensates the newest step at or below `from` that has a compensation, or ends the
    /// saga compensated when none is left.
    fn saga_compensate(&mut self, s: u32, root: u64, from: Option<usize>) -> u32 {
        let now = self.now;
        let node = self.services[s as usize].node;
        let Some(saga) = self.services[s as usize].saga.as_deref_mut() else { return 0 };
        match saga.compensatable_at_or_below(from) {
            Some(j) => {
                saga.set_state(root, SagaState::Compensating, j, now);
                self.saga_send(s, root, true)
            }
            None => {
                saga.set_state(root, SagaState::Compensated, from.unwrap_or(0), now);
                self.log_root(node, root, LogKind::SagaCompensated);
                0
            }
        }
    }

    /// Sends the current step's command (or compensation) of saga `root` and arms its timeout.
    fn saga_send(&mut self, s: u32, root: u64, compensation: bool) -> u32 {
        let now = self.now;
        let Some(saga) = self.services[s as usize].saga.as_deref_mut() else { return 0 };
        let Some(rec) = saga.sagas.get_mut(&root) else { return 0 };
        let k = rec.step as usize;
        let step = &saga.steps[k];
        rec.deadline = now.saturating_add(step.timeout);
        let (origin, generation, deadline) = (rec.origin, rec.generation, rec.deadline);
        let n_links = if compensation { step.compensation_links.len() } else { step.command_links.len() };
        let (root_lo, root_hi) = (root as u32, (root >> 32) as u32);
        let service = s;
        self.events.push(deadline, Ev::SagaTimeout { service, root_lo, root_hi, generation });
        for i in 0..n_links {
            let saga = self.services[s as usize].saga.as_deref().expect("an orchestrator");
            let step = &saga.steps[k];
            let link = if compensation { step.compensation_links[i] } else { step.command_links[i] };
            let event = if compensation { step.compensation } else { step.command };
            self.publish_new(link, |msg| {
                msg.root = root;
                msg.origin = origin;
                msg.key = msg.id;
                msg.event = event;
            });
        }
        n_links as u32
    }

    /// A step's timeout may be due: a compensatable step or the pivot is compensated (itself
    /// included: it may have happened, its reply late), a retriable step or a compensation is
    /// sent again (a compensation only `resends` times: then the saga has failed).
    pub(super) fn on_saga_timeout(&mut self, s: u32, root: u64, generation: u32) {
        self.n_events += 1;
        let node = self.services[s as usize].node;
        let now = self.now;
        let Some(saga) = self.services[s as usize].saga.as_deref_mut() else { return };
        if saga.down {
            return; // no replica is up: the recovery sends again
        }
        let Some(rec) = saga.sagas.get_mut(&root) else { return };
        if rec.generation != generation || rec.state.is_final() || rec.deadline > now {
            return;
        }
        let (state, k) = (rec.state, rec.step as usize);
        saga.counts.timeouts += 1;
        self.log_root(node, root, LogKind::SagaTimeout);
        let saga = self.services[s as usize].saga.as_deref_mut().expect("an orchestrator");
        match (state, saga.steps[k].role) {
            (SagaState::Running, StepRole::Retriable) => {
                saga.counts.resent += 1;
                self.saga_send(s, root, false);
            }
            (SagaState::Running, _) => {
                self.saga_compensate(s, root, Some(k));
            }
            (_, _) => {
                let Some(rec) = saga.sagas.get_mut(&root) else { return };
                if rec.tries < saga.resends {
                    rec.tries += 1;
                    saga.counts.resent += 1;
                    self.saga_send(s, root, true);
                } else {
                    saga.set_state(root, SagaState::Failed, k, now);
                    self.log_root(node, root, LogKind::SagaFailed);
                }
            }
        }
    }

    /// A replica of orchestrator `s` went down; with none left up, its sagas wait (with a log)
    /// or are lost (without).
    pub(super) fn saga_replica_down(&mut self, s: u32) {
        if self.services[s as usize].replicas_up() > 0 {
            return;
        }
        let now = self.now;
        let Some(saga) = self.services[s as usize].saga.as_deref_mut() else { return };
        saga.down = true;
        if saga.durable {
            return;
        }
        let lost: Vec<(u64, u8)> =
            saga.sagas.iter().filter(|(_, r)| !r.state.is_final()).map(|(root, r)| (*root, r.step)).collect();
        for &(root, step) in &lost {
            saga.set_state(root, SagaState::Stuck, step as usize, now);
        }
        let node = self.services[s as usize].node;
        self.log_event(node, LogKind::SagasLost, lost.len() as u32);
    }

    /// A replica of orchestrator `s` is up after all were down: with a log, each saga in
    /// progress reads its state back and waits anew for its reply, a whole timeout from now.
    /// Nothing is sent again: the commands sent before the crash are in their queues, and the
    /// replies that came meanwhile wait in the orchestrator's; a timeout catches what was lost.
    pub(super) fn saga_replica_up(&mut self, s: u32) {
        let Some(saga) = self.services[s as usize].saga.as_deref_mut() else { return };
        if !std::mem::take(&mut saga.down) || !saga.durable {
            return;
        }
        let now = self.now;
        let mut pending: Vec<(Time, u64)> =
            saga.sagas.iter().filter(|(_, r)| !r.state.is_final()).map(|(root, r)| (r.started, *root)).collect();
        // In the order they started: the same run gives the same order of events.
        pending.sort_unstable();
        saga.counts.recovered += pending.len() as u64;
        for (_, root) in pending {
            let Some(rec) = saga.sagas.get_mut(&root) else { continue };
            rec.generation = rec.generation.wrapping_add(1);
            rec.deadline = now.saturating_add(saga.steps[rec.step as usize].timeout);
            let (root_lo, root_hi, generation) = (root as u32, (root >> 32) as u32, rec.generation);
            self.events.push(rec.deadline, Ev::SagaTimeout { service: s, root_lo, root_hi, generation });
        }
    }

    /// A participant processed `m`: if it does or undoes a saga's compensatable step, the
    /// saga's effects change. Returns whether the participant refused it: a command that came
    /// after its compensation's tombstone.
    pub(super) fn saga_effect(&mut self, m: u32) -> bool {
        let Some(Some(e)) = self.saga_effects.get(self.msgs[m].event as usize).copied() else { return false };
        if !e.compensatable {
            return false;
        }
        let root = self.msgs[m].root;
        let Some(saga) = self.services[e.service as usize].saga.as_deref_mut() else { return false };
        let Some(rec) = saga.sagas.get_mut(&root) else { return false };
        let bit = 1 << e.step;
        if e.undoes {
            rec.applied &= !bit;
            rec.undone |= bit;
        } else if e.tombstone && rec.undone & bit != 0 {
            saga.counts.refused_late += 1;
            return true;
        } else {
            rec.applied |= bit;
        }
        false
    }

    /// The reply a participant answers a consumed `event` with: the step's reply on success,
    /// its failure reply on a failure for good (`NONE`: `event` is no saga command).
    pub(super) fn saga_reply(&self, event: u32, success: bool) -> u32 {
        match self.saga_effects.get(event as usize).copied().flatten() {
            Some(e) if success => e.reply,
            Some(e) => e.failure,
            None => NONE,
        }
    }

    /// A participant failed `m` for good (rejected, out of retries, refused after its
    /// compensation's tombstone): a saga command with a failure reply is answered with it, over
    /// the links that carry its replies. Returns the messages sent.
    pub(super) fn saga_failure_reply(&mut self, m: u32, s: u32) -> u32 {
        match self.saga_reply(self.msgs[m].event, false) {
            NONE => 0,
            failure => self.publish_as(m, s, crate::topology::When::Success, failure),
        }
    }
}

/// A saga as a view lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SagaSummary {
    /// The saga's id: the root id of the message that started it.
    pub id: u64,
    pub state: SagaState,
    /// The step it waits for (running, compensating), or where it ended.
    pub step: u32,
    pub started_ms: f64,
    /// When its current wait times out (running, compensating).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<f64>,
    /// Resends of its current command or compensation.
    #[serde(default)]
    pub tries: u32,
    /// Compensatable steps whose transaction is in effect at their participants.
    #[serde(default)]
    pub applied: Vec<u32>,
    /// Its state changes: (time in ms, state entered, step).
    #[serde(default)]
    pub history: Vec<(f64, SagaState, u32)>,
}

impl Engine {
    /// An orchestrator's counts (`None`: the node is not one).
    pub fn saga_counts(&self, node: usize) -> Option<SagaCounts> {
        self.saga_of(node).map(|g| g.counts)
    }

    /// Whether the orchestrator at `node` keeps a saga log.
    pub fn saga_durable(&self, node: usize) -> bool {
        self.saga_of(node).is_some_and(|g| g.durable)
    }

    fn saga_of(&self, node: usize) -> Option<&SagaRt> {
        match self.nodes.get(node)?.kind {
            super::KindRef::Service(s) => self.services[s as usize].saga.as_deref(),
            _ => None,
        }
    }

    /// An orchestrator's sagas, newest first: those in `state` (any without), whose id contains
    /// `search`, at most `limit`; with their histories when `detail`.
    pub fn saga_list(
        &self,
        node: usize,
        state: Option<SagaState>,
        search: &str,
        limit: usize,
        detail: bool,
    ) -> Vec<SagaSummary> {
        let Some(saga) = self.saga_of(node) else { return Vec::new() };
        let ms = crate::time::ns_to_ms;
        saga.order
            .iter()
            .rev()
            .filter_map(|root| Some((*root, saga.sagas.get(root)?)))
            .filter(|(_, r)| state.is_none_or(|s| r.state == s))
            .filter(|(root, _)| search.is_empty() || root.to_string().contains(search))
            .take(limit)
            .map(|(root, r)| SagaSummary {
                id: root,
                state: r.state,
                step: u32::from(r.step),
                started_ms: ms(r.started),
                deadline_ms: (r.deadline != Time::MAX && !r.state.is_final()).then(|| ms(r.deadline)),
                tries: r.tries,
                applied: (0..32).filter(|b| r.applied & (1 << b) != 0).collect(),
                history: if detail {
                    r.history.iter().map(|&(t, s, k)| (ms(t), s, u32::from(k))).collect()
                } else {
                    Vec::new()
                },
            })
            .collect()
    }

    /// Sagas of the orchestrator at `node` that ended without completing (compensated, failed
    /// or stuck) with a compensatable transaction still in effect: an order charged and
    /// cancelled, inventory held for an order that will never ship.
    pub fn sagas_inconsistent(&self, node: usize) -> u64 {
        self.saga_of(node).map_or(0, |g| {
            g.sagas.values().filter(|r| r.state.is_final() && r.state != SagaState::Completed && r.applied != 0).count()
                as u64
        })
    }
}
