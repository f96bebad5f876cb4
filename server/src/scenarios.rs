//! The shipped scenarios, compiled into the binary so that it serves them from anywhere.

use edasim_sim::Model;

/// (name, file text) of every shipped scenario.
const SHIPPED: &[(&str, &str)] = &[("order-pipeline", include_str!("../../scenarios/order-pipeline.json"))];

/// The name of the scenario a new session starts with.
pub const DEFAULT: &str = "order-pipeline";

pub fn names() -> Vec<String> {
    SHIPPED.iter().map(|(n, _)| n.to_string()).collect()
}

pub fn text(name: &str) -> Option<&'static str> {
    SHIPPED.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// A shipped scenario, validated.
pub fn model(name: &str) -> Option<Model> {
    text(name).and_then(|t| Model::from_json_str(t).ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_shipped_scenario_loads() {
        for name in super::names() {
            assert!(super::model(&name).is_some(), "{name}");
        }
        assert!(super::model(super::DEFAULT).is_some());
    }
}
