//! A session: one engine, played on the wall clock by its own task, that turns commands into
//! replies and streams frames (about 30 a second), metrics and logs to the connection attached
//! to it. It never waits for the client: what does not fit the outgoing channel is dropped
//! and counted. A session whose client is gone waits a minute for it to come back.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use edasim_protocol::{
    ClientMsg, Fault, Frame, Health, HopOut, Log, LogLine, Metrics, NodeLive, NodePoints, SPEED_RANGE, ServerMsg,
    Totals,
};
use edasim_sim::engine::{Change, Hop, KindRef, LogEvent};
use edasim_sim::time::{NS_PER_S, Time, ms_to_ns, ns_to_ms};
use edasim_sim::topology::NodeKind;
use edasim_sim::{Engine, Model, Options, Problem};
use tokio::sync::{mpsc, oneshot};

use crate::prom::Sample;
use crate::state::{AppState, ServerStats};

/// Frames per second while playing.
pub const FRAME_RATE: u32 = 30;
/// Hops per frame at most; the rest are counted.
pub const HOPS_PER_FRAME: usize = 400;
/// Log lines per frame at most.
const LOGS_PER_FRAME: usize = 200;
/// Log lines kept for `events.ndjson`.
pub const LOG_HISTORY: usize = 5_000;
/// Hops kept for traces.
const TRACE_HISTORY: usize = 20_000;
/// Wall time a frame may simulate at most, so that a stalled tab does not make the next frame
/// simulate minutes at once.
const MAX_FRAME_WALL: Duration = Duration::from_millis(250);
/// Outgoing messages queued for a slow client before frames are dropped.
pub const OUTGOING_QUEUE: usize = 64;

/// What a session is told.
pub enum SessionCmd {
    Client(ClientMsg),
    /// A connection attaches (a new one, or a reconnect); replaces any previous one.
    Attach {
        conn: u64,
        out: mpsc::Sender<String>,
        resumed: bool,
    },
    Detach {
        conn: u64,
    },
    /// Prometheus samples, for `/metrics`.
    Samples(oneshot::Sender<Vec<Sample>>),
    /// The server is stopping: say so to the client and end.
    Shutdown,
}

/// What HTTP handlers read of a session without asking its task.
#[derive(Default)]
pub struct SessionShared {
    pub log: Mutex<VecDeque<LogRecord>>,
}

/// One log line as kept for `events.ndjson`.
#[derive(Clone, Debug)]
pub struct LogRecord {
    pub t_ms: f64,
    pub line: LogLine,
}

struct Session {
    id: String,
    app: AppState,
    model: Model,
    engine: Engine,
    seed: u64,
    playing: bool,
    speed: f64,
    out: Option<(u64, mpsc::Sender<String>)>,
    detached_since: Option<Instant>,
    last_advance: Instant,
    last_metrics: Instant,
    /// Per node, the end (in simulated seconds) of the last series point sent.
    sent_until: Vec<u64>,
    traces: VecDeque<HopOut>,
    shared: Arc<SessionShared>,
    /// Each node's peak producer rate as it stands (file, then live changes): the rate limit.
    rates: Vec<f64>,
    hops: Vec<Hop>,
    logs: Vec<LogEvent>,
}

/// Starts a session playing the default scenario; returns its id.
pub fn start(app: &AppState) -> Result<String, String> {
    let mut registry = app.registry();
    if registry.len() >= app.limits.max_sessions {
        return Err(format!("the server runs {} sessions, its limit; try again later", registry.len()));
    }
    let id = new_id(&app.stats);
    let model = crate::scenarios::model(crate::scenarios::DEFAULT).ok_or("the default scenario does not load")?;
    let (tx, rx) = mpsc::channel(256);
    let shared = Arc::new(SessionShared::default());
    registry.insert(id.clone(), crate::state::SessionHandle { cmd: tx, shared: shared.clone() });
    drop(registry);
    let seed = model.topology().seed;
    let rates = peak_rates(&model);
    let session = Session {
        id: id.clone(),
        app: app.clone(),
        engine: new_engine(&model, seed),
        model,
        seed,
        playing: false,
        speed: 1.0,
        out: None,
        detached_since: Some(Instant::now()),
        last_advance: Instant::now(),
        last_metrics: Instant::now(),
        sent_until: Vec::new(),
        traces: VecDeque::new(),
        shared,
        rates,
        hops: Vec::with_capacity(4 * HOPS_PER_FRAME),
        logs: Vec::with_capacity(LOGS_PER_FRAME),
    };
    tokio::spawn(session.run(rx));
    tracing::info!(session = %id, "session started");
    Ok(id)
}

fn new_id(stats: &ServerStats) -> String {
    let n = stats.sessions_started.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    // Unique per server run and hard to guess across runs; not a secret (loopback only).
    format!("{:x}{:04x}", (nanos as u64) ^ 0x9e37_79b9_7f4a_7c15u64.wrapping_mul(n + 1), n & 0xffff)
}

fn new_engine(model: &Model, seed: u64) -> Engine {
    let opts = Options {
        seed: Some(seed),
        hop_capacity: 8 * HOPS_PER_FRAME,
        log_capacity: 4 * LOGS_PER_FRAME,
        ..Options::default()
    };
    Engine::new(model, &opts)
}

impl Session {
    async fn run(mut self, mut rx: mpsc::Receiver<SessionCmd>) {
        let mut tick = tokio::time::interval(Duration::from_secs(1) / FRAME_RATE);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(SessionCmd::Shutdown) => {
                        self.send(ServerMsg::Closing { reason: "the server is shutting down".to_string() });
                        break;
                    }
                    Some(cmd) => self.on_cmd(cmd),
                    None => break,
                },
                _ = tick.tick() => {
                    if self.detached_since.is_some_and(|t| t.elapsed() > self.app.limits.reconnect_grace) {
                        break;
                    }
                    self.on_tick();
                }
            }
        }
        self.app.registry().remove(&self.id);
        tracing::info!(session = %self.id, "session ended");
    }

    fn on_cmd(&mut self, cmd: SessionCmd) {
        match cmd {
            SessionCmd::Attach { conn, out, resumed } => {
                self.out = Some((conn, out));
                self.detached_since = None;
                self.send(ServerMsg::Welcome {
                    session: self.id.clone(),
                    resumed,
                    scenarios: crate::scenarios::names(),
                });
                self.send_loaded();
                self.send_state();
                self.sent_until.clear(); // a new connection gets the series it has not seen
                self.send_frame(false);
            }
            SessionCmd::Detach { conn } => {
                if self.out.as_ref().is_some_and(|(c, _)| *c == conn) {
                    self.out = None;
                    self.detached_since = Some(Instant::now());
                }
            }
            SessionCmd::Samples(reply) => {
                let _ = reply.send(self.samples());
            }
            SessionCmd::Shutdown => {}
            SessionCmd::Client(msg) => {
                let name = msg.name();
                if let Err((path, message, problems)) = self.on_client(msg) {
                    self.send(ServerMsg::Error { command: Some(name.to_string()), path, message, problems });
                }
            }
        }
    }

    /// Carries out a command; an error leaves the session as it was.
    fn on_client(&mut self, msg: ClientMsg) -> Result<(), (String, String, Vec<Problem>)> {
        let err = |path: &str, message: String| Err((path.to_string(), message, Vec::new()));
        match msg {
            ClientMsg::LoadTopology { topology } => {
                let model = Model::from_value(&topology).map_err(|e| {
                    (String::from("topology"), "the topology has problems; nothing was changed".to_string(), e.problems)
                })?;
                self.load(model)?;
            }
            ClientMsg::LoadScenario { name } => match crate::scenarios::model(&name) {
                Some(model) => self.load(model)?,
                None => {
                    return err(
                        "name",
                        format!("no scenario \"{name}\"; there are: {}", crate::scenarios::names().join(", ")),
                    );
                }
            },
            ClientMsg::Play {} => {
                self.playing = true;
                self.last_advance = Instant::now();
                self.send_state();
            }
            ClientMsg::Pause {} => {
                self.playing = false;
                self.send_state();
                self.send_frame(false);
            }
            ClientMsg::Step { ms } => {
                self.playing = false;
                match ms {
                    Some(ms) if !(ms.is_finite() && ms > 0.0 && ms <= 3_600_000.0) => {
                        return err("ms", format!("expected 0 to 3600000 milliseconds, found {ms}"));
                    }
                    Some(ms) => self.advance_to(self.engine.now().saturating_add(ms_to_ns(ms))),
                    None => {
                        if self.engine.step().is_none() {
                            return err("", "nothing is left to happen".to_string());
                        }
                    }
                }
                self.send_state();
                self.send_frame(true);
            }
            ClientMsg::SetSpeed { speed } => {
                let (lo, hi) = SPEED_RANGE;
                if !(speed.is_finite() && (lo..=hi).contains(&speed)) {
                    return err("speed", format!("expected a speed from {lo} to {hi}, found {speed}"));
                }
                self.speed = speed;
                self.send_state();
            }
            ClientMsg::Reset {} => self.restart(),
            ClientMsg::SetSeed { seed } => {
                self.seed = seed;
                self.restart();
            }
            ClientMsg::SetParam { node, change } => {
                let Some(i) = self.model.node_index(&node) else {
                    return err("node", format!("no node \"{node}\""));
                };
                if let Change::RatePerS(r) = change {
                    let others: f64 = self.rates.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, r)| r).sum();
                    if others + r > self.app.limits.max_total_rate {
                        return err(
                            "change.value",
                            format!(
                                "the producers would emit {} events per second; the limit is {}",
                                others + r,
                                self.app.limits.max_total_rate
                            ),
                        );
                    }
                }
                let rate = if let Change::RatePerS(r) = change { Some(r) } else { None };
                self.engine.apply(i, change).map_err(|e| ("change".to_string(), e.to_string(), Vec::new()))?;
                if let Some(r) = rate {
                    self.rates[i] = r;
                }
            }
            ClientMsg::InjectFault { node, fault } => {
                let Some(i) = self.model.node_index(&node) else {
                    return err("node", format!("no node \"{node}\""));
                };
                let change = match fault {
                    Fault::CrashReplica { replica } => Change::CrashReplica(replica),
                };
                self.engine.apply(i, change).map_err(|e| ("fault".to_string(), e.to_string(), Vec::new()))?;
            }
            ClientMsg::Trace { msg } => {
                let hops: Vec<HopOut> = self.traces.iter().filter(|h| h.msg == msg || h.root == msg).cloned().collect();
                if hops.is_empty() {
                    return err(
                        "msg",
                        format!(
                            "no hops of message {msg} were seen (only the sampled hops of the last {TRACE_HISTORY} are kept)"
                        ),
                    );
                }
                self.send(ServerMsg::Trace { msg, hops });
            }
        }
        Ok(())
    }

    fn load(&mut self, model: Model) -> Result<(), (String, String, Vec<Problem>)> {
        let nodes = model.topology().nodes.len();
        if nodes > self.app.limits.max_nodes {
            return Err((
                "topology.nodes".into(),
                format!("{nodes} nodes; a live session plays at most {}", self.app.limits.max_nodes),
                Vec::new(),
            ));
        }
        let rate: f64 = peak_rates(&model).iter().sum();
        if rate > self.app.limits.max_total_rate {
            return Err((
                "topology.nodes".into(),
                format!(
                    "the producers emit {rate} events per second; a live session allows {}",
                    self.app.limits.max_total_rate
                ),
                Vec::new(),
            ));
        }
        self.seed = model.topology().seed;
        self.model = model;
        self.restart_quietly();
        self.send_loaded();
        self.send_state();
        self.send_frame(false);
        Ok(())
    }

    fn restart(&mut self) {
        self.restart_quietly();
        self.send_state();
        self.send_frame(false);
    }

    fn restart_quietly(&mut self) {
        self.engine = new_engine(&self.model, self.seed);
        self.rates = peak_rates(&self.model);
        self.playing = false;
        self.sent_until.clear();
        self.traces.clear();
    }

    fn on_tick(&mut self) {
        if !self.playing {
            return;
        }
        let now = Instant::now();
        let wall = now.duration_since(self.last_advance).min(MAX_FRAME_WALL);
        self.last_advance = now;
        let target = self.engine.now().saturating_add((wall.as_secs_f64() * self.speed * NS_PER_S as f64) as Time);
        self.advance_to(target);
        self.send_frame(true);
    }

    fn advance_to(&mut self, target: Time) {
        if let Err(stall) = self.engine.step_until(target) {
            self.playing = false;
            self.send(ServerMsg::Error {
                command: None,
                path: String::new(),
                message: format!("paused: {stall}"),
                problems: Vec::new(),
            });
            self.send_state();
        }
    }

    /// Sends a frame, and with it the log lines and (at most once a wall second, or every
    /// simulated second at low speed) the new series points.
    fn send_frame(&mut self, moved: bool) {
        self.hops.clear();
        let omitted_in_engine = self.engine.take_hops(usize::MAX, &mut self.hops);
        let hops = sample_hops(&self.hops, HOPS_PER_FRAME);
        let hops_omitted = omitted_in_engine + (self.hops.len() - hops.len()) as u64;
        let hops: Vec<HopOut> = hops.into_iter().map(|h| self.hop_out(h)).collect();
        for h in &hops {
            if self.traces.len() == TRACE_HISTORY {
                self.traces.pop_front();
            }
            self.traces.push_back(h.clone());
        }
        let frame = Frame {
            t_ms: ns_to_ms(self.engine.now()),
            playing: self.playing,
            speed: self.speed,
            hops,
            hops_omitted,
            nodes: (0..self.engine.node_count()).map(|i| self.node_live(i)).collect(),
            totals: self.totals(),
            links: self.engine.link_crossings().to_vec(),
        };
        let sent = self.send(ServerMsg::Frame(frame));
        ServerStats::add(if sent { &self.app.stats.frames_sent } else { &self.app.stats.frames_dropped }, 1);
        if moved {
            self.send_logs();
            let low_speed = self.speed <= FRAME_RATE as f64;
            if low_speed || self.last_metrics.elapsed() >= Duration::from_secs(1) {
                self.send_metrics();
            }
        }
    }

    fn hop_out(&self, h: &Hop) -> HopOut {
        HopOut {
            msg: h.msg,
            root: h.root,
            link: h.link,
            from: h.from,
            to: h.to,
            event: self.engine.symbol(h.event).to_string(),
            start_ms: ns_to_ms(h.start),
            end_ms: ns_to_ms(h.end),
            dead: h.dead,
        }
    }

    fn node_live(&self, i: usize) -> NodeLive {
        let st = self.engine.node_state(i);
        let last = self.engine.series(i).last().copied().unwrap_or_default();
        let mut health = if last.errors > 0 || last.dead_letters > 0 { Health::Warning } else { Health::Ok };
        if last.dropped > 0 {
            health = Health::Error;
        }
        match &self.model.topology().nodes[i].kind {
            NodeKind::Service(_) if st.replicas_up == 0 => health = Health::Error,
            NodeKind::Queue(q) if q.max_length.is_some_and(|m| st.depth * 2 > m) && health == Health::Ok => {
                health = Health::Warning
            }
            _ => {}
        }
        NodeLive {
            id: self.engine.node_id(i).to_string(),
            depth: st.depth,
            unacked: st.unacked,
            busy: st.busy,
            workers: st.workers,
            replicas_up: st.replicas_up,
            health,
        }
    }

    fn totals(&self) -> Totals {
        let l = self.engine.ledger();
        Totals {
            produced: l.produced,
            completed: l.completed,
            dead_lettered: l.dead_lettered,
            dropped: l.dropped.total(),
            in_system: l.in_system(),
            duplicates_skipped: l.duplicates_skipped,
        }
    }

    fn send_logs(&mut self) {
        self.logs.clear();
        let omitted = self.engine.take_logs(LOGS_PER_FRAME, &mut self.logs);
        if self.logs.is_empty() && omitted == 0 {
            return;
        }
        let entries: Vec<LogLine> = self
            .logs
            .iter()
            .map(|e| LogLine {
                t_ms: ns_to_ms(e.time),
                level: e.level,
                kind: e.kind,
                node: self.engine.node_id(e.node as usize).to_string(),
                msg: e.msg,
                root: e.root,
                event: self.engine.symbol(e.event).to_string(),
            })
            .collect();
        {
            let mut history = self.shared.log.lock().unwrap_or_else(|e| e.into_inner());
            for line in &entries {
                if history.len() == LOG_HISTORY {
                    history.pop_front();
                }
                history.push_back(LogRecord { t_ms: line.t_ms, line: line.clone() });
            }
        }
        self.send(ServerMsg::Log(Log { entries, omitted }));
    }

    fn send_metrics(&mut self) {
        let n = self.engine.node_count();
        self.sent_until.resize(n, 0);
        let mut nodes = Vec::new();
        for i in 0..n {
            let from = self.sent_until[i];
            let points: Vec<_> = self.engine.series(i).iter().filter(|p| p.t_s > from).copied().collect();
            if let Some(last) = points.last() {
                self.sent_until[i] = last.t_s;
                nodes.push(NodePoints { node: self.engine.node_id(i).to_string(), points });
            }
        }
        if !nodes.is_empty() {
            self.last_metrics = Instant::now();
            self.send(ServerMsg::Metrics(Metrics { t_ms: ns_to_ms(self.engine.now()), nodes }));
        }
    }

    fn send_loaded(&mut self) {
        let topology = serde_json::to_value(self.model.topology()).unwrap_or_default();
        let warnings = self.model.warnings().to_vec();
        self.send(ServerMsg::Loaded { topology, warnings, seed: self.seed });
    }

    fn send_state(&mut self) {
        let t_ms = ns_to_ms(self.engine.now());
        self.send(ServerMsg::State { playing: self.playing, speed: self.speed, t_ms });
    }

    /// Queues a message for the client without waiting; `false` if there is no client or its
    /// queue is full (a slow client loses frames, never slows the simulation).
    fn send(&mut self, msg: ServerMsg) -> bool {
        let Some((_, out)) = &self.out else { return false };
        match serde_json::to_string(&msg) {
            Ok(text) => out.try_send(text).is_ok(),
            Err(e) => {
                tracing::error!("cannot serialise a server message: {e}");
                false
            }
        }
    }

    /// This session's Prometheus samples.
    fn samples(&self) -> Vec<Sample> {
        let mut out = Vec::new();
        let s = self.id.as_str();
        let l = self.engine.ledger();
        let session = |name: &'static str, value: f64| Sample::new(name, vec![("session", s.to_string())], value);
        out.push(session("edasim_sim_time_seconds", self.engine.now() as f64 / NS_PER_S as f64));
        out.push(session("edasim_messages_produced_total", l.produced as f64));
        out.push(session("edasim_messages_completed_total", l.completed as f64));
        out.push(session("edasim_messages_dead_lettered_total", l.dead_lettered as f64));
        out.push(session("edasim_messages_dropped_total", l.dropped.total() as f64));
        out.push(session("edasim_messages_in_system", l.in_system() as f64));
        for i in 0..self.engine.node_count() {
            let kind = match self.engine.node_kind(i) {
                KindRef::Producer(_) => "producer",
                KindRef::Exchange(_) => "exchange",
                KindRef::Queue(_) => "queue",
                KindRef::Service(_) => "service",
                KindRef::Store(_) => "store",
            };
            let labels = vec![
                ("session", s.to_string()),
                ("node", self.engine.node_id(i).to_string()),
                ("kind", kind.to_string()),
            ];
            let node = |name: &'static str, value: f64| Sample::new(name, labels.clone(), value);
            let t = self.engine.node_totals(i);
            out.push(node("edasim_node_messages_in_total", t.inflow as f64));
            out.push(node("edasim_node_messages_out_total", t.outflow as f64));
            out.push(node("edasim_node_errors_total", t.errors as f64));
            out.push(node("edasim_node_dead_lettered_total", t.dead_letters as f64));
            out.push(node("edasim_node_dropped_total", t.dropped as f64));
            let st = self.engine.node_state(i);
            match self.engine.node_kind(i) {
                KindRef::Queue(_) => {
                    out.push(node("edasim_queue_depth", st.depth as f64));
                    out.push(node("edasim_queue_unacked", st.unacked as f64));
                }
                KindRef::Service(_) => {
                    out.push(node("edasim_service_busy_workers", st.busy as f64));
                    out.push(node("edasim_service_workers", st.workers as f64));
                    out.push(node("edasim_service_replicas_up", f64::from(st.replicas_up)));
                }
                _ => {}
            }
            if let Some(p) = self.engine.series(i).last() {
                for (q, v) in [("0.5", p.p50_ms), ("0.95", p.p95_ms), ("0.99", p.p99_ms)] {
                    let mut l = labels.clone();
                    l.push(("quantile", q.to_string()));
                    out.push(Sample::new("edasim_node_latency_seconds", l, f64::from(v) / 1000.0));
                }
            }
        }
        out
    }
}

/// The highest rate a node may emit at (its rate or a step of its schedule); 0 for non-producers.
fn peak_rate(kind: &NodeKind) -> f64 {
    match kind {
        NodeKind::Producer(p) => p.rate_per_s.max(p.schedule.iter().map(|s| s.rate_per_s).fold(0.0, f64::max)),
        _ => 0.0,
    }
}

/// Each node's peak rate, in node order: what the live-session rate limit adds up.
fn peak_rates(model: &Model) -> Vec<f64> {
    model.topology().nodes.iter().map(|n| peak_rate(&n.kind)).collect()
}

/// At most `max` hops, spread over the links: each link in turn gives its next hop, so a busy
/// link does not crowd the quiet ones out of the picture.
pub fn sample_hops(hops: &[Hop], max: usize) -> Vec<&Hop> {
    if hops.len() <= max {
        return hops.iter().collect();
    }
    let mut by_link: std::collections::BTreeMap<u32, VecDeque<&Hop>> = std::collections::BTreeMap::new();
    for h in hops {
        by_link.entry(h.link).or_default().push_back(h);
    }
    let mut out = Vec::with_capacity(max);
    while out.len() < max {
        for q in by_link.values_mut() {
            if let Some(h) = q.pop_front() {
                out.push(h);
                if out.len() == max {
                    break;
                }
            }
        }
    }
    out.sort_by_key(|h| (h.start, h.msg));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use edasim_sim::time::NS_PER_MS;

    fn hop(link: u32, msg: u64) -> Hop {
        Hop {
            msg,
            root: msg,
            link,
            from: 0,
            to: 1,
            event: 0,
            start: msg * NS_PER_MS,
            end: msg * NS_PER_MS,
            dead: false,
        }
    }

    #[test]
    fn sampling_spreads_over_links() {
        let mut hops: Vec<Hop> = (0..1000).map(|i| hop(0, i)).collect();
        hops.extend((1000..1010).map(|i| hop(1, i)));
        hops.extend((2000..2003).map(|i| hop(2, i)));
        let s = sample_hops(&hops, 100);
        assert_eq!(s.len(), 100);
        assert_eq!(s.iter().filter(|h| h.link == 1).count(), 10, "every quiet link's hops are kept");
        assert_eq!(s.iter().filter(|h| h.link == 2).count(), 3);
        assert!(s.windows(2).all(|w| w[0].start <= w[1].start), "in time order");
        assert_eq!(sample_hops(&hops[..5], 100).len(), 5);
    }
}
