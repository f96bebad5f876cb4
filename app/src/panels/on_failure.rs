//! The inspector's widget for a service's `on_failure`: reject, requeue, ack, or retry with its
//! attempts, immediate retries, back-off, multiplier and jitter, each a number checked against
//! the engine's range (`edasim_sim::topology::limits`), in place of JSON text. A retry budget
//! the file sets is kept as it is.

use edasim_sim::topology::limits::{self, Bounds};
use edasim_sim::topology::{RetryBudget, RetryPolicy};
use leptos::prelude::*;

use super::param::ParamInput;
use serde_json::{Value, json};

/// The policy a value names: "" (the default, reject), "reject", "requeue", "ack" or "retry", with
/// the retry's parameters (the engine's defaults where the file leaves them out).
pub fn policy(v: Option<&Value>) -> (&'static str, RetryPolicy) {
    let d = RetryPolicy::default();
    match v {
        Some(Value::String(s)) if s == "requeue" => ("requeue", d),
        Some(Value::String(s)) if s == "reject" => ("reject", d),
        Some(Value::String(s)) if s == "ack" => ("ack", d),
        Some(Value::Object(o)) => {
            let r = o.get("retry");
            let num = |k: &str, default: f64| r.and_then(|r| r.get(k)).and_then(Value::as_f64).unwrap_or(default);
            let budget = r.and_then(|r| r.get("budget")).map(|b| {
                let bd = RetryBudget::default();
                let f = |k: &str, default: f64| b.get(k).and_then(Value::as_f64).unwrap_or(default);
                RetryBudget {
                    ratio: f("ratio", bd.ratio),
                    min_per_s: f("min_per_s", bd.min_per_s),
                    burst: f("burst", bd.burst),
                }
            });
            let retry = RetryPolicy {
                max_attempts: num("max_attempts", f64::from(d.max_attempts)) as u32,
                backoff_ms: num("backoff_ms", d.backoff_ms),
                multiplier: num("multiplier", d.multiplier),
                jitter: num("jitter", d.jitter),
                immediate: num("immediate", 0.0) as u32,
                budget,
            };
            ("retry", retry)
        }
        _ => ("", d),
    }
}

/// The value a choice and its parameters write (`None`: the field left out, the default).
pub fn value_of(choice: &str, r: &RetryPolicy) -> Option<Value> {
    match choice {
        "reject" | "requeue" | "ack" => Some(json!(choice)),
        "retry" => Some(json!({ "retry": serde_json::to_value(r).unwrap_or(Value::Null) })),
        _ => None,
    }
}

/// The retry's parameters: (key, label, range).
const PARAMS: [(&str, &str, Bounds); 5] = [
    ("max_attempts", "attempts", limits::MAX_ATTEMPTS),
    ("immediate", "at once", limits::IMMEDIATE),
    ("backoff_ms", "back-off ms", limits::DURATION_MS),
    ("multiplier", "multiplier", limits::MULTIPLIER),
    ("jitter", "jitter", limits::PROBABILITY),
];

fn set_param(r: &mut RetryPolicy, key: &str, x: f64) {
    match key {
        "max_attempts" => r.max_attempts = x as u32,
        "immediate" => r.immediate = x as u32,
        "backoff_ms" => r.backoff_ms = x,
        "multiplier" => r.multiplier = x,
        _ => r.jitter = x,
    }
}

fn param(r: &RetryPolicy, key: &str) -> f64 {
    match key {
        "max_attempts" => f64::from(r.max_attempts),
        "immediate" => f64::from(r.immediate),
        "backoff_ms" => r.backoff_ms,
        "multiplier" => r.multiplier,
        _ => r.jitter,
    }
}

/// `current`: the field's value in the document; `commit`: writes a new one (checked there
/// against the whole topology); `error`: where a number out of range is reported.
#[component]
pub fn OnFailureInput(
    id: String,
    current: Memo<Option<Value>>,
    commit: Callback<Option<Value>>,
    error: WriteSignal<Option<String>>,
) -> impl IntoView {
    let now = move || current.with(|c| policy(c.as_ref()));
    let on_choice = move |e: leptos::ev::Event| {
        let (_, r) = now();
        commit.run(value_of(&event_target_value(&e), &r));
    };
    let number = move |(key, label, bounds): (&'static str, &'static str, Bounds)| {
        let set = move |x: f64| {
            let (choice, mut r) = now();
            set_param(&mut r, key, x);
            commit.run(value_of(choice, &r));
        };
        view! {
            <ParamInput id=format!("field-on_failure-{key}") label=label bounds=bounds
                value=Signal::derive(move || param(&now().1, key).to_string())
                set=Callback::new(set) error=error />
        }
    };
    view! {
        <div class="dist on-failure" id=id.clone()>
            <select id=format!("{id}-policy") aria-label="On failure: policy" prop:value=move || now().0
                on:change=on_choice>
                <option value="">"(default: reject)"</option>
                <option value="reject">"reject"</option>
                <option value="requeue">"requeue"</option>
                <option value="ack">"ack (handled)"</option>
                <option value="retry">"retry"</option>
            </select>
            <Show when=move || now().0 == "retry">
                {PARAMS.into_iter().map(number).collect_view()}
            </Show>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_read_and_write_back() {
        assert_eq!(policy(None).0, "");
        assert_eq!(policy(Some(&json!("requeue"))).0, "requeue");
        assert_eq!(policy(Some(&json!("ack"))).0, "ack");
        let (choice, r) = policy(Some(&json!({"retry": {"max_attempts": 5}})));
        assert_eq!((choice, r.max_attempts, r.backoff_ms), ("retry", 5, RetryPolicy::default().backoff_ms));
        let written = value_of("retry", &r).unwrap();
        assert_eq!(written["retry"]["max_attempts"], json!(5));
        assert_eq!(policy(Some(&written)), (choice, r.clone()), "what is written reads back the same");
        assert_eq!(value_of("", &r), None, "the default leaves the field out");
        // Immediate retries and a budget read back too.
        let v = json!({"retry": {"max_attempts": 4, "immediate": 1, "budget": {"ratio": 0.2}}});
        let (_, r) = policy(Some(&v));
        assert_eq!((r.immediate, r.budget.as_ref().map(|b| b.ratio)), (1, Some(0.2)));
        assert_eq!(policy(value_of("retry", &r).as_ref()).1, r);
        // Every value written is one the engine accepts.
        for choice in ["reject", "requeue", "ack", "retry"] {
            let t = json!({"version": 1, "name": "t", "nodes": [
                {"id": "q", "kind": "queue"},
                {"id": "s", "kind": "service", "processing": 10, "on_failure": value_of(choice, &RetryPolicy::default())}],
                "links": [{"from": "q", "to": "s"}]});
            assert!(
                edasim_sim::Model::from_value(&t).is_ok(),
                "{choice}: {:?}",
                edasim_sim::Model::from_value(&t).err()
            );
        }
    }
}
