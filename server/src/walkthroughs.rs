//! The shipped walkthroughs, compiled into the binary as the scenarios are, and read once when
//! the server starts: what `GET /api/walkthroughs` lists and the app's Lessons menu opens.

use edasim_sim::walkthrough::{ScenarioRef, Walkthrough};

/// (name, file text) of every shipped walkthrough, in the order of the menu.
const SHIPPED: &[(&str, &str)] = &[
    ("order-pipeline-tour", include_str!("../../scenarios/walkthroughs/order-pipeline-tour.json")),
    ("seed-bugs", include_str!("../../scenarios/walkthroughs/seed-bugs.json")),
    ("duplicate-orders", include_str!("../../scenarios/walkthroughs/duplicate-orders.json")),
    ("hpa-on-cpu", include_str!("../../scenarios/walkthroughs/hpa-on-cpu.json")),
    ("retries-and-jitter", include_str!("../../scenarios/walkthroughs/retries-and-jitter.json")),
    ("retry-storm", include_str!("../../scenarios/walkthroughs/retry-storm.json")),
    ("poison-message", include_str!("../../scenarios/walkthroughs/poison-message.json")),
    ("idempotent-consumer", include_str!("../../scenarios/walkthroughs/idempotent-consumer.json")),
    ("saga-choreography", include_str!("../../scenarios/walkthroughs/saga-choreography.json")),
    ("saga-orchestration", include_str!("../../scenarios/walkthroughs/saga-orchestration.json")),
    ("saga-crash-recovery", include_str!("../../scenarios/walkthroughs/saga-crash-recovery.json")),
    ("outbox", include_str!("../../scenarios/walkthroughs/outbox.json")),
    ("partitioned-topic", include_str!("../../scenarios/walkthroughs/partitioned-topic.json")),
    ("circuit-breaker", include_str!("../../scenarios/walkthroughs/circuit-breaker.json")),
    ("goodput-collapse", include_str!("../../scenarios/walkthroughs/goodput-collapse.json")),
];

pub struct Shipped {
    pub name: &'static str,
    pub text: &'static str,
    pub walkthrough: Walkthrough,
}

/// The shipped walkthroughs that read (a broken one is logged and left out; CI checks them all).
pub struct Walkthroughs(Vec<Shipped>);

impl Walkthroughs {
    pub fn load() -> Walkthroughs {
        Walkthroughs(
            SHIPPED
                .iter()
                .filter_map(|&(name, text)| match Walkthrough::from_json_str(text) {
                    Ok(walkthrough) => Some(Shipped { name, text, walkthrough }),
                    Err(e) => {
                        tracing::error!("shipped walkthrough {name} does not read: {e}");
                        None
                    }
                })
                .collect(),
        )
    }

    pub fn iter(&self) -> impl Iterator<Item = &Shipped> {
        self.0.iter()
    }

    pub fn get(&self, name: &str) -> Option<&Shipped> {
        self.0.iter().find(|w| w.name == name)
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|w| w.name).collect()
    }
}

/// The scenario a walkthrough plays, by name (an inline one: `None`).
pub fn scenario_name(w: &Walkthrough) -> Option<&str> {
    match &w.scenario {
        ScenarioRef::Named(s) => Some(s),
        ScenarioRef::Inline(_) => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_menu_holds_every_file_in_the_folder() {
        let all = super::Walkthroughs::load();
        assert_eq!(all.names().len(), super::SHIPPED.len(), "every shipped walkthrough reads");
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/walkthroughs");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok()?.path().file_stem()?.to_str().map(str::to_string))
            .collect();
        files.sort();
        let mut names: Vec<String> = all.names().iter().map(|s| s.to_string()).collect();
        names.sort();
        assert_eq!(names, files, "a file in the folder but not on the menu, or the reverse");
    }
}
