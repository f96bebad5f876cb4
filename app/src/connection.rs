//! The websocket to `edasim serve`: commands out, and what comes back turned into signals
//! (the topology, the clock, the totals, each node's state) and into the hop buffer the dots
//! layer animates. It reconnects to the same session when the connection drops.

use std::cell::RefCell;

use edasim_protocol::{ClientMsg, Frame, HopOut, LogLine, ServerMsg};
use edasim_sim::stats::Point;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{MessageEvent, WebSocket};

use crate::doc::Doc;
use crate::editor::{Checked, Editor, STORAGE_KEY, check, storage, with_positions};

/// What the views read.
#[derive(Clone, Copy)]
pub struct Live {
    /// The topology the run plays, as the server sent it when it loaded it.
    pub topology: RwSignal<Option<serde_json::Value>>,
    /// The server's shipped scenarios.
    pub scenarios: RwSignal<Vec<String>>,
    /// The last frame, without its hops (those go to the dots layer).
    pub frame: RwSignal<Option<Frame>>,
    pub playing: RwSignal<bool>,
    pub speed: RwSignal<f64>,
    pub connected: RwSignal<bool>,
    pub problems: RwSignal<Vec<String>>,
    /// Per node (running topology order), the last per-second points of its series.
    pub series: RwSignal<Vec<Vec<Point>>>,
    /// Per link (running topology order), messages per simulated second, smoothed.
    pub link_rates: RwSignal<Vec<f64>>,
    /// The event log, oldest first, at most `LOG_LINES`.
    pub logs: RwSignal<Vec<LogLine>>,
    /// The last trace asked for: the message and its hops.
    pub trace: RwSignal<Option<(u64, Vec<HopOut>)>>,
    /// Event types seen so far, for the legend.
    pub events: RwSignal<Vec<String>>,
}

/// Event-log lines kept in the browser.
pub const LOG_LINES: usize = 2_000;

/// Points kept per node for the charts: the last five simulated minutes.
pub const SERIES_POINTS: usize = 300;

/// Hops waiting to be drawn, and the clock they are drawn against.
#[derive(Default)]
pub struct HopBuffer {
    pub hops: Vec<(HopOut, f64)>,
    /// Simulated time of the last frame, and the wall time (ms) it arrived.
    pub t_ms: f64,
    pub wall_ms: f64,
    pub speed: f64,
    pub playing: bool,
}

/// Dots kept at most; at high traffic the server samples and the oldest go first.
pub const MAX_DOTS: usize = 3_000;

thread_local! {
    static SOCKET: RefCell<Option<WebSocket>> = const { RefCell::new(None) };
    static SESSION: RefCell<Option<String>> = const { RefCell::new(None) };
    /// The last frame's simulated time and link crossings, for the link rates.
    static CROSSINGS: RefCell<(f64, Vec<u64>)> = const { RefCell::new((0.0, Vec::new())) };
    pub static HOPS: RefCell<HopBuffer> = RefCell::new(HopBuffer::default());
}

pub fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

/// Sends a command; dropped (with a note) when not connected.
pub fn send(msg: &ClientMsg) {
    let text = msg.to_json().to_string();
    SOCKET.with(|s| {
        if let Some(ws) = s.borrow().as_ref()
            && ws.ready_state() == WebSocket::OPEN
        {
            let _ = ws.send_with_str(&text);
        }
    });
}

impl Live {
    pub fn new() -> Live {
        Live {
            topology: RwSignal::new(None),
            scenarios: RwSignal::new(Vec::new()),
            frame: RwSignal::new(None),
            playing: RwSignal::new(false),
            speed: RwSignal::new(1.0),
            connected: RwSignal::new(false),
            problems: RwSignal::new(Vec::new()),
            series: RwSignal::new(Vec::new()),
            link_rates: RwSignal::new(Vec::new()),
            logs: RwSignal::new(Vec::new()),
            trace: RwSignal::new(None),
            events: RwSignal::new(Vec::new()),
        }
    }
}

/// Opens the websocket; what arrives feeds `live` and the editor.
pub fn connect(live: Live, editor: Editor) {
    open(live, editor);
}

fn url() -> String {
    let loc = web_sys::window().map(|w| w.location());
    let host = loc.as_ref().and_then(|l| l.host().ok()).unwrap_or_else(|| "127.0.0.1:8080".into());
    let scheme = if loc.and_then(|l| l.protocol().ok()).as_deref() == Some("https:") { "wss" } else { "ws" };
    match SESSION.with(|s| s.borrow().clone()) {
        Some(id) => format!("{scheme}://{host}/ws?session={id}"),
        None => format!("{scheme}://{host}/ws"),
    }
}

fn open(live: Live, editor: Editor) {
    let Ok(ws) = WebSocket::new(&url()) else {
        live.problems.update(|p| p.push("cannot open a websocket to the server".into()));
        return;
    };
    let on_open = Closure::<dyn FnMut()>::new(move || live.connected.set(true));
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    on_open.forget();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        if let Some(text) = e.data().as_string() {
            match serde_json::from_str::<ServerMsg>(&text) {
                Ok(msg) => receive(live, editor, msg),
                Err(err) => live.problems.update(|p| p.push(format!("unreadable message from the server: {err}"))),
            }
        }
    });
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let on_close = Closure::<dyn FnMut()>::new(move || {
        live.connected.set(false);
        // Come back to the same session (the server keeps it for a minute).
        let _ = leptos::prelude::set_timeout_with_handle(move || open(live, editor), std::time::Duration::from_secs(1));
    });
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    on_close.forget();
    SOCKET.with(|s| *s.borrow_mut() = Some(ws));
}

fn receive(live: Live, editor: Editor, msg: ServerMsg) {
    match msg {
        ServerMsg::Welcome { session, resumed, scenarios } => {
            SESSION.with(|s| *s.borrow_mut() = Some(session));
            live.scenarios.set(scenarios);
            if !resumed && editor.doc.with_untracked(|d| d.value.is_null()) {
                restore(live, editor);
            }
        }
        ServerMsg::Loaded { topology, .. } => {
            HOPS.with(|h| h.borrow_mut().hops.clear());
            CROSSINGS.with(|c| *c.borrow_mut() = (0.0, Vec::new()));
            let nodes = topology["nodes"].as_array().map_or(0, Vec::len);
            live.series.set(vec![Vec::new(); nodes]);
            live.link_rates.set(Vec::new());
            live.logs.set(Vec::new());
            live.trace.set(None);
            live.events.set(Vec::new());
            editor.on_loaded(live, topology);
        }
        ServerMsg::State { playing, speed, t_ms } => {
            live.playing.set(playing);
            live.speed.set(speed);
            HOPS.with(|h| {
                let mut h = h.borrow_mut();
                (h.playing, h.speed, h.t_ms, h.wall_ms) = (playing, speed, t_ms, now_ms());
            });
        }
        ServerMsg::Frame(mut f) => {
            let hops = std::mem::take(&mut f.hops);
            let new: Vec<String> = live.events.with_untracked(|seen| {
                let mut new: Vec<String> = hops.iter().map(|h| h.event.clone()).filter(|e| !seen.contains(e)).collect();
                new.sort();
                new.dedup();
                new
            });
            if !new.is_empty() {
                live.events.update(|seen| seen.extend(new));
            }
            let wall = now_ms();
            HOPS.with(|h| {
                let mut h = h.borrow_mut();
                (h.playing, h.speed, h.t_ms, h.wall_ms) = (f.playing, f.speed, f.t_ms, wall);
                h.hops.extend(hops.into_iter().map(|hop| (hop, wall)));
                let over = h.hops.len().saturating_sub(MAX_DOTS);
                h.hops.drain(..over);
            });
            if f.t_ms == 0.0 {
                live.series.update(|s| s.iter_mut().for_each(Vec::clear));
            }
            let counts = std::mem::take(&mut f.links);
            if let Some(rates) = link_rates(f.t_ms, counts, &live.link_rates.get_untracked()) {
                live.link_rates.set(rates);
            }
            live.frame.set(Some(f));
        }
        ServerMsg::Error { message, path, problems, command } => {
            if command.as_deref() == Some("load_scenario") {
                editor.on_load_refused();
            }
            let mut lines = vec![match (command, path.is_empty()) {
                (Some(c), false) => format!("{c}: {path}: {message}"),
                (Some(c), true) => format!("{c}: {message}"),
                (None, _) => message,
            }];
            lines.extend(problems.iter().map(|p| p.to_string()));
            live.problems.update(|p| p.extend(lines));
        }
        ServerMsg::Closing { reason } => live.problems.update(|p| p.push(reason)),
        ServerMsg::Metrics(m) => {
            // Series index the running topology's nodes.
            let ids = live.topology.with_untracked(|t| crate::model::node_ids(t.as_ref()));
            live.series.update(|series| {
                series.resize(ids.len(), Vec::new());
                for np in m.nodes {
                    if let Some(i) = ids.iter().position(|id| *id == np.node) {
                        let s = &mut series[i];
                        // A reset or a reload starts the clock again: drop what is now ahead.
                        if let Some(first) = np.points.first() {
                            s.retain(|p| p.t_s < first.t_s);
                        }
                        s.extend(np.points);
                        let over = s.len().saturating_sub(SERIES_POINTS);
                        s.drain(..over);
                    }
                }
            });
        }
        ServerMsg::Log(log) => live.logs.update(|lines| {
            lines.extend(log.entries);
            let over = lines.len().saturating_sub(LOG_LINES);
            lines.drain(..over);
        }),
        ServerMsg::Trace { msg, hops } => live.trace.set(Some((msg, hops))),
    }
}

/// Smoothed messages per simulated second on each link, from the crossing counts of this
/// frame and the last; `None` when the clock did not move.
fn link_rates(t_ms: f64, counts: Vec<u64>, smoothed: &[f64]) -> Option<Vec<f64>> {
    CROSSINGS.with(|c| {
        let mut c = c.borrow_mut();
        let (t0, ref before) = *c;
        let dt = (t_ms - t0) / 1000.0;
        let rates = if before.len() != counts.len() || dt < 0.0 {
            Some(vec![0.0; counts.len()])
        } else if dt == 0.0 {
            None
        } else {
            // Smoothing over about a simulated second, whatever the frame interval.
            let alpha = (dt / 1.0).min(1.0);
            Some(
                counts
                    .iter()
                    .zip(before)
                    .enumerate()
                    .map(|(i, (now, was))| {
                        let r = now.saturating_sub(*was) as f64 / dt;
                        let old = smoothed.get(i).copied().unwrap_or(r);
                        old + alpha * (r - old)
                    })
                    .collect(),
            )
        };
        *c = (t_ms, counts);
        rates
    })
}

/// A new tab opens what a share link (`#t=...`) carries; without one, the canvas of the last
/// visit (local storage). Either becomes the canvas before the session's default topology
/// arrives, and is then loaded into the run.
fn restore(live: Live, editor: Editor) {
    let hash = web_sys::window().and_then(|w| w.location().hash().ok()).filter(|h| h.starts_with("#t="));
    let value = match hash {
        Some(hash) => {
            let parsed = crate::share::decode(&hash).and_then(|text| {
                serde_json::from_str(&text).map_err(|e| format!("the link's topology is not JSON: {e}"))
            });
            match parsed {
                Ok(v) => Some(v),
                Err(e) => {
                    live.problems.update(|p| p.push(format!("share link: {e}")));
                    None
                }
            }
        }
        None => storage()
            .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok()),
    };
    let Some(value) = value else { return };
    if let Checked::Invalid(problems) = check(&value) {
        live.problems.update(|p| {
            p.push("the canvas kept from the last visit has problems (listed below); fix them to run it".into());
            p.extend(problems.iter().map(ToString::to_string));
        });
    }
    editor.doc.set(Doc::new(with_positions(value)));
    editor.fit_later();
}

/// Problems the server reported, dismissible.
#[component]
pub fn Problems() -> impl IntoView {
    let live = expect_context::<Live>();
    view! {
        <Show when=move || !live.problems.with(Vec::is_empty)>
            <section class="problems" role="alert" aria-label="Problems">
                <button aria-label="Dismiss problems" on:click=move |_| live.problems.set(Vec::new())>"×"</button>
                <ul>
                    {move || live.problems.get().into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                </ul>
            </section>
        </Show>
    }
}
