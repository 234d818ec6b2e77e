//! Hostile inputs through the real service: images cut off before their end (interrupted
//! uploads or copies) are refused as truncated, never indexed or searched half-grey.

use serde_json::json;

use crate::support::{fixture_bytes, spawn_app};

#[tokio::test]
async fn truncated_photos_and_selfies_are_invalid_images_with_reason_truncated() {
    let photos = tempfile::tempdir().unwrap();
    let whole = fixture_bytes("fr_two_people.jpg");
    for (name, bytes) in [
        ("whole.jpg", &whole[..]),
        ("half.jpg", &whole[..whole.len() / 2]),
        ("nearly.jpg", &whole[..whole.len() - 2]),
    ] {
        std::fs::write(photos.path().join(name), bytes).unwrap();
    }
    let root = photos.path().display().to_string();
    let app = spawn_app(&[("FACEPASS__PHOTOS__ROOT", &root)]).await;

    app.index("evt", "whole", "whole.jpg", false)
        .await
        .expect(200);
    for key in ["half.jpg", "nearly.jpg"] {
        let refused = app
            .index("evt", key, key, false)
            .await
            .expect_error(422, "invalid_image");
        assert_eq!(refused["error"]["details"]["reason"], "truncated", "{key}");
    }
    let report = app
        .batch(
            "evt",
            &[
                ("half".into(), "half.jpg".into()),
                ("w2".into(), "whole.jpg".into()),
            ],
            false,
        )
        .await
        .expect(200);
    assert_eq!(
        (report["indexed"].clone(), report["failed"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(report["errors"][0]["code"], "invalid_image");
    assert_eq!(app.status("evt").await.expect(200)["photos_indexed"], 2);

    let selfie = fixture_bytes("fr_obama1.jpg");
    let refused = app
        .search("evt", selfie[..selfie.len() * 3 / 4].to_vec(), &[])
        .await
        .expect_error(422, "invalid_image");
    assert_eq!(refused["error"]["details"]["reason"], "truncated");
    app.search("evt", selfie, &[]).await.expect(200);
}

#[tokio::test]
async fn json_of_the_wrong_type_is_refused_not_coerced() {
    let app = spawn_app(&[]).await;
    let post = |path: &str, body: serde_json::Value| {
        app.client
            .post(app.url(path))
            .header("X-API-Key", crate::support::API_KEY)
            .json(&body)
    };
    for (path, body) in [
        (
            "/api/v2/index/batch",
            json!({"session_id": false, "photos": [{"photo_id": "p1", "s3_key": "fr_obama.jpg"}]}),
        ),
        (
            "/api/v2/index/batch",
            json!({"session_id": "s1", "photos": [{"photo_id": -321, "s3_key": "fr_obama.jpg"}]}),
        ),
        (
            "/api/v2/index",
            json!({"session_id": "s1", "photo_id": "p1", "s3_key": 5}),
        ),
        (
            "/api/v2/index",
            json!({"session_id": "s1", "photo_id": "p1", "s3_key": "fr_obama.jpg", "force": "yes"}),
        ),
        ("/api/v2/index/s1/diff", json!({"photo_ids": ["p1", 2]})),
        // `null` where the spec has a boolean or a timestamp that may be left out.
        (
            "/api/v2/index",
            json!({"session_id": "s1", "photo_id": "p1", "s3_key": "fr_obama.jpg", "force": null}),
        ),
        (
            "/api/v2/index/batch",
            json!({"session_id": "s1", "photos": [{"photo_id": "p1", "s3_key": "fr_obama.jpg"}], "expires_at": null}),
        ),
    ] {
        let answer = app.send(post(path, body.clone())).await;
        answer.expect_error(400, "invalid_request");
    }
    for session in ["false", "-321", "s1"] {
        assert_eq!(app.status(session).await.expect(200)["photos_indexed"], 0);
    }
    // The longest key the spec allows, longer than a file name may be: not found, not a 5xx.
    app.index("s1", "p1", &"a".repeat(1024), false)
        .await
        .expect_error(422, "photo_not_found");
}

#[tokio::test]
async fn a_405_names_the_allowed_methods() {
    let app = spawn_app(&[]).await;
    for (method, path, allow) in [
        (reqwest::Method::PATCH, "/api/v2/index", "POST"),
        (
            reqwest::Method::DELETE,
            "/api/v2/search/status/s1",
            "GET, HEAD",
        ),
        (reqwest::Method::PUT, "/api/v1/index/s1", "DELETE"),
        (reqwest::Method::GET, "/api/v2/index/s1/expiry", "PUT"),
    ] {
        let response = app
            .client
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "{method} {path}");
        let header = response
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(header.as_deref(), Some(allow), "{method} {path}");
    }
}

#[tokio::test]
async fn cors_is_closed_by_default_and_opens_to_configured_origins_only() {
    let acao = |r: &reqwest::Response| {
        r.headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let preflight = |app: &crate::support::TestApp, origin: &str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v2/search"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .send()
    };
    let closed = spawn_app(&[]).await;
    let get = closed
        .client
        .get(closed.url("/api/v2/health"))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(acao(&get), None);
    assert_eq!(
        acao(&preflight(&closed, "https://evil.example").await.unwrap()),
        None
    );

    let open = spawn_app(&[("FACEPASS__SERVER__CORS_ORIGINS", "https://app.example")]).await;
    let allowed = preflight(&open, "https://app.example").await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(acao(&allowed).as_deref(), Some("https://app.example"));
    let get = open
        .client
        .get(open.url("/api/v2/health"))
        .header("Origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(acao(&get).as_deref(), Some("https://app.example"));
    assert_eq!(
        acao(&preflight(&open, "https://evil.example").await.unwrap()),
        None
    );
}

/// Every file under `dir`, read whole.
pub fn files_under(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    out
}

#[tokio::test]
async fn a_selfie_and_its_embedding_are_stored_nowhere() {
    let data = tempfile::tempdir().unwrap();
    let settings = crate::support::settings(data.path(), &[]);
    // The selfie's own embedding, as the service computes it (same models and settings).
    let embedder =
        facepass_embedder_onnx::OnnxEmbedder::start(&settings.models.embedder_config().unwrap())
            .unwrap();
    let selfie = fixture_bytes("fr_obama3.jpg");
    let analysis = facepass_domain::ports::Embedder::analyze(
        &embedder,
        selfie.clone().into(),
        facepass_domain::ImageKind::Selfie,
    )
    .await
    .unwrap();
    let prefix = |a: &facepass_domain::FaceAnalysis| -> Vec<u8> {
        a.faces[0]
            .embedding
            .as_slice()
            .iter()
            .take(16)
            .flat_map(|v| v.to_le_bytes())
            .collect()
    };
    let embedding = prefix(&analysis);
    // A control: an indexed photo's embedding is found by the same scan.
    let indexed = facepass_domain::ports::Embedder::analyze(
        &embedder,
        fixture_bytes("fr_biden.jpg").into(),
        facepass_domain::ImageKind::Photo,
    )
    .await
    .unwrap();
    let control = prefix(&indexed);
    drop(embedder);

    let app = crate::support::spawn_with(settings, None).await;
    app.batch(
        "evt",
        &[
            ("p1".into(), "fr_obama.jpg".into()),
            ("p2".into(), "fr_biden.jpg".into()),
        ],
        false,
    )
    .await
    .expect(200);
    let found = app.search("evt", selfie.clone(), &[]).await.expect(200);
    assert_eq!(found["total_matches"], 1);
    app.forget("evt", &["fr_obama3.jpg"]).await.expect(200);

    let window = &selfie[selfie.len() / 2..selfie.len() / 2 + 64];
    let files = files_under(data.path());
    assert!(
        files
            .iter()
            .any(|(_, bytes)| bytes.windows(control.len()).any(|w| w == control)),
        "the scan finds an indexed photo's embedding"
    );
    for (path, bytes) in &files {
        assert!(
            !bytes.windows(window.len()).any(|w| w == window),
            "selfie bytes in {}",
            path.display()
        );
        assert!(
            !bytes.windows(embedding.len()).any(|w| w == embedding),
            "the selfie's embedding in {}",
            path.display()
        );
    }
}

#[tokio::test]
async fn bodiless_or_oversized_requests_answer_their_declared_statuses() {
    let app = spawn_app(&[]).await;
    let key = crate::support::API_KEY;
    // No body where JSON is expected: 415, not an undeclared status turned 500.
    for request in [
        app.client.post(app.url("/api/v2/index/s1/diff")),
        app.client.put(app.url("/api/v2/index/s1/expiry")),
    ] {
        app.send(request.header("X-API-Key", key))
            .await
            .expect_error(415, "unsupported_media_type");
    }
    // `expires_at` is required: a timestamp or null.
    app.send(
        app.client
            .put(app.url("/api/v2/index/s1/expiry"))
            .header("X-API-Key", key)
            .json(&json!({})),
    )
    .await
    .expect_error(400, "invalid_request");
    // A body on a route that reads none is ignored, whatever its size.
    app.send(
        app.client
            .delete(app.url("/api/v2/index/s1"))
            .header("X-API-Key", key)
            .body(vec![b'x'; 3 << 20]),
    )
    .await
    .expect(200);
}

/// Everything the service logs in this test binary, from the first call on.
fn captured_logs() -> std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    static LOGS: std::sync::OnceLock<std::sync::Arc<std::sync::Mutex<Vec<u8>>>> =
        std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = logs.clone();
        let installed = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .try_init();
        assert!(installed.is_ok(), "no other subscriber in this test binary");
        logs
    })
    .clone()
}

struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn api_keys_never_reach_the_logs() {
    let logs = captured_logs();
    let wrong = "presented-but-wrong-key-7f3a";
    let app = spawn_app(&[]).await;
    let key = crate::support::API_KEY;
    app.index("evt", "p1", "fr_obama.jpg", false)
        .await
        .expect(200);
    app.send(
        app.client
            .post(app.url("/api/v2/index"))
            .header("X-API-Key", wrong)
            .json(&json!({"session_id": "evt", "photo_id": "p2", "s3_key": "fr_biden.jpg"})),
    )
    .await
    .expect_error(401, "unauthorized");
    app.delete_photo("evt", "p1").await.expect(200);
    app.audit("").await.expect(200);
    app.stop().await;
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(text.contains("request done"), "the capture works: {text}");
    assert!(!text.contains(key), "the configured key was logged");
    assert!(!text.contains(wrong), "a presented key was logged");
}
