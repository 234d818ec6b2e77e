//! `spawn_app`: the real service on port 0 over a fresh store, and typed helpers for its
//! routes. Every helper refuses a 5xx answer unless the test asks for one.

use facepass::settings::Settings;
use facepass::startup::Application;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub const API_KEY: &str = "test-key-0123456789";

pub use facepass_test_support::fixtures::{
    face_bytes as fixture_bytes, faces_dir, labels, models_dir, repo_root,
};

/// `n` photo ids over the fixture photos of one person, cycling.
pub fn fixture_batch(n: usize) -> Vec<(String, String)> {
    let singles: Vec<String> = labels()
        .into_iter()
        .filter(|label| label.kind == "single")
        .map(|label| label.file)
        .collect();
    (0..n)
        .map(|i| (format!("p{i:03}"), singles[i % singles.len()].clone()))
        .collect()
}

/// A photo id derived from a fixture file name, as `facepass index-dir` derives it.
pub use facepass::cli::index_dir::photo_id_for as photo_id;

/// Settings for a test service: SQLite in `dir`, photos from the fixtures folder, one API key,
/// rate limits off, port 0; `overrides` are `FACEPASS__...` pairs applied last.
pub fn settings(dir: &std::path::Path, overrides: &[(&str, &str)]) -> Settings {
    let mut env: Vec<(String, String)> = vec![
        ("FACEPASS__SERVER__PORT".into(), "0".into()),
        ("FACEPASS__AUTH__API_KEYS".into(), API_KEY.into()),
        (
            "FACEPASS__STORAGE__URL".into(),
            dir.join("facepass.db").display().to_string(),
        ),
        (
            "FACEPASS__MODELS__DIR".into(),
            models_dir().display().to_string(),
        ),
        ("FACEPASS__RATE_LIMIT__ENABLED".into(), "false".into()),
        (
            "FACEPASS__SERVER__SHUTDOWN_TIMEOUT_SECS".into(),
            "10".into(),
        ),
    ];
    // The fixtures folder, unless the test chooses a photo backend (whose keys it then sets).
    if !overrides
        .iter()
        .any(|(k, _)| *k == "FACEPASS__PHOTOS__BACKEND")
    {
        env.push((
            "FACEPASS__PHOTOS__ROOT".into(),
            faces_dir().display().to_string(),
        ));
    }
    env.extend(
        overrides
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    Settings::load_from(None, None, env).expect("test settings load")
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: Option<tempfile::TempDir>,
}

pub async fn spawn_app(overrides: &[(&str, &str)]) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    spawn_with(settings(dir.path(), overrides), Some(dir)).await
}

/// Starts the service on `settings`; `dir` (if any) is removed when the app is dropped.
pub async fn spawn_with(settings: Settings, dir: Option<tempfile::TempDir>) -> TestApp {
    let app = Application::build(settings)
        .await
        .expect("the service starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = rx.await;
    }));
    TestApp {
        base,
        client: reqwest::Client::new(),
        shutdown: Some(tx),
        server: Some(server),
        _dir: dir,
    }
}

/// An answer: status, `X-Request-Id`, JSON body (`Null` when not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub request_id: Option<String>,
    pub retry_after: Option<String>,
    pub body: Value,
}

impl Answer {
    /// Asserts the status and, for errors, the error body's shape.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "{:#}", self.body);
        assert!(self.request_id.is_some(), "every response has X-Request-Id");
        if status >= 400 {
            let error = &self.body["error"];
            assert!(error["code"].is_string(), "error shape: {:#}", self.body);
            assert!(error["message"].is_string(), "error shape: {:#}", self.body);
            assert!(error["details"].is_object(), "error shape: {:#}", self.body);
        }
        self.body
    }

    #[track_caller]
    pub fn expect_error(self, status: u16, code: &str) -> Value {
        let body = self.expect(status);
        assert_eq!(body["error"]["code"], code, "{body:#}");
        body
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends and reads the answer; a 5xx fails the test.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let answer = read(request).await;
        assert!(
            !answer.status.is_server_error(),
            "unexpected {}: {:#}",
            answer.status,
            answer.body
        );
        answer
    }

    pub async fn index(&self, session: &str, photo: &str, key: &str, force: bool) -> Answer {
        self.send(
            self.client
                .post(self.url("/api/v2/index"))
                .header("X-API-Key", API_KEY)
                .json(&json!({"session_id": session, "photo_id": photo, "s3_key": key, "force": force})),
        )
        .await
    }

    /// `(photo_id, s3_key)` pairs.
    pub async fn batch(&self, session: &str, photos: &[(String, String)], force: bool) -> Answer {
        let photos: Vec<Value> = photos
            .iter()
            .map(|(p, k)| json!({"photo_id": p, "s3_key": k}))
            .collect();
        self.send(
            self.client
                .post(self.url("/api/v2/index/batch"))
                .header("X-API-Key", API_KEY)
                .json(&json!({"session_id": session, "photos": photos, "force": force})),
        )
        .await
    }

    pub async fn search(&self, session: &str, selfie: Vec<u8>, fields: &[(&str, &str)]) -> Answer {
        let mut form = Form::new()
            .part("file", Part::bytes(selfie))
            .text("session_id", session.to_owned());
        for (k, v) in fields {
            form = form.text((*k).to_owned(), (*v).to_owned());
        }
        self.send(self.client.post(self.url("/api/v2/search")).multipart(form))
            .await
    }

    pub async fn status(&self, session: &str) -> Answer {
        self.send(
            self.client
                .get(self.url(&format!("/api/v2/search/status/{session}"))),
        )
        .await
    }

    pub async fn delete_session(&self, session: &str) -> Answer {
        self.send(
            self.client
                .delete(self.url(&format!("/api/v2/index/{session}")))
                .header("X-API-Key", API_KEY),
        )
        .await
    }

    pub async fn delete_photo(&self, session: &str, photo: &str) -> Answer {
        self.send(
            self.client
                .delete(self.url(&format!("/api/v2/index/{session}/photos/{photo}")))
                .header("X-API-Key", API_KEY),
        )
        .await
    }

    /// Stops the service the way a signal does and waits until it has drained.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("clean shutdown");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Indexes `(photo_id, s3_key)` pairs as one batch through `base`, from any task: a 5xx for
/// the whole batch fails the test (per-photo errors belong in the 200).
pub async fn post_batch(
    base: &str,
    session: &str,
    photos: &[(String, String)],
    force: bool,
) -> Value {
    let photos: Vec<Value> = photos
        .iter()
        .map(|(p, k)| json!({"photo_id": p, "s3_key": k}))
        .collect();
    read(
        reqwest::Client::new()
            .post(format!("{base}/api/v2/index/batch"))
            .header("X-API-Key", API_KEY)
            .timeout(std::time::Duration::from_secs(300))
            .json(&json!({"session_id": session, "photos": photos, "force": force})),
    )
    .await
    .expect(200)
}

pub async fn read(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("the service answers");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (request_id, retry_after) = (header("x-request-id"), header("retry-after"));
    let status = response.status();
    let text = response.text().await.expect("a body");
    Answer {
        status,
        request_id,
        retry_after,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}
