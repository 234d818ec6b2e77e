//! `facepass serve` as an operator runs it: from the repository root on the embedded
//! defaults (a scratch SQLite file), no API key: it starts, warns, is healthy, refuses
//! indexing with 401, and stops cleanly on SIGTERM.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::spawn_serve;

#[tokio::test]
async fn serve_starts_on_the_defaults_refuses_indexing_without_a_key_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (db, photos) = (dir.path().join("facepass.db"), dir.path().join("photos"));
    let (mut child, base) = spawn_serve(
        &[
            ("FACEPASS__STORAGE__URL", db.as_os_str()),
            ("FACEPASS__PHOTOS__ROOT", photos.as_os_str()),
        ],
        Stdio::piped(),
    );

    let client = reqwest::Client::new();
    let health = client
        .get(format!("{base}/api/v2/health"))
        .send()
        .await
        .expect("health answers");
    assert_eq!(health.status(), 200);
    let refused = client
        .post(format!("{base}/api/v2/index"))
        .header("X-API-Key", "anything")
        .json(&serde_json::json!({"session_id": "s", "photo_id": "p", "s3_key": "k.jpg"}))
        .send()
        .await
        .expect("index answers");
    assert_eq!(refused.status(), 401);

    let pid = child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let mut waited = 0;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(waited < 100, "still running 10 s after SIGTERM");
        waited += 1;
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
    let mut logs = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut logs)
        .expect("logs");
    assert!(
        logs.contains("NO API KEY CONFIGURED"),
        "a loud warning: {logs}"
    );
    assert!(logs.contains("stopped"), "{logs}");
}
