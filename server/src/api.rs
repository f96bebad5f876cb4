//! The HTTP API: shipped scenarios and walkthroughs, validation, a session's event log as JSON lines, health.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use edasim_sim::{Model, Problem};
use serde::Serialize;
use serde_json::Value;
use utoipa::{OpenApi, ToSchema};

use crate::session::LogRecord;
use crate::state::AppState;

/// A shipped scenario.
#[derive(Serialize, ToSchema)]
pub struct ScenarioInfo {
    /// What `GET /api/scenarios/{name}` and the `load_scenario` command take.
    pub name: String,
    /// The topology's `name`.
    pub title: String,
    /// What the scenario shows and what to watch.
    pub description: Option<String>,
}

/// `GET /api/scenarios`.
#[utoipa::path(get, path = "/api/scenarios", tag = "scenarios",
    responses((status = 200, description = "The shipped scenarios", body = [ScenarioInfo])))]
pub async fn scenarios(State(app): State<AppState>) -> Json<Vec<ScenarioInfo>> {
    Json(
        app.scenarios
            .iter()
            .map(|s| ScenarioInfo {
                name: s.name.to_string(),
                title: s.model.topology().name.clone(),
                description: s.model.topology().description.clone(),
            })
            .collect(),
    )
}

/// `GET /api/scenarios/{name}`: the topology file.
#[utoipa::path(get, path = "/api/scenarios/{name}", tag = "scenarios",
    params(("name" = String, Path, description = "A scenario's name")),
    responses((status = 200, description = "The topology file (docs/topology.md)", content_type = "application/json", body = Object),
              (status = 404, description = "No such scenario", body = ApiError)))]
pub async fn scenario(State(app): State<AppState>, Path(name): Path<String>) -> Response {
    match app.scenarios.get(&name) {
        Some(s) => ([(header::CONTENT_TYPE, "application/json")], s.text).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            format!("no scenario \"{name}\"; there are: {}", app.scenarios.names().join(", ")),
        ),
    }
}

/// A shipped walkthrough.
#[derive(Serialize, ToSchema)]
pub struct WalkthroughInfo {
    /// What `GET /api/walkthroughs/{name}` takes.
    pub name: String,
    pub title: String,
    pub summary: Option<String>,
    /// The shipped scenario it plays (none: inline).
    pub scenario: Option<String>,
    pub steps: usize,
}

/// `GET /api/walkthroughs`.
#[utoipa::path(get, path = "/api/walkthroughs", tag = "walkthroughs",
    responses((status = 200, description = "The shipped walkthroughs (docs/walkthrough.md)", body = [WalkthroughInfo])))]
pub async fn walkthroughs(State(app): State<AppState>) -> Json<Vec<WalkthroughInfo>> {
    Json(
        app.walkthroughs
            .iter()
            .map(|w| WalkthroughInfo {
                name: w.name.to_string(),
                title: w.walkthrough.title.clone(),
                summary: w.walkthrough.summary.clone(),
                scenario: crate::walkthroughs::scenario_name(&w.walkthrough).map(str::to_string),
                steps: w.walkthrough.steps.len(),
            })
            .collect(),
    )
}

/// `GET /api/walkthroughs/{name}`: the walkthrough file.
#[utoipa::path(get, path = "/api/walkthroughs/{name}", tag = "walkthroughs",
    params(("name" = String, Path, description = "A walkthrough's name")),
    responses((status = 200, description = "The walkthrough file (docs/walkthrough.md)", content_type = "application/json", body = Object),
              (status = 404, description = "No such walkthrough", body = ApiError)))]
pub async fn walkthrough(State(app): State<AppState>, Path(name): Path<String>) -> Response {
    match app.walkthroughs.get(&name) {
        Some(w) => ([(header::CONTENT_TYPE, "application/json")], w.text).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            format!("no walkthrough \"{name}\"; there are: {}", app.walkthroughs.names().join(", ")),
        ),
    }
}

/// The result of validating a topology.
#[derive(Serialize, ToSchema)]
pub struct Validation {
    /// Whether it can be run (warnings do not stop a run).
    pub valid: bool,
    /// Errors first, then warnings; paths as `edasim run` gives them.
    #[schema(value_type = Vec<ProblemSchema>)]
    pub problems: Vec<Problem>,
}

/// One problem of a topology (`edasim_sim::Problem`, as it serialises).
#[derive(ToSchema)]
#[allow(dead_code)] // describes the JSON of `Problem` for the OpenAPI document
pub struct ProblemSchema {
    /// `error` or `warning`.
    severity: String,
    /// The JSON path in the topology, such as `nodes[3].processing`.
    path: String,
    message: String,
}

/// An error of the HTTP API.
#[derive(Serialize, ToSchema)]
pub struct ApiError {
    pub error: String,
}

/// `POST /api/validate`: a topology in, its problems out (200 whether or not it is valid).
#[utoipa::path(post, path = "/api/validate", tag = "topology",
    request_body(content = Object, description = "A topology file (docs/topology.md), at most 2 MiB", content_type = "application/json"),
    responses((status = 200, description = "Its problems", body = Validation),
              (status = 413, description = "The body is over 2 MiB (and its envelope)")))]
pub async fn validate(body: Bytes) -> Json<Validation> {
    let result = std::str::from_utf8(&body)
        .map_err(|e| edasim_sim::Invalid {
            problems: vec![Problem::error("", format!("not UTF-8 text (byte {})", e.valid_up_to()))],
        })
        .and_then(Model::from_json_str);
    Json(match result {
        Ok(m) => Validation { valid: true, problems: m.warnings().to_vec() },
        Err(e) => Validation { valid: false, problems: e.problems },
    })
}

/// `GET /api/sessions/{id}/events.ndjson`: the session's last event-log lines, one JSON object
/// a line, with the fields a Filebeat or Logstash pipeline expects.
#[utoipa::path(get, path = "/api/sessions/{id}/events.ndjson", tag = "sessions",
    params(("id" = String, Path, description = "A session's id (from the websocket's `welcome`)")),
    responses((status = 200, description = "JSON lines: @timestamp (simulated time), log.level, service, message, event.type, event.name, message_id, trace.id", content_type = "application/x-ndjson", body = String),
              (status = 404, description = "No such session", body = ApiError)))]
pub async fn events(State(app): State<AppState>, Path(id): Path<String>) -> Response {
    let Some((_, handle)) = app.session(&id) else {
        return error(StatusCode::NOT_FOUND, format!("no session \"{id}\""));
    };
    // Copied out under the lock, formatted after it: the session's task is never kept waiting.
    let records: Vec<LogRecord> = handle.shared.log.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect();
    let mut body = String::with_capacity(records.len() * 256);
    for r in &records {
        let l = &r.line;
        let v = serde_json::json!({
            "@timestamp": sim_time_iso(r.t_ms),
            "log.level": l.level,
            "service": l.node,
            "message": format!("{:?} {} message {} ({})", l.kind, l.node, l.msg, l.event).to_lowercase(),
            "event.type": l.kind,
            "event.name": l.event,
            "message_id": l.msg,
            "trace.id": l.root,
            "session": id,
        });
        body.push_str(&v.to_string());
        body.push('\n');
    }
    ([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response()
}

/// Simulated time as an ISO 8601 date counted from 1970-01-01T00:00:00Z.
pub fn sim_time_iso(t_ms: f64) -> String {
    let ms = t_ms.max(0.0) as u64;
    let (secs, millis) = (ms / 1000, ms % 1000);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `GET /healthz`.
#[utoipa::path(get, path = "/healthz", tag = "server",
    responses((status = 200, description = "`{\"status\": \"ok\", \"sessions\": N}`", body = Object)))]
pub async fn healthz(State(app): State<AppState>) -> Json<Value> {
    Json(serde_json::json!({"status": "ok", "sessions": app.registry().len()}))
}

pub fn error(status: StatusCode, message: String) -> Response {
    (status, Json(ApiError { error: message })).into_response()
}

/// The HTTP API as an OpenAPI 3 document, generated from the handlers above.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "edasim",
        description = "A simulator of event-driven architectures. The websocket protocol of `GET /ws` is in docs/protocol.md; `GET /metrics` is Prometheus text."
    ),
    paths(scenarios, scenario, walkthroughs, walkthrough, validate, events, healthz, metrics_doc, ws_doc),
    components(schemas(ScenarioInfo, WalkthroughInfo, Validation, ProblemSchema, ApiError))
)]
pub struct ApiDoc;

/// `GET /api/openapi.json`.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// Documents `GET /metrics` (served by `prom::metrics`).
#[utoipa::path(get, path = "/metrics", tag = "server",
    responses((status = 200, description = "Prometheus text exposition format: simulated metrics per session and node, and the server's own", content_type = "text/plain", body = String)))]
#[allow(dead_code)]
fn metrics_doc() {}

/// Documents `GET /ws` (served by `ws::upgrade`).
#[utoipa::path(get, path = "/ws", tag = "sessions",
    params(("session" = Option<String>, Query, description = "A session to resume")),
    responses((status = 101, description = "Websocket: the protocol of docs/protocol.md"),
              (status = 403, description = "A foreign Origin"),
              (status = 503, description = "Too many sessions")))]
#[allow(dead_code)]
fn ws_doc() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert_eq!(sim_time_iso(0.0), "1970-01-01T00:00:00.000Z");
        assert_eq!(sim_time_iso(90_061_001.0), "1970-01-02T01:01:01.001Z");
        assert_eq!(sim_time_iso(951_782_400_000.0), "2000-02-29T00:00:00.000Z");
    }
}
