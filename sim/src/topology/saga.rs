//! A saga orchestrator's definition (an edasim extension): a service with `saga` holds one
//! state machine per business transaction, correlated by the id of the message that started it
//! (its root), as MassTransit declares them: an initial state, a state per step, and the final
//! states completed and compensated.
//!
//! The steps follow Chris Richardson's "saga canvas": each names its participant, the command
//! that does its transaction, the reply that says it is done, the failure reply that says it
//! could not be done, and the command that undoes it. Steps before the pivot are compensatable,
//! the pivot is the point of no return, steps after it are retriable (they must succeed: they
//! are sent again until they do).

use serde::Serialize;

/// How long a step waits for its reply by default.
pub const STEP_TIMEOUT_MS: f64 = 5_000.0;
/// Times a command or a compensation is sent again after a timeout, by default.
pub const RESENDS: u32 = 3;
/// Steps a saga may have at most.
pub const MAX_STEPS: usize = 16;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Saga {
    /// The event that starts a saga (a message of it consumed by the orchestrator).
    pub start: String,
    pub steps: Vec<SagaStep>,
    /// Times a compensation (or a compensatable step's command, never) is sent again after its
    /// timeout before the saga is failed; a retriable step is sent again without end.
    pub resends: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SagaStep {
    pub name: String,
    /// The service that does the step (for the saga canvas; the command's links say where it
    /// goes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant: Option<String>,
    /// The queue or exchange its command and compensation are sent to (over the
    /// orchestrator's publish link to it); without it, the publish links whose `event` is the
    /// command (or the compensation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    pub command: String,
    pub reply: String,
    /// The reply that says the step could not be done (the saga compensates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    pub timeout_ms: f64,
    /// The command that undoes the step, and the reply that says it is undone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compensation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compensation_reply: Option<String>,
    /// The point of no return: the steps after it are retriable.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pivot: bool,
    /// The participant records each compensation it processes, even one that finds nothing
    /// to undo (a tombstone), and refuses the command if it comes after: a void that overtook
    /// a slow charge stops it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tombstone: bool,
}

/// A step's place in the saga canvas.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepRole {
    Compensatable,
    Pivot,
    Retriable,
}

impl Saga {
    /// The index of the pivot: the flagged step, or the last step when none is flagged (every
    /// step is then compensatable or the pivot).
    pub fn pivot(&self) -> usize {
        self.steps.iter().position(|s| s.pivot).unwrap_or(self.steps.len().saturating_sub(1))
    }

    pub fn role(&self, step: usize) -> StepRole {
        let pivot = self.pivot();
        match step.cmp(&pivot) {
            std::cmp::Ordering::Less => StepRole::Compensatable,
            std::cmp::Ordering::Equal => StepRole::Pivot,
            std::cmp::Ordering::Greater => StepRole::Retriable,
        }
    }

    /// Every event name the saga sends (commands and compensations).
    pub fn sends(&self) -> impl Iterator<Item = &str> {
        self.steps.iter().flat_map(|s| std::iter::once(s.command.as_str()).chain(s.compensation.as_deref()))
    }

    /// Every event name the saga consumes: its start and each reply.
    pub fn receives(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.start.as_str()).chain(self.steps.iter().flat_map(|s| {
            std::iter::once(s.reply.as_str()).chain(s.failure.as_deref()).chain(s.compensation_reply.as_deref())
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(name: &str, pivot: bool) -> SagaStep {
        SagaStep {
            name: name.into(),
            participant: None,
            channel: None,
            command: format!("Do{name}"),
            reply: format!("{name}Done"),
            failure: None,
            timeout_ms: STEP_TIMEOUT_MS,
            compensation: None,
            compensation_reply: None,
            pivot,
            tombstone: false,
        }
    }

    #[test]
    fn roles_follow_the_pivot() {
        let saga =
            Saga { start: "Go".into(), steps: vec![step("a", false), step("b", true), step("c", false)], resends: 3 };
        assert_eq!(
            [saga.role(0), saga.role(1), saga.role(2)],
            [StepRole::Compensatable, StepRole::Pivot, StepRole::Retriable]
        );
        let unflagged = Saga { steps: vec![step("a", false), step("b", false)], ..saga };
        assert_eq!(unflagged.pivot(), 1);
        assert_eq!(unflagged.role(0), StepRole::Compensatable);
    }
}
