//! # edasim-sim
//!
//! The discrete-event engine and the topology model of edasim. Deterministic (integer time,
//! portable random streams, no hash-order dependence), with no async runtime and no I/O, so
//! that the same code runs in the server and in the browser (wasm32).
//!
//! - [`topology`]: the topology file, its validation and the petgraph model.
//! - [`engine`]: the simulation itself, driven by `step`/`step_until`.
//! - [`report`]: the run report of `edasim run`.
//! - [`walkthrough`]: guided lessons whose claims the engine checks.
//! - [`charts`]: what the charts of the per-second series show, for the app and `--plot`.
//! - [`formats`]: topologies to and from the formats users already have (RabbitMQ definitions).

pub mod amqp;
pub mod charts;
pub mod dist;
pub mod engine;
pub mod formats;
pub mod palette;
pub mod problem;
pub mod report;
pub mod rng;
pub mod stats;
pub mod time;
pub mod topology;
pub mod walkthrough;

pub use engine::{Engine, Options};
pub use problem::{Invalid, Problem, Severity};
pub use report::{Report, SagaReport};
pub use topology::Model;
