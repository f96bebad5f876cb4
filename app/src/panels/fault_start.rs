//! The inspector's fault injector: any fault the file can schedule, started on the selected
//! node or link now, for a number of simulated seconds (or until the run ends). The kinds
//! offered and their ranges are the engine's (`FaultKind::applies_to`, `strikes_links`,
//! `out_of_range`); the server checks again and answers a refusal with its reason.

use edasim_protocol::ClientMsg;
use edasim_sim::topology::{FaultKind, Kind, LinkRole};
use leptos::prelude::*;

use crate::state::editor::Editor;

/// What a fault would strike: a node of a kind, or the link to a node, with its role.
#[derive(Clone, Debug, PartialEq)]
pub enum Struck {
    Node(Kind),
    Link(String, LinkRole),
}

/// The kinds of fault that can strike `target`, each in its plain form.
pub fn offered(target: &Struck) -> Vec<FaultKind> {
    FaultKind::examples()
        .into_iter()
        .filter(|f| match target {
            Struck::Node(kind) => f.applies_to().contains(kind),
            Struck::Link(_, role) => f.strikes_links().contains(role),
        })
        .collect()
}

/// A fault's numbers, as the form shows them: (field, label, value).
fn numbers(f: &FaultKind) -> Vec<(&'static str, &'static str, Option<f64>)> {
    match f {
        FaultKind::Crash { replicas } => vec![("replicas", "replicas", replicas.map(f64::from))],
        FaultKind::Latency { factor, add_ms } => vec![("factor", "× slower", *factor), ("add_ms", "+ ms", *add_ms)],
        FaultKind::ErrorRate { rate } => vec![("rate", "error rate", Some(*rate))],
        FaultKind::Duplicate { rate } => vec![("rate", "chance twice", Some(*rate))],
        FaultKind::Burst { factor } => vec![("factor", "× rate", Some(*factor))],
        FaultKind::StoreDown { .. }
        | FaultKind::PauseConsumers
        | FaultKind::Poison
        | FaultKind::RefusePublishes
        | FaultKind::Partition
        | FaultKind::CrashAfterCommit => vec![],
    }
}

/// `f` with `field` set to `x` (`None`: left out, where the kind allows it).
fn with(mut f: FaultKind, field: &str, x: Option<f64>) -> FaultKind {
    match (&mut f, field) {
        (FaultKind::Crash { replicas }, _) => *replicas = x.map(|x| x as u32),
        (FaultKind::Latency { factor, .. }, "factor") => *factor = x,
        (FaultKind::Latency { add_ms, .. }, _) => *add_ms = x,
        (FaultKind::ErrorRate { rate } | FaultKind::Duplicate { rate }, _) => *rate = x.unwrap_or(0.0),
        (FaultKind::Burst { factor }, _) => *factor = x.unwrap_or(1.0),
        _ => {}
    }
    f
}

#[component]
pub fn FaultStart(id: String, target: Struck) -> impl IntoView {
    let ed = expect_context::<Editor>();
    let kinds = offered(&target);
    let to = match &target {
        Struck::Link(to, _) => Some(to.clone()),
        Struck::Node(_) => None,
    };
    let first = kinds.first().cloned();
    let fault = RwSignal::new(first.clone());
    let for_s = RwSignal::new(String::from("30"));
    let problem = RwSignal::new(None::<String>);
    let names: Vec<&'static str> = kinds.iter().map(FaultKind::name).collect();
    let choose = move |e: leptos::ev::Event| {
        let name = event_target_value(&e);
        fault.set(FaultKind::examples().into_iter().find(|f| f.name() == name));
        problem.set(None);
    };
    let start = move |_| {
        let Some(f) = fault.get() else { return };
        if let Some((field, why)) = f.out_of_range() {
            problem.set(Some(format!("{field}: {why}")));
            return;
        }
        let text = for_s.get();
        let for_s = match text.trim() {
            "" => None,
            t => match t.parse::<f64>() {
                Ok(s) if s > 0.0 && s.is_finite() => Some(s),
                _ => {
                    problem
                        .set(Some("for: expected a number of seconds above 0, or nothing (until the run ends)".into()));
                    return;
                }
            },
        };
        problem.set(None);
        ed.live.send(&ClientMsg::StartFault { node: id.clone(), to: to.clone(), fault: f, for_s });
    };
    let inputs = move || {
        let f = fault.get()?;
        Some(
            numbers(&f)
                .into_iter()
                .map(|(field, label, value)| {
                    let on_change = move |e: leptos::ev::Event| {
                        let text = event_target_value(&e);
                        let x = match text.trim() {
                            "" => None,
                            t => match t.parse::<f64>() {
                                Ok(x) => Some(x),
                                Err(_) => {
                                    problem.set(Some(format!("{label}: expected a number")));
                                    return;
                                }
                            },
                        };
                        fault.update(|f| *f = f.take().map(|f| with(f, field, x)));
                        problem.set(None);
                    };
                    view! {
                        <label class="param">
                            <small>{label}</small>
                            <input id=format!("fault-{field}") inputmode="decimal"
                                prop:value=value.map(|v| v.to_string()).unwrap_or_default() on:change=on_change />
                        </label>
                    }
                })
                .collect_view(),
        )
    };
    let hang = move || {
        matches!(fault.get(), Some(FaultKind::StoreDown { .. })).then(|| {
            let checked = move || matches!(fault.get(), Some(FaultKind::StoreDown { hang: true }));
            view! {
                <label class="param check" title="Calls hang until the caller's timeout, as to a host that does not answer; without it they are refused at once">
                    <input id="fault-hang" type="checkbox" prop:checked=checked
                        on:change=move |e| fault.set(Some(FaultKind::StoreDown { hang: event_target_checked(&e) })) />
                    <small>"calls hang"</small>
                </label>
            }
        })
    };
    (!names.is_empty()).then(|| {
        view! {
            <fieldset class="fault-start" id="fault-start">
                <legend>"Inject a fault"</legend>
                <select id="fault-kind" aria-label="Fault kind" on:change=choose
                    prop:value=move || fault.get().map_or("", |f| f.name())>
                    {names.iter().map(|n| view! { <option value=*n>{n.replace('_', " ")}</option> }).collect_view()}
                </select>
                {inputs}
                {hang}
                <label class="param">
                    <small>"for (s)"</small>
                    <input id="fault-for" inputmode="decimal" title="Simulated seconds; empty: until the run ends"
                        prop:value=move || for_s.get() on:change=move |e| for_s.set(event_target_value(&e)) />
                </label>
                <button id="fault-go" on:click=start>"Start"</button>
                {move || problem.get().map(|p| view! { <p class="health error">{p}</p> })}
            </fieldset>
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_node_is_offered_the_faults_that_strike_it() {
        let names = |k| offered(&Struck::Node(k)).iter().map(FaultKind::name).collect::<Vec<_>>();
        assert_eq!(names(Kind::Service), ["crash", "latency", "error_rate", "poison", "crash_after_commit"]);
        assert_eq!(names(Kind::Store), ["latency", "error_rate", "store_down"]);
        assert_eq!(names(Kind::Queue), ["pause_consumers", "refuse_publishes"]);
        assert_eq!(names(Kind::Producer), ["burst"]);
        assert_eq!(names(Kind::Exchange), ["refuse_publishes"]);
        assert!(names(Kind::Gateway).is_empty());
        let link = |r| offered(&Struck::Link("q".into(), r)).iter().map(FaultKind::name).collect::<Vec<_>>();
        assert_eq!(link(LinkRole::Publish), ["latency", "error_rate", "partition", "duplicate"]);
        assert!(names(Kind::Topic).is_empty());
        assert_eq!(link(LinkRole::Consume), ["latency", "partition"]);
        assert!(link(LinkRole::Bind).is_empty(), "a binding is inside the broker");
        // Every kind is offered somewhere, and every example is in range.
        let roles = [LinkRole::Publish, LinkRole::Request, LinkRole::Consume, LinkRole::Call, LinkRole::Dedup];
        for f in FaultKind::examples() {
            let somewhere = Kind::ALL.iter().any(|&k| offered(&Struck::Node(k)).contains(&f))
                || roles.iter().any(|&r| offered(&Struck::Link("x".into(), r)).contains(&f));
            assert!(somewhere, "{} is offered nowhere", f.name());
        }
        assert!(FaultKind::examples().iter().all(|f| f.out_of_range().is_none()));
        assert_eq!(
            with(FaultKind::ErrorRate { rate: 0.5 }, "rate", Some(2.0)).out_of_range().map(|e| e.0),
            Some("rate")
        );
    }
}
