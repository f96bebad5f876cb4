//! The top bar: play, pause, step, reset, speed, the simulated clock and the totals.

use edasim_protocol::ClientMsg;
use leptos::prelude::*;

use crate::state::connection::Live;
use crate::state::editor::Editor;

/// `mm:ss.s`, with hours when there are some.
pub fn clock(t_ms: f64) -> String {
    let total = (t_ms / 100.0).floor() as u64; // tenths of a second
    let (tenths, secs) = (total % 10, total / 10);
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 { format!("{h}:{m:02}:{s:02}.{tenths}") } else { format!("{m:02}:{s:02}.{tenths}") }
}

/// "running at 240x of 1000x" while a playing session cannot keep its speed (the server
/// simulates each session in bounded slices, so a heavy topology falls behind instead of
/// stalling others); `None` while it keeps up (within 10%) or is not playing.
pub fn lag(playing: bool, speed: f64, achieved: f64) -> Option<String> {
    let shown = |x: f64| if x >= 10.0 { format!("{x:.0}") } else { format!("{x:.1}") };
    (playing && achieved > 0.0 && achieved < speed * 0.9)
        .then(|| format!("running at {}x of {}x", shown(achieved), shown(speed)))
}

/// A menu that has done its work gives the focus back to the page, so that the shortcuts (Space,
/// Ctrl-Z) act on the canvas right after a scenario or a speed is chosen.
fn release_focus(e: &leptos::ev::Event) {
    use wasm_bindgen::JsCast;
    if let Some(el) = e.target().and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = el.blur();
    }
}

#[component]
pub fn TopBar() -> impl IntoView {
    let live = expect_context::<Live>();
    let ed = expect_context::<Editor>();
    let t_ms = move || live.frame.with(|f| f.as_ref().map_or(0.0, |f| f.t_ms));
    let totals = move || live.frame.with(|f| f.as_ref().map(|f| f.totals).unwrap_or_default());
    let toggle = move |_| {
        if live.playing.get_untracked() {
            live.send(&ClientMsg::Pause {});
        } else {
            live.send(&ClientMsg::Play { until_ms: None });
        }
    };
    let on_speed = move |ev: leptos::ev::Event| {
        if let Ok(speed) = event_target_value(&ev).parse::<f64>() {
            live.send(&ClientMsg::SetSpeed { speed });
        }
        release_focus(&ev);
    };
    // The seed is checked as it is typed, like the inspector's fields, and says what is wrong
    // next to it; a good one is applied when the field is left or Enter pressed.
    let seed_error = RwSignal::new(None::<String>);
    let check_seed = move |text: &str| -> Option<u64> {
        let parsed = text
            .trim()
            .parse::<u64>()
            .map_err(|_| format!("expected {}", edasim_sim::topology::limits::SEED.expected()));
        seed_error.set(parsed.as_ref().err().cloned());
        parsed.ok()
    };
    let on_seed = move |e| {
        if let Some(seed) = check_seed(&event_target_value(&e)) {
            ed.doc.update(|d| d.edit(|v| v["seed"] = seed.into()));
        }
    };
    view! {
        <header class="topbar">
          <div class="bar-row">
            <h1 class="brand">"edasim"</h1>
            <span class="scenario" title="The topology on the canvas">{move || ed.graph.with(|g| g.name.clone())}</span>
            <Show when=move || ed.doc.with(|d| d.value["description"].as_str().is_some_and(|t| !t.is_empty()))>
                <button id="about-toggle" aria-label="What this scenario shows" title="What this scenario shows, and what to watch"
                    aria-pressed=move || ed.about.get().to_string() on:click=move |_| ed.about.update(|a| *a = !*a)>"About"</button>
            </Show>
            <div class="edit" role="toolbar" aria-label="Canvas">
                <select id="scenario-picker" aria-label="Open a shipped scenario"
                    on:change=move |e| {
                        let name = event_target_value(&e);
                        if !name.is_empty() {
                            ed.open_scenario(name);
                        }
                        release_focus(&e);
                    }>
                    <option value="">"Scenarios…"</option>
                    {move || live.scenarios.get().into_iter().map(|s| view! { <option value=s.clone()>{s.clone()}</option> }).collect_view()}
                </select>
                <select id="lesson-picker" aria-label="Open a walkthrough (a guided lesson)"
                    on:change=move |e| {
                        let name = event_target_value(&e);
                        if !name.is_empty() {
                            ed.open_walkthrough(name);
                        }
                        // The menu stays a menu: the lesson's title is in its panel.
                        use wasm_bindgen::JsCast;
                        if let Some(select) = e.target().and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok()) {
                            select.set_value("");
                        }
                        release_focus(&e);
                    }>
                    <option value="">"Lessons…"</option>
                    {move || live.walkthroughs.get().into_iter().map(|(n, t)| view! { <option value=n.clone()>{t}</option> }).collect_view()}
                </select>
                <Classroom />
                <button id="new" aria-label="New empty canvas" on:click=move |_| ed.new_canvas()>"New"</button>
                <button id="undo" aria-label="Undo (Ctrl-Z)" title="Undo (Ctrl-Z)" prop:disabled=move || !ed.doc.with(|d| d.can_undo())
                    on:click=move |_| ed.undo()>"↶"</button>
                <button id="redo" aria-label="Redo (Ctrl-Shift-Z)" title="Redo (Ctrl-Shift-Z)" prop:disabled=move || !ed.doc.with(|d| d.can_redo())
                    on:click=move |_| ed.redo()>"↷"</button>
            </div>
            <crate::panels::files::Files />
            <crate::panels::theme::ThemeToggle />
            <Show when=move || ed.storage_failed.get()>
                <span id="not-kept" class="not-kept" role="status"
                    title="This browser refused to keep the canvas (private mode, or storage full): Export it to keep it.">
                    "⚠ not kept: export to save"
                </span>
            </Show>
            <span class="link-state" class:offline=move || !live.connected.get()>
                {move || if live.connected.get() { "connected" } else { "connecting…" }}
            </span>
          </div>
          <div class="bar-row">
            <div class="controls" role="toolbar" aria-label="Simulation">
                <button id="play" on:click=toggle aria-label=move || if live.playing.get() { "Pause" } else { "Play" }>
                    {move || if live.playing.get() { "❚❚ Pause" } else { "▶ Play" }}
                </button>
                <button id="step" aria-label="Step one simulated second" on:click=move |_| live.send(&ClientMsg::Step { ms: Some(1000.0) })>
                    "Step 1 s"
                </button>
                <button id="reset" aria-label="Reset to time zero" on:click=move |_| ed.reset(live)>"Reset"</button>
                <label>
                    "Speed "
                    <select id="speed" aria-label="Speed" on:change=on_speed prop:value=move || live.speed.get().to_string()>
                        {[0.1, 1.0, 10.0, 100.0, 1000.0].into_iter().map(|s| view! { <option value=s.to_string()>{format!("{s}x")}</option> }).collect_view()}
                    </select>
                </label>
                <label title="The random seed: the same topology and seed give the same run">
                    "Seed "
                    <input id="seed" class="seed" inputmode="numeric" aria-label="Seed" aria-describedby="seed-error"
                        class:invalid=move || seed_error.with(Option::is_some)
                        prop:value=move || ed.doc.with(|d| d.value["seed"].as_u64().map(|s| s.to_string()).unwrap_or_default())
                        on:input=move |e| { check_seed(&event_target_value(&e)); }
                        on:change=on_seed />
                    <small id="seed-error" class="seed-error" role="alert">{move || seed_error.get()}</small>
                </label>
            </div>
            <output id="clock" aria-label="Simulated time">{move || clock(t_ms())}</output>
            {move || live.frame.with(|f| f.as_ref().and_then(|f| lag(f.playing, f.speed, f.achieved_speed))).map(|text| view! {
                <span id="lag" class="lag" role="status"
                    title="This topology is too heavy to simulate at the chosen speed on this server: it plays as fast as it can.">{text}</span>
            })}
            <Show when=move || totals().memory_alarm>
                <span id="alarm" class="alarm" role="alert"
                    title=move || format!("The run holds {} messages, its limit: like RabbitMQ at its memory high watermark, the broker blocks publishers until consumers catch up. Add consumers, or lower the rate.", totals().watermark)>
                    {move || format!("⚠ memory alarm: producers blocked ({})", totals().blocked)}
                </span>
            </Show>
            <dl id="totals" class="totals" aria-label="Totals">
                <dt>"produced"</dt><dd id="produced">{move || totals().produced}</dd>
                <dt>"completed"</dt><dd id="completed">{move || totals().completed}</dd>
                <dt>"dead-lettered"</dt><dd id="dead-lettered">{move || totals().dead_lettered}</dd>
                <dt>"dropped"</dt><dd id="dropped">{move || totals().dropped}</dd>
            </dl>
          </div>
        </header>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn clock_format() {
        assert_eq!(super::clock(0.0), "00:00.0");
        assert_eq!(super::clock(61_250.0), "01:01.2");
        assert_eq!(super::clock(3_600_000.0 + 5_000.0), "1:00:05.0");
    }

    #[test]
    fn lag_is_said_only_while_playing_behind() {
        assert_eq!(super::lag(true, 1000.0, 240.4).as_deref(), Some("running at 240x of 1000x"));
        assert_eq!(super::lag(true, 10.0, 2.25).as_deref(), Some("running at 2.2x of 10x"));
        assert_eq!(super::lag(true, 100.0, 95.0), None, "within 10%");
        assert_eq!(super::lag(false, 1000.0, 2.0), None, "paused");
        assert_eq!(super::lag(true, 1000.0, 0.0), None, "not measured yet");
    }
}

/// The teacher's classroom: a button that opens the run to watchers, then its join link and
/// how many watch; for a watcher, what it watches and the fork that gives it a run of its own.
#[component]
fn Classroom() -> impl IntoView {
    let live = expect_context::<Live>();
    let host = web_sys::window().and_then(|w| w.location().host().ok()).unwrap_or_default();
    move || match (live.watching.get(), live.classroom.get()) {
        (Some(code), _) => view! {
            <span class="classroom watching" id="watching" role="status">
                {format!("Watching {code}: the teacher controls this run")}
                <button id="fork" title="A copy of the run as it stands, yours to change"
                    on:click=move |_| live.send(&ClientMsg::Fork {})>"Fork"</button>
            </span>
        }
        .into_any(),
        (None, Some((code, watchers))) => view! {
            <span class="classroom" id="classroom" role="status" title="Students open this address to watch">
                {format!("Class {code} · {host}/watch/{code} · {watchers} watching")}
            </span>
        }
        .into_any(),
        (None, None) => view! {
            <button id="open-classroom" title="Let a class watch this run: a join code and a link"
                on:click=move |_| live.send(&ClientMsg::OpenClassroom {})>"Classroom"</button>
        }
        .into_any(),
    }
}
