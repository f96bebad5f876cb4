//! The edasim server: the headless run (`run`) and the live server (`serve`): sessions that
//! each own an engine and stream frames, metrics and logs over a websocket, an HTTP API, and a
//! Prometheus endpoint.

pub mod api;
pub mod formats;
pub mod lessons;
pub mod plot;
pub mod prom;
pub mod render;
pub mod run;
pub mod scenarios;
pub mod serve;
pub mod session;
pub mod simpool;
pub mod state;
pub mod walkthroughs;
pub mod ws;
