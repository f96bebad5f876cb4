//! An orchestrator's sagas, as saga tools list them: by state (with the counts of each), searchable
//! by id; for each saga its steps (done, the one waiting with its timeout clock, those to come
//! greyed, those undone), and, opened, its state changes on a time axis and its messages in the
//! trace.

use edasim_protocol::{ClientMsg, SagaStepView, ServerMsg};
use edasim_sim::engine::{SagaCounts, SagaState, SagaSummary};
use leptos::prelude::*;

use crate::state::connection::Live;

/// Where a step of one saga stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepStatus {
    Done,
    /// Its command sent, its reply awaited.
    Waiting,
    /// Its compensation sent, its reply awaited.
    Undoing,
    Undone,
    /// Its failure (or its timeout) started the compensation, and it needed no undoing.
    Declined,
    /// Not reached (yet, or ever).
    ToCome,
    /// Its compensation got no reply after every resend.
    Failed,
    /// Lost in a crash, at this step.
    Stuck,
}

impl StepStatus {
    pub fn class(self) -> &'static str {
        match self {
            StepStatus::Done => "done",
            StepStatus::Waiting => "waiting",
            StepStatus::Undoing => "undoing",
            StepStatus::Undone => "undone",
            StepStatus::Declined => "declined",
            StepStatus::ToCome => "to-come",
            StepStatus::Failed => "failed",
            StepStatus::Stuck => "stuck",
        }
    }
}

/// The status of each of `n` steps of saga `s`, from its state, its step and its history (how far
/// it got, and which compensations it sent).
pub fn statuses(n: usize, s: &SagaSummary) -> Vec<StepStatus> {
    use SagaState::*;
    let k = s.step as usize;
    let entered = |state: SagaState| s.history.iter().filter(move |h| h.1 == state).map(|h| h.2 as usize);
    let reached = entered(Running).max().unwrap_or(k);
    let undone: Vec<usize> = entered(Compensating).collect();
    (0..n)
        .map(|j| match s.state {
            Completed => StepStatus::Done,
            Running | Stuck if j < k => StepStatus::Done,
            Running if j == k => StepStatus::Waiting,
            Stuck if j == k => StepStatus::Stuck,
            Running | Stuck => StepStatus::ToCome,
            _ if j > reached => StepStatus::ToCome,
            Compensating if j == k => StepStatus::Undoing,
            Failed if j == k => StepStatus::Failed,
            _ if undone.contains(&j) => StepStatus::Undone,
            _ if j == reached => StepStatus::Declined,
            _ => StepStatus::Done,
        })
        .collect()
}

/// A timeout clock: the simulated seconds left at `t_ms` before `deadline_ms`.
pub fn clock(deadline_ms: f64, t_ms: f64) -> String {
    let left = (deadline_ms - t_ms) / 1000.0;
    if left > 0.0 { format!("times out in {left:.1} s") } else { "timing out".to_string() }
}

/// The orchestrators of a topology file: (id, label).
pub fn orchestrators(topology: &serde_json::Value) -> Vec<(String, String)> {
    topology["nodes"]
        .as_array()
        .map(|ns| {
            ns.iter()
                .filter(|n| n.get("saga").is_some_and(|s| !s.is_null()))
                .map(|n| {
                    let id = n["id"].as_str().unwrap_or("").to_string();
                    let label = n["label"].as_str().map_or_else(|| id.clone(), str::to_string);
                    (id, label)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The last `sagas` answer.
#[derive(Clone, Debug, PartialEq)]
pub struct SagasView {
    pub node: String,
    pub t_ms: f64,
    pub steps: Vec<SagaStepView>,
    pub counts: SagaCounts,
    pub sagas: Vec<SagaSummary>,
}

impl SagasView {
    pub fn from_msg(msg: ServerMsg) -> Option<SagasView> {
        match msg {
            ServerMsg::Sagas { node, t_ms, steps, counts, sagas } => {
                Some(SagasView { node, t_ms, steps, counts, sagas })
            }
            _ => None,
        }
    }
}

#[component]
pub fn Sagas() -> impl IntoView {
    let live = expect_context::<Live>();
    let list = Memo::new(move |_| live.topology.with(|t| t.as_ref().map(orchestrators).unwrap_or_default()));
    let chosen = RwSignal::new(None::<String>);
    let state = RwSignal::new(None::<SagaState>);
    let search = RwSignal::new(String::new());
    let opened = RwSignal::new(None::<u64>);
    let node = move || chosen.get().or_else(|| list.with(|l| l.first().map(|(id, _)| id.clone())));
    let ask = move || {
        if let Some(node) = node() {
            live.send(&ClientMsg::Sagas { node, state: state.get(), search: search.get() });
        }
    };
    // At once when what is asked changes, then every second while the tab is open: the list
    // follows the run.
    Effect::new(move |_| ask());
    // Dropped (and so stopped) with the tab.
    let timer = gloo_timers::callback::Interval::new(1_000, move || {
        if live.playing.get_untracked() {
            ask();
        }
    });
    let timer = StoredValue::new_local(Some(timer));
    on_cleanup(move || timer.update_value(|t| drop(t.take())));
    let filter = move |s: Option<SagaState>, label: &'static str| {
        let count = move || {
            live.sagas.with(|v| {
                v.as_ref().map_or(0, |v| match s {
                    Some(s) => v.counts.in_state(s),
                    None => v.counts.started,
                })
            })
        };
        view! {
            <button class="saga-filter" class:active=move || state.get() == s data-state=label
                on:click=move |_| state.set(s)>{label}" "<b>{count}</b></button>
        }
    };
    let body = move || {
        let Some(v) = live.sagas.get() else {
            return view! { <p class="hint">"Waiting for the orchestrator's sagas…"</p> }.into_any();
        };
        if v.sagas.is_empty() {
            return view! { <p class="hint">"No saga matches."</p> }.into_any();
        }
        let steps = v.steps.clone();
        let t_ms = v.t_ms;
        view! {
            <ol class="sagas" id="saga-list">
                {v.sagas.into_iter().map(|s| {
                    let st = statuses(steps.len(), &s);
                    let id = s.id;
                    let chips = steps.iter().zip(&st).map(|(step, status)| {
                        let title = format!("{} ({:?}{})", step.name, step.role, step.participant.as_ref().map_or(String::new(), |p| format!(", {p}")));
                        view! { <span class=format!("step {}", status.class()) title=title>{step.name.clone()}</span> }
                    }).collect_view();
                    let clock = s.deadline_ms.map(|d| view! { <span class="clock">{clock(d, t_ms)}</span> });
                    let open = move || opened.get() == Some(id);
                    let history = s.history.clone();
                    let names: Vec<String> = steps.iter().map(|s| s.name.clone()).collect();
                    view! {
                        <li class=format!("saga {}", s.state.name()) data-saga=id.to_string()>
                            <button class="saga-id" on:click=move |_| opened.update(|o| *o = if *o == Some(id) { None } else { Some(id) })>
                                {format!("#{id}")}
                            </button>
                            <span class="state">{s.state.name()}</span>
                            <span class="steps">{chips}</span>
                            {clock}
                            <button class="saga-trace" title="This saga's messages in the trace"
                                on:click=move |_| live.send(&ClientMsg::Trace { msg: id })>"Trace"</button>
                            {move || open().then(|| timeline(&history, &names))}
                        </li>
                    }
                }).collect_view()}
            </ol>
        }
        .into_any()
    };
    let choose = move || {
        (list.with(Vec::len) > 1).then(|| {
            view! {
                <select aria-label="Orchestrator" on:change=move |e| chosen.set(Some(event_target_value(&e)))>
                    {list.get().into_iter().map(|(id, label)| view! { <option value=id>{label}</option> }).collect_view()}
                </select>
            }
        })
    };
    view! {
        <div class="sagas-view">
            {move || if list.with(Vec::is_empty) {
                view! { <p class="hint">"This topology has no saga orchestrator (a service with a saga)."</p> }.into_any()
            } else {
                view! {
                    <div class="saga-bar">
                        {choose}
                        {filter(None, "all")}
                        {filter(Some(SagaState::Running), "running")}
                        {filter(Some(SagaState::Compensating), "compensating")}
                        {filter(Some(SagaState::Completed), "completed")}
                        {filter(Some(SagaState::Compensated), "compensated")}
                        {filter(Some(SagaState::Failed), "failed")}
                        {filter(Some(SagaState::Stuck), "stuck")}
                        <input type="search" placeholder="saga id" aria-label="Find a saga by id"
                            prop:value=move || search.get() on:input=move |e| search.set(event_target_value(&e)) />
                    </div>
                    {body}
                }.into_any()
            }}
        </div>
    }
}

/// A saga's state changes on one time axis, each with the step it concerns.
fn timeline(history: &[(f64, SagaState, u32)], names: &[String]) -> AnyView {
    let t0 = history.first().map_or(0.0, |h| h.0);
    let t1 = history.last().map_or(1.0, |h| h.0).max(t0 + 1.0);
    let items = history
        .iter()
        .map(|&(t, state, step)| {
            let left = 100.0 * (t - t0) / (t1 - t0);
            let name = names.get(step as usize).cloned().unwrap_or_default();
            view! {
                <li class=format!("saga-change {}", state.name())>
                    <span class="bar-track"><span class="tick" style=format!("left:{left:.2}%")></span></span>
                    <span class="when">{format!("+{:.0} ms", t - t0)}</span>
                    <span class="what">{format!("{} · {name}", state.name())}</span>
                </li>
            }
        })
        .collect_view();
    view! { <ol class="saga-timeline">{items}</ol> }.into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saga(state: SagaState, step: u32, history: &[(SagaState, u32)]) -> SagaSummary {
        SagaSummary {
            id: 7,
            state,
            step,
            started_ms: 0.0,
            deadline_ms: None,
            tries: 0,
            applied: vec![],
            history: history.iter().enumerate().map(|(i, &(s, k))| (i as f64, s, k)).collect(),
        }
    }

    #[test]
    fn a_running_saga_has_steps_done_one_waiting_and_the_rest_to_come() {
        use StepStatus::*;
        let s = saga(SagaState::Running, 1, &[(SagaState::Running, 0), (SagaState::Running, 1)]);
        assert_eq!(statuses(4, &s), [Done, Waiting, ToCome, ToCome]);
    }

    #[test]
    fn a_compensating_saga_shows_what_it_undid_and_what_it_undoes() {
        use StepStatus::*;
        // The payment (step 2) declined: the inventory (1), then the order (0) are undone.
        let mut h = vec![
            (SagaState::Running, 0),
            (SagaState::Running, 1),
            (SagaState::Running, 2),
            (SagaState::Compensating, 1),
        ];
        assert_eq!(statuses(4, &saga(SagaState::Compensating, 1, &h)), [Done, Undoing, Declined, ToCome]);
        h.push((SagaState::Compensating, 0));
        assert_eq!(statuses(4, &saga(SagaState::Compensated, 0, &h)), [Undone, Undone, Declined, ToCome]);
        assert_eq!(statuses(4, &saga(SagaState::Failed, 0, &h)), [Failed, Undone, Declined, ToCome]);
        // A timed-out payment is undone too (its charge may have happened).
        let t = [
            (SagaState::Running, 0),
            (SagaState::Running, 1),
            (SagaState::Running, 2),
            (SagaState::Compensating, 2),
            (SagaState::Compensating, 1),
            (SagaState::Compensating, 0),
        ];
        assert_eq!(statuses(4, &saga(SagaState::Compensated, 0, &t)), [Undone, Undone, Undone, ToCome]);
        assert_eq!(statuses(3, &saga(SagaState::Completed, 2, &h)), [Done, Done, Done]);
    }

    #[test]
    fn the_clock_counts_down_in_simulated_seconds() {
        assert_eq!(clock(12_500.0, 10_000.0), "times out in 2.5 s");
        assert_eq!(clock(9_000.0, 10_000.0), "timing out");
    }

    #[test]
    fn orchestrators_are_the_services_with_a_saga() {
        let t = serde_json::json!({"nodes": [
            {"id": "a", "kind": "service", "saga": {"start": "X", "steps": []}},
            {"id": "b", "kind": "service", "label": "B"},
            {"id": "c", "label": "C", "kind": "service", "saga": {"start": "Y", "steps": []}}
        ]});
        assert_eq!(orchestrators(&t), [("a".to_string(), "a".to_string()), ("c".to_string(), "C".to_string())]);
    }
}
