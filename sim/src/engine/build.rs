//! Building an engine from a validated model: the model's graph compiled into flat tables.

use std::collections::VecDeque;

use petgraph::visit::EdgeRef;

use super::capture::Capture;
use super::event::{Ev, EventQueue};
use super::message::Slab;
use super::runtime::*;
use super::{Engine, KindRef, Options};
use crate::rng::Stream;
use crate::stats::{BatchMeans, Gauge, LatencyStat, Ring};
use crate::time::{Time, ms_to_ns, s_to_ns};
use crate::topology::{HeadersMatch, LinkRole, Model, NodeKind, When};

/// Dedup keys a run may hold per message of its memory watermark.
pub const DEDUP_KEYS_PER_MESSAGE: u64 = 10;

impl Engine {
    pub fn new(model: &Model, opts: &Options) -> Engine {
        let topo = model.topology();
        let seed = opts.seed.unwrap_or(topo.seed);
        let mut syms = Interner::default();
        syms.intern(""); // symbol 0: the empty routing key

        // Per-kind tables, in node order.
        let mut nodes = Vec::with_capacity(topo.nodes.len());
        let (mut producers, mut exchanges, mut queues, mut services, mut stores, mut gateways) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        let mut topics: Vec<super::topic::TopicRt> = vec![];
        for (i, n) in topo.nodes.iter().enumerate() {
            let node = i as u32;
            let rng = Stream::new(seed, &n.id);
            let kind = match &n.kind {
                NodeKind::Producer(p) => {
                    producers.push(ProducerRt {
                        node,
                        // A closed loop's users send at their own pace: no rate.
                        rate: if p.users.is_some() { 0.0 } else { p.rate_per_s },
                        arrival: p.arrival,
                        event: syms.intern(p.event.as_deref().unwrap_or(&n.id)),
                        limit: p.limit,
                        emitted: 0,
                        blocked: 0,
                        schedule: if p.users.is_some() {
                            Vec::new()
                        } else {
                            p.schedule.iter().map(|s| (s_to_ns(s.at_s), s.rate_per_s)).collect()
                        },
                        next_step: 0,
                        links: Vec::new(),
                        rng,
                        generation: 0,
                        via_gateway: false,
                        burst: None,
                        keys: p.keys.unwrap_or(0),
                        key_seq: vec![0; p.keys.unwrap_or(0) as usize],
                        client: p.is_client().then(|| super::client::ClientRt {
                            timeout: p.timeout_ms.map(ms_to_ns),
                            retry: p.retries.clone(),
                            budget: p.retries.as_ref().and_then(|r| r.budget.clone()).map(super::retry::Bucket::new),
                            idempotent: p.idempotency_key,
                            think: p.think_ms.clone(),
                            ..Default::default()
                        }),
                    });
                    KindRef::Producer(producers.len() as u32 - 1)
                }
                NodeKind::Exchange(x) => {
                    exchanges.push(ExchangeRt {
                        node,
                        kind: x.kind,
                        bindings: Vec::new(),
                        alternate: None,
                        routed: 0,
                        unroutable: 0,
                    });
                    KindRef::Exchange(exchanges.len() as u32 - 1)
                }
                NodeKind::Queue(q) => {
                    let mut rt = QueueRt::new(node);
                    rt.max_length = q.max_length;
                    rt.overflow = q.overflow;
                    rt.ttl = q.message_ttl_ms.map(ms_to_ns);
                    rt.delivery_limit = q.delivery_limit;
                    queues.push(rt);
                    KindRef::Queue(queues.len() as u32 - 1)
                }
                NodeKind::Topic(t) => {
                    topics.push(super::topic::TopicRt {
                        node,
                        partitions: t.partitions,
                        retention: t.retention_ms.map(ms_to_ns),
                        groups: Vec::new(),
                        appended: vec![0; t.partitions as usize],
                        next: 0,
                    });
                    KindRef::Topic(topics.len() as u32 - 1)
                }
                NodeKind::Gateway(g) => {
                    // Accepted requests wait in a queue of the gateway's own (unbounded, no
                    // dead-letter link) for the services it routes to.
                    let mut q = QueueRt::new(node);
                    q.answers = true;
                    queues.push(q);
                    gateways.push(GatewayRt {
                        node,
                        queue: queues.len() as u32 - 1,
                        rate: g.average / (g.period_s * crate::time::NS_PER_S as f64),
                        burst: f64::from(g.burst),
                        latency: g.latency.clone().filter(|d| !d.is_zero()),
                        rng,
                        buckets: Vec::new(),
                        accepted: 0,
                        rejected: 0,
                        unavailable: 0,
                    });
                    KindRef::Gateway(gateways.len() as u32 - 1)
                }
                NodeKind::Service(s) => {
                    let mut workers = Gauge::default();
                    let pool = if s.unbounded() { 0 } else { u64::from(s.concurrency) };
                    workers.set(0, u64::from(s.replicas) * pool);
                    services.push(ServiceRt {
                        node,
                        processing: s.processing.clone(),
                        failure_rate: s.failure_rate,
                        on_failure: s.on_failure.clone(),
                        concurrency: s.concurrency,
                        prefetch: s.effective_prefetch(),
                        replicas: (0..s.replicas).map(|_| Replica::new()).collect(),
                        inputs: Vec::new(),
                        publishes: Vec::new(),
                        calls: Vec::new(),
                        dedup: None,
                        rng,
                        busy: Gauge::default(),
                        workers,
                        util_batches: BatchMeans::default(),
                        processing_stat: LatencyStat::default(),
                        since_origin: LatencyStat::default(),
                        started: 0,
                        processed: 0,
                        failed: 0,
                        retries: 0,
                        duplicates: 0,
                        cpu_work: s.cpu_ms.clone(),
                        cpu_request_m: s.cpu_request_m,
                        cpu_limit: s.cpu_limit_m.map_or(f64::INFINITY, |m| m / 1000.0),
                        cpu_use: Gauge::default(),
                        up: {
                            let mut g = Gauge::default();
                            g.set(0, u64::from(s.replicas));
                            g
                        },
                        wanted: s.replicas,
                        repeated_requests: 0,
                        slow: None,
                        fault_failure: None,
                        patterns: super::runtime::Patterns {
                            budget: match &s.on_failure {
                                crate::topology::OnFailure::Retry(r) => r.budget.clone().map(super::retry::Bucket::new),
                                _ => None,
                            },
                            deadline: s.deadline_ms.map(ms_to_ns),
                            shed_after: s.shed_after_ms.map(ms_to_ns),
                            ack: s.ack_ms.map_or(0, ms_to_ns),
                            redrive: s.redrive.as_ref().map(|r| r.max),
                            ..Default::default()
                        },
                        autoscale: s.autoscale.clone().map(|spec| AutoscaleRt {
                            spec,
                            history: VecDeque::new(),
                            cpu_area: 0,
                            lowest: u64::from(s.replicas),
                            scaled_up: 0,
                            scaled_down: 0,
                        }),
                        saga: None,
                        outbox: s.outbox.as_ref().map(|o| {
                            let mut rt = super::outbox::OutboxRt::new(ms_to_ns(o.poll_ms), o.batch);
                            rt.max_rows = opts.memory_watermark.map_or(usize::MAX, |w| w as usize);
                            Box::new(rt)
                        }),
                        crash_after_commit: None,
                        order: None,
                    });
                    KindRef::Service(services.len() as u32 - 1)
                }
                NodeKind::Store(s) => {
                    stores.push(StoreRt {
                        node,
                        latency: s.latency.clone(),
                        failure_rate: s.failure_rate,
                        dedup_ttl: s.dedup_ttl_ms.map(ms_to_ns),
                        rng,
                        seen: Default::default(),
                        next_sweep: 0,
                        max_keys: usize::MAX,
                        refused: 0,
                        calls: 0,
                        failures: 0,
                        hits: 0,
                        down: None,
                        slow: None,
                        fault_failure: None,
                    });
                    KindRef::Store(stores.len() as u32 - 1)
                }
            };
            nodes.push(NodeRt {
                id: n.id.clone(),
                kind,
                second: SecondCounters::default(),
                totals: NodeTotals::default(),
                series: Ring::new(opts.series_capacity),
                faults_on: 0,
            });
        }

        // Links, and each node's view of them. Edges are visited in file order so that
        // round robin and publish order follow the file.
        let mut edges: Vec<_> = model.graph().edge_references().collect();
        edges.sort_by_key(|e| e.weight().link);
        let mut links: Vec<LinkRt> = topo
            .links
            .iter()
            .enumerate()
            .map(|(i, l)| LinkRt {
                from: 0,
                to: 0,
                latency: l.latency.clone().filter(|d| !d.is_zero()),
                rng: Stream::new(seed, &format!("link#{i}:{}->{}", l.from, l.to)),
                target: None,
                routing_key: l.routing_key.as_deref().map(|k| syms.intern(k)),
                event: l.event.as_deref().map(|e| syms.intern(e)),
                when: l.when.unwrap_or(When::Success),
                probability: l.probability.unwrap_or(1.0),
                message_id: l.message_id.unwrap_or(crate::topology::MessageId::New),
                binding_key: l.binding_key.clone().unwrap_or_default(),
                headers: l.headers.clone().unwrap_or_default(),
                match_: l.match_.unwrap_or(HeadersMatch::All),
                timeout: l.timeout_ms.map(ms_to_ns),
                unreliable: l.unreliable,
                slow: None,
                loss: None,
                dup: None,
                partitioned: None,
                held: Vec::new(),
                breaker: l.breaker.clone().map(super::breaker::BreakerRt::new),
                timeouts: 0,
                late_answers: 0,
            })
            .collect();
        for e in edges {
            let (from, to) = (e.source().index(), e.target().index());
            let link = e.weight().link;
            let l = &mut links[link];
            l.from = from as u32;
            l.to = to as u32;
            let target = match nodes[to].kind {
                KindRef::Exchange(x) => Some(Target::Exchange(x)),
                KindRef::Queue(q) => Some(Target::Queue(q)),
                KindRef::Gateway(g) => Some(Target::Gateway(g)),
                KindRef::Topic(t) => Some(Target::Topic(t)),
                _ => None,
            };
            // RabbitMQ's default exchange routes by the queue's name: a message published or
            // dead-lettered straight to a queue carries that name as its routing key, and keeps
            // it if it is dead-lettered on without a key of its own.
            if matches!(target, Some(Target::Queue(_))) && e.weight().role.carries_messages() {
                l.routing_key = Some(syms.intern(&topo.nodes[to].id));
            }
            let link = link as u32;
            match (e.weight().role, nodes[from].kind, nodes[to].kind) {
                (LinkRole::Publish, KindRef::Producer(p), _) => {
                    l.target = target;
                    producers[p as usize].links.push(link);
                }
                (LinkRole::Publish, KindRef::Service(s), _) => {
                    l.target = target;
                    let svc = &mut services[s as usize];
                    if l.when == When::Retry {
                        svc.patterns.retry_link.get_or_insert(link);
                    } else {
                        svc.publishes.push(link);
                    }
                }
                (LinkRole::Bind | LinkRole::ExchangeBind, KindRef::Exchange(x), _) => {
                    exchanges[x as usize].bindings.push(link)
                }
                (LinkRole::Alternate, KindRef::Exchange(x), _) => exchanges[x as usize].alternate = Some(link),
                (LinkRole::Request, KindRef::Producer(p), _) => {
                    l.target = target;
                    producers[p as usize].links.push(link);
                }
                (LinkRole::Consume, KindRef::Gateway(g), KindRef::Service(s)) => {
                    let q = gateways[g as usize].queue;
                    queues[q as usize].consumers.push((s, link));
                    services[s as usize].inputs.push(q);
                }
                (LinkRole::Consume, KindRef::Topic(t), KindRef::Service(s)) => {
                    // A consumer group: a queue per partition, from the group's offset on.
                    let tp = &mut topics[t as usize];
                    let parts: Vec<u32> = (0..tp.partitions)
                        .map(|_| {
                            let mut pq = super::topic::partition_queue(tp.node, tp.retention);
                            pq.consumers.push((s, link));
                            queues.push(pq);
                            queues.len() as u32 - 1
                        })
                        .collect();
                    services[s as usize].inputs.extend(&parts);
                    services[s as usize].order.get_or_insert_with(Default::default);
                    tp.groups.push(super::topic::GroupRt { service: s, parts, rebalances: 0, redelivered: 0 });
                }
                (LinkRole::Consume, KindRef::Queue(q), KindRef::Service(s)) => {
                    queues[q as usize].consumers.push((s, link));
                    services[s as usize].inputs.push(q);
                }
                (LinkRole::DeadLetter, KindRef::Queue(q), _) => {
                    l.target = target;
                    queues[q as usize].dlx = target.map(|t| (link, t));
                }
                (LinkRole::Call, KindRef::Service(s), KindRef::Store(st)) => {
                    services[s as usize].calls.push((st, link))
                }
                (LinkRole::Dedup, KindRef::Service(s), KindRef::Store(st)) => {
                    services[s as usize].dedup = Some((st, link))
                }
                _ => {}
            }
        }

        let saga_effects = compile_sagas(topo, &nodes, &links, &mut services, &mut syms);

        // A client of gateways only keeps asking while the broker refuses publishes: the API
        // behind the gateway answers 503.
        for p in &mut producers {
            p.via_gateway = !p.links.is_empty()
                && p.links.iter().all(|&l| matches!(links[l as usize].target, Some(Target::Gateway(_))));
        }

        // The run's dedup keys are bounded with its messages: ten keys per message of the
        // watermark, shared evenly by the stores that keep keys.
        if let Some(w) = opts.memory_watermark {
            let keepers: Vec<u32> = services.iter().filter_map(|s| s.dedup.map(|(st, _)| st)).collect();
            let n = keepers.iter().collect::<std::collections::BTreeSet<_>>().len().max(1) as u64;
            let share = usize::try_from(w.saturating_mul(DEDUP_KEYS_PER_MESSAGE) / n).unwrap_or(usize::MAX);
            for st in keepers {
                stores[st as usize].max_keys = share;
            }
        }

        let warmup = opts.warmup;
        let mut engine = Engine {
            now: 0,
            events: EventQueue::default(),
            msgs: Slab::default(),
            next_msg_id: 0,
            n_events: 0,
            n_scheduled: 0,
            seed,
            warmup,
            next_tick: crate::time::NS_PER_S,
            budget: None,
            nodes,
            links,
            producers,
            exchanges,
            queues,
            services,
            stores,
            gateways,
            topics,
            requests: Default::default(),
            faults: topo
                .faults
                .iter()
                .filter_map(|f| {
                    let link = match &f.to {
                        Some(to) => model.link_between(&f.node, to)?.0 as u32,
                        None => super::message::NONE,
                    };
                    Some(super::faults::FaultRt {
                        node: model.node_index(&f.node)? as u32,
                        link,
                        kind: f.kind.clone(),
                        at: s_to_ns(f.at_s),
                        until: f.until_s.map(s_to_ns),
                        affected: 0,
                        downed: Vec::new(),
                    })
                })
                .collect(),
            syms,
            routes: RouteCache::default(),
            ledger: Default::default(),
            hops: Capture::new(opts.hop_capacity),
            crossings: vec![0; topo.links.len()],
            logs: Capture::new(opts.log_capacity),
            same_instant: 0,
            last_node: 0,
            name: topo.name.clone(),
            scratch_pairs: Vec::new(),
            scratch_dests: Vec::new(),
            saga_effects,
            alarm: super::MemoryAlarm::new(opts.memory_watermark),
        };
        if warmup > 0 {
            engine.events.push(warmup, Ev::Warmup);
        }
        for p in 0..engine.producers.len() as u32 {
            engine.start_producer(p);
        }
        for (p, n) in topo
            .nodes
            .iter()
            .filter_map(|n| match &n.kind {
                NodeKind::Producer(pr) => Some(pr.users),
                _ => None,
            })
            .enumerate()
        {
            if let Some(users) = n {
                engine.start_users(p as u32, users);
            }
        }
        for s in 0..engine.services.len() {
            if let Some(ob) = &engine.services[s].outbox {
                engine.events.push(ob.poll, Ev::OutboxPoll { service: s as u32 });
            }
        }
        // Each group's partitions, assigned to its replicas.
        for s in 0..engine.services.len() as u32 {
            if engine.services[s as usize].order.is_some() {
                engine.rebalance(s);
            }
        }
        // The first assignment is no rebalance.
        for g in engine.topics.iter_mut().flat_map(|t| t.groups.iter_mut()) {
            g.rebalances = 0;
        }
        engine.plan_autoscalers();
        engine.plan_faults();
        engine
    }

    /// Applies the schedule's steps at time 0 and plans the first emission and the next step.
    fn start_producer(&mut self, p: u32) {
        let pr = &mut self.producers[p as usize];
        while let Some(&(at, rate)) = pr.schedule.get(pr.next_step) {
            if at > 0 {
                break;
            }
            pr.rate = rate;
            pr.next_step += 1;
        }
        if let Some(&(at, _)) = pr.schedule.get(pr.next_step) {
            self.events.push(at as Time, Ev::RateStep { producer: p });
        }
        self.plan_emission(p);
    }
}

/// Each orchestrator's sagas, compiled with their events interned and the publish links that
/// carry each command; and, by event symbol, the saga step each participant's processing does
/// or undoes.
fn compile_sagas(
    topo: &crate::topology::Topology,
    nodes: &[NodeRt],
    links: &[LinkRt],
    services: &mut [ServiceRt],
    syms: &mut Interner,
) -> Vec<Option<super::saga::EffectOf>> {
    let mut effects: Vec<Option<super::saga::EffectOf>> = Vec::new();
    for (i, n) in topo.nodes.iter().enumerate() {
        let (NodeKind::Service(svc), KindRef::Service(s)) = (&n.kind, nodes[i].kind) else { continue };
        let Some(def) = &svc.saga else { continue };
        let rt = &mut services[s as usize];
        // Each step's command and compensation go to its channel, or over the links that
        // carry them.
        let links_to = |channel: &str| -> Vec<u32> {
            rt.publishes.iter().copied().filter(|&l| nodes[links[l as usize].to as usize].id == channel).collect()
        };
        let links_of = |event: &str| -> Vec<u32> {
            rt.publishes
                .iter()
                .copied()
                .filter(|&l| links[l as usize].event.is_some_and(|e| syms.name(e) == event))
                .collect()
        };
        let by_event: Vec<(String, Vec<u32>)> = def
            .steps
            .iter()
            .flat_map(|st| {
                let sends = std::iter::once(&st.command).chain(st.compensation.as_ref());
                sends.map(|e| (e.clone(), st.channel.as_deref().map_or_else(|| links_of(e), links_to)))
            })
            .collect();
        let durable = !rt.calls.is_empty();
        let saga = super::saga::SagaRt::new(def, durable, &mut |e| syms.intern(e), &|e| {
            by_event.iter().find(|(n, _)| n == e).map(|(_, l)| l.clone()).unwrap_or_default()
        });
        for (k, step) in saga.steps.iter().enumerate() {
            let none = super::message::NONE;
            let compensatable = step.compensation != none;
            for (event, undoes, reply, failure) in [
                (step.command, false, step.reply, step.failure),
                (step.compensation, true, step.compensation_reply, none),
            ] {
                if event == none {
                    continue;
                }
                let at = event as usize;
                if effects.len() <= at {
                    effects.resize(at + 1, None);
                }
                let tombstone = def.steps[k].tombstone;
                effects[at] = Some(super::saga::EffectOf {
                    service: s,
                    step: k as u8,
                    undoes,
                    compensatable,
                    tombstone,
                    reply,
                    failure,
                });
            }
        }
        rt.saga = Some(Box::new(saga));
    }
    effects
}
