//! The walkthrough being followed: which step, what the student chose, which of its actions
//! were sent. Entering a step sends its actions (once: going back to re-read does not replay
//! them) and plays to its `until_s`; timed actions go when the run's clock passes them; a
//! prediction's answer is revealed when the run reaches the step's end, with the run's numbers
//! asked of the server.

use edasim_protocol::ClientMsg;
use edasim_sim::walkthrough::{Action, Step, Walkthrough};
use leptos::prelude::*;

use super::connection::Live;

#[derive(Clone, Copy)]
pub struct Lesson {
    pub current: RwSignal<Option<Walkthrough>>,
    pub step: RwSignal<usize>,
    /// Per step, the choice made for its prediction.
    pub chosen: RwSignal<Vec<Option<usize>>>,
    /// Steps entered so far (their actions sent).
    entered: StoredValue<usize>,
    /// Timed actions sent: (step, index).
    sent: StoredValue<Vec<(usize, usize)>>,
    /// Steps whose numbers were asked for.
    asked: StoredValue<Vec<usize>>,
    live: Live,
}

impl Lesson {
    pub fn new(live: Live) -> Lesson {
        let lesson = Lesson {
            current: RwSignal::new(None),
            step: RwSignal::new(0),
            chosen: RwSignal::new(Vec::new()),
            entered: StoredValue::new(0),
            sent: StoredValue::new(Vec::new()),
            asked: StoredValue::new(Vec::new()),
            live,
        };
        // A walkthrough the server opened: start at its first step.
        Effect::new(move |_| {
            let Some((_, file)) = live.walkthrough.get() else { return };
            match serde_json::from_value::<Walkthrough>(file) {
                Ok(w) => {
                    lesson.chosen.set(vec![None; w.steps.len()]);
                    lesson.entered.set_value(0);
                    lesson.sent.set_value(Vec::new());
                    lesson.asked.set_value(Vec::new());
                    lesson.current.set(Some(w));
                    lesson.step.set(0);
                    lesson.enter(0);
                }
                Err(e) => live.problems.update(|p| p.push(format!("the walkthrough does not read: {e}"))),
            }
        });
        // A watcher follows the teacher's step.
        Effect::new(move |_| {
            if let Some(step) = live.lesson_step.get() {
                lesson.step.set(step);
            }
        });
        // The clock: timed actions that are due, and a step's numbers once it is reached.
        Effect::new(move |_| {
            let Some(t_ms) = live.frame.with(|f| f.as_ref().map(|f| f.t_ms)) else { return };
            lesson.on_clock(t_ms);
        });
        lesson
    }

    pub fn close(self, ed: super::editor::Editor) {
        self.current.set(None);
        self.present(false, ed);
    }

    /// Enters or leaves presenter mode; the canvas is fitted again once it has its new room.
    pub fn present(self, on: bool, ed: super::editor::Editor) {
        ed.presenting.set(on && self.current.with_untracked(Option::is_some));
        request_animation_frame(move || ed.fit());
    }

    pub fn next(self) {
        let Some(n) = self.current.with_untracked(|w| w.as_ref().map(|w| w.steps.len())) else { return };
        let k = self.step.get_untracked();
        if k + 1 < n && !self.watching() {
            self.step.set(k + 1);
            self.enter(k + 1);
            self.live.send(&ClientMsg::LessonStep { step: k + 1 });
        }
    }

    pub fn back(self) {
        let k = self.step.get_untracked();
        if k > 0 && !self.watching() {
            self.step.set(k - 1);
            self.live.send(&ClientMsg::LessonStep { step: k - 1 });
        }
    }

    /// A watcher follows the teacher's steps and sends nothing.
    fn watching(self) -> bool {
        self.live.watching.with_untracked(Option::is_some)
    }

    pub fn choose(self, choice: usize) {
        let k = self.step.get_untracked();
        self.chosen.update(|c| {
            if let Some(slot) = c.get_mut(k) {
                *slot = Some(choice);
            }
        });
    }

    /// The step shown now.
    pub fn shown(self) -> Option<Step> {
        self.current.with(|w| w.as_ref().and_then(|w| w.steps.get(self.step.get()).cloned()))
    }

    /// The nodes (and `from->to` links) the step shown outlines.
    pub fn highlighted(self, id: &str) -> bool {
        self.current.with(|w| {
            w.as_ref().and_then(|w| w.steps.get(self.step.get())).is_some_and(|s| s.highlight.iter().any(|h| h == id))
        })
    }

    /// Where Play should stop now: the shown step's end, if the run is before it.
    pub fn stop_ms(self) -> Option<f64> {
        let until = self.current.with_untracked(|w| w.as_ref()?.steps.get(self.step.get_untracked())?.until_s)?;
        let t = self.live.frame.with_untracked(|f| f.as_ref().map_or(0.0, |f| f.t_ms));
        (until * 1000.0 > t).then_some(until * 1000.0)
    }

    /// Whether the run has reached the end of step `k` (its prediction may be revealed).
    pub fn reached(self, k: usize) -> bool {
        let until = self.current.with(|w| w.as_ref().and_then(|w| w.steps.get(k)?.until_s));
        let t = self.live.frame.with(|f| f.as_ref().map_or(0.0, |f| f.t_ms));
        until.is_some_and(|u| t >= u * 1000.0 - 0.5)
    }

    /// Entering step `k` the first time: its untimed actions, then play to its end (the
    /// teacher's run: a watcher only reads).
    fn enter(self, k: usize) {
        if k < self.entered.get_value() || self.watching() {
            return;
        }
        self.entered.set_value(k + 1);
        let Some(step) = self.current.with_untracked(|w| w.as_ref().and_then(|w| w.steps.get(k).cloned())) else {
            return;
        };
        for a in step.actions.iter().filter(|a| a.at_s().is_none()) {
            self.send(a);
        }
        // A jump runs ahead and pauses there; Play (or Space) then plays to the step's end.
        let jumps = step.actions.iter().any(|a| matches!(a, Action::Jump { at_s: None, .. }));
        if let Some(u) = step.until_s
            && !jumps
        {
            self.live.send(&ClientMsg::Play { until_ms: Some(u * 1000.0) });
        }
    }

    fn on_clock(self, t_ms: f64) {
        let due: Vec<(usize, usize, Action)> = self.current.with_untracked(|w| {
            let Some(w) = w else { return Vec::new() };
            let entered = self.entered.get_value();
            let sent = self.sent.get_value();
            w.steps
                .iter()
                .enumerate()
                .take(entered)
                .flat_map(|(i, s)| s.actions.iter().enumerate().map(move |(j, a)| (i, j, a)))
                .filter(|(i, j, a)| a.at_s().is_some_and(|t| t * 1000.0 <= t_ms) && !sent.contains(&(*i, *j)))
                .map(|(i, j, a)| (i, j, a.clone()))
                .collect()
        });
        if self.watching() {
            return; // the teacher's session does all of it
        }
        for (i, j, a) in due {
            self.sent.update_value(|s| s.push((i, j)));
            self.send(&a);
        }
        // The step's numbers, once its end is reached.
        let k = self.step.get_untracked();
        let show: Option<Vec<String>> = self.current.with_untracked(|w| {
            let s = w.as_ref()?.steps.get(k)?;
            let u = s.until_s?;
            (t_ms >= u * 1000.0 - 0.5)
                .then(|| s.prediction.iter().flat_map(|p| p.show.iter().map(|x| x.expr.clone())).collect())
        });
        if let Some(exprs) = show
            && !exprs.is_empty()
            && !self.asked.get_value().contains(&k)
        {
            self.asked.update_value(|a| a.push(k));
            self.live.send(&ClientMsg::Evaluate { exprs });
        }
    }

    fn send(self, a: &Action) {
        let msg = match a.clone() {
            Action::Play { .. } => return,
            Action::Pause { .. } => ClientMsg::Pause {},
            Action::Speed { speed, .. } => ClientMsg::SetSpeed { speed },
            Action::Jump { to_s, .. } => {
                let now = self.live.frame.with_untracked(|f| f.as_ref().map_or(0.0, |f| f.t_ms));
                let ms = to_s * 1000.0 - now;
                if ms <= 0.0 {
                    return;
                }
                ClientMsg::Step { ms: Some(ms) }
            }
            Action::SetParam { node, change, .. } => ClientMsg::SetParam { node, change },
            Action::StartFault { node, to, fault, for_s, .. } => ClientMsg::StartFault { node, to, fault, for_s },
        };
        self.live.send(&msg);
    }
}
