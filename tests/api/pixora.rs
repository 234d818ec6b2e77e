//! Python clients against the live service: the migration guide's `FacePassClient` (read from
//! ../shared/seeds and run unmodified by tests/pixora/seed_client.py) with its base URL at
//! `/api/v2` and at the deprecated `/api/v1`; and the client generated from our OpenAPI
//! document (clients/python, driven by tests/pixora/generated_client.py).

use std::process::Command;

use std::path::PathBuf;

use crate::support::{API_KEY, faces_dir, repo_root, spawn_app};

/// Runs a Python script of tests/pixora with `args`; its stdout, or the test fails.
async fn python(script: &str, args: Vec<String>) -> String {
    let path: PathBuf = repo_root().join("tests/pixora").join(script);
    let output = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(path)
            .args(args)
            .output()
            .expect("python3 runs")
    })
    .await
    .expect("joined");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "{script} failed\n{stdout}\n{stderr}"
    );
    stdout
}

#[tokio::test]
async fn the_migration_guides_client_works_unchanged_on_v2_and_v1() {
    let app = spawn_app(&[]).await;
    for prefix in ["/api/v2", "/api/v1"] {
        let seeds = repo_root().join("../shared/seeds");
        let stdout = python(
            "seed_client.py",
            vec![
                app.url(prefix),
                API_KEY.to_owned(),
                seeds.display().to_string(),
                faces_dir().display().to_string(),
            ],
        )
        .await;
        assert!(stdout.contains("ok "), "{prefix}: {stdout}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_generated_client_indexes_searches_and_deletes() {
    let app = spawn_app(&[]).await;
    let stdout = python(
        "generated_client.py",
        vec![
            app.url(""),
            API_KEY.to_owned(),
            faces_dir().display().to_string(),
        ],
    )
    .await;
    assert!(stdout.contains("ok generated client"), "{stdout}");
    app.stop().await;
}
