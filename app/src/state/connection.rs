//! The websocket to `edasim serve`: commands out, and what comes back turned into signals
//! (the topology, the clock, the totals, each node's state) and into the hop buffer the dots
//! layer animates. It reconnects to the same session when the connection drops, backing off
//! exponentially with jitter up to ten seconds; each attempt's callbacks are dropped with its
//! socket, so retrying for hours leaks nothing.

use edasim_protocol::{ClientMsg, Frame, HopOut, LogLine, ServerMsg};
use edasim_sim::engine::LogKind;
use edasim_sim::stats::Point;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{MessageEvent, WebSocket};

use crate::state::doc::Doc;
use crate::state::editor::{Checked, Editor, STORAGE_KEY, check, storage, with_positions};

/// What the views read.
#[derive(Clone, Copy)]
pub struct Live {
    /// The topology the run plays, as the server sent it when it loaded it.
    pub topology: RwSignal<Option<serde_json::Value>>,
    /// The server's shipped scenarios.
    pub scenarios: RwSignal<Vec<String>>,
    /// The server's shipped walkthroughs: (name, title).
    pub walkthroughs: RwSignal<Vec<(String, String)>>,
    /// The walkthrough last opened: its name and file.
    pub walkthrough: RwSignal<Option<(String, serde_json::Value)>>,
    /// Watching a classroom: its code (read-only; `fork` for a copy of one's own).
    pub watching: RwSignal<Option<String>>,
    /// The teacher's classroom, once opened: its code and how many watch.
    pub classroom: RwSignal<Option<(String, usize)>>,
    /// The teacher's walkthrough step, for a watcher to follow.
    pub lesson_step: RwSignal<Option<usize>>,
    /// The last `values` answer: its time and values.
    pub values: RwSignal<Option<(f64, Vec<edasim_protocol::Evaluated>)>>,
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
    /// The last list of an orchestrator's sagas asked for.
    pub sagas: RwSignal<Option<crate::dock::sagas::SagasView>>,
    /// Event types moving now (seen in the last few seconds), sorted, for the legend.
    pub events: RwSignal<Vec<String>>,
    /// Each event type and when (wall ms) a dot of it last arrived.
    last_seen: StoredValue<Vec<(String, f64)>>,
    /// Hops waiting to be drawn (the dots layer reads and prunes them each animation frame).
    pub hops: StoredValue<HopBuffer, LocalStorage>,
    /// The open websocket and its callbacks.
    socket: StoredValue<Option<Socket>, LocalStorage>,
    /// The session to come back to (from its `welcome`).
    session: StoredValue<Option<String>>,
    /// The last frame's simulated time and link crossings, for the link rates.
    crossings: StoredValue<(f64, Vec<u64>)>,
    /// Failed connection attempts in a row, for the back-off.
    attempts: StoredValue<u32>,
    /// Where each dot of the last animation frame was drawn (CSS pixels in the stage) and its
    /// message's journey (root id), for a click on a dot to open its trace.
    pub picks: StoredValue<Vec<(f64, f64, u64)>>,
    /// `?bench=dots&n=N`: the dots asked for, and the messages numbered so far.
    pub bench: StoredValue<Option<(usize, u64)>>,
}

/// A websocket and the callbacks it calls: dropped together when the socket is replaced.
struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut()>,
}

impl Drop for Socket {
    fn drop(&mut self) {
        // The browser must not call a callback that is gone.
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
    }
}

/// The wait before reconnection attempt `attempt` (0 for the first after a drop): doubling
/// from half a second up to ten, each drawn between half and all of that (`jitter` in 0..1), so
/// that a classroom's tabs do not all come back at the same instant after a server restart.
pub fn backoff_ms(attempt: u32, jitter: f64) -> f64 {
    let ceiling = (500.0 * 2f64.powi(attempt.min(16) as i32)).min(10_000.0);
    ceiling * (0.5 + 0.5 * jitter.clamp(0.0, 1.0))
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
    /// When the run was paused (wall ms): the dots stand still from then on, so that a teacher
    /// can point at them, and go on from where they stood when it plays again.
    pub paused_at: Option<f64>,
}

impl HopBuffer {
    /// The play state and clock of a frame or a state message that arrived at `wall`.
    pub fn clock(&mut self, playing: bool, speed: f64, t_ms: f64, wall: f64) {
        match (self.paused_at, playing) {
            (None, false) => self.paused_at = Some(wall),
            (Some(since), true) => {
                // Instantaneous hops are shown on the wall clock: shift them past the pause.
                for (_, seen) in &mut self.hops {
                    *seen += wall - since;
                }
                self.paused_at = None;
            }
            _ => {}
        }
        (self.playing, self.speed, self.t_ms, self.wall_ms) = (playing, speed, t_ms, wall);
    }

    /// The wall clock the dots are drawn against: now, or the moment of the pause.
    pub fn wall_clock(&self, now: f64) -> f64 {
        self.paused_at.unwrap_or(now)
    }
}

/// How long an event type is listed in the legend after its last dot was seen (wall ms).
pub const LEGEND_RECENT_MS: f64 = 5_000.0;

/// The event types seen since `now - LEGEND_RECENT_MS`, sorted: what the legend lists.
pub fn recent_types(last_seen: &[(String, f64)], now: f64) -> Vec<String> {
    let mut v: Vec<String> =
        last_seen.iter().filter(|(_, t)| now - *t <= LEGEND_RECENT_MS).map(|(e, _)| e.clone()).collect();
    v.sort();
    v
}

/// Dots kept at most; at high traffic the server samples and the oldest go first.
pub const MAX_DOTS: usize = 3_000;

pub fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

impl Live {
    pub fn new() -> Live {
        Live {
            topology: RwSignal::new(None),
            scenarios: RwSignal::new(Vec::new()),
            walkthroughs: RwSignal::new(Vec::new()),
            watching: RwSignal::new(None),
            classroom: RwSignal::new(None),
            lesson_step: RwSignal::new(None),
            walkthrough: RwSignal::new(None),
            values: RwSignal::new(None),
            frame: RwSignal::new(None),
            playing: RwSignal::new(false),
            speed: RwSignal::new(1.0),
            connected: RwSignal::new(false),
            problems: RwSignal::new(Vec::new()),
            series: RwSignal::new(Vec::new()),
            link_rates: RwSignal::new(Vec::new()),
            logs: RwSignal::new(Vec::new()),
            trace: RwSignal::new(None),
            sagas: RwSignal::new(None),
            events: RwSignal::new(Vec::new()),
            last_seen: StoredValue::new(Vec::new()),
            hops: StoredValue::new_local(HopBuffer::default()),
            socket: StoredValue::new_local(None),
            session: StoredValue::new(None),
            crossings: StoredValue::new((0.0, Vec::new())),
            attempts: StoredValue::new(0),
            picks: StoredValue::new(Vec::new()),
            bench: StoredValue::new(None),
        }
    }

    /// Sends a command; dropped when not connected (the reconnection restores the session).
    pub fn send(self, msg: &ClientMsg) {
        let text = msg.to_json().to_string();
        self.socket.with_value(|s| {
            if let Some(s) = s
                && s.ws.ready_state() == WebSocket::OPEN
            {
                let _ = s.ws.send_with_str(&text);
            }
        });
    }
}

/// Opens the websocket; what arrives feeds `live` and the editor.
pub fn connect(live: Live, editor: Editor) {
    open(live, editor);
}

fn url(live: Live) -> String {
    let loc = web_sys::window().map(|w| w.location());
    let host = loc.as_ref().and_then(|l| l.host().ok()).unwrap_or_else(|| "127.0.0.1:8080".into());
    let scheme = if loc.and_then(|l| l.protocol().ok()).as_deref() == Some("https:") { "wss" } else { "ws" };
    match (live.session.get_value(), watch_code()) {
        (Some(id), _) => format!("{scheme}://{host}/ws?session={id}"),
        (None, Some(code)) => format!("{scheme}://{host}/ws?watch={code}"),
        (None, None) => format!("{scheme}://{host}/ws"),
    }
}

/// Whether the page is the play-only view (`/embed#t=...`): a shared topology playing, without
/// the editor, for a course page to embed.
pub fn embedded() -> bool {
    web_sys::window().and_then(|w| w.location().pathname().ok()).is_some_and(|p| p.trim_end_matches('/') == "/embed")
}

/// A classroom's code when the page is its watch link (`/watch/CODE`).
pub fn watch_code() -> Option<String> {
    let path = web_sys::window()?.location().pathname().ok()?;
    let code = path.strip_prefix("/watch/")?.trim_matches('/');
    (!code.is_empty() && code.bytes().all(|b| b.is_ascii_alphanumeric())).then(|| code.to_string())
}

/// A watcher's fork is ready: the page becomes its own session's (the watch link leaves the
/// address bar), and the socket reconnects to it as its owner.
fn take_fork(live: Live, editor: Editor, session: String) {
    live.session.set_value(Some(session));
    live.watching.set(None);
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/"));
    }
    editor.adopt_next();
    if let Some(s) = live.socket.with_value(|s| s.as_ref().map(|s| s.ws.clone())) {
        let _ = s.close();
    }
}

fn open(live: Live, editor: Editor) {
    let Ok(ws) = WebSocket::new(&url(live)) else {
        live.problems.update(|p| p.push("cannot open a websocket to the server".into()));
        return;
    };
    let on_open = Closure::<dyn FnMut()>::new(move || {
        live.attempts.set_value(0);
        live.connected.set(true);
    });
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        if let Some(text) = e.data().as_string() {
            match serde_json::from_str::<ServerMsg>(&text) {
                Ok(msg) => receive(live, editor, msg),
                Err(err) => live.problems.update(|p| p.push(format!("unreadable message from the server: {err}"))),
            }
        }
    });
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    let on_close = Closure::<dyn FnMut()>::new(move || {
        live.connected.set(false);
        // Come back to the same session (the server keeps it for a minute), later each time.
        let attempt = live.attempts.get_value();
        live.attempts.set_value(attempt.saturating_add(1));
        let wait = backoff_ms(attempt, js_sys::Math::random());
        gloo_timers::callback::Timeout::new(wait as u32, move || open(live, editor)).forget();
    });
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    // The previous socket (closed) and its callbacks go now.
    live.socket.set_value(Some(Socket { ws, _on_open: on_open, _on_message: on_message, _on_close: on_close }));
}

fn receive(live: Live, editor: Editor, msg: ServerMsg) {
    match msg {
        ServerMsg::Welcome { watching: Some(code), .. } => {
            // A watcher: the canvas is the teacher's, whatever this browser kept.
            live.watching.set(Some(code));
            editor.adopt_next();
        }
        ServerMsg::Welcome { session, resumed, scenarios, walkthroughs, watching: None } => {
            live.session.set_value(Some(session));
            live.scenarios.set(scenarios);
            live.walkthroughs.set(walkthroughs);
            if !resumed && editor.doc.with_untracked(|d| d.value.is_null()) {
                restore(live, editor);
            }
        }
        ServerMsg::Classroom { code, watchers } => live.classroom.set(Some((code, watchers))),
        ServerMsg::LessonStep { step, .. } => live.lesson_step.set(Some(step)),
        ServerMsg::Forked { session } => take_fork(live, editor, session),
        ServerMsg::Loaded { topology, .. } => {
            live.hops.update_value(|h| h.hops.clear());
            live.crossings.set_value((0.0, Vec::new()));
            let nodes = topology["nodes"].as_array().map_or(0, Vec::len);
            live.series.set(vec![Vec::new(); nodes]);
            live.link_rates.set(Vec::new());
            live.logs.set(Vec::new());
            live.trace.set(None);
            live.events.set(Vec::new());
            live.last_seen.set_value(Vec::new());
            editor.on_loaded(live, topology);
            // The play-only view plays what it shows, once the run holds it (the session's default
            // comes first; the shared topology, if it differs, is loaded next).
            if embedded() && editor.in_sync() && !live.playing.get_untracked() {
                live.send(&ClientMsg::Play { until_ms: None });
            }
        }
        ServerMsg::State { playing, speed, t_ms } => {
            live.playing.set(playing);
            live.speed.set(speed);
            live.hops.update_value(|h| h.clock(playing, speed, t_ms, now_ms()));
        }
        ServerMsg::Frame(mut f) => {
            let hops = std::mem::take(&mut f.hops);
            let wall = now_ms();
            // The legend lists the types moving now: those seen in the last few seconds.
            live.last_seen.update_value(|seen| {
                for h in &hops {
                    match seen.iter_mut().find(|(e, _)| *e == h.event) {
                        Some(entry) => entry.1 = wall,
                        None => seen.push((h.event.clone(), wall)),
                    }
                }
            });
            // While paused nothing moves, and the legend keeps what it showed.
            if f.playing {
                let types = live.last_seen.with_value(|seen| recent_types(seen, wall));
                if live.events.with_untracked(|e| *e != types) {
                    live.events.set(types);
                }
            }
            live.hops.update_value(|h| {
                h.clock(f.playing, f.speed, f.t_ms, wall);
                h.hops.extend(hops.into_iter().map(|hop| (hop, wall)));
                let over = h.hops.len().saturating_sub(MAX_DOTS);
                h.hops.drain(..over);
            });
            if f.t_ms == 0.0 {
                live.series.update(|s| s.iter_mut().for_each(Vec::clear));
            }
            let counts = std::mem::take(&mut f.links);
            if let Some(rates) = link_rates(live, f.t_ms, counts) {
                live.link_rates.set(rates);
            }
            live.frame.set(Some(f));
        }
        ServerMsg::Error { message, path, problems, command, node, param } => {
            if command.as_deref() == Some("load_scenario") {
                editor.on_load_refused();
            }
            // A refused live change goes next to its field, not into the problems box.
            if let (Some(node), Some(param)) = (node, param) {
                editor.on_refused(&node, &param, message);
                return;
            }
            let mut lines = vec![match (command, path.is_empty()) {
                (Some(c), false) => format!("{c}: {path}: {message}"),
                (Some(c), true) => format!("{c}: {message}"),
                (None, _) => message,
            }];
            lines.extend(problems.iter().map(|p| p.to_string()));
            add_problems(live, lines);
        }
        ServerMsg::Closing { reason } => add_problems(live, vec![reason]),
        ServerMsg::Metrics(m) => {
            // Series index the running topology's nodes.
            let ids = live.topology.with_untracked(|t| crate::canvas::geometry::node_ids(t.as_ref()));
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
            trim_log(lines, LOG_LINES);
        }),
        ServerMsg::Trace { msg, hops } => live.trace.set(Some((msg, hops))),
        msg @ ServerMsg::Sagas { .. } => live.sagas.set(crate::dock::sagas::SagasView::from_msg(msg)),
        ServerMsg::Walkthrough { name, file } => {
            // Its scenario was loaded just before, as a scenario opened; the lesson's panel says
            // what to watch, so the scenario's description stays folded.
            editor.about.set(false);
            live.walkthrough.set(Some((name, file)));
        }
        ServerMsg::Values { t_ms, values } => live.values.set(Some((t_ms, values))),
    }
}

/// Lines of one event at one node that the log keeps however many others arrive.
const KEEP_PER_KIND: usize = 50;

/// Trims the log to `max` lines, the oldest repeats first: a line of an event that is frequent
/// at its node (beyond `KEEP_PER_KIND` of them) goes before a rare one, so that a crash's line
/// is not swept away by a thousand unroutable publishes. Order is kept.
pub fn trim_log(lines: &mut Vec<LogLine>, max: usize) {
    let mut over = lines.len().saturating_sub(max);
    if over == 0 {
        return;
    }
    let mut counts: std::collections::HashMap<(&str, LogKind), usize> = std::collections::HashMap::new();
    for l in lines.iter() {
        *counts.entry((l.node.as_str(), l.kind)).or_default() += 1;
    }
    let mut drop = vec![false; lines.len()];
    for (i, l) in lines.iter().enumerate() {
        if over == 0 {
            break;
        }
        let c = counts.get_mut(&(l.node.as_str(), l.kind)).expect("counted above");
        if *c > KEEP_PER_KIND {
            *c -= 1;
            drop[i] = true;
            over -= 1;
        }
    }
    // Still too many (many rare kinds): the oldest go.
    for d in drop.iter_mut() {
        if over == 0 {
            break;
        }
        if !*d {
            *d = true;
            over -= 1;
        }
    }
    let mut i = 0;
    lines.retain(|_| {
        let keep = !drop[i];
        i += 1;
        keep
    });
}

/// Adds lines to the problems box, each once: the same error four times says nothing more.
fn add_problems(live: Live, lines: Vec<String>) {
    live.problems.update(|p| {
        for line in lines {
            if !p.contains(&line) {
                p.push(line);
            }
        }
    });
}

/// Smoothed messages per simulated second on each link, from the crossing counts of this
/// frame and the last; `None` when the clock did not move.
fn link_rates(live: Live, t_ms: f64, counts: Vec<u64>) -> Option<Vec<f64>> {
    let (t0, before) = live.crossings.get_value();
    let rates = live.link_rates.with_untracked(|smoothed| rates_between(t0, &before, t_ms, &counts, smoothed));
    live.crossings.set_value((t_ms, counts));
    rates
}

fn rates_between(t0: f64, before: &[u64], t_ms: f64, counts: &[u64], smoothed: &[f64]) -> Option<Vec<f64>> {
    let dt = (t_ms - t0) / 1000.0;
    if before.len() != counts.len() || dt < 0.0 {
        Some(vec![0.0; counts.len()])
    } else if dt == 0.0 {
        None
    } else {
        // Smoothing over about a simulated second, whatever the frame interval.
        let alpha = dt.min(1.0);
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
    }
}

/// A new tab opens what a share link (`#t=...`) carries; without one, the canvas of the last
/// visit (local storage). Either becomes the canvas before the session's default topology
/// arrives, and is then loaded into the run.
fn restore(live: Live, editor: Editor) {
    let hash = web_sys::window().and_then(|w| w.location().hash().ok()).filter(|h| h.starts_with("#t="));
    let value = match hash {
        Some(hash) => {
            let parsed = crate::state::share::decode(&hash).and_then(|text| {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnection_backs_off_with_jitter_up_to_ten_seconds() {
        assert_eq!(backoff_ms(0, 1.0), 500.0);
        assert_eq!(backoff_ms(0, 0.0), 250.0);
        assert_eq!(backoff_ms(3, 1.0), 4_000.0);
        assert_eq!(backoff_ms(5, 1.0), 10_000.0);
        assert_eq!(backoff_ms(1_000, 1.0), 10_000.0);
        assert!((5_000.0..=10_000.0).contains(&backoff_ms(40, 0.3)));
    }

    #[test]
    fn a_pause_stops_the_dots_where_they_are_and_play_goes_on_from_there() {
        let hop = |event: &str| HopOut {
            msg: 1,
            root: 1,
            link: 0,
            from: 0,
            to: 1,
            event: event.into(),
            start_ms: 0.0,
            end_ms: 0.0,
            dead: false,
            redelivered: false,
        };
        let mut h = HopBuffer::default();
        h.clock(true, 10.0, 0.0, 1_000.0);
        h.hops.push((hop("a"), 1_000.0));
        assert_eq!(h.wall_clock(1_200.0), 1_200.0, "playing: the wall clock");
        h.clock(false, 10.0, 2_000.0, 1_200.0);
        assert_eq!(h.wall_clock(5_000.0), 1_200.0, "paused: frozen at the pause");
        h.clock(false, 10.0, 2_000.0, 3_000.0);
        assert_eq!(h.wall_clock(5_000.0), 1_200.0, "a frame while paused does not move it");
        h.clock(true, 10.0, 2_000.0, 6_000.0);
        assert_eq!(h.hops[0].1, 5_800.0, "the dot resumes 200 ms into its crossing");
        assert_eq!(h.wall_clock(6_000.0) - h.hops[0].1, 200.0);
    }

    #[test]
    fn the_legend_lists_what_moved_lately() {
        let seen = vec![("b".to_string(), 9_000.0), ("a".to_string(), 8_000.0), ("old".to_string(), 1_000.0)];
        assert_eq!(recent_types(&seen, 10_000.0), ["a", "b"]);
    }

    #[test]
    fn the_log_trims_repeats_before_rare_lines() {
        use edasim_sim::engine::Level;
        let line = |t: f64, node: &str, kind| LogLine {
            t_ms: t,
            level: Level::Warn,
            kind,
            node: node.into(),
            msg: 1,
            root: 1,
            event: "e".into(),
            count: 0,
        };
        let mut lines = vec![line(0.0, "payment", LogKind::Crashed)];
        lines.extend((1..=200).map(|t| line(f64::from(t), "amq.default", LogKind::Unroutable)));
        trim_log(&mut lines, 100);
        assert_eq!(lines.len(), 100);
        assert_eq!(lines[0].kind, LogKind::Crashed, "the rare line stays");
        assert_eq!(lines[1].t_ms, 102.0, "the oldest repeats went");
        assert!(lines.windows(2).all(|w| w[0].t_ms < w[1].t_ms), "in order");
    }

    #[test]
    fn link_rates_from_crossings() {
        assert_eq!(rates_between(0.0, &[], 1000.0, &[5, 7], &[]), Some(vec![0.0, 0.0]), "a new topology");
        assert_eq!(rates_between(1000.0, &[5, 7], 1000.0, &[5, 7], &[]), None, "the clock stood still");
        assert_eq!(rates_between(1000.0, &[5, 7], 2000.0, &[15, 7], &[0.0, 0.0]), Some(vec![10.0, 0.0]));
    }
}
