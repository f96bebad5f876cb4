//! What a node wears above it while a run plays: a badge per fault striking it (its kind and
//! the simulated seconds left), and a service's circuit breaker with its state.

use edasim_protocol::NodeLive;
use edasim_sim::engine::BreakerState;

/// One badge: its CSS class and its text.
#[derive(Clone, Debug, PartialEq)]
pub struct Badge {
    pub class: &'static str,
    pub text: String,
}

/// The badges of a node, left to right: its faults, then its breaker.
pub fn badges(live: &NodeLive) -> Vec<Badge> {
    let mut out: Vec<Badge> = live
        .faults
        .iter()
        .map(|f| {
            let mut name = f.kind.replace('_', " ");
            if let Some(to) = &f.to {
                name = format!("{name} → {to}");
            }
            let text = match f.left_s {
                Some(s) => format!("⚡ {name} {}s", s.ceil() as u64),
                None => format!("⚡ {name}"),
            };
            Badge { class: "fault", text }
        })
        .collect();
    if let Some(state) = live.breaker {
        let (class, text) = match state {
            BreakerState::Closed => ("breaker closed", "breaker closed"),
            BreakerState::HalfOpen => ("breaker half-open", "breaker half-open"),
            BreakerState::Open => ("breaker open", "breaker OPEN"),
        };
        out.push(Badge { class, text: text.to_string() });
    }
    out
}

/// The width a badge takes on the canvas (its text at the badge's font size).
pub fn width(b: &Badge) -> f64 {
    10.0 + 8.2 * b.text.chars().count() as f64
}

#[cfg(test)]
mod tests {
    use edasim_protocol::{ActiveFault, Health};

    use super::*;

    #[test]
    fn faults_with_time_left_then_the_breaker() {
        let live = NodeLive {
            id: "db".into(),
            depth: 0,
            unacked: 0,
            busy: 0,
            workers: 0,
            replicas_up: 0,
            replicas: 0,
            health: Health::Warning,
            blocked: false,
            faults: vec![
                ActiveFault { kind: "store_down".into(), to: None, left_s: Some(26.2) },
                ActiveFault { kind: "poison".into(), to: None, left_s: None },
                ActiveFault { kind: "partition".into(), to: Some("orders".into()), left_s: Some(3.0) },
            ],
            breaker: Some(BreakerState::Open),
            sagas: None,
            outbox: None,
        };
        let texts: Vec<String> = badges(&live).into_iter().map(|b| b.text).collect();
        assert_eq!(texts, ["⚡ store down 27s", "⚡ poison", "⚡ partition → orders 3s", "breaker OPEN"]);
        let quiet = NodeLive { faults: vec![], breaker: None, ..live };
        assert!(badges(&quiet).is_empty());
    }
}
