//! Running to an end: a duration, or a message budget and then until the system drains.

use super::{Engine, Halt};
use crate::time::{NS_PER_S, Time};

impl Engine {
    /// Runs until `end`, or, once a message budget (see [`Engine::set_message_budget`]) is
    /// spent, until no message is left in the system (or nothing is left to happen).
    /// `progress` is called after each simulated second (chunks of simulated time are fixed,
    /// so where a run stops never depends on the wall clock).
    pub fn run_until(&mut self, end: Time, mut progress: impl FnMut(&Engine)) -> Result<(), Halt> {
        while self.now < end {
            if !self.producing() {
                // Budget spent: event by event until the system has drained.
                while self.in_system() > 0 {
                    match self.events.peek_time() {
                        Some(t) if t <= end => self.step_until(t)?,
                        _ => break,
                    }
                }
                return Ok(());
            }
            if self.events.peek_time().is_none() {
                break;
            }
            self.step_until(self.now.saturating_add(NS_PER_S).min(end))?;
            progress(self);
        }
        Ok(())
    }
}
