//! The panels around the canvas.
//!
//! - `topbar.rs`: scenarios, New, undo/redo, play, pause, step, reset, speed, seed, clock,
//!   totals, the memory alarm and the speed kept; `theme.rs`: light and dark.
//! - `palette.rs`: what can be placed on the canvas.
//! - `inspector.rs`: the selected thing's form; `fields.rs`: each field's meaning, range and
//!   parsing.
//! - `on_failure.rs`: a service's failure policy, as a widget.
//! - `outbox.rs`: a service's transactional outbox, as a widget; `param.rs`, a widget's number.
//! - `files.rs`: export and import (dialog, paste, drop).
//! - `keys.rs`: keyboard shortcuts and the `?` overlay.

pub mod fault_start;
pub mod fields;
pub mod files;
pub mod inspector;
pub mod keys;
pub mod lesson;
pub mod markdown;
pub mod on_failure;
pub mod outbox;
pub mod palette;
pub mod param;
pub mod presenter;
pub mod theme;
pub mod topbar;
