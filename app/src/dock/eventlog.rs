//! The event log, like Kibana's Discover: notable events newest first, filtered by level, node,
//! event type and message id. Freezing the view keeps collecting lines; clicking a line asks
//! for the trace of its order.

use edasim_protocol::{ClientMsg, LogLine};
use edasim_sim::engine::Level;
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

#[component]
pub fn EventLog(on_trace: Callback<()>) -> impl IntoView {
    let live = expect_context::<Live>();
    let filter = RwSignal::new(Filter::default());
    let frozen = RwSignal::new(None::<Vec<LogLine>>);
    let shown = move || {
        let f = filter.get();
        let lines = match frozen.get() {
            Some(lines) => lines,
            None => live.logs.get(),
        };
        lines.into_iter().rev().filter(|l| f.keeps(l)).take(300).collect::<Vec<_>>()
    };
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
                    {move || shown().into_iter().map(|l| {
                        let root = l.root;
                        // Message 0: an event of the node itself (the memory alarm), with no trace.
                        let traced = l.msg != 0;
                        view! {
                            <tr class=format!("level-{:?}", l.level).to_lowercase() title=traced.then_some("Show this order's trace")
                                on:click=move |_| if traced { live.send(&ClientMsg::Trace { msg: root }); on_trace.run(()); }>
                                <td>{format!("{:.3}", l.t_ms / 1000.0)}</td>
                                <td>{format!("{:?}", l.level).to_lowercase()}</td>
                                <td>{l.node.clone()}</td>
                                <td>{l.kind.describe()}</td>
                                <td>{l.event.clone()}</td>
                                <td>{if traced { format!("{} (order {})", l.msg, l.root) } else { "—".to_string() }}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
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
        }
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
