//! One number of a widget (a retry's attempts, an outbox's poll): a labelled input checked
//! against the engine's range (`edasim_sim::topology::limits`); a valid number is handed on, a
//! bad one reported with the label.

use edasim_sim::topology::limits::Bounds;
use leptos::prelude::*;

/// `text` as a number within `bounds`, or what is wrong with it.
fn read(text: &str, bounds: Bounds) -> Result<f64, String> {
    let x = text.trim().parse::<f64>().map_err(|_| format!("expected {}", bounds.expected()))?;
    bounds.check(x)?;
    Ok(x)
}

/// `id`: the input's element id; `value`: the number shown; `set`: takes a valid number;
/// `error`: where a bad one is reported.
#[component]
pub fn ParamInput(
    id: String,
    label: &'static str,
    bounds: Bounds,
    #[prop(into)] value: Signal<String>,
    set: Callback<f64>,
    error: WriteSignal<Option<String>>,
) -> impl IntoView {
    let on_change = move |e: leptos::ev::Event| match read(&event_target_value(&e), bounds) {
        Ok(x) => set.run(x),
        Err(why) => error.set(Some(format!("{label}: {why}"))),
    };
    view! {
        <label class="param">
            <small>{label}</small>
            <input id=id inputmode="decimal" title=format!("Range: {}.", bounds.hint())
                prop:value=value on:change=on_change />
        </label>
    }
}

#[cfg(test)]
mod tests {
    use edasim_sim::topology::limits;

    #[test]
    fn numbers_are_read_within_their_range() {
        assert_eq!(super::read(" 5 ", limits::MAX_ATTEMPTS), Ok(5.0));
        assert!(super::read("five", limits::MAX_ATTEMPTS).unwrap_err().starts_with("expected"));
        assert!(super::read("0", limits::MAX_ATTEMPTS).is_err());
    }
}
