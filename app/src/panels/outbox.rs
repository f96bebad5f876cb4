//! The inspector's widget for a service's `outbox`: on or off, and the relay's poll period and
//! batch, each a number checked against the engine's range (`edasim_sim::topology::limits`), in
//! place of JSON text.

use edasim_sim::topology::Outbox;
use edasim_sim::topology::limits::{self, Bounds};
use leptos::prelude::*;

use super::param::ParamInput;
use serde_json::{Value, json};

/// The outbox a value sets (`None`: none), the engine's defaults where the file leaves them out.
pub fn outbox(v: Option<&Value>) -> Option<Outbox> {
    let o = v?.as_object()?;
    let d = Outbox::default();
    Some(Outbox {
        poll_ms: o.get("poll_ms").and_then(Value::as_f64).unwrap_or(d.poll_ms),
        batch: o.get("batch").and_then(Value::as_u64).map_or(d.batch, |b| b as u32),
    })
}

/// The value an outbox writes (`None`: the field left out, no outbox).
pub fn value_of(outbox: Option<&Outbox>) -> Option<Value> {
    // A whole number of milliseconds is written as one (`250`, not `250.0`).
    let poll = |ms: f64| if ms.fract() == 0.0 { json!(ms as u64) } else { json!(ms) };
    outbox.map(|o| json!({"poll_ms": poll(o.poll_ms), "batch": o.batch}))
}

/// The relay's settings: (key, label, range).
const PARAMS: [(&str, &str, Bounds); 2] =
    [("poll_ms", "poll every ms", limits::POLL_MS), ("batch", "rows a poll", limits::BATCH)];

fn set_param(o: &mut Outbox, key: &str, x: f64) {
    match key {
        "poll_ms" => o.poll_ms = x,
        _ => o.batch = x as u32,
    }
}

fn param(o: &Outbox, key: &str) -> f64 {
    match key {
        "poll_ms" => o.poll_ms,
        _ => f64::from(o.batch),
    }
}

/// `current`: the field's value in the document; `commit`: writes a new one (checked there
/// against the whole topology); `error`: where a number out of range is reported.
#[component]
pub fn OutboxInput(
    id: String,
    current: Memo<Option<Value>>,
    commit: Callback<Option<Value>>,
    error: WriteSignal<Option<String>>,
) -> impl IntoView {
    let now = move || current.with(|c| outbox(c.as_ref()));
    let on_toggle = move |e: leptos::ev::Event| {
        let on = event_target_checked(&e);
        commit.run(value_of(on.then(Outbox::default).as_ref()));
    };
    let number = move |(key, label, bounds): (&'static str, &'static str, Bounds)| {
        let set = move |x: f64| {
            if let Some(mut o) = now() {
                set_param(&mut o, key, x);
                commit.run(value_of(Some(&o)));
            }
        };
        view! {
            <ParamInput id=format!("field-outbox-{key}") label=label bounds=bounds
                value=Signal::derive(move || now().map_or(String::new(), |o| param(&o, key).to_string()))
                set=Callback::new(set) error=error />
        }
    };
    view! {
        <div class="dist outbox" id=id.clone()>
            <label class="check">
                <input type="checkbox" id=format!("{id}-on") prop:checked=move || now().is_some() on:change=on_toggle />
                <small>"on"</small>
            </label>
            <Show when=move || now().is_some()>
                {PARAMS.into_iter().map(number).collect_view()}
            </Show>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outboxes_read_and_write_back() {
        assert_eq!(outbox(None), None);
        let o = outbox(Some(&json!({"poll_ms": 250}))).unwrap();
        assert_eq!((o.poll_ms, o.batch), (250.0, Outbox::default().batch), "the default batch");
        let written = value_of(Some(&o)).unwrap();
        assert_eq!(outbox(Some(&written)), Some(o.clone()), "what is written reads back the same");
        assert_eq!(value_of(None), None, "off leaves the field out");
        assert_eq!(written, json!({"poll_ms": 250, "batch": 100}), "whole milliseconds written whole");
        // What it writes is an outbox the engine accepts.
        let t = json!({"version": 1, "name": "t", "nodes": [
            {"id": "q", "kind": "queue"}, {"id": "db", "kind": "store"}, {"id": "out", "kind": "queue"},
            {"id": "s", "kind": "service", "processing": 10, "outbox": written}],
            "links": [{"from": "q", "to": "s"}, {"from": "s", "to": "db"}, {"from": "s", "to": "out"}]});
        assert!(edasim_sim::Model::from_value(&t).is_ok(), "{:?}", edasim_sim::Model::from_value(&t).err());
    }
}
