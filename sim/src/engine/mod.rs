//! The discrete-event engine.
//!
//! An [`Engine`] is built from a validated [`Model`](crate::Model) and driven by its caller:
//! [`Engine::step`] handles one event, [`Engine::step_until`] advances the clock. Pausing is the
//! caller's (it stops calling); parameters change between steps with [`Engine::apply`]. What
//! moved is read back cheaply and in bounded amounts ([`Engine::take_hops`],
//! [`Engine::take_logs`]), and every message is accounted for at every event ([`Ledger`]).
//!
//! The hot loop works on flat tables of `u32` indices (see `runtime.rs`); a message's slot is
//! reused when it leaves, routing is cached, and nothing is allocated per event in the steady
//! state.

mod accounting;
mod alarm;
mod autoscale;
mod breaker;
mod build;
mod capture;
mod client;
mod consumer;
mod control;
mod cpu;
mod event;
mod faults;
mod gateway;
mod message;
mod outbox;
mod producer;
mod queue;
mod retry;
mod routing;
mod run;
mod runtime;
mod saga;
mod tick;
mod topic;

pub use accounting::{DeadLedger, Drops, Ledger};
pub use alarm::MemoryAlarm;
pub use breaker::BreakerState;
pub use capture::{Hop, Level, LogEvent, LogKind};
pub use control::{Change, ChangeError};
pub use faults::{FaultError, MAX_FAULTS};
pub use outbox::OutboxStats;
pub use runtime::{KindRef, NodeTotals};
pub use saga::{SagaCounts, SagaState, SagaSummary};
pub use topic::{GroupStats, OrderStats, TopicStats};

use capture::Capture;
use event::{Ev, EventQueue};
use message::Slab;
use runtime::{ExchangeRt, GatewayRt, Interner, LinkRt, NodeRt, ProducerRt, QueueRt, RouteCache, ServiceRt, StoreRt};

use crate::stats::{Point, Ring};
use crate::time::Time;

/// How an engine is set up; everything but the model.
#[derive(Clone, Debug)]
pub struct Options {
    /// Overrides the topology's seed.
    pub seed: Option<u64>,
    /// Statistics ignore messages produced before this time.
    pub warmup: Time,
    /// Points kept per node in the per-second series (0: none).
    pub series_capacity: usize,
    /// Hops kept between two `take_hops` (0: hops are not recorded).
    pub hop_capacity: usize,
    /// Log events kept between two `take_logs` (0: not recorded).
    pub log_capacity: usize,
    /// Messages the run may hold before the broker's memory alarm blocks producers (`None`: no
    /// limit). See [`MemoryAlarm`].
    pub memory_watermark: Option<u64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: None,
            warmup: 0,
            series_capacity: 600,
            hop_capacity: 0,
            log_capacity: 0,
            memory_watermark: None,
        }
    }
}

/// Why a run cannot go on.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Halt {
    #[error(transparent)]
    Stall(#[from] Stall),
    #[error(transparent)]
    Overload(#[from] Overload),
}

/// The run holds twice its memory watermark although the alarm blocks every producer: its
/// services publish more than they consume (a publish loop), and only stopping bounds memory.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error(
    "the simulation was stopped at {time_s} s: it holds {held} messages, twice its limit of {watermark}, although the memory alarm blocks every producer; services publish more than they consume (a publish loop near \"{node}\")"
)]
pub struct Overload {
    pub time_s: f64,
    pub held: u64,
    pub watermark: u64,
    pub node: String,
}

/// The simulation went round a loop that takes no simulated time (for example a message
/// requeued for ever by a service that fails instantly): the clock cannot advance.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error(
    "the simulation is stuck at {time_s} s: {events} events happened without the clock moving (a loop that takes no time, near \"{node}\")"
)]
pub struct Stall {
    pub time_s: f64,
    pub events: u64,
    pub node: String,
}

/// Events at one instant beyond which the engine reports a [`Stall`].
const STALL_EVENTS: u64 = 2_000_000;

/// The live state of a node, for a view to draw.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct NodeState {
    /// Ready messages (queues).
    pub depth: u64,
    /// Delivered and not yet acknowledged (queues: by all consumers; services: held).
    pub unacked: u64,
    /// Busy workers (services).
    pub busy: u64,
    /// Workers up: replicas up × concurrency (services).
    pub workers: u64,
    pub replicas_up: u32,
    pub replicas: u32,
    /// Dedup keys held (stores).
    pub keys: u64,
    /// Millicores in use, all replicas (services with CPU work).
    pub cpu_m: u64,
}

pub struct Engine {
    now: Time,
    events: EventQueue,
    msgs: Slab,
    next_msg_id: u64,
    /// Events handled: every arrival, delivery, end of processing, expiry... whether it went
    /// through the event list or happened at the same instant as its cause.
    n_events: u64,
    /// Of those, the ones that went through the event list.
    n_scheduled: u64,
    seed: u64,
    warmup: Time,
    next_tick: Time,
    /// Producers stop once they have emitted this many in all (`--messages`).
    budget: Option<u64>,
    nodes: Vec<NodeRt>,
    links: Vec<LinkRt>,
    producers: Vec<ProducerRt>,
    exchanges: Vec<ExchangeRt>,
    queues: Vec<QueueRt>,
    services: Vec<ServiceRt>,
    stores: Vec<StoreRt>,
    gateways: Vec<GatewayRt>,
    topics: Vec<topic::TopicRt>,
    /// Clients' requests waiting for answers.
    requests: client::Requests,
    faults: Vec<faults::FaultRt>,
    syms: Interner,
    routes: RouteCache,
    ledger: Ledger,
    hops: Capture<Hop>,
    /// Messages that have crossed each link so far (counted whether or not hops are captured).
    crossings: Vec<u64>,
    logs: Capture<LogEvent>,
    /// Events handled at the current instant, and the node last involved (stall detection).
    same_instant: u64,
    last_node: u32,
    name: String,
    /// The broker's memory alarm (RabbitMQ's high watermark, counted in messages held).
    alarm: MemoryAlarm,
    /// Reused buffers, so that routing and publishing allocate nothing per event.
    scratch_pairs: Vec<(u32, u32)>,
    /// (message copy, routing destination) of the exchange routing now.
    scratch_dests: Vec<(u32, usize)>,
    /// By event symbol: the saga step a participant's processing of it does or undoes (empty
    /// without orchestrators).
    saga_effects: Vec<Option<saga::EffectOf>>,
}

impl Engine {
    pub fn now(&self) -> Time {
        self.now
    }

    /// Events handled so far: every arrival at an exchange or a queue, delivery to a consumer,
    /// end of a processing attempt, emission, expiry, retry and rate change, whether it was
    /// scheduled or happened at the same instant as the event that caused it.
    pub fn events(&self) -> u64 {
        self.n_events
    }

    /// Events that went through the event list (a subset of [`Engine::events`]).
    pub fn scheduled_events(&self) -> u64 {
        self.n_scheduled
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn warmup(&self) -> Time {
        self.warmup
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The time of the next event, if any.
    pub fn next_event_time(&self) -> Option<Time> {
        self.events.peek_time()
    }

    /// Handles the next event; returns its time, or `None` when nothing is left to happen.
    pub fn step(&mut self) -> Option<Time> {
        let (t, ev) = self.events.pop()?;
        debug_assert!(t >= self.now, "event {ev:?} scheduled in the past ({t} < {})", self.now);
        if t >= self.next_tick {
            self.close_seconds(t);
        }
        if t == self.now {
            self.same_instant += 1;
        } else {
            self.same_instant = 0;
        }
        self.now = t;
        self.n_scheduled += 1;
        self.handle(ev);
        #[cfg(debug_assertions)]
        self.assert_books_balance();
        Some(t)
    }

    /// Handles every event up to and including `t`, then sets the clock to `t`.
    pub fn step_until(&mut self, t: Time) -> Result<(), Halt> {
        self.step_until_bounded(t, u64::MAX).map(|_| ())
    }

    /// Like [`Engine::step_until`], but handles at most `max_events` scheduled events: `Ok(true)`
    /// once the clock is at `t`, `Ok(false)` if the budget ran out first (call again to go on).
    /// A caller that shares a machine slices long advances this way.
    pub fn step_until_bounded(&mut self, t: Time, max_events: u64) -> Result<bool, Halt> {
        let mut budget = max_events;
        while let Some(next) = self.events.peek_time() {
            if next > t {
                break;
            }
            if budget == 0 {
                return Ok(false);
            }
            budget -= 1;
            self.step();
            if self.same_instant > STALL_EVENTS {
                return Err(Halt::Stall(Stall {
                    time_s: crate::time::ns_to_s(self.now),
                    events: self.same_instant,
                    node: self.last_node_id(),
                }));
            }
            if self.msgs.live() > self.alarm.ceiling() {
                return Err(Halt::Overload(Overload {
                    time_s: crate::time::ns_to_s(self.now),
                    held: self.msgs.live(),
                    watermark: self.alarm.watermark,
                    node: self.last_node_id(),
                }));
            }
        }
        if t > self.now {
            if t >= self.next_tick {
                self.close_seconds(t);
            }
            self.now = t;
        }
        Ok(true)
    }

    fn last_node_id(&self) -> String {
        self.nodes.get(self.last_node as usize).map_or(String::new(), |n| n.id.clone())
    }

    /// The broker's memory alarm: its watermark, whether it is on, what it blocked.
    pub fn memory_alarm(&self) -> &MemoryAlarm {
        &self.alarm
    }

    /// Stops producers once they have emitted `n` messages in all (`None`: no limit).
    pub fn set_message_budget(&mut self, n: Option<u64>) {
        self.budget = n;
    }

    /// Whether producers may still emit: no budget, or budget not yet spent.
    pub fn producing(&self) -> bool {
        self.budget.is_none_or(|b| self.ledger.produced < b)
    }

    /// The message books.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Messages in the system now (not yet ended, not dead-lettered).
    pub fn in_system(&self) -> u64 {
        self.ledger.in_system()
    }

    /// Message slots ever allocated: memory follows the peak in the system, not the total.
    pub fn message_capacity(&self) -> usize {
        self.msgs.capacity()
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn node_id(&self, node: usize) -> &str {
        &self.nodes[node].id
    }

    pub fn node_kind(&self, node: usize) -> KindRef {
        self.nodes[node].kind
    }

    /// The name of an interned event type or routing key.
    pub fn symbol(&self, sym: u32) -> &str {
        self.syms.name(sym)
    }

    /// Messages that have crossed each link (topology order) since the start: a view's link
    /// rates are the differences between two reads.
    pub fn link_crossings(&self) -> &[u64] {
        &self.crossings
    }

    /// A node's flows up to the last whole simulated second.
    pub fn node_totals(&self, node: usize) -> NodeTotals {
        self.nodes[node].totals
    }

    /// The per-second series of a node, oldest first.
    pub fn series(&self, node: usize) -> &Ring<Point> {
        &self.nodes[node].series
    }

    /// The latency a node's charts show, over the measured period: a queue's (or a gateway's)
    /// wait, a service's processing; `None` for the kinds with none (producers, exchanges,
    /// stores, topics).
    pub fn node_latency(&self, node: usize) -> Option<&crate::stats::LatencyStat> {
        match self.nodes[node].kind {
            KindRef::Queue(q) => Some(&self.queues[q as usize].wait),
            KindRef::Gateway(g) => Some(&self.queues[self.gateways[g as usize].queue as usize].wait),
            KindRef::Service(s) => Some(&self.services[s as usize].processing_stat),
            _ => None,
        }
    }

    pub fn node_state(&self, node: usize) -> NodeState {
        match self.nodes[node].kind {
            KindRef::Queue(q) => {
                let q = &self.queues[q as usize];
                NodeState { depth: q.ready.len() as u64, unacked: q.unacked, ..Default::default() }
            }
            KindRef::Service(s) => {
                let s = &self.services[s as usize];
                NodeState {
                    unacked: s.replicas.iter().map(|r| u64::from(r.unacked)).sum(),
                    busy: s.busy.value(),
                    workers: s.workers.value(),
                    replicas_up: s.replicas_up(),
                    replicas: s.wanted,
                    cpu_m: s.cpu_use.value(),
                    ..Default::default()
                }
            }
            KindRef::Store(s) => NodeState { keys: self.stores[s as usize].seen.len() as u64, ..Default::default() },
            KindRef::Gateway(g) => {
                // The requests it accepted that wait for a worker of the services behind it.
                let q = &self.queues[self.gateways[g as usize].queue as usize];
                NodeState { depth: q.ready.len() as u64, unacked: q.unacked, ..Default::default() }
            }
            KindRef::Topic(t) => {
                let (depth, unacked) = self.topic_lag(t);
                NodeState { depth, unacked, ..Default::default() }
            }
            _ => NodeState::default(),
        }
    }

    pub(crate) fn producer_rt(&self, i: u32) -> &ProducerRt {
        &self.producers[i as usize]
    }
    pub(crate) fn gateway_rt(&self, i: u32) -> &GatewayRt {
        &self.gateways[i as usize]
    }
    pub(crate) fn exchange_rt(&self, i: u32) -> &ExchangeRt {
        &self.exchanges[i as usize]
    }
    pub(crate) fn queue_rt(&self, i: u32) -> &QueueRt {
        &self.queues[i as usize]
    }
    pub(crate) fn service_rt(&self, i: u32) -> &ServiceRt {
        &self.services[i as usize]
    }
    pub(crate) fn store_rt(&self, i: u32) -> &StoreRt {
        &self.stores[i as usize]
    }
    pub(crate) fn link_rt(&self, i: u32) -> &LinkRt {
        &self.links[i as usize]
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Emit { producer, generation } => self.on_emit(producer, generation),
            Ev::RateStep { producer } => self.on_rate_step(producer),
            Ev::AtExchange { msg, exchange } => self.at_exchange(msg, exchange),
            Ev::AtQueue { msg, queue } => self.enqueue(msg, queue),
            Ev::AtTopic { msg, topic } => self.at_topic(msg, topic),
            Ev::AtGateway { msg, gateway, client } => self.at_gateway(msg, gateway, client),
            Ev::AtReplica { msg, service, replica, epoch } => self.on_at_replica(msg, service, replica, epoch),
            Ev::Done { msg, service, replica, epoch, outcome } => self.on_done(msg, service, replica, epoch, outcome),
            Ev::RetryReady { msg, service, replica, epoch } => self.on_retry_ready(msg, service, replica, epoch),
            Ev::Expire { queue } => self.on_expire(queue),
            Ev::Restart { service, replica, epoch } => self.on_restart(service, replica, epoch),
            Ev::Warmup => self.on_warmup(),
            Ev::CpuDone { service, replica, epoch, generation } => {
                self.on_cpu_done(service, replica, epoch, generation)
            }
            Ev::Autoscale { service } => self.on_autoscale(service),
            Ev::ScaledUp { service } => self.on_scaled_up(service),
            Ev::ClientTimeout { root_lo, root_hi, attempt } => self.on_client_timeout(root_lo, root_hi, attempt),
            Ev::ClientRetry { root_lo, root_hi } => self.on_client_retry(root_lo, root_hi),
            Ev::UserSends { producer, user } => self.on_user_sends(producer, user),
            Ev::FaultStart { fault } => self.on_fault_start(fault),
            Ev::FaultEnd { fault } => self.on_fault_end(fault),
            Ev::Acked { msg, service, replica, epoch, forwarded } => {
                self.on_acked(msg, service, replica, epoch, forwarded)
            }
            Ev::CallEnded { link, ok } => self.on_call_ended(link, ok),
            Ev::BreakerHalfOpen { link, generation } => self.on_breaker_half_open(link, generation),
            Ev::OutboxPoll { service } => self.on_outbox_poll(service),
            Ev::SagaTimeout { service, root_lo, root_hi, generation } => {
                self.on_saga_timeout(service, u64::from(root_lo) | (u64::from(root_hi) << 32), generation)
            }
        }
    }

    fn on_warmup(&mut self) {
        self.n_events += 1;
        let now = self.now;
        for q in &mut self.queues {
            q.depth.mark(now);
        }
        for s in &mut self.services {
            s.busy.mark(now);
            s.workers.mark(now);
            s.cpu_use.mark(now);
            s.up.mark(now);
        }
    }
}
