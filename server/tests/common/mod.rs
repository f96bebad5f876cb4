//! Helpers shared by the tests that run `edasim serve` as a separate process.

use std::process::Child;
use std::time::{Duration, Instant};

/// A child process, killed when dropped (a failed assertion must not leave servers running).
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits until something listens on `port` (at most 20 s).
pub async fn wait_listening(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "{what} listens on {port} within 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
