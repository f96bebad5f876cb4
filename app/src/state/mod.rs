//! The data room: what the app knows, kept apart from how it is drawn (and tested natively).
//!
//! - `connection.rs`: the websocket to `edasim serve` and the signals it feeds (`Live`).
//! - `doc.rs`: the canvas document (the topology file as JSON) and every edit, with undo.
//! - `editor.rs`: the editor's state (`Editor`: document, selection, camera, gesture, drag
//!   preview, checks) and how the run follows the canvas.
//! - `reconcile.rs`: what an edit means for the running simulation.
//! - `share.rs`: share links (the topology compressed in the URL's fragment).

pub mod connection;
pub mod doc;
pub mod editor;
pub mod lesson;
pub mod reconcile;
pub mod share;
