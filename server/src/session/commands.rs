//! What each client command does to a session. A refused command is a [`CommandError`] with the
//! path of the bad field, and leaves the session as it was.

use std::time::Instant;

use edasim_protocol::{
    ClientMsg, CommandError, DEFAULT_RESTART_MS, Evaluated, Fault, HopOut, SAGAS_LISTED, SPEED_RANGE, SagaStepView,
    ServerMsg,
};
use edasim_sim::Model;
use edasim_sim::engine::Change;
use edasim_sim::time::{ms_to_ns, ns_to_ms};
use edasim_sim::topology::{FaultKind, NodeKind, Service};

use super::classroom::Replay;
use super::{MAX_EVALUATE, Motion, Pace, Session, SessionCmd, TRACE_HISTORY, new_engine};
use crate::state::ServerStats;

/// The longest `step` by a duration: an hour of simulated time.
const MAX_STEP_MS: f64 = 3_600_000.0;

impl Session {
    pub(super) fn on_cmd(&mut self, cmd: SessionCmd) {
        match cmd {
            SessionCmd::Attach { conn, out, resumed } => {
                self.out = Some((conn, out));
                self.detached_since = None;
                // The clock stood still while no one watched: do not make up for it.
                self.restart_clock();
                self.reply(ServerMsg::Welcome {
                    session: self.id.to_string(),
                    resumed,
                    watching: None,
                    scenarios: self.app.scenarios.names(),
                    walkthroughs: self
                        .app
                        .walkthroughs
                        .iter()
                        .map(|w| (w.name.to_string(), w.walkthrough.title.clone()))
                        .collect(),
                });
                // Only the owner's connection is new: watchers have what they need.
                let topology = serde_json::to_value(self.model.topology()).unwrap_or_default();
                let warnings = self.model.warnings().to_vec();
                self.reply(ServerMsg::Loaded { topology, warnings, seed: self.seed });
                let t_ms = ns_to_ms(self.engine().now());
                self.reply(ServerMsg::State { playing: self.motion == Motion::Playing, speed: self.speed, t_ms });
                let all = self.metrics_all();
                self.reply(all);
                self.tell_classroom();
                self.send_frame(false);
            }
            SessionCmd::Watch { conn, out } => self.watch(conn, out),
            SessionCmd::Unwatch { conn } => self.unwatch(conn),
            SessionCmd::Fork(reply) => self.fork(reply),
            SessionCmd::Ask { conn, msg } => {
                let name = msg.name();
                let answer = self.answer(msg).unwrap_or_else(|e| {
                    ServerStats::add(&self.app.stats.commands_refused, 1);
                    ServerMsg::from(e.of(name))
                });
                self.tell_watcher(conn, &answer);
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
                if let Err(e) = self.on_client(msg) {
                    ServerStats::add(&self.app.stats.commands_refused, 1);
                    self.reply(ServerMsg::from(e.of(name)));
                }
            }
        }
    }

    /// Carries out a command; an error leaves the session as it was.
    fn on_client(&mut self, msg: ClientMsg) -> Result<(), CommandError> {
        match msg {
            ClientMsg::LoadTopology { topology } => {
                let model = Model::from_value(&topology).map_err(|e| CommandError {
                    problems: e.problems,
                    ..CommandError::at("topology", "the topology has problems; nothing was changed")
                })?;
                self.load(model)?;
            }
            ClientMsg::LoadScenario { name } => match self.app.scenarios.model(&name) {
                Some(model) => self.load(model.clone())?,
                None => {
                    return Err(CommandError::at(
                        "name",
                        format!("no scenario \"{name}\"; there are: {}", self.app.scenarios.names().join(", ")),
                    ));
                }
            },
            ClientMsg::Play { until_ms } => {
                self.pause_at = match until_ms {
                    Some(ms) if !(ms.is_finite() && ms >= 0.0) => {
                        return Err(CommandError::at(
                            "until_ms",
                            format!("expected 0 or more milliseconds, found {ms}"),
                        ));
                    }
                    Some(ms) if ms_to_ns(ms) <= self.engine().now() => {
                        // Already there: stay paused.
                        self.send_state();
                        return Ok(());
                    }
                    other => other.map(ms_to_ns),
                };
                self.motion = Motion::Playing;
                self.restart_clock();
                self.send_state();
            }
            ClientMsg::Pause {} => {
                self.motion = Motion::Still;
                self.pause_at = None;
                self.send_state();
                self.send_frame(false);
            }
            ClientMsg::Step { ms } => match ms {
                Some(ms) if !(ms.is_finite() && ms > 0.0 && ms <= MAX_STEP_MS) => {
                    return Err(CommandError::at(
                        "ms",
                        format!("expected 0 to {MAX_STEP_MS} milliseconds, found {ms}"),
                    ));
                }
                // A step by a duration runs slice by slice on the pool, frames showing the way.
                Some(ms) => {
                    self.motion = Motion::SteppingTo(self.engine().now().saturating_add(ms_to_ns(ms)));
                    self.send_state();
                }
                None => {
                    self.motion = Motion::Still;
                    if self.engine_mut().step().is_none() {
                        return Err(CommandError::at("", "nothing is left to happen"));
                    }
                    self.send_state();
                    self.send_frame(true);
                }
            },
            ClientMsg::SetSpeed { speed } => {
                let (lo, hi) = SPEED_RANGE;
                if !(speed.is_finite() && (lo..=hi).contains(&speed)) {
                    return Err(CommandError::at(
                        "speed",
                        format!("expected a speed from {lo} to {hi}, found {speed}"),
                    ));
                }
                self.speed = speed;
                self.pace = Pace::new(self.engine().now());
                self.send_state();
            }
            ClientMsg::Reset {} => self.restart(),
            ClientMsg::SetSeed { seed } => {
                self.seed = seed;
                self.restart();
            }
            ClientMsg::SetParam { node, change } => {
                let param = change.name();
                self.set_param(&node, change).map_err(|e| e.about(&node, param))?;
            }
            ClientMsg::InjectFault { node, fault } => {
                let i = self.node(&node)?;
                let change = match fault {
                    Fault::CrashReplica { replica, restart_ms } => {
                        Change::Crash { replica, restart_ms: restart_ms.unwrap_or(DEFAULT_RESTART_MS) }
                    }
                };
                self.engine_mut().apply(i, change.clone()).map_err(|e| CommandError::at("fault", e.to_string()))?;
                self.record(Replay::Change(i, change));
                self.send_frame(false);
            }
            ClientMsg::StartFault { node, to, fault, for_s } => {
                let i = self.node(&node)?;
                if let Some(to) = to {
                    self.node(&to).map_err(|_| CommandError::at("to", format!("no node \"{to}\"")))?;
                    let (link, role) = self
                        .model
                        .link_between(&node, &to)
                        .ok_or_else(|| CommandError::at("to", format!("no link from \"{node}\" to \"{to}\"")))?;
                    self.engine_mut()
                        .inject_link(link, role, fault.clone(), for_s)
                        .map_err(|e| CommandError::at("fault", e.to_string()))?;
                    self.record(Replay::LinkFault(link, role, fault, for_s));
                    self.send_frame(false);
                    return Ok(());
                }
                if let FaultKind::Burst { factor } = fault {
                    // A burst is a rate too: it counts against the session's limit.
                    let rate = self.rates[i] * factor;
                    if let Some((total, limit)) = self.over_rate_limit(i, rate) {
                        return Err(CommandError::at(
                            "fault.factor",
                            format!(
                                "a burst to {rate} events a second would make {total} in all; a live session allows {limit}"
                            ),
                        ));
                    }
                }
                self.engine_mut()
                    .inject(i, fault.clone(), for_s)
                    .map_err(|e| CommandError::at("fault", e.to_string()))?;
                self.record(Replay::Fault(i, fault, for_s));
                self.send_frame(false);
            }
            ClientMsg::OpenWalkthrough { name } => {
                let app = self.app.clone();
                let Some(w) = app.walkthroughs.get(&name) else {
                    return Err(CommandError::at(
                        "name",
                        format!("no walkthrough \"{name}\"; there are: {}", app.walkthroughs.names().join(", ")),
                    ));
                };
                let model = match crate::walkthroughs::scenario_name(&w.walkthrough) {
                    Some(s) => app.scenarios.model(s).cloned(),
                    None => match &w.walkthrough.scenario {
                        edasim_sim::walkthrough::ScenarioRef::Inline(v) => Model::from_value(v).ok(),
                        _ => None,
                    },
                };
                let Some(model) = model else {
                    return Err(CommandError::at(
                        "name",
                        format!("walkthrough \"{name}\" plays no scenario this server has"),
                    ));
                };
                self.load(model)?;
                if let Some(seed) = w.walkthrough.seed.filter(|&s| s != self.seed) {
                    self.seed = seed;
                    self.restart();
                }
                let file = serde_json::from_str(w.text).unwrap_or_default();
                self.lesson = Some((name.clone(), 0));
                self.send(ServerMsg::Walkthrough { name, file });
            }
            ClientMsg::OpenClassroom {} => self.open_classroom().map_err(|e| CommandError::at("", e))?,
            ClientMsg::LessonStep { step } => {
                let Some((name, _)) = self.lesson.clone() else {
                    return Err(CommandError::at("step", "no walkthrough is open"));
                };
                self.lesson = Some((name.clone(), step));
                self.send(ServerMsg::LessonStep { name, step });
            }
            ClientMsg::Fork {} => {
                return Err(CommandError::at("", "fork is for watchers: the owner has the run already"));
            }
            ClientMsg::Evaluate { exprs } => {
                if exprs.len() > MAX_EVALUATE {
                    return Err(CommandError::at(
                        "exprs",
                        format!("{} expressions; at most {MAX_EVALUATE} at once", exprs.len()),
                    ));
                }
                // One report serves every expression.
                let engine = self.engine();
                let report = serde_json::to_value(edasim_sim::Report::new(engine, 0.0, &[])).unwrap_or_default();
                let values = exprs
                    .into_iter()
                    .map(|expr| match edasim_sim::walkthrough::evaluate_with(engine, &report, &expr) {
                        Ok(v) => Evaluated { expr, value: Some(v), error: None },
                        Err(e) => Evaluated { expr, value: None, error: Some(e) },
                    })
                    .collect();
                let t_ms = ns_to_ms(engine.now());
                // Watchers see the numbers the teacher reveals too.
                self.send(ServerMsg::Values { t_ms, values });
            }
            question @ (ClientMsg::Trace { .. } | ClientMsg::Sagas { .. }) => {
                let answer = self.answer(question)?;
                self.reply(answer);
            }
        }
        Ok(())
    }

    /// The answer to a question (`ClientMsg::is_question`), for the owner or a watcher.
    fn answer(&self, question: ClientMsg) -> Result<ServerMsg, CommandError> {
        match question {
            ClientMsg::Trace { msg } => {
                let hops: Vec<HopOut> = self.traces.iter().filter(|h| h.msg == msg || h.root == msg).cloned().collect();
                if hops.is_empty() {
                    return Err(CommandError::at(
                        "msg",
                        format!(
                            "no hops of message {msg} were seen (only the sampled hops of the last {TRACE_HISTORY} are kept)"
                        ),
                    ));
                }
                Ok(ServerMsg::Trace { msg, hops })
            }
            ClientMsg::Sagas { node, state, search } => {
                let i = self.node(&node)?;
                let NodeKind::Service(Service { saga: Some(def), .. }) = &self.model.topology().nodes[i].kind else {
                    return Err(CommandError::at("node", format!("\"{node}\" is no saga orchestrator")));
                };
                let steps = def
                    .steps
                    .iter()
                    .enumerate()
                    .map(|(k, s)| SagaStepView {
                        name: s.name.clone(),
                        participant: s.participant.clone(),
                        role: def.role(k),
                        timeout_ms: s.timeout_ms,
                    })
                    .collect();
                let engine = self.engine();
                let search: String = search.chars().filter(char::is_ascii_digit).take(20).collect();
                let sagas = engine.saga_list(i, state, &search, SAGAS_LISTED, true);
                let counts = engine.saga_counts(i).unwrap_or_default();
                let t_ms = ns_to_ms(engine.now());
                Ok(ServerMsg::Sagas { node, t_ms, steps, counts, sagas })
            }
            other => Err(CommandError::at("", format!("\"{}\" is not a question", other.name()))),
        }
    }

    /// The session's total rate if node `i` emitted `rate`, and the limit, when it passes the
    /// live limit (one rule for rate changes and bursts).
    fn over_rate_limit(&self, i: usize, rate: f64) -> Option<(f64, f64)> {
        let others: f64 = self.rates.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, r)| r).sum();
        let limit = self.app.limits.max_total_rate;
        (others + rate > limit).then_some((others + rate, limit))
    }

    /// A live change: refused (nothing changed) past the session's rate limit or the
    /// parameter's range.
    fn set_param(&mut self, node: &str, change: Change) -> Result<(), CommandError> {
        let i = self.node(node)?;
        if let Change::RatePerS(r) = change
            && let Some((total, limit)) = self.over_rate_limit(i, r)
        {
            return Err(CommandError::at(
                "change.value",
                format!(
                    "{r} events a second would make {total} in all; a live session allows {limit} (edasim run has no such limit)"
                ),
            ));
        }
        let rate = if let Change::RatePerS(r) = change { Some(r) } else { None };
        self.engine_mut().apply(i, change.clone()).map_err(|e| CommandError::at("change", e.to_string()))?;
        self.record(Replay::Change(i, change));
        if let Some(r) = rate {
            self.rates[i] = r;
        }
        // A paused run shows the change at once.
        self.send_frame(false);
        Ok(())
    }

    /// The wall clock starts again from now: no time passed while paused or detached.
    fn restart_clock(&mut self) {
        self.last_advance = Instant::now();
        self.pace = Pace::new(self.engine().now());
    }

    fn node(&self, id: &str) -> Result<usize, CommandError> {
        self.model.node_index(id).ok_or_else(|| CommandError::at("node", format!("no node \"{id}\"")))
    }

    fn load(&mut self, model: Model) -> Result<(), CommandError> {
        let nodes = model.topology().nodes.len();
        let limits = &self.app.limits;
        if nodes > limits.max_nodes {
            return Err(CommandError::at(
                "topology.nodes",
                format!("{nodes} nodes; a live session plays at most {}", limits.max_nodes),
            ));
        }
        let rate: f64 = peak_rates(&model).iter().sum();
        if rate > limits.max_total_rate {
            return Err(CommandError::at(
                "topology.nodes",
                format!("the producers emit {rate} events per second; a live session allows {}", limits.max_total_rate),
            ));
        }
        self.seed = model.topology().seed;
        self.model = model;
        self.lesson = None;
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
        self.engine = Some(Box::new(new_engine(&self.model, self.seed, self.app.limits.memory_watermark)));
        self.rates = peak_rates(&self.model);
        self.motion = Motion::Still;
        self.pause_at = None;
        self.pace = Pace::new(0);
        self.sent_until.clear();
        self.traces.clear();
        self.replay.clear();
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
pub(super) fn peak_rates(model: &Model) -> Vec<f64> {
    model.topology().nodes.iter().map(|n| peak_rate(&n.kind)).collect()
}
