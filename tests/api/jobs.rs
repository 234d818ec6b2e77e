//! Indexing jobs end to end on the embedded defaults (SQLite, real models, the fixtures
//! folder): a job indexes every photo and reports each failure, answers its idempotency key,
//! and survives a restart and a worker that died holding a photo.

use std::time::{Duration, Instant, SystemTime};

use facepass_domain::ports::JobQueue;
use facepass_test_support::webhooks::{Received, Receiver};
use serde_json::{Value, json};

use crate::support::{API_KEY, TestApp, settings, spawn_app, spawn_with};

pub const FAST: [(&str, &str); 3] = [
    ("FACEPASS__JOBS__POLL_MS", "50"),
    ("FACEPASS__JOBS__BACKOFF_SECS", "1"),
    ("FACEPASS__JOBS__LEASE_SECS", "2"),
];

const FACES: [&str; 4] = [
    "fr_obama.jpg",
    "fr_obama1.jpg",
    "fr_biden.jpg",
    "deepface_img1.jpg",
];

pub fn job_body(session: &str, keys: &[&str]) -> Value {
    let photos: Vec<Value> = keys
        .iter()
        .map(|k| {
            let name = k.rsplit('/').next().unwrap_or(k);
            json!({"photo_id": name.replace(".jpg", ""), "s3_key": k})
        })
        .collect();
    json!({"session_id": session, "photos": photos})
}

pub async fn submit(app: &TestApp, body: &Value, key: Option<&str>) -> crate::support::Answer {
    let mut request = app
        .client
        .post(app.url("/api/v2/index/jobs"))
        .header("X-API-Key", API_KEY)
        .json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    app.send(request).await
}

pub async fn job(app: &TestApp, id: &str) -> Value {
    app.send(
        app.client
            .get(app.url(&format!("/api/v2/index/jobs/{id}")))
            .header("X-API-Key", API_KEY),
    )
    .await
    .expect(200)
}

/// The job once it is `done`, polling.
pub async fn done(app: &TestApp, id: &str) -> Value {
    let start = Instant::now();
    loop {
        let job = job(app, id).await;
        if job["state"] == "done" {
            return job;
        }
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "the job never finished: {job:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_job_indexes_every_photo_reports_each_failure_and_answers_its_key() {
    let app = spawn_app(&FAST).await;
    let keys: Vec<&str> = FACES
        .iter()
        .copied()
        .chain(["missing.jpg", "corrupt.jpg"])
        .collect();
    let body = job_body("event", &keys);
    let accepted = submit(&app, &body, Some("upload-1")).await.expect(202);
    let id = accepted["job_id"].as_str().unwrap().to_owned();
    assert_eq!(
        (&accepted["total"], &accepted["state"]),
        (&json!(6), &json!("queued"))
    );

    let job = done(&app, &id).await;
    assert_eq!(
        (
            &job["indexed"],
            &job["failed"],
            &job["pending"],
            &job["skipped"]
        ),
        (&json!(4), &json!(2), &json!(0), &json!(0)),
        "{job:#}"
    );
    let codes: Vec<(&str, &str)> = job["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["photo_id"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        codes,
        [("missing", "photo_not_found"), ("corrupt", "invalid_image")]
    );
    assert!(job["started_at"].is_string() && job["finished_at"].is_string());
    let status = app.status("event").await.expect(200);
    assert_eq!(status["photos_indexed"], 4);

    // The same key and body: the same job; the key with another body: refused.
    let again = submit(&app, &body, Some("upload-1")).await.expect(200);
    assert_eq!(again["job_id"], id.as_str());
    let other = job_body("event", &FACES[..1]);
    let conflict = submit(&app, &other, Some("upload-1"))
        .await
        .expect_error(409, "idempotency_conflict");
    assert_eq!(conflict["error"]["details"]["job_id"], id.as_str());

    // A second job of the same photos skips them; cancelling a done job changes nothing.
    let second = submit(&app, &job_body("event", &FACES), None)
        .await
        .expect(202);
    let second = done(&app, second["job_id"].as_str().unwrap()).await;
    assert_eq!(
        (&second["indexed"], &second["skipped"]),
        (&json!(4), &json!(4))
    );
    let cancelled = app
        .send(
            app.client
                .delete(app.url(&format!("/api/v2/index/jobs/{id}")))
                .header("X-API-Key", API_KEY),
        )
        .await
        .expect(200);
    assert_eq!(cancelled["state"], "done");
    let page = app
        .send(
            app.client
                .get(app.url("/api/v2/index/jobs?session_id=event&limit=1"))
                .header("X-API-Key", API_KEY),
        )
        .await
        .expect(200);
    assert_eq!(page["jobs"][0]["job_id"], second["job_id"]);
    assert!(page["next_cursor"].is_string());
    app.stop().await;
}

#[tokio::test]
async fn a_job_survives_a_restart_and_a_worker_that_died_holding_a_photo() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(&[]).await;
    let fast = [
        FAST.as_slice(),
        &[
            ("FACEPASS__WEBHOOKS__SECRET", SECRET),
            ("FACEPASS__WEBHOOKS__POLL_MS", "50"),
        ],
    ]
    .concat();
    let serving_only = [fast.as_slice(), &[("FACEPASS__JOBS__WORKERS", "0")]].concat();
    let first = spawn_with(settings(dir.path(), &serving_only), None).await;
    let mut body = job_body("event", &FACES);
    body["callback_url"] = json!(receiver.url);
    let accepted = submit(&first, &body, None).await.expect(202);
    let id = accepted["job_id"].as_str().unwrap().to_owned();
    first.stop().await;

    // A worker of another process claimed a photo and died: its lease lapses.
    let settings = settings(dir.path(), &fast);
    let space = settings.models.space().unwrap();
    let store = facepass::adapters::open_store(&settings, space)
        .await
        .unwrap();
    let claimed = store
        .claim("dead-worker", 1, SystemTime::now(), Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    drop(store);

    let second = spawn_with(settings, None).await;
    let job = done(&second, &id).await;
    assert_eq!(
        (&job["indexed"], &job["failed"], &job["total"]),
        (&json!(4), &json!(0), &json!(4)),
        "{job:#}"
    );
    let status = second.status("event").await.expect(200);
    assert_eq!(status["photos_indexed"], 4);
    let seen = receiver.wait_for(1, Duration::from_secs(30)).await;
    verify(SECRET, &seen[0]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.seen().len(), 1, "announced once");
    second.stop().await;
}

/// Checks a received webhook's signature with an independent implementation.
pub fn verify(secret: &str, received: &Received) {
    let mut headers = poem::http::HeaderMap::new();
    for (name, value) in &received.headers {
        if let (Ok(name), Ok(value)) = (
            poem::http::HeaderName::from_bytes(name.as_bytes()),
            poem::http::HeaderValue::from_str(value),
        ) {
            headers.insert(name, value);
        }
    }
    standardwebhooks::Webhook::new(secret)
        .unwrap()
        .verify(received.body.as_bytes(), &headers)
        .expect("signed");
}

pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

async fn metric(app: &TestApp, line: &str) -> bool {
    let text = app
        .client
        .get(app.url("/api/v2/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines().any(|l| l == line)
}

#[tokio::test]
async fn a_done_job_is_announced_signed_once_more_after_a_500_and_a_410_disables_its_target() {
    let receiver = Receiver::start(&[500]).await;
    let webhooks = [
        ("FACEPASS__WEBHOOKS__SECRET", SECRET),
        ("FACEPASS__WEBHOOKS__POLL_MS", "50"),
    ];
    let app = spawn_app(&[FAST.as_slice(), &webhooks].concat()).await;
    let mut body = job_body("event", &FACES[..2]);
    body["callback_url"] = json!(receiver.url);
    let accepted = submit(&app, &body, None).await.expect(202);
    let id = accepted["job_id"].as_str().unwrap().to_owned();
    done(&app, &id).await;

    // The first attempt answered 500; the schedule's first retry comes 5 s later.
    let seen = receiver.wait_for(2, Duration::from_secs(60)).await;
    for received in &seen {
        verify(SECRET, received);
    }
    assert_eq!(
        seen[0].header("webhook-id"),
        seen[1].header("webhook-id"),
        "one webhook-id"
    );
    let event: Value = serde_json::from_str(&seen[1].body).unwrap();
    assert_eq!(event["type"], "index.job.completed");
    assert_eq!(
        (
            &event["data"]["job_id"],
            &event["data"]["state"],
            &event["data"]["indexed"]
        ),
        (&json!(id), &json!("done"), &json!(2))
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.seen().len(), 2, "delivered: no third attempt");
    assert!(
        metric(
            &app,
            "facepass_webhook_deliveries_total{result=\"retried\"} 1"
        )
        .await
    );
    assert!(
        metric(
            &app,
            "facepass_webhook_deliveries_total{result=\"delivered\"} 1"
        )
        .await
    );

    // A target answering 410 is never called again.
    let gone = Receiver::start(&[410]).await;
    for _ in 0..2 {
        let mut body = job_body("other", &FACES[2..3]);
        body["callback_url"] = json!(gone.url);
        body["force"] = json!(true);
        let accepted = submit(&app, &body, None).await.expect(202);
        done(&app, accepted["job_id"].as_str().unwrap()).await;
    }
    let start = Instant::now();
    while !metric(
        &app,
        "facepass_webhook_deliveries_total{result=\"failed\"} 1",
    )
    .await
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the second webhook was never settled"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(metric(&app, "facepass_webhook_deliveries_total{result=\"gone\"} 1").await);
    assert_eq!(gone.seen().len(), 1);
    app.stop().await;
}
