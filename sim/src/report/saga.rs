//! An orchestrator's sagas in the run report.

use serde::Serialize;

use crate::engine::{Engine, SagaCounts};

/// What an orchestrator's sagas did: counts by state at the end, and what happened on the way.
#[derive(Clone, Debug, Serialize)]
pub struct SagaReport {
    #[serde(flatten)]
    pub counts: SagaCounts,
    /// Sagas that ended without completing (compensated, failed, stuck) with a compensatable
    /// transaction still in effect at its participant: a payment charged after its void ran,
    /// inventory held for an order that will never ship.
    pub inconsistent: u64,
    /// Whether it keeps a saga log (a store): its sagas survive a crash.
    pub log: bool,
}

impl Engine {
    pub(super) fn saga_report(&self, node: usize) -> Option<SagaReport> {
        let counts = self.saga_counts(node)?;
        Some(SagaReport { counts, inconsistent: self.sagas_inconsistent(node), log: self.saga_durable(node) })
    }
}
