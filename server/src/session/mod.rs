//! A session: one engine, played on the wall clock by its own task, that turns commands into
//! replies and streams frames (about 30 a second), metrics and logs to the connection attached
//! to it. It never waits for the client: what does not fit the outgoing channel is dropped
//! and counted. Simulating happens on the simulation pool, one bounded slice at a time, so a
//! heavy session lags behind its speed (and says so) instead of stalling the server. A session
//! whose client is gone stops simulating and waits a minute for it to come back.
//!
//! - `commands.rs`: what each client command does.
//! - `frames.rs`: what is sent: frames, logs, metrics, state.
//! - `samples.rs`: the session's Prometheus samples.
//! - `id.rs`: unguessable session ids.

mod classroom;
mod commands;
mod frames;
mod id;
mod samples;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use edasim_protocol::{HopOut, LogLine, ServerMsg};
use edasim_sim::engine::{Halt, Hop, LogEvent};
use edasim_sim::time::{NS_PER_S, Time};
use edasim_sim::{Engine, Model, Options};
use tokio::sync::{mpsc, oneshot};

pub use frames::sample_hops;
pub use id::SessionId;

use crate::prom::Sample;
use crate::state::AppState;

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
/// Wall time one slice of simulation may take on the pool: under a frame's interval, so that a
/// session keeps its frame rate even while it cannot keep its speed.
const SLICE_WALL: Duration = Duration::from_millis(12);
/// Scheduled events between two looks at the clock within a slice (a fraction of a millisecond).
const SLICE_EVENTS: u64 = 2_000;
/// A slice that got where it was going within this much wall time is light: the next one runs
/// on the session's own task instead of the pool.
const LIGHT_SLICE: Duration = Duration::from_micros(500);
/// Wall time a light session's slice may take on its own task at most (then it is not light
/// any more, and the pool takes its next slices).
const INLINE_WALL: Duration = Duration::from_millis(1);
/// Expressions one `evaluate` may ask for (one report of the run serves them all).
const MAX_EVALUATE: usize = 32;
/// Outgoing messages queued for a slow client before frames are dropped.
pub const OUTGOING_QUEUE: usize = 64;

/// Where a connection's outgoing messages go: text serialised once, shared by every
/// connection it is sent to.
pub type Out = mpsc::Sender<Utf8Bytes>;

/// What a session is told.
pub enum SessionCmd {
    Client(edasim_protocol::ClientMsg),
    /// A connection attaches (a new one, or a reconnect); replaces any previous one.
    Attach {
        conn: u64,
        out: Out,
        resumed: bool,
    },
    Detach {
        conn: u64,
    },
    /// A watcher attaches (read-only: it gets what the owner gets).
    Watch {
        conn: u64,
        out: Out,
    },
    Unwatch {
        conn: u64,
    },
    /// A watcher's question (`ClientMsg::is_question`), answered to that watcher alone.
    Ask {
        conn: u64,
        msg: edasim_protocol::ClientMsg,
    },
    /// A watcher asks for a private copy of the session: the new session's id, or why not.
    Fork(oneshot::Sender<Result<SessionId, String>>),
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

/// Where the clock is going: nowhere, on with the wall clock, or as fast as it can to a time
/// (a `step` by a duration, which may take many slices).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Motion {
    Still,
    Playing,
    SteppingTo(Time),
}

struct Session {
    id: SessionId,
    app: AppState,
    model: Model,
    /// At home between slices; on the pool during one (`None` only then).
    engine: Option<Box<Engine>>,
    /// The last slice was light: the next runs on this task (see `Session::advance`).
    light: bool,
    seed: u64,
    motion: Motion,
    /// Playing pauses when the clock reaches this (a walkthrough's step end).
    pause_at: Option<Time>,
    speed: f64,
    out: Option<(u64, Out)>,
    /// Read-only connections of a classroom (`classroom.rs`).
    watchers: Vec<(u64, Out)>,
    /// The join code, once the owner opened the session to watchers.
    classroom: Option<String>,
    /// The walkthrough the owner follows and its step, for watchers to follow.
    lesson: Option<(String, usize)>,
    /// The live changes since the run started, with their times: a fork replays them.
    replay: Vec<(Time, classroom::Replay)>,
    detached_since: Option<Instant>,
    last_advance: Instant,
    last_metrics: Instant,
    /// The speed kept: simulated and wall time over the current window of about a second.
    pace: Pace,
    /// Per node, the end (in simulated seconds) of the last series point sent.
    sent_until: Vec<u64>,
    traces: VecDeque<HopOut>,
    shared: Arc<SessionShared>,
    /// Each node's peak producer rate as it stands (file, then live changes): the rate limit.
    rates: Vec<f64>,
    hops: Vec<Hop>,
    logs: Vec<LogEvent>,
}

/// The speed a session keeps, measured over windows of about a second of wall time.
#[derive(Clone, Copy, Debug)]
struct Pace {
    window_start: Instant,
    sim_start: Time,
    achieved: f64,
}

impl Pace {
    fn new(now: Time) -> Pace {
        Pace { window_start: Instant::now(), sim_start: now, achieved: 0.0 }
    }

    fn update(&mut self, now: Time) {
        let wall = self.window_start.elapsed().as_secs_f64();
        if wall >= 1.0 {
            self.achieved = now.saturating_sub(self.sim_start) as f64 / NS_PER_S as f64 / wall;
            *self = Pace { window_start: Instant::now(), sim_start: now, achieved: self.achieved };
        }
    }
}

/// Starts a session playing the default scenario; returns its id.
pub fn start(app: &AppState) -> Result<SessionId, String> {
    let model = app.scenarios.model(crate::scenarios::DEFAULT).ok_or("the default scenario does not load")?.clone();
    let seed = model.topology().seed;
    let engine = new_engine(&model, seed, app.limits.memory_watermark);
    spawn(app, model, seed, engine, 1.0, Vec::new())
}

/// Starts a session on `engine` (a fresh one, or a fork's replay, with the changes it
/// replayed); returns its id.
fn spawn(
    app: &AppState,
    model: Model,
    seed: u64,
    engine: Engine,
    speed: f64,
    replay: Vec<(Time, classroom::Replay)>,
) -> Result<SessionId, String> {
    let id = SessionId::random().map_err(|e| format!("no random id could be made: {e}"))?;
    let (tx, rx) = mpsc::channel(256);
    let shared = Arc::new(SessionShared::default());
    {
        let mut registry = app.registry();
        if registry.len() >= app.limits.max_sessions {
            return Err(format!("the server runs {} sessions, its limit; try again later", registry.len()));
        }
        registry.insert(id, crate::state::SessionHandle { cmd: tx, shared: shared.clone() });
    }
    // A fork's rates are the file's with the replayed rate changes: the limit counts them.
    let mut rates = commands::peak_rates(&model);
    for (_, r) in &replay {
        if let classroom::Replay::Change(node, edasim_sim::engine::Change::RatePerS(rate)) = r
            && let Some(slot) = rates.get_mut(*node)
        {
            *slot = *rate;
        }
    }
    let now = engine.now();
    let session = Session {
        id,
        app: app.clone(),
        pace: Pace::new(now),
        engine: Some(Box::new(engine)),
        light: false,
        model,
        seed,
        motion: Motion::Still,
        pause_at: None,
        speed,
        out: None,
        watchers: Vec::new(),
        classroom: None,
        lesson: None,
        replay,
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

fn new_engine(model: &Model, seed: u64, watermark: u64) -> Engine {
    let opts = Options {
        seed: Some(seed),
        hop_capacity: 8 * HOPS_PER_FRAME,
        log_capacity: 4 * LOGS_PER_FRAME,
        memory_watermark: Some(watermark),
        ..Options::default()
    };
    Engine::new(model, &opts)
}

/// Advances `engine` towards `target` for at most `wall` of wall time: whether it got there.
fn slice(engine: &mut Engine, target: Time, wall: Duration) -> Result<bool, Halt> {
    let start = Instant::now();
    loop {
        if engine.step_until_bounded(target, SLICE_EVENTS)? {
            return Ok(true);
        }
        if start.elapsed() >= wall {
            return Ok(false);
        }
    }
}

impl Session {
    /// The engine, at home between slices (the session's own task only reads it then).
    fn engine(&self) -> &Engine {
        self.engine.as_deref().expect("the engine is home between slices")
    }

    fn engine_mut(&mut self) -> &mut Engine {
        self.engine.as_deref_mut().expect("the engine is home between slices")
    }

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
                    if !self.on_tick().await {
                        self.send(ServerMsg::Closing { reason: "the simulation failed; start a new session".to_string() });
                        break;
                    }
                }
            }
        }
        self.close_classroom();
        self.app.registry().remove(&self.id);
        tracing::info!(session = %self.id, "session ended");
    }

    /// Advances the clock as the motion asks and sends a frame; `false` if the engine was lost.
    async fn on_tick(&mut self) -> bool {
        // With no one watching, nothing moves: a closed tab costs nothing until it comes back.
        if self.out.is_none() || self.motion == Motion::Still {
            return true;
        }
        let now = Instant::now();
        let wall = now.duration_since(self.last_advance).min(MAX_FRAME_WALL);
        self.last_advance = now;
        let t = self.engine().now();
        let target = match self.motion {
            // From where the clock is, not where it should be: a session that cannot keep its
            // speed falls behind instead of piling up a debt it would then try to repay.
            Motion::Playing => t
                .saturating_add((wall.as_secs_f64() * self.speed * NS_PER_S as f64) as Time)
                .min(self.pause_at.unwrap_or(Time::MAX)),
            Motion::SteppingTo(to) => to,
            Motion::Still => t,
        };
        let Some(reached) = self.advance(target).await else { return false };
        let paused_at = self.pause_at.is_some_and(|p| self.engine().now() >= p);
        if reached && (matches!(self.motion, Motion::SteppingTo(_)) || (self.motion == Motion::Playing && paused_at)) {
            self.motion = Motion::Still;
            self.pause_at = None;
            self.send_state();
        }
        self.pace.update(self.engine().now());
        self.send_frame(true);
        true
    }

    /// One slice towards `target`: `Some(reached)`, or `None` if the engine was lost (a panic in
    /// the engine; the session then ends). A session whose last slice was light (it got there
    /// in well under a millisecond, as the order pipeline does at 10x) runs the next one on its
    /// own task, capped at `INLINE_WALL`: handing it to the pool would cost more than the
    /// simulating. Any other slice runs on the pool.
    async fn advance(&mut self, target: Time) -> Option<bool> {
        let started = Instant::now();
        let result = if self.light {
            slice(self.engine_mut(), target, INLINE_WALL)
        } else {
            let mut engine = self.engine.take()?;
            let pool = self.app.pool.clone();
            let (engine, result) = pool
                .run(move || {
                    let result = slice(&mut engine, target, SLICE_WALL);
                    (engine, result)
                })
                .await?;
            self.engine = Some(engine);
            result
        };
        self.light = matches!(result, Ok(true)) && started.elapsed() < LIGHT_SLICE;
        match result {
            Ok(reached) => Some(reached),
            Err(halt) => {
                self.motion = Motion::Still;
                self.send(ServerMsg::from(edasim_protocol::CommandError::at("", format!("paused: {halt}"))));
                self.send_state();
                Some(true)
            }
        }
    }
}
