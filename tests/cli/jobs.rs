//! Indexing jobs over three `facepass serve` processes on one PostgreSQL and one S3 server, as
//! a deployment runs them: one process is killed with SIGKILL mid-job; the job still ends
//! `done` with every photo indexed exactly once, and its webhook arrives signed, once.

use std::ffi::OsStr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use facepass_test_support::postgres::TestDatabase;
use facepass_test_support::s3::{self, TestBucket};
use facepass_test_support::webhooks::Receiver;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use super::spawn_serve;

const KEY: &str = "k-replicas";
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const PHOTOS: usize = 600;
const FILES: [&str; 3] = ["fr_obama.jpg", "fr_biden.jpg", "deepface_img1.jpg"];

fn kill(child: &mut Child, signal: &str) {
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap()
            .success()
    );
    let _ = child.wait();
}

async fn get(client: &reqwest::Client, url: String) -> Value {
    let answer = client
        .get(url)
        .header("X-API-Key", KEY)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());
    answer.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_finish_a_job_when_one_is_killed_mid_job() {
    let faces = facepass_test_support::fixtures::faces_dir();
    let bytes: Vec<Vec<u8>> = FILES
        .iter()
        .map(|f| std::fs::read(faces.join(f)).unwrap())
        .collect();
    let objects: Vec<(String, Vec<u8>)> = (0..PHOTOS)
        .map(|i| (format!("evt/p{i:03}.jpg"), bytes[i % FILES.len()].clone()))
        .collect();
    let (database, bucket) = (
        TestDatabase::create().await,
        TestBucket::create("facepass-jobs", &objects).await,
    );
    let receiver = Receiver::start(&[]).await;
    let endpoint = s3::endpoint();
    let env: Vec<(&str, &OsStr)> = [
        ("FACEPASS__AUTH__API_KEYS", KEY),
        ("FACEPASS__STORAGE__BACKEND", "postgres"),
        ("FACEPASS__STORAGE__URL", database.url.as_str()),
        ("FACEPASS__PHOTOS__BACKEND", "s3"),
        ("FACEPASS__PHOTOS__BUCKET", bucket.name.as_str()),
        ("FACEPASS__PHOTOS__ENDPOINT", endpoint.as_str()),
        ("FACEPASS__PHOTOS__REGION", s3::REGION),
        ("FACEPASS__PHOTOS__ACCESS_KEY_ID", s3::ACCESS_KEY),
        ("FACEPASS__PHOTOS__SECRET_ACCESS_KEY", s3::SECRET_KEY),
        ("FACEPASS__PHOTOS__FORCE_PATH_STYLE", "true"),
        ("FACEPASS__MODELS__WORKERS", "1"),
        ("FACEPASS__MODELS__MIN_FACE_PX", "0"),
        ("FACEPASS__JOBS__WORKERS", "2"),
        ("FACEPASS__JOBS__POLL_MS", "100"),
        ("FACEPASS__JOBS__LEASE_SECS", "3"),
        ("FACEPASS__WEBHOOKS__SECRET", SECRET),
        ("FACEPASS__WEBHOOKS__POLL_MS", "100"),
    ]
    .into_iter()
    .map(|(k, v)| (k, OsStr::new(v)))
    .collect();
    let mut replicas: Vec<(Child, String)> =
        (0..3).map(|_| spawn_serve(&env, Stdio::null())).collect();
    let client = reqwest::Client::new();

    let photos: Vec<Value> = (0..PHOTOS)
        .map(|i| json!({"photo_id": format!("p{i:03}"), "s3_key": format!("evt/p{i:03}.jpg")}))
        .collect();
    let started = Instant::now();
    let answer = client
        .post(format!("{}/api/v2/index/jobs", replicas[0].1))
        .header("X-API-Key", KEY)
        .json(&json!({"session_id": "evt", "photos": photos, "callback_url": receiver.url}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);
    let id = answer.json::<Value>().await.unwrap()["job_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let follow = |base: &str| format!("{base}/api/v2/index/jobs/{id}");

    // Mid-job, the third replica dies holding photos.
    loop {
        let job = get(&client, follow(&replicas[1].1)).await;
        if job["indexed"].as_u64().unwrap() >= 100 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(300), "{job:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (mut killed, _) = replicas.pop().unwrap();
    kill(&mut killed, "-KILL");

    let job = loop {
        let job = get(&client, follow(&replicas[0].1)).await;
        if job["state"] == "done" {
            break job;
        }
        assert!(started.elapsed() < Duration::from_secs(600), "{job:#}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    println!(
        "{PHOTOS} photos over 3 replicas, one killed: {:?}",
        started.elapsed()
    );
    assert_eq!(
        (
            &job["total"],
            &job["indexed"],
            &job["failed"],
            &job["pending"]
        ),
        (&json!(PHOTOS), &json!(PHOTOS), &json!(0), &json!(0)),
        "{job:#}"
    );

    // Every photo indexed once: one row each, and exactly its faces.
    let db = sea_orm::Database::connect(database.url.as_str())
        .await
        .unwrap();
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT (SELECT count(*) FROM photos WHERE session_id = 'evt'), \
                    (SELECT coalesce(sum(face_count), 0)::bigint FROM photos WHERE session_id = 'evt'), \
                    (SELECT count(*) FROM faces WHERE session_id = 'evt')",
        ))
        .await
        .unwrap()
        .unwrap();
    let counts: Vec<i64> = (0..3).map(|i| row.try_get_by_index(i).unwrap()).collect();
    assert_eq!(counts[0], PHOTOS as i64);
    assert_eq!(counts[1], counts[2], "face rows = the photos' face counts");
    assert!(
        counts[2] >= PHOTOS as i64,
        "every fixture has a face: {counts:?}"
    );

    // The webhook: once, signed.
    let seen = receiver.wait_for(1, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(receiver.seen().len(), 1, "one delivery");
    let event: Value = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!(
        (&event["type"], &event["data"]["job_id"]),
        (&json!("index.job.completed"), &json!(id))
    );
    let mut headers = reqwest::header::HeaderMap::new();
    for (name, value) in &seen[0].headers {
        headers.insert(
            reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    standardwebhooks::Webhook::new(SECRET)
        .unwrap()
        .verify(seen[0].body.as_bytes(), &headers)
        .expect("signed");

    for (mut replica, _) in replicas {
        kill(&mut replica, "-TERM");
    }
}
