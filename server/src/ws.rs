//! `GET /ws`: the websocket. A reader task turns client messages into session commands; a
//! writer task sends what the session queues. The session itself never waits for either.
//! `?watch=CODE` attaches a classroom's watcher: read-only, but for `fork` and the questions
//! (`trace`, `sagas`), answered to it alone.

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
    /// A classroom's join code: watch that session.
    pub watch: Option<String>,
}

/// What a connection may do with its session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Owner { resumed: bool },
    Watcher,
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
    let (id, handle, role) = if let Some(code) = q.watch.as_deref() {
        match app.classroom(code) {
            Some((id, h)) => (id, h, Role::Watcher),
            None => return (StatusCode::NOT_FOUND, format!("no classroom \"{code}\" is open")).into_response(),
        }
    } else {
        match q.session.as_deref().and_then(|id| app.session(id)) {
            Some((id, h)) => (id, h, Role::Owner { resumed: true }),
            None => match crate::session::start(&app) {
                Ok(id) => match app.registry().get(&id).cloned() {
                    Some(h) => (id, h, Role::Owner { resumed: false }),
                    None => return (StatusCode::SERVICE_UNAVAILABLE, "the session ended at once").into_response(),
                },
                Err(why) => return (StatusCode::SERVICE_UNAVAILABLE, why).into_response(),
            },
        }
    };
    // Larger than the protocol's limit so that an oversized message gets an error reply
    // instead of a closed connection.
    let max = app.limits.max_message_bytes * 8;
    ws.max_message_size(max).max_frame_size(max).on_upgrade(move |socket| connection(socket, app, id, handle, role))
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

async fn connection(socket: WebSocket, app: AppState, session: SessionId, handle: SessionHandle, role: Role) {
    let conn = CONNECTIONS.fetch_add(1, Ordering::Relaxed);
    let (out_tx, mut out_rx) = mpsc::channel::<Utf8Bytes>(OUTGOING_QUEUE);
    let attach = match role {
        Role::Owner { resumed } => SessionCmd::Attach { conn, out: out_tx.clone(), resumed },
        Role::Watcher => SessionCmd::Watch { conn, out: out_tx.clone() },
    };
    if handle.cmd.send(attach).await.is_err() {
        return;
    }
    tracing::debug!(%session, conn, ?role, "connected");
    let (mut sink, mut stream) = socket.split();
    let writer = tokio::spawn(async move {
        while let Some(text) = out_rx.recv().await {
            if sink.send(Message::Text(text)).await.is_err() {
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
            // A watcher may only fork: the class's run is the teacher's.
            Ok(ClientMsg::Fork {}) if role == Role::Watcher => {
                let (tx, rx) = tokio::sync::oneshot::channel();
                if handle.cmd.send(SessionCmd::Fork(tx)).await.is_err() {
                    break;
                }
                match rx.await {
                    Ok(Ok(id)) => reply(&out_tx, &ServerMsg::Forked { session: id.to_string() }),
                    Ok(Err(why)) => reply_error(&out_tx, CommandError::at("", why).of("fork")),
                    Err(_) => break,
                }
            }
            // Questions change nothing: a watcher asks them too, and has its own answer.
            Ok(msg) if role == Role::Watcher && msg.is_question() => {
                if handle.cmd.send(SessionCmd::Ask { conn, msg }).await.is_err() {
                    break;
                }
            }
            Ok(cmd) if role == Role::Watcher => {
                ServerStats::add(&app.stats.commands_refused, 1);
                let why = "you are watching the teacher's run, which only the teacher controls: fork it to experiment";
                reply_error(&out_tx, CommandError::at("", why).of(cmd.name()));
            }
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
    let detach = match role {
        Role::Owner { .. } => SessionCmd::Detach { conn },
        Role::Watcher => SessionCmd::Unwatch { conn },
    };
    let _ = handle.cmd.send(detach).await;
    drop(out_tx);
    writer.abort();
    tracing::debug!(%session, conn, "disconnected");
}

/// Reads a command; on failure, the command's type if it could be read, the path into the
/// message, and what is wrong.
pub fn parse(text: &str) -> Result<ClientMsg, CommandError> {
    ClientMsg::from_json(text)
}

fn reply_error(out: &mpsc::Sender<Utf8Bytes>, error: CommandError) {
    reply(out, &ServerMsg::from(error));
}

fn reply(out: &mpsc::Sender<Utf8Bytes>, msg: &ServerMsg) {
    if let Ok(text) = serde_json::to_string(msg) {
        let _ = out.try_send(text.into());
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
