//! Acceptance: the migration guide's Python `FacePassClient` (read from ../shared/seeds and run
//! unmodified by tests/pixora/seed_client.py) completes its workflow against the service,
//! with its base URL at `/api/v2` and at the deprecated `/api/v1`.

use std::process::Command;

use crate::support::{API_KEY, faces_dir, repo_root, spawn_app};

#[tokio::test]
async fn the_migration_guides_client_works_unchanged_on_v2_and_v1() {
    let app = spawn_app(&[]).await;
    for prefix in ["/api/v2", "/api/v1"] {
        let base = app.url(prefix);
        let faces = faces_dir();
        let root = repo_root();
        let output = tokio::task::spawn_blocking(move || {
            Command::new("python3")
                .arg(root.join("tests/pixora/seed_client.py"))
                .arg(&base)
                .arg(API_KEY)
                .arg(root.join("../shared/seeds"))
                .arg(faces)
                .output()
                .expect("python3 runs")
        })
        .await
        .expect("joined");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        println!("{stdout}");
        assert!(
            output.status.success(),
            "{prefix}: the guide's client failed\n{stdout}\n{stderr}"
        );
        assert!(stdout.contains("ok "), "{stdout}");
    }
    app.stop().await;
}
