//! The websocket protocol of edasim: JSON messages with a `type` tag (see `docs/protocol.md`).

use edasim_sim::Problem;
use edasim_sim::engine::{BreakerState, Change, Level, LogKind, OutboxStats, SagaCounts, SagaState, SagaSummary};
use edasim_sim::stats::Point;
use edasim_sim::topology::FaultKind;
use edasim_sim::topology::StepRole;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The largest message a client may send: the largest topology file, with room for the
/// envelope. The server's request bodies have the same limit.
pub const MAX_CLIENT_MESSAGE_BYTES: usize = edasim_sim::topology::MAX_FILE_BYTES + 64 * 1024;
/// Speeds a client may set, in simulated seconds per second of wall time.
pub const SPEED_RANGE: (f64, f64) = (0.1, 1000.0);

/// A command from the browser. On the wire it is one object with a `type` tag
/// (`{"type": "set_speed", "speed": 100}`): read it with [`ClientMsg::from_json`] and write it
/// with [`ClientMsg::to_json`]. (The serde derives use the externally tagged form, through which
/// a bad field's path can be reported; the two functions convert.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMsg {
    /// Replaces the session's topology with a full file (validated first: a bad one changes
    /// nothing).
    LoadTopology {
        topology: Value,
    },
    /// Loads a shipped scenario by name (`GET /api/scenarios` lists them).
    LoadScenario {
        name: String,
    },
    /// Plays; with `until_ms`, pauses when the clock reaches it (a walkthrough's step).
    Play {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until_ms: Option<f64>,
    },
    Pause {},
    /// Advances a paused simulation by one event, or by `ms` of simulated time.
    Step {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ms: Option<f64>,
    },
    /// Simulated seconds per wall-clock second, 0.1 to 1000.
    SetSpeed {
        speed: f64,
    },
    /// Starts the topology again from time 0 (paused).
    Reset {},
    /// Sets the seed and starts again from time 0.
    SetSeed {
        seed: u64,
    },
    /// Changes one parameter of one node while it runs.
    SetParam {
        node: String,
        change: Change,
    },
    /// Injects a fault into a node while it runs.
    InjectFault {
        node: String,
        fault: Fault,
    },
    /// Starts a fault of any kind the file's `faults` schedule, on a node (or with `to`, on the
    /// link from `node` to `to`), now, for `for_s` seconds (for ever without).
    StartFault {
        node: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
        fault: FaultKind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        for_s: Option<f64>,
    },
    /// The teacher opens the session to watchers: a join code (`classroom` answers).
    OpenClassroom {},
    /// The teacher's walkthrough is at step `step` (watchers follow).
    LessonStep {
        step: usize,
    },
    /// A watcher asks for a private copy of the session as it stands (`forked` answers).
    Fork {},
    /// Opens a shipped walkthrough: its scenario and seed are loaded, then it is sent
    /// (`walkthrough`).
    OpenWalkthrough {
        name: String,
    },
    /// Asks for the values of expressions over the run's numbers now (a walkthrough's claims
    /// and revealed numbers: `docs/walkthrough.md`); answered by `values`.
    Evaluate {
        exprs: Vec<String>,
    },
    /// Asks for the hops of a message (or of its whole chain, by root id) seen so far.
    Trace {
        msg: u64,
    },
    /// Asks for an orchestrator's sagas (`sagas` answers): newest first, those in `state` (all
    /// without), whose id contains `search`.
    Sagas {
        node: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        state: Option<SagaState>,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        search: String,
    },
}

/// Sagas a `sagas` answer lists at most.
pub const SAGAS_LISTED: usize = 100;

/// A step of an orchestrator's saga, as its panel draws it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SagaStepView {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant: Option<String>,
    pub role: StepRole,
    pub timeout_ms: f64,
}

/// Why a command could not be read or carried out; the session goes on unchanged. It reaches
/// the client as [`ServerMsg::Error`].
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}{}{message}", command.as_deref().map(|c| format!("{c}: ")).unwrap_or_default(), if path.is_empty() { String::new() } else { format!("{path}: ") })]
pub struct CommandError {
    /// The command's `type`, when it could be read.
    pub command: Option<String>,
    /// The path of the bad field in the command (`""`: the whole message).
    pub path: String,
    pub message: String,
    /// For a topology: every problem found, each with its path into the topology.
    pub problems: Vec<Problem>,
    /// For a live change (`set_param`): the node and the parameter it was about, so that a
    /// client can put the reason next to the field and roll the value back.
    /// (Boxed: it is rare, and keeps the error small.)
    pub about: Option<Box<(String, String)>>,
}

impl CommandError {
    /// A refusal of the field at `path`.
    pub fn at(path: impl Into<String>, message: impl Into<String>) -> Self {
        CommandError { command: None, path: path.into(), message: message.into(), problems: Vec::new(), about: None }
    }

    /// The same error, about `param` of `node`.
    pub fn about(mut self, node: &str, param: &str) -> Self {
        self.about = Some(Box::new((node.to_string(), param.to_string())));
        self
    }

    /// The same error, naming the command it is about.
    pub fn of(mut self, command: &str) -> Self {
        self.command = Some(command.to_string());
        self
    }
}

impl From<CommandError> for ServerMsg {
    fn from(e: CommandError) -> Self {
        let (node, param) = e.about.map_or((None, None), |b| (Some(b.0), Some(b.1)));
        ServerMsg::Error { command: e.command, path: e.path, message: e.message, problems: e.problems, node, param }
    }
}

impl ClientMsg {
    /// Reads a command from its wire form.
    pub fn from_json(text: &str) -> Result<ClientMsg, CommandError> {
        let fail = |command: Option<String>, path: &str, message: String| CommandError {
            command,
            path: path.into(),
            message,
            problems: Vec::new(),
            about: None,
        };
        let value: Value = serde_json::from_str(text).map_err(|e| fail(None, "", format!("invalid JSON: {e}")))?;
        let Value::Object(mut fields) = value else {
            return Err(fail(None, "", "expected a command: a JSON object with a \"type\"".into()));
        };
        let command = match fields.remove("type") {
            Some(Value::String(t)) => t,
            Some(other) => return Err(fail(None, "type", format!("expected a string, found {other}"))),
            None => return Err(fail(None, "type", "missing: every command has a \"type\"".into())),
        };
        let tagged = Value::Object([(command.clone(), Value::Object(fields))].into_iter().collect());
        serde_path_to_error::deserialize(&tagged).map_err(|e| {
            let full = e.path().to_string();
            // The first segment is the command itself: an unknown type is reported at `type`.
            let path = match full.split_once('.') {
                _ if full == "." || full.is_empty() || full == command => "type".to_string(),
                Some((_, rest)) => rest.to_string(),
                None => full,
            };
            fail(Some(command.clone()), &path, e.into_inner().to_string())
        })
    }

    /// The command's wire form.
    pub fn to_json(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        let Value::Object(outer) = &mut v else { return v };
        let Some((name, Value::Object(fields))) = outer.iter_mut().next().map(|(k, v)| (k.clone(), v.take())) else {
            return v;
        };
        let mut out = serde_json::Map::new();
        out.insert("type".into(), Value::String(name));
        out.extend(fields);
        Value::Object(out)
    }

    /// A question about the run that changes nothing (an order's trace, an orchestrator's
    /// sagas): a classroom's watchers may ask it too, and have the answer to themselves.
    pub fn is_question(&self) -> bool {
        matches!(self, ClientMsg::Trace { .. } | ClientMsg::Sagas { .. })
    }

    pub fn name(&self) -> &'static str {
        match self {
            ClientMsg::LoadTopology { .. } => "load_topology",
            ClientMsg::LoadScenario { .. } => "load_scenario",
            ClientMsg::Play { .. } => "play",
            ClientMsg::Pause {} => "pause",
            ClientMsg::Step { .. } => "step",
            ClientMsg::SetSpeed { .. } => "set_speed",
            ClientMsg::Reset {} => "reset",
            ClientMsg::SetSeed { .. } => "set_seed",
            ClientMsg::SetParam { .. } => "set_param",
            ClientMsg::InjectFault { .. } => "inject_fault",
            ClientMsg::StartFault { .. } => "start_fault",
            ClientMsg::Trace { .. } => "trace",
            ClientMsg::Evaluate { .. } => "evaluate",
            ClientMsg::OpenWalkthrough { .. } => "open_walkthrough",
            ClientMsg::OpenClassroom {} => "open_classroom",
            ClientMsg::LessonStep { .. } => "lesson_step",
            ClientMsg::Fork {} => "fork",
            ClientMsg::Sagas { .. } => "sagas",
        }
    }
}

/// A replica crash a user can inject (every other kind: [`ClientMsg::StartFault`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// One replica of a service crashes; what it held is redelivered, and it restarts after
    /// `restart_ms` (default `DEFAULT_RESTART_MS`; 0: at once).
    CrashReplica {
        replica: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        restart_ms: Option<f64>,
    },
}

/// How long a crashed replica stays down unless the fault says otherwise: Kubernetes restarts
/// a crashed container after a back-off that starts at ten seconds.
pub const DEFAULT_RESTART_MS: f64 = 10_000.0;

/// What the server sends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// First message on a connection: the session's id (to reconnect with) and what it holds.
    Welcome {
        session: String,
        resumed: bool,
        scenarios: Vec<String>,
        /// The shipped walkthroughs: (name, title), in the menu's order.
        #[serde(default)]
        walkthroughs: Vec<(String, String)>,
        /// A watcher's connection: the classroom's code (its commands are refused but `fork` and
        /// the questions, `trace` and `sagas`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        watching: Option<String>,
    },
    /// The session is open to watchers: its join code (`/watch/CODE`), and how many watch.
    Classroom {
        code: String,
        watchers: usize,
    },
    /// The teacher's walkthrough moved to `step`.
    LessonStep {
        name: String,
        step: usize,
    },
    /// A fork was made: the new session's id, to connect to (`/ws?session=ID`).
    Forked {
        session: String,
    },
    /// A topology is loaded (or reloaded): node and link indices in frames refer to it.
    Loaded {
        topology: Value,
        warnings: Vec<Problem>,
        seed: u64,
    },
    /// The play state changed (play, pause, speed, step, reset).
    State {
        playing: bool,
        speed: f64,
        t_ms: f64,
    },
    Frame(Frame),
    Metrics(Metrics),
    Log(Log),
    Trace {
        msg: u64,
        hops: Vec<HopOut>,
    },
    /// The answer to `sagas`: at `t_ms`, the orchestrator's steps, counts, and the sagas asked
    /// for (at most [`SAGAS_LISTED`]), each with its history.
    Sagas {
        node: String,
        t_ms: f64,
        steps: Vec<SagaStepView>,
        counts: SagaCounts,
        sagas: Vec<SagaSummary>,
    },
    /// A walkthrough opened (its file, `docs/walkthrough.md`); its scenario is loaded.
    Walkthrough {
        name: String,
        file: Value,
    },
    /// The reply to `evaluate`: at `t_ms`, each expression's value or why it has none.
    Values {
        t_ms: f64,
        values: Vec<Evaluated>,
    },
    /// The server is shutting down (or the session ended): the connection closes next.
    Closing {
        reason: String,
    },
    /// A command that could not be done, and why; the session goes on unchanged.
    Error {
        /// The command's `type`, when it could be read.
        #[serde(skip_serializing_if = "Option::is_none")]
        command: Option<String>,
        /// Where in the command the problem is (`""`: the whole message).
        path: String,
        message: String,
        /// For a topology: every problem found, each with its path into the topology.
        #[serde(skip_serializing_if = "Vec::is_empty", default)]
        problems: Vec<Problem>,
        /// A refused live change: the node and the parameter (the value stays as it was).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        node: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        param: Option<String>,
    },
}

/// One expression's value, or why it has none.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluated {
    pub expr: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What moved since the last frame, and the state of every node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    pub t_ms: f64,
    pub playing: bool,
    pub speed: f64,
    /// A sample of the hops since the last frame, spread over the links.
    pub hops: Vec<HopOut>,
    /// Hops left out of this frame.
    pub hops_omitted: u64,
    /// In the topology's node order.
    pub nodes: Vec<NodeLive>,
    pub totals: Totals,
    /// Messages that have crossed each link since the start, in the topology's link order
    /// (every crossing, not only the sampled hops): the view draws link thickness from the rate.
    #[serde(default)]
    pub links: Vec<u64>,
    /// The speed the session kept over the last second while playing (simulated seconds per
    /// wall second): below `speed` when the topology is too heavy for the machine to keep up.
    #[serde(default)]
    pub achieved_speed: f64,
}

/// A message crossing a link; `from`, `to` and `link` index the loaded topology.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HopOut {
    pub msg: u64,
    pub root: u64,
    pub link: u32,
    pub from: u32,
    pub to: u32,
    pub event: String,
    pub start_ms: f64,
    pub end_ms: f64,
    pub dead: bool,
    /// Delivered again (after a requeue or a crash).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redelivered: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    Ok,
    /// Errors or dead letters in the last second, or a queue over half its limit.
    Warning,
    /// No replica up, or drops in the last second.
    Error,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeLive {
    pub id: String,
    pub depth: u64,
    pub unacked: u64,
    pub busy: u64,
    pub workers: u64,
    pub replicas_up: u32,
    /// Replicas in all, up or down (a crashed one waiting for its restart).
    #[serde(default)]
    pub replicas: u32,
    pub health: Health,
    /// A producer whose publishes the broker's memory alarm blocks.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub blocked: bool,
    /// The faults striking it now.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<ActiveFault>,
    /// A service with circuit breakers on its calls: the least closed of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breaker: Option<BreakerState>,
    /// A saga orchestrator: its sagas by state, and what happened to them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sagas: Option<SagaCounts>,
    /// A service with a transactional outbox: its relay's counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbox: Option<OutboxStats>,
}

/// A fault striking a node now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActiveFault {
    /// Its kind, as the file names it (`crash`, `store_down`...).
    pub kind: String,
    /// A link fault (shown on the link's source): the link's target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Simulated seconds left (none: until the run ends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_s: Option<f64>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub produced: u64,
    pub completed: u64,
    pub dead_lettered: u64,
    pub dropped: u64,
    pub in_system: u64,
    pub duplicates_skipped: u64,
    /// Emissions the memory alarm refused since the start.
    #[serde(default)]
    pub blocked: u64,
    /// The broker's memory alarm is on: the run holds its limit of messages (`watermark`).
    #[serde(default)]
    pub memory_alarm: bool,
    #[serde(default)]
    pub watermark: u64,
}

/// New per-second points of the series, per node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub t_ms: f64,
    pub nodes: Vec<NodePoints>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodePoints {
    pub node: String,
    pub points: Vec<Point>,
}

/// Notable events, newest last.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Log {
    pub entries: Vec<LogLine>,
    /// Entries left out for lack of room.
    pub omitted: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    pub t_ms: f64,
    pub level: Level,
    pub kind: LogKind,
    pub node: String,
    pub msg: u64,
    pub root: u64,
    pub event: String,
    /// What the event counts, when it counts something (a crash: the messages redelivered).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub count: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn commands_read_as_documented() {
        let cases = [
            (json!({"type": "play"}), ClientMsg::Play { until_ms: None }),
            (json!({"type": "step"}), ClientMsg::Step { ms: None }),
            (json!({"type": "step", "ms": 250}), ClientMsg::Step { ms: Some(250.0) }),
            (json!({"type": "set_speed", "speed": 100}), ClientMsg::SetSpeed { speed: 100.0 }),
            (
                json!({"type": "set_param", "node": "payment_processing", "change": {"param": "replicas", "value": 4}}),
                ClientMsg::SetParam { node: "payment_processing".into(), change: Change::Replicas(4) },
            ),
            (
                json!({"type": "inject_fault", "node": "s", "fault": {"kind": "crash_replica", "replica": 0}}),
                ClientMsg::InjectFault {
                    node: "s".into(),
                    fault: Fault::CrashReplica { replica: 0, restart_ms: None },
                },
            ),
        ];
        for (v, want) in cases {
            let got = ClientMsg::from_json(&v.to_string()).unwrap();
            assert_eq!(got, want);
            assert_eq!(ClientMsg::from_json(&got.to_json().to_string()).unwrap(), want);
            assert_eq!(got.to_json()["type"], v["type"]);
        }
    }

    #[test]
    fn bad_commands_say_where() {
        let err = |v: Value| ClientMsg::from_json(&v.to_string()).unwrap_err();
        let e = err(json!({"type": "set_speed", "speed": "fast"}));
        assert_eq!((e.command.as_deref(), e.path.as_str()), (Some("set_speed"), "speed"));
        assert!(e.message.contains("invalid type"), "{}", e.message);
        let e = err(json!({"type": "set_param", "node": "q", "change": {"param": "replicas", "value": -1}}));
        assert_eq!(e.path, "change.value");
        let e = err(json!({"type": "play", "extra": 1}));
        assert!(e.message.contains("unknown field `extra`"), "{}", e.message);
        let e = err(json!({"type": "fly"}));
        assert_eq!(e.path, "type");
        assert!(e.message.contains("unknown variant `fly`"), "{}", e.message);
        assert_eq!(err(json!({"speed": 1})).path, "type");
        assert_eq!(err(json!([1])).path, "");
        assert!(ClientMsg::from_json("{oops").unwrap_err().message.starts_with("invalid JSON"));
    }
}
