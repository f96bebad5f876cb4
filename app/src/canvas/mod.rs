//! The canvas room: what is drawn and the gestures that edit it.
//!
//! - `geometry.rs`: the drawable graph (nodes, links, notes with positions), related by id to
//!   the topology the run plays; `layout.rs`: the layered auto layout (the button, files without
//!   positions) and free spots for keyboard placement;
//!   `camera.rs`: pan and zoom.
//! - `stage.rs`: the canvas and what floats on it (zoom buttons, minimap, find, the restart
//!   banner); `graph.rs`: the SVG canvas; `node.rs`, `link.rs`, `note.rs`: one view each;
//!   `gestures.rs`: pointer gestures (move, link, box-select, pan, place).
//! - `route.rs`: where each link runs (straight, or around the nodes and notes in its way).
//! - `dots.rs`: messages in flight, on a `<canvas>` over the graph; `bench.rs`: the
//!   `?bench=dots` frame-rate benchmark.

pub mod badge;
pub mod bench;
pub mod camera;
pub mod dots;
pub mod geometry;
pub mod gestures;
pub mod graph;
pub mod layout;
pub mod link;
pub mod node;
pub mod note;
pub mod route;
pub mod stage;
