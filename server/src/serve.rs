//! `edasim serve`: serves the built browser app from `dist/` on localhost.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::Html;
use axum::routing::{get, post};
use clap::Parser;
use tower_http::compression::CompressionLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;

use crate::state::{AppState, Limits};
use crate::{api, prom, ws};

#[derive(Parser, Debug)]
pub struct ServeArgs {
    /// Address to listen on; anything but loopback exposes the simulator to the network.
    #[arg(long, env = "EDASIM_HOST", default_value = "127.0.0.1")]
    pub host: IpAddr,
    #[arg(long, env = "EDASIM_PORT", default_value_t = 8080)]
    pub port: u16,
    /// The built front end (Trunk's output).
    #[arg(long, env = "EDASIM_DIST", default_value = "dist")]
    pub dist: PathBuf,
    /// Another origin whose pages may open websockets (repeatable), e.g. a dev server.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allow_origins: Vec<String>,
    /// A classroom on the LAN: listen on every address (unless --host says otherwise) and print
    /// the address students join at. Every limit of the live server still holds.
    #[arg(long)]
    pub classroom: bool,
}

pub fn main(args: ServeArgs) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("edasim serve: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The whole server: API, websocket, metrics and the front end.
pub fn router(state: AppState, dist: &std::path::Path) -> Router {
    let api = Router::new()
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(prom::metrics))
        .route("/ws", get(ws::upgrade))
        .route("/api/scenarios", get(api::scenarios))
        .route("/api/scenarios/{name}", get(api::scenario))
        .route("/api/walkthroughs", get(api::walkthroughs))
        .route("/api/walkthroughs/{name}", get(api::walkthrough))
        .route("/api/validate", post(api::validate))
        .route("/api/openapi.json", get(api::openapi))
        .route("/api/sessions/{id}/events.ndjson", get(api::events))
        .layer(DefaultBodyLimit::max(state.limits.max_message_bytes))
        .with_state(state);
    let router = if dist.join("index.html").is_file() {
        let files = ServeDir::new(dist).append_index_html_on_directories(true);
        // A classroom's watch link and the play-only view open the app, which reads its path.
        api.route_service("/watch/{code}", ServeFile::new(dist.join("index.html")))
            .route_service("/embed", ServeFile::new(dist.join("index.html")))
            .fallback_service(files)
    } else {
        let page = not_built_page(dist);
        api.fallback(get(move || async move { Html(page) }))
    };
    router
        .layer(axum::middleware::map_response(cache_control))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
}

/// Trunk names built assets with a content hash (`edasim-app-99ffc5dc898703a0.js`): those may be
/// cached for good; everything else is revalidated, so a rebuilt app shows at the next load.
async fn cache_control(uri: axum::http::Uri, mut response: axum::response::Response) -> axum::response::Response {
    let value = if is_hashed_asset(uri.path()) { "public, max-age=31536000, immutable" } else { "no-cache" };
    response.headers_mut().entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static(value));
    response
}

fn is_hashed_asset(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or("");
    let stem = name.split('.').next().unwrap_or("");
    let stem = stem.strip_suffix("_bg").unwrap_or(stem); // wasm-bindgen's module
    stem.rsplit_once('-').is_some_and(|(_, hash)| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// This machine's address on its LAN: the local end of a UDP socket aimed at a documentation
/// address (RFC 5737). Connecting a UDP socket sends nothing; it only picks the route.
fn lan_address() -> Option<IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    socket.local_addr().ok().map(|a| a.ip()).filter(|ip| !ip.is_unspecified())
}

fn not_built_page(dist: &std::path::Path) -> String {
    format!(
        "<!doctype html><meta charset=utf-8><title>edasim: app not built</title>\
         <body style=\"font-family:sans-serif;max-width:40em;margin:4em auto\">\
         <h1>The browser app has not been built yet</h1>\
         <p>No <code>{}/index.html</code>. Build it with <code>bash scripts/up.sh</code> \
         (or <code>trunk build --release</code> at the repository's root), then reload.</p>",
        dist.display()
    )
}

async fn serve(mut args: ServeArgs) -> anyhow::Result<()> {
    if args.classroom && args.host.is_loopback() {
        args.host = IpAddr::from([0, 0, 0, 0]);
    }
    if args.classroom {
        let lan = lan_address().map_or_else(|| "THIS-MACHINE".to_string(), |ip| ip.to_string());
        println!(
            "edasim classroom: the teacher opens http://{lan}:{port}/ and presses Classroom; students open \
             http://{lan}:{port}/watch/CODE with the code it shows",
            port = args.port
        );
    } else if !args.host.is_loopback() {
        tracing::warn!("listening on {}: the simulator is reachable from other machines", args.host);
    }
    let addr = SocketAddr::new(args.host, args.port);
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!("edasim serving {} on http://{addr}", args.dist.display());
    let state = AppState::new(Limits::default(), args.allow_origins.clone()).context("starting the simulation pool")?;
    tracing::info!("simulating on {} threads", state.pool.threads());
    let sessions = state.clone();
    let stop = async move {
        shutdown().await;
        tracing::info!("shutting down: telling {} sessions", sessions.registry().len());
        let handles: Vec<_> = sessions.registry().values().cloned().collect();
        for h in handles {
            let _ = h.cmd.send(crate::session::SessionCmd::Shutdown).await;
        }
        // Websockets are upgraded connections that graceful shutdown does not wait for: give
        // the sessions' writers a moment to deliver their `closing` and close frames.
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
        while !sessions.registry().is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    axum::serve(listener, router(state, &args.dist)).with_graceful_shutdown(stop).await.context("serving")?;
    tracing::info!("edasim stopped");
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashed_assets() {
        assert!(super::is_hashed_asset("/edasim-app-99ffc5dc898703a0_bg.wasm"));
        assert!(super::is_hashed_asset("/edasim-app-99ffc5dc898703a0.js"));
        assert!(super::is_hashed_asset("/main-64859d43ca40be1d.css"));
        assert!(!super::is_hashed_asset("/index.html"));
        assert!(!super::is_hashed_asset("/api/scenarios"));
    }
}
