//! What the server shares between its handlers: the session registry, limits and counters.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use crate::scenarios::Scenarios;
use crate::session::{SessionCmd, SessionId, SessionShared};
use crate::simpool::SimPool;

/// Limits that keep one client from taking the machine down.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Live sessions at once.
    pub max_sessions: usize,
    /// Nodes in a topology played live.
    pub max_nodes: usize,
    /// Sum of producer rates (events per second) in a topology played live.
    pub max_total_rate: f64,
    /// Bytes in one websocket message or request body.
    pub max_message_bytes: usize,
    /// How long a session waits for its client to come back.
    pub reconnect_grace: std::time::Duration,
    /// Messages a session may hold before the broker's memory alarm blocks its producers: at
    /// about 200 bytes a message, 200 sessions at their limit fit in a few GB.
    pub memory_watermark: u64,
    /// How long `/metrics` waits for all the sessions' samples at most.
    pub metrics_deadline: std::time::Duration,
    /// Watchers of one classroom at most.
    pub max_watchers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_sessions: 200,
            max_nodes: 500,
            max_total_rate: 50_000.0,
            max_message_bytes: edasim_protocol::MAX_CLIENT_MESSAGE_BYTES,
            reconnect_grace: std::time::Duration::from_secs(60),
            memory_watermark: 100_000,
            metrics_deadline: std::time::Duration::from_secs(1),
            max_watchers: 120,
        }
    }
}

/// A live session as the rest of the server sees it.
#[derive(Clone)]
pub struct SessionHandle {
    pub cmd: mpsc::Sender<SessionCmd>,
    pub shared: Arc<SessionShared>,
}

/// The server's own counters, exported on `/metrics`.
#[derive(Debug, Default)]
pub struct ServerStats {
    pub frames_sent: AtomicU64,
    pub frames_dropped: AtomicU64,
    pub messages_received: AtomicU64,
    pub sessions_started: AtomicU64,
    /// Commands refused (bad fields, values out of range, unknown nodes...).
    pub commands_refused: AtomicU64,
    /// Sessions whose samples missed `/metrics`' deadline.
    pub metrics_skipped: AtomicU64,
}

impl ServerStats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

#[derive(Clone)]
pub struct AppState {
    pub sessions: Arc<Mutex<HashMap<SessionId, SessionHandle>>>,
    /// Open classrooms: join code → the session watched.
    pub classrooms: Arc<Mutex<HashMap<String, SessionId>>>,
    pub limits: Arc<Limits>,
    pub stats: Arc<ServerStats>,
    /// Origins allowed to open websockets besides the server's own (`--allow-origin`).
    pub allowed_origins: Arc<Vec<String>>,
    /// The shipped scenarios, parsed once at start.
    pub scenarios: Arc<Scenarios>,
    /// The shipped walkthroughs, read once at start.
    pub walkthroughs: Arc<crate::walkthroughs::Walkthroughs>,
    /// Where sessions' engines advance: off the async runtime.
    pub pool: SimPool,
}

impl AppState {
    pub fn new(limits: Limits, allowed_origins: Vec<String>) -> std::io::Result<Self> {
        Ok(AppState {
            sessions: Arc::default(),
            classrooms: Arc::default(),
            limits: Arc::new(limits),
            stats: Arc::default(),
            allowed_origins: Arc::new(allowed_origins),
            scenarios: Arc::new(Scenarios::load()),
            walkthroughs: Arc::new(crate::walkthroughs::Walkthroughs::load()),
            pool: SimPool::per_core()?,
        })
    }

    /// The sessions registry; a poisoned lock (a panicked handler) still holds valid data.
    /// Held only to look up, add or remove: never while parsing or formatting.
    pub fn registry(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, SessionHandle>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn classrooms(&self) -> std::sync::MutexGuard<'_, HashMap<String, SessionId>> {
        self.classrooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The session a classroom's join code names (case does not matter).
    pub fn classroom(&self, code: &str) -> Option<(SessionId, SessionHandle)> {
        let id = *self.classrooms().get(&code.to_ascii_uppercase())?;
        self.registry().get(&id).cloned().map(|h| (id, h))
    }

    /// The session a client names, if its id is one.
    pub fn session(&self, id: &str) -> Option<(SessionId, SessionHandle)> {
        let id = SessionId::parse(id)?;
        self.registry().get(&id).cloned().map(|h| (id, h))
    }
}
