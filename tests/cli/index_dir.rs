//! `facepass index-dir DIR --session S`: the same use cases as the API, so a new session gets
//! `retention.default_days` as it would through `POST /index/batch`.

use std::process::Command;

use super::repo_root;

#[test]
fn a_session_indexed_from_the_command_line_gets_the_default_retention() {
    let photos = tempfile::tempdir().unwrap();
    for file in ["fr_obama.jpg", "fr_biden.jpg"] {
        std::fs::copy(
            repo_root().join("../shared/fixtures/faces").join(file),
            photos.path().join(file),
        )
        .unwrap();
    }
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("facepass.db");
    let before = std::time::SystemTime::now();
    let out = Command::new(env!("CARGO_BIN_EXE_facepass"))
        .current_dir(repo_root())
        .args(["index-dir", &photos.path().display().to_string()])
        .args(["--session", "cli-retention"])
        .env("FACEPASS__STORAGE__URL", &db)
        .env("FACEPASS__RETENTION__DEFAULT_DAYS", "3")
        .output()
        .expect("facepass runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("2 indexed"), "{stdout}");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let expires_at: Option<i64> = runtime.block_on(async {
        use sea_orm::ConnectionTrait;
        let conn = facepass_vector_store_sqlite::connect(&db).await.unwrap();
        let row = conn
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "SELECT expires_at FROM sessions WHERE session_id = 'cli-retention'",
            ))
            .await
            .unwrap()
            .expect("the session row");
        row.try_get_by_index(0).unwrap()
    });
    let expires_at = expires_at.expect("an expiry from retention.default_days");
    let from_start = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
    };
    let three_days = 3 * 86_400_000;
    let started = from_start(before);
    assert!(
        expires_at >= started + three_days && expires_at < started + three_days + 600_000,
        "expires {expires_at}, started {started}"
    );
}
