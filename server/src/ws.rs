//! `GET /ws`: the websocket. A reader task turns client messages into session commands; a
//! writer task sends what the session queues. The session itself never waits for either.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use edasim_protocol::{ClientMsg, CommandError, ServerMsg};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::session::{OUTGOING_QUEUE, SessionCmd, SessionId};
use crate::state::{AppState, ServerStats, SessionHandle};

#[derive(Debug, Deserialize)]
pub struct WsQuery {
    /// The id of a session to resume (from its `welcome`).
    pub session: Option<String>,
}

static CONNECTIONS: AtomicU64 = AtomicU64::new(1);

pub async fn upgrade(
    State(app): State<AppState>,
    Query(q): Query<WsQuery>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if let Err(why) = check_origin(&headers, &app.allowed_origins) {
        return (StatusCode::FORBIDDEN, why).into_response();
    }
    let (id, handle, resumed) = match q.session.as_deref().and_then(|id| app.session(id)) {
        Some((id, h)) => (id, h, true),
        None => match crate::session::start(&app) {
            Ok(id) => match app.registry().get(&id).cloned() {
                Some(h) => (id, h, false),
                None => return (StatusCode::SERVICE_UNAVAILABLE, "the session ended at once").into_response(),
            },
            Err(why) => return (StatusCode::SERVICE_UNAVAILABLE, why).into_response(),
        },
    };
    // Larger than the protocol's limit so that an oversized message gets an error reply
    // instead of a closed connection.
    let max = app.limits.max_message_bytes * 8;
    ws.max_message_size(max).max_frame_size(max).on_upgrade(move |socket| connection(socket, app, id, handle, resumed))
}

/// A browser may open a websocket only from this server's own pages (or an allowed origin);
/// clients that send no `Origin` (tools, tests) are not browsers and may.
fn check_origin(headers: &HeaderMap, allowed: &[String]) -> Result<(), String> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else { return Ok(()) };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let origin_host = origin.split("://").nth(1).unwrap_or("");
    if origin_host == host || allowed.iter().any(|a| a == origin) {
        Ok(())
    } else {
        Err(format!("websocket from origin {origin} refused: only pages served by this edasim ({host}) may connect"))
    }
}

async fn connection(socket: WebSocket, app: AppState, session: SessionId, handle: SessionHandle, resumed: bool) {
    let conn = CONNECTIONS.fetch_add(1, Ordering::Relaxed);
    let (out_tx, mut out_rx) = mpsc::channel::<String>(OUTGOING_QUEUE);
    if handle.cmd.send(SessionCmd::Attach { conn, out: out_tx.clone(), resumed }).await.is_err() {
        return;
    }
    tracing::debug!(%session, conn, resumed, "connected");
    let (mut sink, mut stream) = socket.split();
    let writer = tokio::spawn(async move {
        while let Some(text) = out_rx.recv().await {
            if sink.send(Message::Text(Utf8Bytes::from(text))).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    while let Some(Ok(msg)) = stream.next().await {
        let text = match msg {
            Message::Text(t) => t.to_string(),
            Message::Binary(b) => match String::from_utf8(b.to_vec()) {
                Ok(t) => t,
                Err(_) => {
                    reply_error(
                        &out_tx,
                        CommandError::at("", "a binary message that is not UTF-8 text; send JSON text"),
                    );
                    continue;
                }
            },
            Message::Close(_) => break,
            _ => continue,
        };
        ServerStats::add(&app.stats.messages_received, 1);
        if text.len() > app.limits.max_message_bytes {
            let msg =
                format!("the message is {} bytes; the limit is {} bytes", text.len(), app.limits.max_message_bytes);
            reply_error(&out_tx, CommandError::at("", msg));
            continue;
        }
        match parse(&text) {
            Ok(cmd) => {
                if handle.cmd.send(SessionCmd::Client(cmd)).await.is_err() {
                    break;
                }
            }
            Err(e) => {
                ServerStats::add(&app.stats.commands_refused, 1);
                reply_error(&out_tx, e);
            }
        }
    }
    let _ = handle.cmd.send(SessionCmd::Detach { conn }).await;
    drop(out_tx);
    writer.abort();
    tracing::debug!(%session, conn, "disconnected");
}

/// Reads a command; on failure, the command's type if it could be read, the path into the
/// message, and what is wrong.
pub fn parse(text: &str) -> Result<ClientMsg, CommandError> {
    ClientMsg::from_json(text)
}

fn reply_error(out: &mpsc::Sender<String>, error: CommandError) {
    if let Ok(text) = serde_json::to_string(&ServerMsg::from(error)) {
        let _ = out.try_send(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_name_the_path() {
        let e = parse(r#"{"type": "set_speed", "speed": "fast"}"#).unwrap_err();
        assert_eq!((e.command.as_deref(), e.path.as_str()), (Some("set_speed"), "speed"));
        assert!(e.message.contains("invalid type"), "{}", e.message);
        let e =
            parse(r#"{"type": "set_param", "node": "q", "change": {"param": "replicas", "value": -1}}"#).unwrap_err();
        assert_eq!(e.path, "change.value");
        let e = parse("{not json").unwrap_err();
        assert_eq!((e.command, e.path.as_str()), (None, ""));
        assert!(e.message.starts_with("invalid JSON"));
        assert!(parse(r#"{"type": "fly"}"#).unwrap_err().message.contains("unknown variant"));
    }

    #[test]
    fn origins() {
        let mut h = HeaderMap::new();
        assert!(check_origin(&h, &[]).is_ok(), "no origin: not a browser");
        h.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        h.insert(header::ORIGIN, "http://127.0.0.1:8080".parse().unwrap());
        assert!(check_origin(&h, &[]).is_ok());
        h.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(check_origin(&h, &[]).is_err());
        assert!(check_origin(&h, &["https://evil.example".to_string()]).is_ok());
    }
}
