//! A webhook receiver for tests: an HTTP/1.1 server on a free port that answers the statuses
//! it was given in turn (then 200) and keeps every request's headers and body.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request received: its headers (names lowercase) and body.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug)]
pub struct Receiver {
    /// `http://127.0.0.1:PORT/hooks`.
    pub url: String,
    seen: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub async fn start(statuses: &[u16]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let statuses = Arc::new(Mutex::new(statuses.to_vec()));
        let kept = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (kept, statuses) = (kept.clone(), statuses.clone());
                tokio::spawn(async move {
                    if let Some(received) = read(stream, &statuses).await {
                        kept.lock().unwrap().push(received);
                    }
                });
            }
        });
        Self {
            url: format!("http://127.0.0.1:{port}/hooks"),
            seen,
        }
    }

    /// Everything received so far.
    pub fn seen(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }

    /// The requests received, once there are at least `n` (polling, at most `within`).
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let seen = self.seen();
            if seen.len() >= n {
                return seen;
            }
            assert!(
                start.elapsed() < within,
                "{} of {n} webhooks after {within:?}",
                seen.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Reads one request, answers the next status, and closes.
async fn read(mut stream: TcpStream, statuses: &Mutex<Vec<u16>>) -> Option<Received> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let (head_end, length) = loop {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..i]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (i + 4, length);
        }
    };
    while data.len() < head_end + length {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let body = String::from_utf8_lossy(&data[head_end..]).into_owned();
    let status = {
        let mut statuses = statuses.lock().unwrap();
        if statuses.is_empty() {
            200
        } else {
            statuses.remove(0)
        }
    };
    let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    stream.write_all(answer.as_bytes()).await.ok()?;
    let _ = stream.shutdown().await;
    Some(Received { headers, body })
}
