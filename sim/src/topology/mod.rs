//! The topology file (version 1): its types, its decoding with every problem and its path,
//! and the validated model held in a petgraph graph.
//!
//! The format is specified in `docs/topology.md` (the shared contract plus this project's
//! extensions). Serialising a [`Topology`] gives the file back, so the types double as the
//! editor's document model.

mod check;
mod decode;
mod kind;
pub mod limits;
mod model;
pub mod saga;
mod types;

pub use check::{LinkShape, link_role};
pub use decode::{MAX_FILE_BYTES, MAX_LINKS, MAX_NODES, too_large};
pub use kind::{KIND_NAMES, Kind};
pub use model::{EdgeInfo, LinkRole, Model};
pub use saga::{Saga, SagaStep, StepRole};
pub use types::*;
