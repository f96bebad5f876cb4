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

use crate::model::ViewGraph;

/// What the views read.
#[derive(Clone, Copy)]
pub struct Live {
    /// The loaded topology as the server sent it (what Export saves and Share encodes).
    pub topology: RwSignal<Option<serde_json::Value>>,
    pub graph: RwSignal<ViewGraph>,
    /// The last frame, without its hops (those go to the dots layer).
    pub frame: RwSignal<Option<Frame>>,
    pub playing: RwSignal<bool>,
    pub speed: RwSignal<f64>,
    pub connected: RwSignal<bool>,
    pub problems: RwSignal<Vec<String>>,
    /// Per node (topology order), the last per-second points of its series.
    pub series: RwSignal<Vec<Vec<Point>>>,
    /// The node the inspector and the charts show.
    pub selected: RwSignal<Option<usize>>,
    /// The event log, oldest first, at most `LOG_LINES`.
    pub logs: RwSignal<Vec<LogLine>>,
    /// The last trace asked for: the message and its hops.
    pub trace: RwSignal<Option<(u64, Vec<HopOut>)>>,
    /// Event types seen so far, for the legend.
    pub events: RwSignal<Vec<String>>,
}

/// Where the canvas is kept between page loads.
const STORAGE_KEY: &str = "edasim.topology";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
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

pub fn connect() -> Live {
    let live = Live {
        topology: RwSignal::new(None),
        graph: RwSignal::new(ViewGraph::default()),
        frame: RwSignal::new(None),
        playing: RwSignal::new(false),
        speed: RwSignal::new(1.0),
        connected: RwSignal::new(false),
        problems: RwSignal::new(Vec::new()),
        series: RwSignal::new(Vec::new()),
        selected: RwSignal::new(None),
        logs: RwSignal::new(Vec::new()),
        trace: RwSignal::new(None),
        events: RwSignal::new(Vec::new()),
    };
    open(live);
    live
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

fn open(live: Live) {
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
                Ok(msg) => receive(live, msg),
                Err(err) => live.problems.update(|p| p.push(format!("unreadable message from the server: {err}"))),
            }
        }
    });
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let on_close = Closure::<dyn FnMut()>::new(move || {
        live.connected.set(false);
        // Come back to the same session (the server keeps it for a minute).
        let _ = leptos::prelude::set_timeout_with_handle(move || open(live), std::time::Duration::from_secs(1));
    });
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    on_close.forget();
    SOCKET.with(|s| *s.borrow_mut() = Some(ws));
}

fn receive(live: Live, msg: ServerMsg) {
    match msg {
        ServerMsg::Welcome { session, resumed, .. } => {
            SESSION.with(|s| *s.borrow_mut() = Some(session));
            if !resumed {
                load_shared(live);
            }
        }
        ServerMsg::Loaded { topology, .. } => {
            HOPS.with(|h| h.borrow_mut().hops.clear());
            let graph = ViewGraph::from_topology(&topology);
            live.series.set(vec![Vec::new(); graph.nodes.len()]);
            live.logs.set(Vec::new());
            live.trace.set(None);
            live.events.set(Vec::new());
            // The canvas survives a reload: the last topology loaded is kept in local storage.
            if let Some(s) = storage() {
                let _ = s.set_item(STORAGE_KEY, &topology.to_string());
            }
            live.selected.set(None);
            live.graph.set(graph);
            live.topology.set(Some(topology));
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
            live.frame.set(Some(f));
        }
        ServerMsg::Error { message, path, problems, command } => {
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
            let ids: Vec<String> = live.graph.with_untracked(|g| g.nodes.iter().map(|n| n.id.clone()).collect());
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

/// A share link (`#t=...`) opens its topology in the new session; without one, the topology
/// of the last visit (local storage) comes back.
fn load_shared(live: Live) {
    let Some(hash) = web_sys::window().and_then(|w| w.location().hash().ok()).filter(|h| h.starts_with("#t=")) else {
        let kept = storage().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten());
        if let Some(topology) = kept.and_then(|t| serde_json::from_str(&t).ok()) {
            send(&ClientMsg::LoadTopology { topology });
        }
        return;
    };
    let parsed = crate::share::decode(&hash)
        .and_then(|text| serde_json::from_str(&text).map_err(|e| format!("the link's topology is not JSON: {e}")));
    match parsed {
        Ok(topology) => send(&ClientMsg::LoadTopology { topology }),
        Err(e) => live.problems.update(|p| p.push(format!("share link: {e}"))),
    }
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
