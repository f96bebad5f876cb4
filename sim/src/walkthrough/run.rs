//! Plays a walkthrough headless: its actions at their times, its claims checked at theirs,
//! against one seed. The same evaluation serves a live session revealing a prediction's numbers.

use super::expr::{Agg, Numbers, lookup};
use super::{Action, Expr, Walkthrough};
use crate::engine::{Engine, Halt, Options};
use crate::report::Report;
use crate::time::s_to_ns;
use crate::topology::Model;

/// A claim's outcome on one seed.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimResult {
    pub step: usize,
    pub claim: usize,
    pub says: String,
    pub at_s: f64,
    pub expr: String,
    /// The value seen, or why there was none.
    pub value: Result<f64, String>,
    pub test: String,
    pub holds: bool,
}

/// What happens when: each step's actions (at their time, or at the step's start: the end of
/// the step before) and claims.
pub struct Timeline<'a> {
    pub items: Vec<(f64, Item<'a>)>,
}

pub enum Item<'a> {
    Act(&'a Action),
    Claim { step: usize, claim: usize },
}

impl<'a> Timeline<'a> {
    pub fn of(w: &'a Walkthrough) -> Timeline<'a> {
        let mut items = Vec::new();
        let mut start = 0.0;
        for (i, step) in w.steps.iter().enumerate() {
            for a in &step.actions {
                items.push((a.at_s().unwrap_or(start), Item::Act(a)));
            }
            for (j, c) in step.claims.iter().enumerate() {
                items.push((c.at_s, Item::Claim { step: i, claim: j }));
            }
            if let Some(u) = step.until_s {
                start = u;
            }
        }
        // Stable: at one instant, actions and claims keep the file's order.
        items.sort_by(|a, b| a.0.total_cmp(&b.0));
        Timeline { items }
    }
}

/// The numbers of an engine at an instant: its report, and its per-second series.
struct At<'e> {
    report: serde_json::Value,
    engine: &'e Engine,
}

impl Numbers for At<'_> {
    fn path(&self, path: &str) -> Result<f64, String> {
        lookup(&self.report, path)
    }

    fn series(&self, agg: Agg, node: &str, field: &str, from_s: f64, to_s: f64) -> Result<f64, String> {
        let i = (0..self.engine.node_count())
            .find(|&i| self.engine.node_id(i) == node)
            .ok_or_else(|| format!("no node \"{node}\""))?;
        let values = self
            .engine
            .series(i)
            .iter()
            .filter(|p| p.t_s as f64 > from_s && p.t_s as f64 <= to_s)
            .filter_map(|p| p.field(field));
        agg.of(values).ok_or_else(|| format!("{node}.{field} has no second in ({from_s}, {to_s}] yet"))
    }
}

/// The value of `expr` for `engine` now.
pub fn evaluate(engine: &Engine, expr: &str) -> Result<f64, String> {
    let report = serde_json::to_value(Report::new(engine, 0.0, &[])).map_err(|e| e.to_string())?;
    evaluate_with(engine, &report, expr)
}

/// The value of `expr` for `engine` now, given its report as JSON (several expressions share
/// one).
pub fn evaluate_with(engine: &Engine, report: &serde_json::Value, expr: &str) -> Result<f64, String> {
    let e = Expr::parse(expr).map_err(|e| e.to_string())?;
    e.eval(&At { report: report.clone(), engine })
}

/// Plays `w` on `model` with `seed` and checks every claim.
pub fn check(w: &Walkthrough, model: &Model, seed: u64) -> Result<Vec<ClaimResult>, Halt> {
    let end = w.end_s();
    let opts = Options { seed: Some(seed), series_capacity: end.ceil() as usize + 2, ..Options::default() };
    let mut engine = Engine::new(model, &opts);
    let mut results = Vec::new();
    // The report at the instant last asked for: claims at one time share it.
    let mut cached: Option<(f64, serde_json::Value)> = None;
    for (t, item) in Timeline::of(w).items {
        engine.step_until(s_to_ns(t))?;
        match item {
            Item::Act(a) => {
                // An action the engine refuses fails the claims after it, which say why.
                let _ = apply(&mut engine, model, a);
                cached = None;
            }
            Item::Claim { step, claim } => {
                let c = &w.steps[step].claims[claim];
                let report = match &cached {
                    Some((at, r)) if *at == t => r.clone(),
                    _ => {
                        let r = serde_json::to_value(Report::new(&engine, 0.0, &[])).unwrap_or_default();
                        cached = Some((t, r.clone()));
                        r
                    }
                };
                let value = Expr::parse(&c.expr)
                    .map_err(|e| e.to_string())
                    .and_then(|e| e.eval(&At { report, engine: &engine }));
                let holds = value.as_ref().is_ok_and(|x| c.holds(*x));
                results.push(ClaimResult {
                    step,
                    claim,
                    says: c.says.clone(),
                    at_s: c.at_s,
                    expr: c.expr.clone(),
                    value,
                    test: c.test(),
                    holds,
                });
            }
        }
    }
    Ok(results)
}

/// Applies an action that changes the run (playing, pausing and speed are the viewer's).
pub fn apply(engine: &mut Engine, model: &Model, a: &Action) -> Result<(), String> {
    match a {
        Action::SetParam { node, change, .. } => {
            let i = model.node_index(node).ok_or_else(|| format!("no node \"{node}\""))?;
            engine.apply(i, change.clone()).map_err(|e| e.to_string())
        }
        Action::StartFault { node, to, fault, for_s, .. } => match to {
            Some(to) => {
                let (link, role) =
                    model.link_between(node, to).ok_or_else(|| format!("no link from \"{node}\" to \"{to}\""))?;
                engine.inject_link(link, role, fault.clone(), *for_s)
            }
            None => {
                let i = model.node_index(node).ok_or_else(|| format!("no node \"{node}\""))?;
                engine.inject(i, fault.clone(), *for_s)
            }
        }
        .map(|_| ())
        .map_err(|e| e.to_string()),
        // The checker goes through every instant anyway: a jump changes nothing it sees.
        Action::Play { .. } | Action::Pause { .. } | Action::Speed { .. } | Action::Jump { .. } => Ok(()),
    }
}
