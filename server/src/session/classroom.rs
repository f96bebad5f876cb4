//! The classroom: the owner (the teacher) opens the session to watchers with a short join code;
//! each watcher gets what the owner gets (frames serialised once, shared by every connection),
//! and the walkthrough's step; their commands are refused but the questions (an order's trace,
//! an orchestrator's sagas, answered to the watcher alone) and `fork`, which gives a watcher a
//! private copy of the run as it stands: the same model and seed, the owner's live changes
//! replayed at their times (the engine is deterministic), in a session of its own.

use edasim_protocol::ServerMsg;
use edasim_sim::engine::{Change, Halt};
use edasim_sim::time::Time;
use edasim_sim::topology::{FaultKind, LinkRole};
use edasim_sim::{Engine, Model};
use tokio::sync::oneshot;

use super::{Out, Session, SessionId, new_engine};

/// Live changes a fork replays at most: past that, forking is refused (a run changed that
/// often is better saved and opened).
const MAX_REPLAY: usize = 10_000;

/// The letters of a join code: no 0/O, 1/I/L to misread on a projector.
const CODE_LETTERS: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const CODE_LEN: usize = 6;

/// A live change, as a fork replays it.
#[derive(Clone, Debug)]
pub(super) enum Replay {
    Change(usize, Change),
    Fault(usize, FaultKind, Option<f64>),
    LinkFault(usize, LinkRole, FaultKind, Option<f64>),
}

/// A fresh join code from the operating system's random numbers.
pub(super) fn new_code() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; CODE_LEN];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| CODE_LETTERS[*b as usize % CODE_LETTERS.len()] as char).collect())
}

/// `model` with `seed`, its changes replayed at their times, run to `until`.
pub(super) fn replayed(
    model: &Model,
    seed: u64,
    watermark: u64,
    replay: &[(Time, Replay)],
    until: Time,
) -> Result<Engine, Halt> {
    let mut engine = new_engine(model, seed, watermark);
    for (t, r) in replay {
        engine.step_until(*t)?;
        // Each was accepted once on this very state: it is again.
        let _ = match r.clone() {
            Replay::Change(node, change) => engine.apply(node, change).map_err(|e| e.to_string()),
            Replay::Fault(node, kind, for_s) => engine.inject(node, kind, for_s).map(|_| ()).map_err(|e| e.to_string()),
            Replay::LinkFault(link, role, kind, for_s) => {
                engine.inject_link(link, role, kind, for_s).map(|_| ()).map_err(|e| e.to_string())
            }
        };
    }
    engine.step_until(until)?;
    Ok(engine)
}

impl Session {
    /// Notes a live change the engine accepted, for forks to replay.
    pub(super) fn record(&mut self, r: Replay) {
        let now = self.engine().now();
        self.replay.push((now, r));
    }

    /// Opens the session to watchers (once: the same code after), and tells the owner.
    pub(super) fn open_classroom(&mut self) -> Result<(), String> {
        if self.classroom.is_none() {
            let mut rooms = self.app.classrooms();
            let code = loop {
                let code = new_code().map_err(|e| format!("no code could be made: {e}"))?;
                if !rooms.contains_key(&code) {
                    break code;
                }
            };
            rooms.insert(code.clone(), self.id);
            self.classroom = Some(code);
        }
        self.tell_classroom();
        Ok(())
    }

    /// The owner learns the code and how many watch.
    pub(super) fn tell_classroom(&mut self) {
        if let Some(code) = self.classroom.clone() {
            let watchers = self.watchers.len();
            self.reply(ServerMsg::Classroom { code, watchers });
        }
    }

    /// A watcher attaches: it is brought up to date, then gets what the owner gets.
    pub(super) fn watch(&mut self, conn: u64, out: Out) {
        if self.watchers.len() >= self.app.limits.max_watchers {
            let _ = out.try_send(
                serde_json::to_string(&ServerMsg::Closing {
                    reason: format!("the classroom is full ({} watch)", self.watchers.len()),
                })
                .unwrap_or_default()
                .into(),
            );
            return;
        }
        let welcome = ServerMsg::Welcome {
            session: String::new(),
            resumed: false,
            scenarios: Vec::new(),
            walkthroughs: Vec::new(),
            watching: self.classroom.clone(),
        };
        let topology = serde_json::to_value(self.model.topology()).unwrap_or_default();
        let warnings = self.model.warnings().to_vec();
        let t_ms = edasim_sim::time::ns_to_ms(self.engine().now());
        let mut first = vec![
            welcome,
            ServerMsg::Loaded { topology, warnings, seed: self.seed },
            ServerMsg::State { playing: self.motion == super::Motion::Playing, speed: self.speed, t_ms },
            self.metrics_all(),
        ];
        if let Some((name, step)) = self.lesson.clone()
            && let Some(w) = self.app.walkthroughs.get(&name)
        {
            first.push(ServerMsg::Walkthrough {
                name: name.clone(),
                file: serde_json::from_str(w.text).unwrap_or_default(),
            });
            first.push(ServerMsg::LessonStep { name, step });
        }
        for msg in first {
            if let Ok(text) = serde_json::to_string(&msg) {
                let _ = out.try_send(text.into());
            }
        }
        self.watchers.push((conn, out));
        self.tell_classroom();
        // Where the run stands now (a paused run sends no frames until it moves).
        self.send_frame(false);
    }

    /// A message for one watcher alone (the answer to its question).
    pub(super) fn tell_watcher(&self, conn: u64, msg: &ServerMsg) {
        if let Some((_, out)) = self.watchers.iter().find(|(c, _)| *c == conn)
            && let Ok(text) = serde_json::to_string(msg)
        {
            let _ = out.try_send(text.into());
        }
    }

    pub(super) fn unwatch(&mut self, conn: u64) {
        self.watchers.retain(|(c, _)| *c != conn);
        self.tell_classroom();
    }

    /// A private copy of the run for a watcher: replayed off the session's task, so that the
    /// class's run never waits for it.
    pub(super) fn fork(&mut self, reply: oneshot::Sender<Result<SessionId, String>>) {
        if self.replay.len() > MAX_REPLAY {
            let _ = reply
                .send(Err(format!("this run has more than {MAX_REPLAY} live changes to replay; export it instead")));
            return;
        }
        let (app, model, seed, replay) = (self.app.clone(), self.model.clone(), self.seed, self.replay.clone());
        let (until, speed) = (self.engine().now(), self.speed);
        tokio::spawn(async move {
            let watermark = app.limits.memory_watermark;
            let (m, r) = (model.clone(), replay.clone());
            let built = tokio::task::spawn_blocking(move || replayed(&m, seed, watermark, &r, until)).await;
            let result = match built {
                Ok(Ok(engine)) => super::spawn(&app, model, seed, engine, speed, replay),
                Ok(Err(halt)) => Err(format!("the run could not be replayed: {halt}")),
                Err(e) => Err(format!("the replay failed: {e}")),
            };
            let _ = reply.send(result);
        });
    }

    /// The session ends: its code is free again.
    pub(super) fn close_classroom(&mut self) {
        if let Some(code) = self.classroom.take() {
            self.app.classrooms().remove(&code);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_are_six_unambiguous_letters_and_differ() {
        let codes: Vec<String> = (0..200).map(|_| super::new_code().unwrap()).collect();
        assert!(codes.iter().all(|c| c.len() == 6 && c.bytes().all(|b| super::CODE_LETTERS.contains(&b))));
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert!(distinct.len() >= 199, "{} distinct of 200", distinct.len());
    }
}
