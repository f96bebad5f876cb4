//! Walkthroughs: guided lessons over a scenario, with steps to read, actions to play, predictions
//! to make and claims about the run's numbers that the engine checks (the format is in
//! `docs/walkthrough.md`). This module reads and checks the file; `expr.rs` evaluates a claim's
//! expression; `run.rs` plays a walkthrough headless and checks every claim.

mod expr;
mod run;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use expr::{Expr, ExprError};
pub use run::{ClaimResult, Item, Timeline, apply, check, evaluate, evaluate_with};

use crate::engine::Change;
use crate::problem::{Invalid, Problem};
use crate::topology::{FaultKind, Model};

/// The format's version, the `walkthrough` field of every file.
pub const VERSION: u32 = 1;

/// A walkthrough file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Walkthrough {
    /// The format's version: 1.
    pub walkthrough: u32,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// A shipped scenario by name, or a topology inline.
    pub scenario: ScenarioRef,
    /// The seed every student sees (the scenario's own without it); `check` runs others too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    pub steps: Vec<Step>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ScenarioRef {
    Named(String),
    Inline(Value),
}

/// One step: something to read, the nodes to look at, what happens, and what to expect.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub title: String,
    /// A small Markdown subset: `*emphasis*`, `` `code` ``, lists (`- `), paragraphs.
    #[serde(default)]
    pub text: String,
    /// Node ids to outline, and links as `"from->to"`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub highlight: Vec<String>,
    /// Two nodes to compare: the first is selected and charted, the second drawn over it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare: Option<[String; 2]>,
    /// Where the step plays to (simulated seconds): the run pauses there, and a prediction's
    /// answer is revealed with the run's numbers at that time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Action>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction: Option<Prediction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<Claim>,
}

/// Something the step does: at its start, or at a simulated time (`at_s`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    Play {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at_s: Option<f64>,
    },
    Pause {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at_s: Option<f64>,
    },
    /// Simulated seconds per wall second.
    Speed {
        speed: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at_s: Option<f64>,
    },
    /// A live change of one parameter (as the protocol's `set_param`).
    SetParam {
        node: String,
        change: Change,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at_s: Option<f64>,
    },
    /// The run goes straight to `to_s` (as fast as it can, then paused): a lesson skipping a
    /// dull stretch. Forward only.
    Jump {
        to_s: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at_s: Option<f64>,
    },
    /// A fault on a node, or with `to` on a link (as the protocol's `start_fault`).
    StartFault {
        node: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
        fault: FaultKind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        for_s: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at_s: Option<f64>,
    },
}

impl Action {
    /// When it happens (`None`: at the step's start).
    pub fn at_s(&self) -> Option<f64> {
        match self {
            Action::Play { at_s }
            | Action::Pause { at_s }
            | Action::Speed { at_s, .. }
            | Action::SetParam { at_s, .. }
            | Action::Jump { at_s, .. }
            | Action::StartFault { at_s, .. } => *at_s,
        }
    }
}

/// A question asked before the run shows the answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prediction {
    pub question: String,
    pub choices: Vec<String>,
    /// The index of the right choice.
    pub answer: usize,
    /// Why, shown with the answer.
    pub explain: String,
    /// The run's numbers shown with the answer: each a label and an expression.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub show: Vec<Shown>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shown {
    pub label: String,
    pub expr: String,
}

/// A claim about the run: an expression over its numbers at `at_s`, and the test it must pass.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    /// What the claim says, in words.
    pub says: String,
    pub at_s: f64,
    /// See `docs/walkthrough.md`: report fields by path (`nodes.shipping_queue.depth_max`),
    /// series over a window (`max(consumer.retries, 40, 60)`), numbers, + - * / and parentheses.
    pub expr: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_most: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub between: Option<[f64; 2]>,
}

impl Claim {
    /// Whether `x` passes the claim's test.
    pub fn holds(&self, x: f64) -> bool {
        self.at_least.is_none_or(|m| x >= m)
            && self.at_most.is_none_or(|m| x <= m)
            && self.equals.is_none_or(|e| (x - e).abs() <= 1e-9 * e.abs().max(1.0))
            && self.between.is_none_or(|[a, b]| x >= a && x <= b)
    }

    /// The test, as the failure message says it ("at least 500").
    pub fn test(&self) -> String {
        let mut parts = Vec::new();
        if let Some(m) = self.at_least {
            parts.push(format!("at least {m}"));
        }
        if let Some(m) = self.at_most {
            parts.push(format!("at most {m}"));
        }
        if let Some(e) = self.equals {
            parts.push(format!("exactly {e}"));
        }
        if let Some([a, b]) = self.between {
            parts.push(format!("between {a} and {b}"));
        }
        parts.join(" and ")
    }
}

impl Walkthrough {
    /// Reads a walkthrough file's text: every problem with its path.
    pub fn from_json_str(text: &str) -> Result<Walkthrough, Invalid> {
        let mut de = serde_json::Deserializer::from_str(text);
        let w: Walkthrough = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            Invalid { problems: vec![Problem::error(path, e.inner().to_string())] }
        })?;
        let problems = w.shape_problems();
        if problems.is_empty() { Ok(w) } else { Err(Invalid { problems }) }
    }

    /// What is wrong with the file on its own: the version, the steps' times, the claims' tests
    /// and expressions, the predictions' answers.
    fn shape_problems(&self) -> Vec<Problem> {
        let mut p = Vec::new();
        if self.walkthrough != VERSION {
            p.push(Problem::error(
                "walkthrough",
                format!("version {} is not known; this edasim reads {VERSION}", self.walkthrough),
            ));
        }
        if self.steps.is_empty() {
            p.push(Problem::error("steps", "a walkthrough needs at least one step"));
        }
        let mut until = 0.0;
        for (i, step) in self.steps.iter().enumerate() {
            let at = |field: &str| format!("steps[{i}].{field}");
            if let Some(u) = step.until_s {
                if !(u.is_finite() && u >= until) {
                    p.push(Problem::error(
                        at("until_s"),
                        format!("{u} comes before an earlier step's {until}: steps play forward"),
                    ));
                }
                until = u;
            }
            for (j, a) in step.actions.iter().enumerate() {
                if let Some(t) = a.at_s()
                    && !(t.is_finite() && t >= 0.0)
                {
                    p.push(Problem::error(
                        at(&format!("actions[{j}].at_s")),
                        format!("expected 0 or more seconds, found {t}"),
                    ));
                }
                if let Action::Jump { to_s, at_s } = a
                    && !(to_s.is_finite() && *to_s >= at_s.unwrap_or(0.0))
                {
                    p.push(Problem::error(
                        at(&format!("actions[{j}].to_s")),
                        format!("{to_s} is not ahead: a jump goes forward"),
                    ));
                }
            }
            if let Some(pr) = &step.prediction {
                if pr.choices.len() < 2 {
                    p.push(Problem::error(at("prediction.choices"), "a prediction needs at least two choices"));
                }
                if pr.answer >= pr.choices.len() {
                    p.push(Problem::error(
                        at("prediction.answer"),
                        format!("{} is not a choice: expected 0 to {}", pr.answer, pr.choices.len().saturating_sub(1)),
                    ));
                }
                if step.until_s.is_none() {
                    p.push(Problem::error(
                        at("until_s"),
                        "a step with a prediction needs until_s: when its answer is revealed",
                    ));
                }
                for (k, s) in pr.show.iter().enumerate() {
                    if let Err(e) = Expr::parse(&s.expr) {
                        p.push(Problem::error(at(&format!("prediction.show[{k}].expr")), e.to_string()));
                    }
                }
            }
            for (j, c) in step.claims.iter().enumerate() {
                let cp = |field: &str| at(&format!("claims[{j}].{field}"));
                if let Err(e) = Expr::parse(&c.expr) {
                    p.push(Problem::error(cp("expr"), e.to_string()));
                }
                if c.at_least.is_none() && c.at_most.is_none() && c.equals.is_none() && c.between.is_none() {
                    p.push(Problem::error(cp("says"), "a claim needs a test: at_least, at_most, equals or between"));
                }
                if !(c.at_s.is_finite() && c.at_s >= 0.0) {
                    p.push(Problem::error(cp("at_s"), format!("expected 0 or more seconds, found {}", c.at_s)));
                }
            }
        }
        p
    }

    /// What is wrong with it against its scenario: nodes and links it names that the model
    /// does not have, and expressions naming nodes it does not have.
    pub fn problems_with(&self, model: &Model) -> Vec<Problem> {
        let mut p = Vec::new();
        let has = |id: &str| model.node_index(id).is_some();
        for (i, step) in self.steps.iter().enumerate() {
            for (j, h) in step.highlight.iter().enumerate() {
                let ok = match h.split_once("->") {
                    Some((a, b)) => model.link_between(a, b).is_some(),
                    None => has(h),
                };
                if !ok {
                    p.push(Problem::error(
                        format!("steps[{i}].highlight[{j}]"),
                        format!("the scenario has no node or link \"{h}\""),
                    ));
                }
            }
            for (j, id) in step.compare.iter().flatten().enumerate() {
                if !has(id) {
                    p.push(Problem::error(
                        format!("steps[{i}].compare[{j}]"),
                        format!("the scenario has no node \"{id}\""),
                    ));
                }
            }
            for (j, a) in step.actions.iter().enumerate() {
                let (node, to) = match a {
                    Action::SetParam { node, .. } => (Some(node), None),
                    Action::StartFault { node, to, .. } => (Some(node), to.as_ref()),
                    _ => (None, None),
                };
                for (field, id) in [("node", node), ("to", to)] {
                    if let Some(id) = id
                        && !has(id)
                    {
                        p.push(Problem::error(
                            format!("steps[{i}].actions[{j}].{field}"),
                            format!("the scenario has no node \"{id}\""),
                        ));
                    }
                }
            }
            let exprs =
                step.claims.iter().enumerate().map(|(j, c)| (format!("steps[{i}].claims[{j}].expr"), &c.expr)).chain(
                    step.prediction.iter().flat_map(|pr| {
                        pr.show
                            .iter()
                            .enumerate()
                            .map(move |(k, s)| (format!("steps[{i}].prediction.show[{k}].expr"), &s.expr))
                    }),
                );
            for (path, text) in exprs {
                if let Ok(e) = Expr::parse(text) {
                    for node in e.series_nodes() {
                        if !has(node) {
                            p.push(Problem::error(path.clone(), format!("the scenario has no node \"{node}\"")));
                        }
                    }
                }
            }
        }
        p
    }

    /// The highest time it plays to: its last `until_s`, action or claim.
    pub fn end_s(&self) -> f64 {
        let mut end: f64 = 0.0;
        for s in &self.steps {
            end = end.max(s.until_s.unwrap_or(0.0));
            for a in &s.actions {
                end = end.max(a.at_s().unwrap_or(0.0));
            }
            for c in &s.claims {
                end = end.max(c.at_s);
            }
        }
        end
    }
}
