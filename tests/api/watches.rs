//! Guest watches end to end: PostgreSQL + pgvector and S3 (the production adapters), the real
//! models, LFW photos of several people indexed by a job, and a webhook receiver. A watch's
//! `watch.matched` webhooks carry exactly the new photos a search with the same selfie
//! returns, signed; nothing is announced after the watch ends (delete, expiry, forget), and
//! every end is audited. On SQLite: the watch keeps the selfie's embedding, never its bytes,
//! and not even the embedding once it ended.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use facepass_test_support::fixtures::fixtures_dir;
use facepass_test_support::postgres::TestDatabase;
use facepass_test_support::s3::{self, TestBucket};
use facepass_test_support::webhooks::{Received, Receiver};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::jobs::{SECRET, done, submit, verify};
use crate::services::s3_settings;
use crate::support::{API_KEY, Answer, TestApp, settings, spawn_with};

/// An LFW photo's bytes.
fn lfw(person: &str, n: u32) -> Vec<u8> {
    let path = fixtures_dir()
        .join("lfw")
        .join(person)
        .join(format!("{person}_{n:04}.jpg"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `(photo_id, s3_key, bytes)` of LFW photos: `n` of `person` from `first`.
fn photos_of(person: &str, first: u32, n: u32) -> Vec<(String, String, Vec<u8>)> {
    (first..first + n)
        .map(|i| {
            let id = format!("{person}_{i:04}");
            (id.clone(), format!("evt/{id}.jpg"), lfw(person, i))
        })
        .collect()
}

/// One photo each of the first `n` LFW people (by folder name) not in `except`.
fn strangers(n: usize, except: &[&str]) -> Vec<(String, String, Vec<u8>)> {
    let mut people: Vec<String> = std::fs::read_dir(fixtures_dir().join("lfw"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|p| !except.contains(&p.as_str()))
        .collect();
    people.sort();
    people
        .iter()
        .take(n)
        .flat_map(|p| photos_of(p, 1, 1))
        .collect()
}

fn job_photos(photos: &[(String, String, Vec<u8>)]) -> Value {
    let list: Vec<Value> = photos
        .iter()
        .map(|(id, key, _)| json!({"photo_id": id, "s3_key": key}))
        .collect();
    json!({"session_id": "evt", "photos": list})
}

async fn create_watch(
    app: &TestApp,
    selfie: Vec<u8>,
    guest: &str,
    expires_in: chrono::Duration,
) -> Answer {
    let form = Form::new()
        .part("file", Part::bytes(selfie))
        .text("guest_ref", guest.to_owned())
        .text("expires_at", (chrono::Utc::now() + expires_in).to_rfc3339())
        .text("consent", "true");
    app.send(
        app.client
            .post(app.url("/api/v2/index/evt/watches"))
            .header("X-API-Key", API_KEY)
            .multipart(form),
    )
    .await
}

async fn watch_route(app: &TestApp, method: reqwest::Method, path: &str) -> Answer {
    app.send(
        app.client
            .request(
                method,
                app.url(&format!("/api/v2/index/evt/watches/{path}")),
            )
            .header("X-API-Key", API_KEY),
    )
    .await
}

/// The photos a search with `selfie` returns, all of them.
async fn searched(app: &TestApp, selfie: &[u8]) -> BTreeSet<String> {
    let found = app
        .search("evt", selfie.to_vec(), &[("limit", "1000")])
        .await
        .expect(200);
    photo_ids(&found["matches"])
}

fn photo_ids(matches: &Value) -> BTreeSet<String> {
    matches
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["photo_id"].as_str().unwrap().to_owned())
        .collect()
}

/// The `watch.matched` webhooks received so far for `watch`, each checked.
fn announced(receiver: &Receiver, watch: &str) -> Vec<Value> {
    receiver
        .seen()
        .iter()
        .filter_map(|r: &Received| {
            let body: Value = serde_json::from_str(&r.body).unwrap();
            (body["type"] == "watch.matched" && body["data"]["watch_id"] == watch).then(|| {
                verify(SECRET, r);
                body["data"].clone()
            })
        })
        .collect()
}

/// Waits until the watch's webhooks name `want` photos (or the time is up).
async fn wait_announced(receiver: &Receiver, watch: &str, want: usize) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let seen = announced(receiver, watch);
        let count: usize = seen
            .iter()
            .map(|d| d["matches"].as_array().unwrap().len())
            .sum();
        if count >= want || start.elapsed() > Duration::from_secs(120) {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn audit_ends(app: &TestApp) -> Vec<(String, String)> {
    let page = app
        .send(
            app.client
                .get(app.url("/api/v2/audit?session_id=evt"))
                .header("X-API-Key", API_KEY),
        )
        .await
        .expect(200);
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "watch_end")
        .map(|e| {
            (
                e["watch_id"].as_str().unwrap().to_owned(),
                e["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

const NOTIFY_SECS: u64 = 4;

#[tokio::test]
async fn a_watch_announces_exactly_the_new_photos_search_returns_until_it_ends() {
    let guest = "Tony_Blair";
    let early = photos_of(guest, 1, 3);
    let mut new = photos_of(guest, 10, 12);
    new.extend(strangers(38, &[guest, "Jacques_Chirac"]));
    let later = photos_of(guest, 30, 4);
    let chirac = photos_of("Jacques_Chirac", 1, 4);
    let all: Vec<(String, Vec<u8>)> = [&early, &new, &later, &chirac]
        .into_iter()
        .flatten()
        .map(|(_, key, bytes)| (key.clone(), bytes.clone()))
        .collect();
    let (database, bucket) = (
        TestDatabase::create().await,
        TestBucket::create("facepass-watch", &all).await,
    );
    let receiver = Receiver::start(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let endpoint = s3::endpoint();
    let notify = NOTIFY_SECS.to_string();
    let overrides = [
        [
            ("FACEPASS__STORAGE__BACKEND", "postgres"),
            ("FACEPASS__STORAGE__URL", database.url.as_str()),
            ("FACEPASS__WEBHOOKS__URL", receiver.url.as_str()),
            ("FACEPASS__WEBHOOKS__SECRET", SECRET),
            ("FACEPASS__WEBHOOKS__POLL_MS", "100"),
            ("FACEPASS__WATCHES__NOTIFY_INTERVAL_SECS", notify.as_str()),
            ("FACEPASS__RETENTION__PURGE_INTERVAL_SECS", "1"),
        ]
        .as_slice(),
        &crate::jobs::FAST,
        &s3_settings(&bucket.name, &endpoint),
    ]
    .concat();
    let app = spawn_with(settings(dir.path(), &overrides), Some(dir)).await;
    let selfie = lfw(guest, 100);

    // The session before the watch: its current matches are answered, not announced.
    let accepted = submit(&app, &job_photos(&early), None).await.expect(202);
    done(&app, accepted["job_id"].as_str().unwrap()).await;
    let created = create_watch(
        &app,
        selfie.clone(),
        "guest-blair",
        chrono::Duration::days(1),
    )
    .await
    .expect(201);
    let watch = created["watch_id"].as_str().unwrap().to_owned();
    let before = searched(&app, &selfie).await;
    assert_eq!(photo_ids(&created["matches"]), before);
    assert!(!before.is_empty(), "the guest's early photos match");
    assert_eq!(app.status("evt").await.expect(200)["watches_live"], 1);
    // A second guest's watch that expires before their photos arrive.
    let short = create_watch(
        &app,
        lfw("Jacques_Chirac", 20),
        "guest-chirac",
        chrono::Duration::seconds(3),
    )
    .await
    .expect(201);
    let short = short["watch_id"].as_str().unwrap().to_owned();

    // 50 more photos by a job: 12 of the guest, 38 of other people.
    let started = Instant::now();
    let accepted = submit(&app, &job_photos(&new), None).await.expect(202);
    let job = done(&app, accepted["job_id"].as_str().unwrap()).await;
    let job_secs = started.elapsed().as_secs();
    assert_eq!(job["indexed"], 50, "{job:#}");
    let expected: BTreeSet<String> = searched(&app, &selfie)
        .await
        .difference(&before)
        .cloned()
        .collect();
    let guests: BTreeSet<String> = new[..12].iter().map(|(id, _, _)| id.clone()).collect();
    assert!(
        expected.is_subset(&guests) && expected.len() >= 10,
        "search finds the guest's new photos and no stranger's: {expected:?}"
    );
    let seen = wait_announced(&receiver, &watch, expected.len()).await;
    let mut announced_photos = Vec::new();
    for data in &seen {
        assert_eq!(
            (&data["guest_ref"], &data["session_id"]),
            (&json!("guest-blair"), &json!("evt"))
        );
        announced_photos.extend(photo_ids(&data["matches"]));
    }
    let unique: BTreeSet<String> = announced_photos.iter().cloned().collect();
    assert_eq!(unique, expected, "exactly the new photos search returns");
    assert_eq!(unique.len(), announced_photos.len(), "each announced once");
    // Batched: at most one webhook per interval while the job ran, and one after.
    assert!(
        seen.len() as u64 <= 1 + job_secs / NOTIFY_SECS,
        "{} webhooks for a {job_secs} s job",
        seen.len()
    );
    let page = watch_route(
        &app,
        reqwest::Method::GET,
        &format!("{watch}/matches?limit=1000"),
    )
    .await
    .expect(200);
    assert_eq!(
        photo_ids(&page["matches"]),
        before.union(&expected).cloned().collect()
    );

    // Ended by DELETE: more photos of the guest are not announced.
    let ended = watch_route(&app, reqwest::Method::DELETE, &watch)
        .await
        .expect(200);
    assert_eq!(ended["ended"], true);
    let again = watch_route(&app, reqwest::Method::DELETE, &watch)
        .await
        .expect(200);
    assert_eq!(again["ended"], false, "idempotent");
    watch_route(&app, reqwest::Method::GET, &format!("{watch}/matches"))
        .await
        .expect_error(404, "not_found");

    // Ended by forget: a new watch of the guest goes with the guest's erasure.
    let forgotten = create_watch(
        &app,
        selfie.clone(),
        "guest-blair",
        chrono::Duration::days(1),
    )
    .await
    .expect(201);
    let forgotten = forgotten["watch_id"].as_str().unwrap().to_owned();
    let erased = app
        .send(
            app.client
                .post(app.url("/api/v2/index/evt/forget"))
                .header("X-API-Key", API_KEY)
                .multipart(Form::new().part("file", Part::bytes(lfw(guest, 101)))),
        )
        .await
        .expect(200);
    assert_eq!(erased["watches_ended"], 1, "{erased:#}");

    // The short watch has expired by now; its guest's photos and the guest's arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let accepted = submit(
        &app,
        &job_photos(&[later.clone(), chirac.clone()].concat()),
        None,
    )
    .await
    .expect(202);
    done(&app, accepted["job_id"].as_str().unwrap()).await;
    assert!(
        !searched(&app, &lfw("Jacques_Chirac", 20)).await.is_empty(),
        "a search would find the second guest"
    );
    tokio::time::sleep(Duration::from_secs(NOTIFY_SECS + 2)).await;
    assert_eq!(
        announced(&receiver, &watch).len(),
        seen.len(),
        "nothing after delete"
    );
    assert!(
        announced(&receiver, &forgotten).is_empty(),
        "nothing after forget"
    );
    assert!(
        announced(&receiver, &short).is_empty(),
        "nothing after expiry"
    );
    assert_eq!(app.status("evt").await.expect(200)["watches_live"], 0);

    let mut ends = audit_ends(&app).await;
    ends.sort();
    let mut want = vec![
        (watch.clone(), "deleted".to_owned()),
        (forgotten, "forgotten".to_owned()),
        (short, "expired".to_owned()),
    ];
    want.sort();
    assert_eq!(ends, want);

    // A session's deletion ends its watches.
    let last = create_watch(&app, selfie, "guest-blair", chrono::Duration::days(1))
        .await
        .expect(201);
    app.delete_session("evt").await.expect(200);
    let ends = audit_ends(&app).await;
    assert!(ends.contains(&(
        last["watch_id"].as_str().unwrap().to_owned(),
        "session_deleted".to_owned()
    )));
    app.stop().await;
}

#[tokio::test]
async fn a_watch_without_consent_or_with_a_bad_expiry_is_refused_and_stores_nothing() {
    let app = crate::support::spawn_app(&[]).await;
    let selfie = crate::support::fixture_bytes("fr_obama3.jpg");
    let form = |consent: &str, expires_at: String| {
        Form::new()
            .part("file", Part::bytes(selfie.clone()))
            .text("guest_ref", "guest-1")
            .text("expires_at", expires_at)
            .text("consent", consent.to_owned())
    };
    let post = |form: Form| {
        app.client
            .post(app.url("/api/v2/index/evt/watches"))
            .header("X-API-Key", API_KEY)
            .multipart(form)
    };
    let day = || (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    app.send(post(form("false", day())))
        .await
        .expect_error(422, "consent_required");
    let no_consent = Form::new()
        .part("file", Part::bytes(selfie.clone()))
        .text("guest_ref", "guest-1")
        .text("expires_at", day());
    app.send(post(no_consent))
        .await
        .expect_error(422, "consent_required");
    for expires_at in [
        (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339(),
        (chrono::Utc::now() + chrono::Duration::days(91)).to_rfc3339(),
        "tomorrow".to_owned(),
    ] {
        let refused = app
            .send(post(form("true", expires_at)))
            .await
            .expect_error(400, "invalid_request");
        assert_eq!(refused["error"]["details"]["field"], "expires_at");
    }
    // Not after the session's own expiry.
    app.send(
        app.client
            .put(app.url("/api/v2/index/evt/expiry"))
            .header("X-API-Key", API_KEY)
            .json(&json!({"expires_at": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339()})),
    )
    .await
    .expect(200);
    app.send(post(form("true", day())))
        .await
        .expect_error(400, "invalid_request");
    app.send(post(form(
        "true",
        (chrono::Utc::now() + chrono::Duration::minutes(30)).to_rfc3339(),
    )))
    .await
    .expect(201);
    assert_eq!(app.status("evt").await.expect(200)["watches_live"], 1);
    app.stop().await;

    // A session new to FacePass gets the default retention first, as when it is indexed.
    let app = crate::support::spawn_app(&[("FACEPASS__RETENTION__DEFAULT_DAYS", "1")]).await;
    let form = Form::new()
        .part("file", Part::bytes(selfie.clone()))
        .text("guest_ref", "guest-1")
        .text(
            "expires_at",
            (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339(),
        )
        .text("consent", "true");
    let refused = app
        .send(
            app.client
                .post(app.url("/api/v2/index/fresh/watches"))
                .header("X-API-Key", API_KEY)
                .multipart(form),
        )
        .await
        .expect_error(400, "invalid_request");
    assert_eq!(refused["error"]["details"]["field"], "expires_at");
    assert!(app.status("fresh").await.expect(200)["expires_at"].is_string());
    app.stop().await;
}

#[tokio::test]
async fn a_watch_stores_the_selfies_embedding_never_its_bytes_and_nothing_once_ended() {
    let data = tempfile::tempdir().unwrap();
    let settings = settings(data.path(), &[]);
    let embedder =
        facepass_embedder_onnx::OnnxEmbedder::start(&settings.models.embedder_config().unwrap())
            .unwrap();
    let selfie = crate::support::fixture_bytes("fr_obama3.jpg");
    let analysis = facepass_domain::ports::Embedder::analyze(
        &embedder,
        selfie.clone().into(),
        facepass_domain::ImageKind::Selfie,
    )
    .await
    .unwrap();
    let embedding: Vec<u8> = analysis.faces[0]
        .embedding
        .as_slice()
        .iter()
        .take(16)
        .flat_map(|v| v.to_le_bytes())
        .collect();
    drop(embedder);

    let app = spawn_with(settings.clone(), None).await;
    let created = create_watch(&app, selfie.clone(), "guest-1", chrono::Duration::days(1))
        .await
        .expect(201);
    let watch = created["watch_id"].as_str().unwrap().to_owned();
    app.stop().await;
    let window = &selfie[selfie.len() / 2..selfie.len() / 2 + 64];
    let files = crate::hostile::files_under(data.path());
    assert!(
        files
            .iter()
            .any(|(_, bytes)| bytes.windows(embedding.len()).any(|w| w == embedding)),
        "the watch keeps the selfie's embedding"
    );
    for (path, bytes) in &files {
        assert!(
            !bytes.windows(window.len()).any(|w| w == window),
            "selfie bytes in {}",
            path.display()
        );
    }

    let app = spawn_with(settings, None).await;
    watch_route(&app, reqwest::Method::DELETE, &watch)
        .await
        .expect(200);
    app.stop().await;
    for (path, bytes) in crate::hostile::files_under(data.path()) {
        assert!(
            !bytes.windows(embedding.len()).any(|w| w == embedding),
            "the ended watch's embedding is still in {}",
            path.display()
        );
    }
}
