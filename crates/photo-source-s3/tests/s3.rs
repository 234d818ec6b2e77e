//! The S3 adapter against a real S3 server: SeaweedFS from `cargo xtask services up` (or
//! `FACEPASS_TEST_S3_ENDPOINT` with the dev credentials) runs the `PhotoSource` contract and
//! the credential check; a closed port, a server that never answers and one that streams an
//! undeclared size cover the failures.

// Test helpers outside #[test] functions unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use facepass_domain::PhotoKey;
use facepass_domain::ports::{PhotoSource, PhotoSourceError};
use facepass_photo_source_s3::{S3Config, S3PhotoSource, Secret};
use facepass_test_support::Guarded;
use facepass_test_support::photo_source::content;
use facepass_test_support::s3::{self, TestBucket};

fn config(bucket: &str, endpoint: String) -> S3Config {
    S3Config {
        endpoint: Some(endpoint),
        access_key_id: Some(s3::ACCESS_KEY.into()),
        secret_access_key: Some(Secret::new(s3::SECRET_KEY)),
        force_path_style: true,
        timeout: Duration::from_secs(10),
        max_bytes: 1000,
        ..S3Config::new(bucket)
    }
}

/// A fresh bucket holding `objects`, read through the adapter with `max_bytes`.
async fn seeded(objects: &[(&str, Vec<u8>)], max_bytes: u64) -> Guarded<S3PhotoSource> {
    let bucket = TestBucket::create("facepass-test", objects).await;
    let mut cfg = config(&bucket.name, s3::endpoint());
    cfg.max_bytes = max_bytes;
    Guarded::new(S3PhotoSource::new(&cfg).await, bucket)
}

facepass_test_support::photo_source_contract!(seeded);

fn key(k: &str) -> PhotoKey {
    PhotoKey::parse(k).unwrap()
}

/// A local port that was just free: nothing listens there.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Fetches a key from a server on a local `port` with a `timeout` deadline: the error, and
/// how long it took to come.
async fn fetch_from(port: u16, timeout: Duration) -> (PhotoSourceError, Duration) {
    let mut cfg = config("any", format!("http://127.0.0.1:{port}"));
    cfg.timeout = timeout;
    let source = S3PhotoSource::new(&cfg).await;
    let started = Instant::now();
    let err = source.fetch(&key("p.jpg")).await.unwrap_err();
    (err, started.elapsed())
}

/// A server on a local port that accepts connections, reads requests and never answers.
async fn stalled_server() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    port
}

#[tokio::test]
async fn bad_credentials_are_access_denied() {
    let bucket = TestBucket::create("facepass-test", &content()).await;
    let mut cfg = config(&bucket.name, s3::endpoint());
    cfg.secret_access_key = Some(Secret::new("wrong-secret"));
    let source = S3PhotoSource::new(&cfg).await;

    let err = source.fetch(&key("sessions/s1/p1.jpg")).await.unwrap_err();

    assert!(matches!(err, PhotoSourceError::AccessDenied(_)), "{err:?}");
    assert!(
        !format!("{cfg:?}").contains("wrong-secret"),
        "secrets are redacted"
    );
}

#[tokio::test]
async fn a_stopped_server_is_unavailable_quickly() {
    let port = closed_port();
    let (err, took) = fetch_from(port, Duration::from_secs(10)).await;

    assert!(matches!(err, PhotoSourceError::Unavailable(_)), "{err:?}");
    assert!(took < Duration::from_secs(8), "took {took:?}");
    let source = S3PhotoSource::new(&config("any", format!("http://127.0.0.1:{port}"))).await;
    assert!(source.health().await.is_err());
}

#[tokio::test]
async fn a_stopped_server_is_unavailable_within_a_short_deadline() {
    let (err, took) = fetch_from(closed_port(), Duration::from_secs(2)).await;

    // Retries back off in proportion to the deadline, so they end before it does.
    println!("stopped server, 2 s deadline: {err:?} after {took:?}");
    assert!(matches!(err, PhotoSourceError::Unavailable(_)), "{err:?}");
    assert!(took < Duration::from_millis(1500), "took {took:?}");
}

#[tokio::test]
async fn a_stalled_server_times_out_near_the_configured_deadline() {
    let (err, took) = fetch_from(stalled_server().await, Duration::from_secs(2)).await;

    assert_eq!(err, PhotoSourceError::Timeout(Duration::from_secs(2)));
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(4),
        "took {took:?}"
    );
    println!("stalled server: {err:?} after {took:?} (deadline 2 s)");
}

#[tokio::test]
async fn the_readiness_probe_of_a_stalled_server_gives_up_after_5_seconds() {
    let port = stalled_server().await;
    let mut cfg = config("any", format!("http://127.0.0.1:{port}"));
    cfg.timeout = Duration::from_secs(30);
    let source = S3PhotoSource::new(&cfg).await;

    let started = Instant::now();
    let err = source.health().await.unwrap_err();
    let took = started.elapsed();

    assert_eq!(err, PhotoSourceError::Timeout(Duration::from_secs(5)));
    assert!(took < Duration::from_secs(7), "took {took:?}");
}

#[tokio::test]
async fn an_object_without_a_declared_size_is_cut_off_while_streaming() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // Answers every request with a chunked body of 3 x 600 bytes and no Content-Length.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = vec![0u8; 8192];
                let _ = socket.read(&mut request).await;
                let mut response = b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
                for _ in 0..3 {
                    response.extend_from_slice(format!("{:x}\r\n", 600).as_bytes());
                    response.extend_from_slice(&[1u8; 600]);
                    response.extend_from_slice(b"\r\n");
                }
                response.extend_from_slice(b"0\r\n\r\n");
                let _ = socket.write_all(&response).await;
            });
        }
    });
    let source = S3PhotoSource::new(&config("any", format!("http://127.0.0.1:{port}"))).await;

    let err = source.fetch(&key("p.jpg")).await.unwrap_err();

    assert_eq!(err, PhotoSourceError::TooLarge { limit_bytes: 1000 });
}
