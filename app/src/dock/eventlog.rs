//! The event log, like Kibana's Discover: notable events newest first, filtered by level, node,
//! event type and message id. Freezing the view keeps collecting lines; clicking a line asks
//! for the trace of its order.

use edasim_protocol::{ClientMsg, LogLine};
use edasim_sim::engine::{Level, LogKind};
use leptos::prelude::*;

use crate::state::connection::Live;

/// What the filters ask for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    /// `""`, `"info"`, `"warn"` or `"error"`: that level and above.
    pub level: String,
    pub node: String,
    pub event: String,
    pub msg: String,
}

fn rank(l: Level) -> u8 {
    match l {
        Level::Info => 0,
        Level::Warn => 1,
        Level::Error => 2,
    }
}

impl Filter {
    pub fn keeps(&self, l: &LogLine) -> bool {
        let min = match self.level.as_str() {
            "warn" => 1,
            "error" => 2,
            _ => 0,
        };
        let has =
            |field: &str, want: &str| want.is_empty() || field.to_lowercase().contains(&want.trim().to_lowercase());
        rank(l.level) >= min
            && has(&l.node, &self.node)
            && (has(&l.event, &self.event)
                || has(&format!("{:?}", l.kind), &self.event)
                || has(l.kind.describe(), &self.event))
            && (self.msg.trim().is_empty()
                || self.msg.trim() == l.msg.to_string()
                || self.msg.trim() == l.root.to_string())
    }
}

/// Lines of one event at one node within this much simulated time fold into one row.
pub const FOLD_WINDOW_MS: f64 = 10_000.0;

/// Rows shown at most.
const ROWS: usize = 300;

/// A row of the log: a line, or the newest of a run of the same event at the same node, folded
/// ("unroutable at amq.default ×200 in 9.8 s"), so that one repeating event does not drown the
/// rest.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub line: LogLine,
    /// Lines folded into it (1: a plain line).
    pub count: usize,
    /// The oldest folded line's time.
    pub oldest_ms: f64,
}

/// What a line says happened, in words: "replica crashed, 9 messages redelivered".
pub fn what(l: &LogLine) -> String {
    match (l.kind, l.count) {
        (LogKind::Crashed, n) => format!("replica crashed, {n} message{} redelivered", if n == 1 { "" } else { "s" }),
        (kind, _) => kind.describe().to_string(),
    }
}

/// What folds together: the node and the kind of event.
fn fold_key(l: &LogLine) -> (String, &'static str) {
    (l.node.clone(), l.kind.describe())
}

/// Folds `lines` (newest first) into rows: a line joins the row of the same node and kind if it
/// is within `FOLD_WINDOW_MS` of that row's newest line, wherever other lines fall between;
/// kinds in `expanded` are not folded.
pub fn fold(
    lines: impl IntoIterator<Item = LogLine>,
    expanded: &std::collections::HashSet<(String, &'static str)>,
) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    let mut open: std::collections::HashMap<(String, &'static str), usize> = std::collections::HashMap::new();
    for l in lines {
        let key = fold_key(&l);
        if !expanded.contains(&key)
            && let Some(&i) = open.get(&key)
            && rows[i].line.t_ms - l.t_ms <= FOLD_WINDOW_MS
        {
            rows[i].count += 1;
            rows[i].oldest_ms = l.t_ms;
            continue;
        }
        open.insert(key, rows.len());
        rows.push(Row { oldest_ms: l.t_ms, line: l, count: 1 });
    }
    rows
}

#[component]
pub fn EventLog(on_trace: Callback<()>) -> impl IntoView {
    let live = expect_context::<Live>();
    let filter = RwSignal::new(Filter::default());
    let frozen = RwSignal::new(None::<Vec<LogLine>>);
    let expanded = RwSignal::new(std::collections::HashSet::<(String, &'static str)>::new());
    // Folded once per change: the rows and the "nothing matches" line both read it.
    let shown = Memo::new(move |_| {
        let f = filter.get();
        let lines = match frozen.get() {
            Some(lines) => lines,
            None => live.logs.get(),
        };
        let mut rows = expanded.with(|x| fold(lines.into_iter().rev().filter(|l| f.keeps(l)), x));
        rows.truncate(ROWS);
        rows
    });
    let set =
        move |field: fn(&mut Filter) -> &mut String| move |e| filter.update(|f| *field(f) = event_target_value(&e));
    view! {
        <div class="eventlog">
            <div class="filters" role="search" aria-label="Filter the event log">
                <select id="log-level" aria-label="Level" on:change=set(|f| &mut f.level)>
                    <option value="">"all levels"</option>
                    <option value="warn">"warn and error"</option>
                    <option value="error">"error"</option>
                </select>
                <input id="log-node" placeholder="node" aria-label="Node" on:input=set(|f| &mut f.node) />
                <input id="log-event" placeholder="event or kind" aria-label="Event type" on:input=set(|f| &mut f.event) />
                <input id="log-msg" placeholder="message id" aria-label="Message id" on:input=set(|f| &mut f.msg) />
                <button id="log-freeze" on:click=move |_| frozen.update(|fz| *fz = if fz.is_some() { None } else { Some(live.logs.get_untracked()) })>
                    {move || if frozen.get().is_some() { "Resume view" } else { "Freeze view" }}
                </button>
                <span class="count">{move || format!("{} lines", live.logs.with(Vec::len))}</span>
            </div>
            <table class="lines">
                <thead><tr><th>"time (s)"</th><th>"level"</th><th>"node"</th><th>"what"</th><th>"event"</th><th>"message"</th></tr></thead>
                <tbody>
                    {move || shown.get().into_iter().map(|row| {
                        let l = row.line;
                        let root = l.root;
                        // Message 0: an event of the node itself (the memory alarm), with no trace.
                        let traced = l.msg != 0;
                        let key = fold_key(&l);
                        let folded = (row.count > 1).then(|| {
                            let key = key.clone();
                            let text = format!("×{} in {:.1} s", row.count, (l.t_ms - row.oldest_ms) / 1000.0);
                            view! {
                                <button class="fold" title="Show each line" on:click=move |e| {
                                    e.stop_propagation();
                                    expanded.update(|x| { x.insert(key.clone()); });
                                }>{text}</button>
                            }
                        });
                        let unfold = (row.count == 1 && expanded.with_untracked(|x| x.contains(&key))).then(|| {
                            view! {
                                <button class="fold" title="Fold repeats again" on:click=move |e| {
                                    e.stop_propagation();
                                    expanded.update(|x| { x.remove(&key); });
                                }>"fold"</button>
                            }
                        });
                        let class = format!("level-{:?}{}", l.level, if row.count > 1 { " folded" } else { "" }).to_lowercase();
                        view! {
                            <tr class=class
                                title=traced.then_some("Show this order's trace")
                                on:click=move |_| if traced { live.send(&ClientMsg::Trace { msg: root }); on_trace.run(()); }>
                                <td>{format!("{:.3}", l.t_ms / 1000.0)}</td>
                                <td>{format!("{:?}", l.level).to_lowercase()}</td>
                                <td>{l.node.clone()}</td>
                                <td>{what(&l)}" "{folded}{unfold}</td>
                                <td>{l.event.clone()}</td>
                                <td>{if traced { format!("{} (order {})", l.msg, l.root) } else { "—".to_string() }}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {move || {
                let total = live.logs.with(Vec::len);
                (total > 0 && shown.with(Vec::is_empty)).then(|| view! {
                    <p class="hint no-match" id="log-empty">{format!("No line matches the filters ({total} lines hidden).")}</p>
                })
            }}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edasim_sim::engine::LogKind;

    fn line(level: Level, node: &str) -> LogLine {
        LogLine {
            t_ms: 1.0,
            level,
            kind: LogKind::Failed,
            node: node.into(),
            msg: 7,
            root: 3,
            event: "order_processed".into(),
            count: 0,
        }
    }

    #[test]
    fn repeats_fold_into_one_row_within_ten_seconds() {
        let at = |t_ms: f64, node: &str, kind: LogKind| LogLine { t_ms, kind, ..line(Level::Error, node) };
        // Newest first: unroutable lines interleaved with a crash's, and one too old to join.
        let lines = vec![
            at(20_000.0, "amq.default", LogKind::Unroutable),
            at(19_000.0, "payment", LogKind::Redelivered),
            at(18_000.0, "amq.default", LogKind::Unroutable),
            at(12_000.0, "amq.default", LogKind::Unroutable),
            at(5_000.0, "amq.default", LogKind::Unroutable),
        ];
        let rows = fold(lines.clone(), &Default::default());
        let summary: Vec<(String, usize)> = rows.iter().map(|r| (r.line.node.clone(), r.count)).collect();
        assert_eq!(summary, [("amq.default".into(), 3), ("payment".into(), 1), ("amq.default".into(), 1)]);
        assert_eq!((rows[0].line.t_ms, rows[0].oldest_ms), (20_000.0, 12_000.0));
        // Expanded, every line is a row again.
        let expanded = [("amq.default".to_string(), LogKind::Unroutable.describe())].into_iter().collect();
        assert_eq!(fold(lines, &expanded).len(), 5);
    }

    #[test]
    fn a_crash_says_how_many_it_redelivered() {
        let crash = LogLine { kind: LogKind::Crashed, count: 9, msg: 0, ..line(Level::Warn, "payment") };
        assert_eq!(what(&crash), "replica crashed, 9 messages redelivered");
        assert_eq!(what(&line(Level::Warn, "a")), "failed");
    }

    #[test]
    fn filters() {
        let f = Filter { level: "warn".into(), ..Filter::default() };
        assert!(
            f.keeps(&line(Level::Warn, "a")) && f.keeps(&line(Level::Error, "a")) && !f.keeps(&line(Level::Info, "a"))
        );
        let f = Filter { node: "PAY".into(), ..Filter::default() };
        assert!(f.keeps(&line(Level::Info, "payment_processing")) && !f.keeps(&line(Level::Info, "notification")));
        assert!(Filter { msg: "3".into(), ..Filter::default() }.keeps(&line(Level::Info, "a")), "by order id");
        assert!(!Filter { msg: "4".into(), ..Filter::default() }.keeps(&line(Level::Info, "a")));
        assert!(Filter { event: "failed".into(), ..Filter::default() }.keeps(&line(Level::Info, "a")), "by kind");
    }
}
