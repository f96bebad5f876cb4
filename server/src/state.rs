//! What the server shares between its handlers: the session registry, limits and counters.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use crate::session::{SessionCmd, SessionShared};

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
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_sessions: 200,
            max_nodes: 500,
            max_total_rate: 50_000.0,
            max_message_bytes: edasim_protocol::MAX_CLIENT_MESSAGE_BYTES,
            reconnect_grace: std::time::Duration::from_secs(60),
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
}

impl ServerStats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

#[derive(Clone)]
pub struct AppState {
    pub sessions: Arc<Mutex<HashMap<String, SessionHandle>>>,
    pub limits: Arc<Limits>,
    pub stats: Arc<ServerStats>,
    /// Origins allowed to open websockets besides the server's own (`--allow-origin`).
    pub allowed_origins: Arc<Vec<String>>,
}

impl AppState {
    pub fn new(limits: Limits, allowed_origins: Vec<String>) -> Self {
        AppState {
            sessions: Arc::default(),
            limits: Arc::new(limits),
            stats: Arc::default(),
            allowed_origins: Arc::new(allowed_origins),
        }
    }

    /// The sessions registry; a poisoned lock (a panicked handler) still holds valid data.
    pub fn registry(&self) -> std::sync::MutexGuard<'_, HashMap<String, SessionHandle>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn session(&self, id: &str) -> Option<SessionHandle> {
        self.registry().get(id).cloned()
    }
}
