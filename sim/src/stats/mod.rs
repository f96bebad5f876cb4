//! Statistics kept by the engine: exact means, histogram percentiles, batch-means confidence
//! intervals, time-weighted gauges, and the per-second series that the live view charts.

mod batch;
mod gauge;
mod latency;
mod series;

pub use batch::BatchMeans;
pub use gauge::Gauge;
pub use latency::{LatencyStat, Summary};
pub use series::{Point, Ring, SecondSamples};
