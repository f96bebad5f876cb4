//! The shipped scenarios, compiled into the binary so that it serves them from anywhere, and
//! parsed once when the server starts (never per session or per request).

use edasim_sim::Model;

/// (name, file text) of every shipped scenario.
const SHIPPED: &[(&str, &str)] = &[
    ("order-pipeline", include_str!("../../scenarios/order-pipeline.json")),
    ("order-pipeline-k8s", include_str!("../../scenarios/order-pipeline-k8s.json")),
    ("retry-storm", include_str!("../../scenarios/retry-storm.json")),
    ("retry-jitter", include_str!("../../scenarios/retry-jitter.json")),
    ("poison-message", include_str!("../../scenarios/poison-message.json")),
    ("circuit-breaker", include_str!("../../scenarios/circuit-breaker.json")),
    ("goodput-collapse", include_str!("../../scenarios/goodput-collapse.json")),
    ("idempotent-consumer", include_str!("../../scenarios/idempotent-consumer.json")),
    ("duplicate-orders", include_str!("../../scenarios/duplicate-orders.json")),
    ("saga-choreography", include_str!("../../scenarios/saga-choreography.json")),
    ("saga-orchestration", include_str!("../../scenarios/saga-orchestration.json")),
    ("outbox", include_str!("../../scenarios/outbox.json")),
    ("partitioned-topic", include_str!("../../scenarios/partitioned-topic.json")),
];

/// The name of the scenario a new session starts with.
pub const DEFAULT: &str = "order-pipeline";

/// One shipped scenario: its name, its file and its model.
pub struct Scenario {
    pub name: &'static str,
    pub text: &'static str,
    pub model: Model,
}

/// The shipped scenarios that load (a broken one is logged and left out).
pub struct Scenarios(Vec<Scenario>);

impl Scenarios {
    pub fn load() -> Scenarios {
        Scenarios(
            SHIPPED
                .iter()
                .filter_map(|&(name, text)| match Model::from_json_str(text) {
                    Ok(model) => Some(Scenario { name, text, model }),
                    Err(e) => {
                        tracing::error!("shipped scenario {name} does not load: {e}");
                        None
                    }
                })
                .collect(),
        )
    }

    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(|s| s.name.to_string()).collect()
    }

    pub fn get(&self, name: &str) -> Option<&Scenario> {
        self.0.iter().find(|s| s.name == name)
    }

    pub fn model(&self, name: &str) -> Option<&Model> {
        self.get(name).map(|s| &s.model)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Scenario> {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_shipped_scenario_loads() {
        let s = super::Scenarios::load();
        assert_eq!(s.names().len(), super::SHIPPED.len());
        assert!(s.model(super::DEFAULT).is_some());
    }
}
