//! The formats users already have, to and from topologies: RabbitMQ definitions
//! (`rabbitmq.rs`) and AsyncAPI 3.0 documents (`asyncapi.rs`). Pure conversions of JSON values, so that the CLI and the browser app share
//! them.

pub mod asyncapi;
pub mod rabbitmq;
