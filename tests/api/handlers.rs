//! The HTTP layer over mocked ports (the typed in-process client of `in_process`, no socket):
//! routing, auth, parsing, limits, the error shape, and that every documented error code is
//! produced.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use facepass::api::errors::ErrorCode;
use facepass::api::health::HealthResponse;
use facepass::api::state::AppState;
use facepass_domain::jobs::{Job, JobId, JobState, NewJob, Submitted};
use facepass_domain::people::SessionScores;
use facepass_domain::ports::{
    EmbedError, MockEmbedder, MockJobQueue, MockPhotoSource, MockVectorStore, MockWatchStore,
    PersonFace, PersonSummary, PhotoSourceError, SessionStats, StoreError, StoreTotals, StoredFace,
};
use facepass_domain::{
    BoundingBox, DetectedFace, Embedding, EmbeddingSpace, FaceAnalysis, FaceId, FaceQuality,
    ModelId, PersonId, PhotoId, Point, StageTimings,
};
use poem::http::StatusCode;
use poem::test::TestForm;
use poem_openapi::payload::Json;
use serde_json::{Value, json};

use crate::in_process::{Answer, api, code_of};
use crate::support::{API_KEY, settings};

/// The one person the mocked store knows, in session "indexed".
fn known_person() -> PersonId {
    PersonId::parse("0190c0c8-0000-7000-8000-000000000001").unwrap()
}

fn space() -> EmbeddingSpace {
    EmbeddingSpace {
        model: ModelId::parse("test-model").expect("valid"),
        dim: 4,
    }
}

fn face(x: f32, width: f32) -> DetectedFace {
    DetectedFace {
        bbox: BoundingBox {
            x,
            y: 0.0,
            width,
            height: width,
        },
        landmarks: [Point { x: 0.0, y: 0.0 }; 5],
        det_score: 0.9,
        embedding: Embedding::normalise(&space(), vec![1.0, 0.0, 0.0, 0.0]).expect("unit"),
        quality: FaceQuality {
            face_px: width,
            sharpness: 300.0,
            brightness: 120.0,
            pose: 5.0,
        },
    }
}

fn analysis(faces: Vec<DetectedFace>) -> FaceAnalysis {
    FaceAnalysis {
        width: 640,
        height: 480,
        faces,
        timings: StageTimings::default(),
    }
}

/// Ports whose behaviour is chosen by the request: photo keys and image bytes name the
/// outcome (`missing`, `slow`, `garbage`, `two-faces`, ...).
struct Ports {
    database_down: Arc<AtomicBool>,
}

fn ports() -> (MockEmbedder, MockVectorStore, MockPhotoSource, Ports) {
    let mut embedder = MockEmbedder::new();
    embedder.expect_space().returning(space);
    embedder.expect_health().returning(|| Ok(()));
    embedder
        .expect_analyze()
        .returning(|image, _| match image.as_slice() {
            b"garbage" => Err(EmbedError::InvalidImage("not an image".into())),
            b"huge" => Err(EmbedError::ImageTooLarge {
                width: 20000,
                height: 20000,
                pixels: 400_000_000,
                max_pixels: 100_000_000,
            }),
            b"busy" => Err(EmbedError::Overloaded),
            b"crash" => Err(EmbedError::Unexpected("worker panicked".into())),
            b"no-models" => Err(EmbedError::Unavailable("workers stopped".into())),
            b"no-face" => Ok(analysis(vec![])),
            b"two-faces" => Ok(analysis(vec![face(0.0, 100.0), face(200.0, 95.0)])),
            // A whole face and a larger one mostly outside the frame's right edge.
            b"cut-off" => Ok(analysis(vec![face(100.0, 100.0), face(620.0, 200.0)])),
            b"blurred" => {
                let mut blurred = face(0.0, 100.0);
                blurred.quality.sharpness = 2.0;
                Ok(analysis(vec![blurred]))
            }
            _ => Ok(analysis(vec![face(0.0, 100.0), face(300.0, 20.0)])),
        });

    let database_down = Arc::new(AtomicBool::new(false));
    let mut store = MockVectorStore::new();
    store.expect_indexed_faces().returning(|_, _| Ok(None));
    // The service writes photos with their watches' matches (none here).
    store
        .expect_replace_photo_watched()
        .returning(|_, photo, faces, _| {
            if photo.as_str() == "db-down" {
                return Err(StoreError::Unavailable("connection refused".into()));
            }
            Ok(faces
                .iter()
                .map(|f| StoredFace {
                    face_id: FaceId::new(),
                    bbox: f.bbox,
                    det_score: f.det_score,
                })
                .collect())
        });
    store.expect_session_status().returning(|session, _| {
        Ok(match session.as_str() {
            "indexed" => SessionStats {
                photos_indexed: 1,
                faces_indexed: 2,
                ..SessionStats::default()
            },
            _ => SessionStats::default(),
        })
    });
    store.expect_totals().returning(|| {
        Ok(StoreTotals {
            photos: 1,
            faces: 2,
        })
    });
    store.expect_scores().returning(|session, _, _| {
        Ok(SessionScores {
            faces: if session.as_str() == "indexed" { 2 } else { 0 },
            ..SessionScores::default()
        })
    });
    let person = PersonFace {
        photo_id: PhotoId::parse("p7").unwrap(),
        face: StoredFace {
            face_id: FaceId::new(),
            bbox: BoundingBox {
                x: 1.0,
                y: 2.0,
                width: 30.0,
                height: 40.0,
            },
            det_score: 0.9,
        },
    };
    let cover = person.clone();
    store.expect_people().returning(move |session, _| {
        Ok(match session.as_str() {
            "indexed" => vec![PersonSummary {
                person: known_person(),
                photos: 2,
                faces: 2,
                cover: cover.clone(),
            }],
            _ => Vec::new(),
        })
    });
    store
        .expect_person_faces()
        .returning(move |session, person_id, _| {
            Ok(
                (session.as_str() == "indexed" && *person_id == known_person())
                    .then(|| vec![person.clone()]),
            )
        });
    let down = database_down.clone();
    store.expect_health().returning(move || {
        if down.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable("connection refused".into()))
        } else {
            Ok(())
        }
    });

    let mut photos = MockPhotoSource::new();
    photos.expect_health().returning(|| Ok(()));
    photos.expect_fetch().returning(|key| match key.as_str() {
        "missing" => Err(PhotoSourceError::NotFound),
        "big" => Err(PhotoSourceError::TooLarge { limit_bytes: 10 }),
        "denied" => Err(PhotoSourceError::AccessDenied("403 Forbidden".into())),
        "slow" => Err(PhotoSourceError::Timeout(Duration::from_secs(30))),
        "down" => Err(PhotoSourceError::Unavailable("503 Slow Down".into())),
        other => Ok(other.as_bytes().to_vec().into()),
    });
    (embedder, store, photos, Ports { database_down })
}

/// A queue that accepts every job (as queued) except under the idempotency key `used`, and
/// knows no job afterwards.
fn job_queue() -> MockJobQueue {
    let mut queue = MockJobQueue::new();
    queue.expect_submit().returning(|job: NewJob, now| {
        if job.idempotency.as_ref().is_some_and(|i| i.key == "used") {
            return Ok(Submitted::Conflict(JobId::new()));
        }
        Ok(Submitted::Created(Job {
            id: JobId::new(),
            session: job.session,
            state: JobState::Queued,
            total: job.photos.len() as u64,
            indexed: 0,
            skipped: 0,
            failed: 0,
            pending: job.photos.len() as u64,
            dropped: 0,
            errors: Vec::new(),
            force: job.force,
            expires_at: job.expires_at,
            callback_url: job.callback_url,
            created_at: now,
            started_at: None,
            finished_at: None,
        }))
    });
    queue.expect_job().returning(|_| Ok(None));
    queue.expect_cancel().returning(|_, _| Ok(None));
    queue.expect_jobs().returning(|_| Ok(Vec::new()));
    queue
}

/// A session with no watches.
fn watch_store() -> MockWatchStore {
    let mut watches = MockWatchStore::new();
    watches
        .expect_live_watches()
        .returning(|_, _| Ok(Vec::new()));
    watches.expect_live_watch_count().returning(|_, _| Ok(0));
    watches
}

type State = AppState<MockEmbedder, MockVectorStore, MockPhotoSource>;

fn state(overrides: &[(&str, &str)]) -> (Arc<State>, Ports) {
    let dir = std::env::temp_dir();
    let (embedder, store, photos, ports) = self::ports();
    let state = AppState::new(
        Arc::new(embedder),
        Arc::new(store),
        Arc::new(photos),
        Arc::new(job_queue()),
        Arc::new(watch_store()),
        &settings(&dir, overrides),
    )
    .expect("state");
    (Arc::new(state), ports)
}

fn index_body(photo: &str, key: &str) -> Value {
    json!({"session_id": "s1", "photo_id": photo, "s3_key": key})
}

fn selfie(bytes: &[u8]) -> TestForm {
    TestForm::new()
        .bytes("file", bytes.to_vec())
        .text("session_id", "s1")
}

#[tokio::test]
async fn every_documented_error_code_is_produced_without_any_5xx_answer() {
    let (state, ports) = state(&[
        ("FACEPASS__SERVER__MAX_JSON_BYTES", "4096"),
        ("FACEPASS__SEARCH__MAX_SELFIE_BYTES", "1000"),
        ("FACEPASS__RATE_LIMIT__ENABLED", "true"),
        ("FACEPASS__RATE_LIMIT__SEARCH_BURST", "1000"),
    ]);
    let api = self::api(&state);
    let mut seen = BTreeSet::new();

    // Routing, parsing, auth and limits.
    seen.insert(api.get("/nope").await.code());
    seen.insert(api.get("/api/v2/index").await.code());
    for (content_type, body) in [("application/json", "{not json"), ("text/plain", "photo")] {
        let request = api
            .raw()
            .post("/api/v2/index")
            .header("X-API-Key", API_KEY)
            .content_type(content_type)
            .body(body);
        seen.insert(api.send(request).await.code());
    }
    let no_key = api
        .raw()
        .post("/api/v2/index")
        .body_json(&index_body("p1", "k"));
    seen.insert(api.send(no_key).await.code());
    let long_key = json!({"session_id": "s1", "photo_id": "p1", "s3_key": "x".repeat(5000)});
    seen.insert(api.index(&long_key).await.code());

    let used_key = api
        .raw()
        .post("/api/v2/index/jobs")
        .header("X-API-Key", API_KEY)
        .header("Idempotency-Key", "used")
        .body_json(&json!({"session_id": "s1", "photos": [{"photo_id": "p1", "s3_key": "k"}]}));
    seen.insert(api.send(used_key).await.code());

    // A guest watch without the guest's consent.
    let expires = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let no_consent = api
        .raw()
        .post("/api/v2/index/s1/watches")
        .header("X-API-Key", API_KEY)
        .multipart(
            TestForm::new()
                .bytes("file", b"face".to_vec())
                .text("guest_ref", "guest-1")
                .text("expires_at", expires)
                .text("consent", "false"),
        );
    seen.insert(api.send(no_consent).await.code());

    // Single-photo indexing failures that are the client's (422).
    for key in ["missing", "big"] {
        seen.insert(api.index(&index_body("p1", key)).await.code());
    }

    // Selfie failures.
    for bytes in [&b"garbage"[..], b"huge", b"no-face", b"two-faces", b"busy"] {
        seen.insert(api.search(selfie(bytes)).await.code());
    }
    // A blurred selfie that matches nothing in a session with faces.
    let blurred = TestForm::new()
        .bytes("file", b"blurred".to_vec())
        .text("session_id", "indexed");
    let Answer(s, b, _) = api.search(blurred).await;
    assert_eq!(
        b["error"]["details"]["reason"], "too_blurry",
        "poor_selfie names its reason: {b}"
    );
    seen.insert(code_of(s, &b));

    // Server-side failures of single photos travel in a batch's `errors` (the batch is 200).
    let photos: Vec<Value> = [
        ("p-denied", "denied"),
        ("p-slow", "slow"),
        ("p-down", "down"),
        ("p-crash", "crash"),
        ("p-no-models", "no-models"),
        ("db-down", "fine"),
    ]
    .iter()
    .map(|(p, k)| json!({"photo_id": p, "s3_key": k}))
    .collect();
    let Answer(s, b, _) = api
        .batch(&json!({"session_id": "s1", "photos": photos}))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        (b["total"].as_u64(), b["failed"].as_u64()),
        (Some(6), Some(6))
    );
    for error in b["errors"].as_array().expect("errors") {
        seen.insert(error["code"].as_str().expect("code").to_owned());
    }

    // Shutdown: photos not yet started are reported, not silently dropped.
    state.stopping.store(true, Ordering::SeqCst);
    let late = json!({"session_id": "s1", "photos": [{"photo_id": "late", "s3_key": "fine"}]});
    let Answer(s, b, _) = api.batch(&late).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    seen.insert(b["errors"][0]["code"].as_str().expect("code").to_owned());
    state.stopping.store(false, Ordering::SeqCst);

    // A selfie over the upload limit, then a rate-limited client.
    let Answer(s, b, _) = api.search(selfie(&[0u8; 2000])).await;
    seen.insert(code_of(s, &b));
    let (limited, _) = self::state(&[
        ("FACEPASS__RATE_LIMIT__ENABLED", "true"),
        ("FACEPASS__RATE_LIMIT__SEARCH_BURST", "1"),
    ]);
    let limited = self::api(&limited);
    let Answer(s, _, _) = limited.search(selfie(b"face")).await;
    assert_eq!(s, StatusCode::OK);
    let Answer(s, b, retry) = limited.search(selfie(b"face")).await;
    seen.insert(code_of(s, &b));
    assert!(retry.is_some(), "429 carries Retry-After");

    // Readiness with the database down: the handler's answer (its 503 variant) is checked
    // directly, so no request of the suite answers 5xx; the route itself is exercised with a
    // ready service by the other tests.
    ports.database_down.store(true, Ordering::SeqCst);
    match facepass::api::health::HealthApi(state.clone())
        .health()
        .await
    {
        HealthResponse::Unavailable(Json(body)) => {
            let details = &body.error.details;
            assert_eq!(details["checks"]["database"], "unavailable", "{details}");
            assert_eq!(details["checks"]["models"], "ok", "{details}");
            seen.insert(body.error.code.as_str().to_owned());
        }
        other => panic!("not ready must answer 503, got {other:?}"),
    }

    let documented: BTreeSet<String> = ErrorCode::ALL
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    let missing: Vec<_> = documented.difference(&seen).collect();
    let unknown: Vec<_> = seen.difference(&documented).collect();
    assert!(missing.is_empty(), "codes never produced: {missing:?}");
    assert!(unknown.is_empty(), "undocumented codes: {unknown:?}");
}

#[test]
fn the_readme_lists_every_error_code() {
    let readme =
        std::fs::read_to_string(crate::support::repo_root().join("README.md")).expect("README.md");
    let missing: Vec<&str> = ErrorCode::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|code| !readme.contains(&format!("`{code}`")))
        .collect();
    assert!(missing.is_empty(), "README.md does not list {missing:?}");
}

#[tokio::test]
async fn people_are_listed_with_a_key_and_an_unknown_person_is_404() {
    let (state, _) = state(&[]);
    let api = self::api(&state);
    let Answer(s, b, _) = api.get("/api/v2/index/indexed/people").await;
    assert_eq!(
        (s, code_of(s, &b).as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );

    let Answer(s, b, _) = api.get_with_key("/api/v2/index/indexed/people").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["people"][0]["person_id"], known_person().to_string());
    assert_eq!(b["people"][0]["photo_count"], 2);
    assert_eq!(b["people"][0]["cover"]["photo_id"], "p7");
    assert!(b.get("next_cursor").is_none(), "{b}");

    let Answer(s, b, _) = api
        .get_with_key(&format!("/api/v2/index/indexed/people/{}", known_person()))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["photos"][0]["photo_id"], "p7");
    let Answer(s, b, _) = api
        .get_with_key(&format!("/api/v2/index/other/people/{}", known_person()))
        .await;
    assert_eq!(
        (s, code_of(s, &b).as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );

    for path in [
        "/api/v2/index/indexed/people/not-a-uuid",
        "/api/v2/index/indexed/people?cursor=junk",
        "/api/v2/index/indexed/people?limit=0",
        "/api/v2/index/indexed/people?min_photos=0",
    ] {
        let Answer(s, b, _) = api.get_with_key(path).await;
        assert_eq!(
            (s, code_of(s, &b).as_str()),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "{path}: {b}"
        );
    }
}

#[tokio::test]
async fn indexing_needs_a_configured_key_and_compares_it_exactly() {
    let (state, _) = state(&[("FACEPASS__AUTH__API_KEYS", "alpha, beta")]);
    let api = self::api(&state);
    for key in ["alph", "alphaa", "ALPHA", ""] {
        let Answer(s, b, _) = api.index_as(key, &index_body("p1", "k")).await;
        assert_eq!(
            (s, code_of(s, &b).as_str()),
            (StatusCode::UNAUTHORIZED, "unauthorized")
        );
    }
    let Answer(s, b, _) = api.index_as("beta", &index_body("p1", "k")).await;
    assert_eq!(s, StatusCode::OK, "{b}");

    // No key configured: never open by default.
    let (closed, _) = self::state(&[("FACEPASS__AUTH__API_KEYS", "")]);
    let Answer(s, b, _) = self::api(&closed).delete_as("", "/api/v2/index/s1").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("no API key"),
        "{b}"
    );
}

#[tokio::test]
async fn invalid_fields_are_400_naming_the_field() {
    let (state, _) = state(&[]);
    let api = self::api(&state);
    let cases = [
        (
            json!({"session_id": "bad id!", "photo_id": "p1", "s3_key": "k"}),
            "session_id",
        ),
        (
            json!({"session_id": "s1", "photo_id": "", "s3_key": "k"}),
            "photo_id",
        ),
        (
            json!({"session_id": "s1", "photo_id": "p1", "s3_key": "../etc/passwd"}),
            "s3_key",
        ),
        (
            json!({"session_id": "s1", "photo_id": "p1", "s3_key": "/abs"}),
            "s3_key",
        ),
    ];
    for (request, field) in cases {
        let answer = api.index(&request).await;
        assert_eq!(
            (answer.0, answer.field()),
            (StatusCode::BAD_REQUEST, Some(field)),
            "{}",
            answer.1
        );
    }

    let too_many: Vec<Value> = (0..501)
        .map(|i| json!({"photo_id": format!("p{i}"), "s3_key": "k"}))
        .collect();
    for photos in [json!([]), Value::Array(too_many)] {
        let answer = api
            .batch(&json!({"session_id": "s1", "photos": photos}))
            .await;
        assert_eq!(
            (answer.0, answer.field()),
            (StatusCode::BAD_REQUEST, Some("photos"))
        );
    }
    let answer = api.batch(&json!({"session_id": "s1", "photos": [{"photo_id": "ok", "s3_key": "k"}, {"photo_id": "p 2", "s3_key": "k"}]})).await;
    assert_eq!(
        (answer.0, answer.field()),
        (StatusCode::BAD_REQUEST, Some("photos[1].photo_id"))
    );

    for (field, value) in [
        ("threshold", "1.5"),
        ("threshold", "-0.1"),
        ("threshold", "abc"),
        ("limit", "0"),
        ("limit", "1001"),
    ] {
        let Answer(s, b, _) = api.search(selfie(b"face").text(field, value)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{field}={value}: {b}");
    }
    let Answer(s, _, _) = api.search(TestForm::new().text("session_id", "s1")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "the file is required");
}

#[tokio::test]
async fn multiple_faces_are_refused_with_their_boxes_and_a_smaller_face_is_ignored() {
    let (state, _) = state(&[]);
    let api = self::api(&state);
    let Answer(s, b, _) = api.search(selfie(b"two-faces")).await;
    assert_eq!(
        (s, code_of(s, &b).as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "multiple_faces")
    );
    assert_eq!(
        b["error"]["details"]["faces"].as_array().map(Vec::len),
        Some(2),
        "{b}"
    );

    // One large face and one small background face: the large one is used.
    let Answer(s, b, _) = api.search(selfie(b"face")).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["query_face"]["bbox"]["width"], 100.0);
    assert_eq!(b["query_faces"][0]["quality"]["sharpness"], 300.0);
    assert_eq!(b["warnings"], json!([]));

    // A face cut off by the frame edge competes with what is visible of it.
    let Answer(s, b, _) = api.search(selfie(b"cut-off")).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["query_face"]["bbox"]["x"], 100.0);

    // face_index picks one face of the refusal's list.
    let Answer(s, b, _) = api
        .search(selfie(b"two-faces").text("face_index", "1"))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["query_face"]["bbox"]["x"], 200.0);
    let answer = api
        .search(selfie(b"two-faces").text("face_index", "2"))
        .await;
    assert_eq!(
        (answer.0, answer.field()),
        (StatusCode::BAD_REQUEST, Some("face_index")),
        "{}",
        answer.1
    );
    assert_eq!(
        answer.1["error"]["details"]["faces"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}

#[tokio::test]
async fn up_to_three_selfies_are_searched_together() {
    let (state, _) = state(&[]);
    let api = self::api(&state);
    let selfies = |n: usize| {
        (0..n).fold(TestForm::new().text("session_id", "indexed"), |form, _| {
            form.bytes("file", b"face".to_vec())
        })
    };
    let Answer(s, b, _) = api.search(selfies(3)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["query_faces"].as_array().map(Vec::len), Some(3), "{b}");

    let Answer(s, b, _) = api.search(selfies(4)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");

    let answer = api.search(selfies(2).text("face_index", "0")).await;
    assert_eq!(
        (answer.0, answer.field()),
        (StatusCode::BAD_REQUEST, Some("face_index")),
        "{}",
        answer.1
    );

    // One selfie without a face fails the search and says which.
    let form = TestForm::new()
        .text("session_id", "indexed")
        .bytes("file", b"face".to_vec())
        .bytes("file", b"no-face".to_vec());
    let Answer(s, b, _) = api.search(form).await;
    assert_eq!(
        (s, b["error"]["details"]["selfie"].as_u64()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some(1)),
        "{b}"
    );
}

#[tokio::test]
async fn the_request_id_is_echoed_or_generated() {
    let (state, _) = state(&[]);
    let api = self::api(&state);
    let response = api
        .raw()
        .get("/api/v2/health")
        .header("X-Request-Id", "pixora-42")
        .send()
        .await;
    response.assert_header("x-request-id", "pixora-42");
    let response = api
        .raw()
        .get("/api/v2/health")
        .header("X-Request-Id", "bad id\twith tab")
        .send()
        .await;
    let generated = response.0.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_ne!(generated, "bad id\twith tab");
    assert_eq!(generated.len(), 36, "a UUID");
}

#[tokio::test]
async fn a_chunked_body_without_length_is_still_limited() {
    let (state, _) = state(&[("FACEPASS__SERVER__MAX_JSON_BYTES", "1024")]);
    let api = self::api(&state);
    let chunks = futures::stream::iter((0..64).map(|_| Ok::<_, std::io::Error>(vec![b' '; 256])));
    let request = api
        .raw()
        .post("/api/v2/index")
        .header("X-API-Key", API_KEY)
        .content_type("application/json")
        .body(poem::Body::from_bytes_stream(chunks));
    let Answer(s, b, _) = api.send(request).await;
    assert_eq!(
        (s, code_of(s, &b).as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
}

#[tokio::test]
async fn the_v1_alias_serves_the_same_routes_and_the_spec_lists_v2_only() {
    let (state, _) = state(&[]);
    let api = self::api(&state);
    let Answer(s, b, _) = api.get("/api/v1/search/status/s9").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let v1_index = api
        .raw()
        .post("/api/v1/index")
        .header("X-API-Key", API_KEY)
        .body_json(&index_body("p1", "k"));
    api.send(v1_index).await.ok();
    let old_search = api
        .raw()
        .post("/api/v2/faces/search-session")
        .multipart(selfie(b"face"));
    api.send(old_search).await.ok();

    let Answer(s, spec, _) = api.get("/api/v2/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    let paths = spec["paths"].as_object().expect("paths");
    assert!(
        paths.keys().all(|p| p.starts_with("/api/v2/")),
        "{:?}",
        paths.keys()
    );
    let operation_ids: BTreeSet<&str> = paths
        .values()
        .flat_map(|p| p.as_object().expect("operations").values())
        .map(|op| op["operationId"].as_str().expect("explicit operationId"))
        .collect();
    assert_eq!(
        operation_ids,
        BTreeSet::from([
            "audit",
            "cancel_job",
            "create_watch",
            "delete_photo",
            "delete_session",
            "diff_session",
            "end_watch",
            "forget_guest",
            "get_job",
            "get_watch",
            "health",
            "index_batch",
            "index_photo",
            "list_jobs",
            "list_people",
            "metrics",
            "person_photos",
            "search",
            "search_session_legacy",
            "session_status",
            "set_session_expiry",
            "submit_job",
            "watch_matches",
        ])
    );
    assert_eq!(
        spec["paths"]["/api/v2/faces/search-session"]["post"]["deprecated"],
        true
    );
    let index_statuses: BTreeSet<&str> = spec["paths"]["/api/v2/index"]["post"]["responses"]
        .as_object()
        .expect("responses")
        .keys()
        .map(String::as_str)
        .collect();
    for status in [
        "200", "400", "401", "413", "415", "422", "429", "500", "502", "503", "504",
    ] {
        assert!(
            index_statuses.contains(status),
            "POST /index documents {status}"
        );
    }
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(crate::support::repo_root().join("openapi/openapi.json"))
            .expect("openapi/openapi.json"),
    )
    .expect("committed spec is JSON");
    assert_eq!(
        spec, committed,
        "the served spec is the committed one (cargo xtask codegen)"
    );
    let Answer(s, _, _) = api.get("/api/v1/openapi.json").await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "the deprecated alias has no spec of its own"
    );

    assert_eq!(api.get("/docs").await.0, StatusCode::OK);
}

#[tokio::test]
async fn metrics_count_requests_photos_and_refusals() {
    let (state, _) = state(&[]);
    let api = self::api(&state);
    api.index(&index_body("p1", "fine")).await.ok();
    assert_eq!(
        api.index_as("", &index_body("p1", "fine")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        api.search(selfie(b"busy")).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );

    let response = api.raw().get("/api/v2/metrics").send().await;
    response.assert_status_is_ok();
    let text = response.0.into_body().into_string().await.expect("text");
    for line in [
        "facepass_http_requests_total{method=\"POST\",route=\"index_photo\",status=\"200\"} 1",
        "facepass_http_requests_total{method=\"POST\",route=\"index_photo\",status=\"401\"} 1",
        "facepass_photos_indexed_total{result=\"indexed\"} 1",
        "facepass_faces_indexed_total 2",
        "facepass_inference_seconds_count{model=\"test-model\",stage=\"embed\"} 1",
        "facepass_rate_limited_total{scope=\"overloaded\"} 1",
        "facepass_vectors_stored 2",
        "facepass_photos_stored 1",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}

#[tokio::test]
async fn a_job_is_accepted_with_its_location_and_bad_ones_are_refused() {
    let (state, _) = state(&[("FACEPASS__JOBS__MAX_PHOTOS", "3")]);
    let api = self::api(&state);
    let photos = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| json!({"photo_id": format!("p{}", i % 2), "s3_key": format!("k{i}")}))
            .collect()
    };
    let request = api
        .raw()
        .post("/api/v2/index/jobs")
        .header("X-API-Key", API_KEY)
        .body_json(&json!({"session_id": "s1", "photos": photos(3)}));
    let response = request.send().await;
    response.assert_status(StatusCode::ACCEPTED);
    let location = response.0.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value =
        serde_json::from_slice(&response.0.into_body().into_vec().await.unwrap()).unwrap();
    assert_eq!(
        location,
        format!("/api/v2/index/jobs/{}", body["job_id"].as_str().unwrap())
    );
    assert_eq!(
        (&body["state"], &body["total"], &body["pending"]),
        (&json!("queued"), &json!(2), &json!(2)),
        "a repeated photo id counts once: {body}"
    );

    for (request, field) in [
        (
            json!({"session_id": "s1", "photos": photos(4).into_iter().chain([json!({"photo_id": "p9", "s3_key": "k"})]).collect::<Vec<_>>()}),
            "photos",
        ),
        (
            json!({"session_id": "s1", "photos": photos(1), "callback_url": "ftp://x"}),
            "callback_url",
        ),
        (json!({"session_id": "s1", "photos": []}), "photos"),
    ] {
        let post = api
            .raw()
            .post("/api/v2/index/jobs")
            .header("X-API-Key", API_KEY)
            .body_json(&request);
        let answer = api.send(post).await;
        assert_eq!(
            (answer.0, answer.field()),
            (StatusCode::BAD_REQUEST, Some(field)),
            "{}",
            answer.1
        );
    }
    let unknown = format!("/api/v2/index/jobs/{}", JobId::new());
    let answer = api.get_with_key(&unknown).await;
    assert_eq!(
        (answer.0, answer.code().as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let answer = api.delete_as(API_KEY, &unknown).await;
    assert_eq!(
        (answer.0, answer.code().as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let answer = api.get_with_key("/api/v2/index/jobs/not-a-job").await;
    assert_eq!(
        (answer.0, answer.field()),
        (StatusCode::BAD_REQUEST, Some("job_id"))
    );
    let page = api
        .get_with_key("/api/v2/index/jobs?session_id=s1&state=done")
        .await
        .ok();
    assert_eq!(page["jobs"], json!([]));
    let answer = api.get_with_key("/api/v2/index/jobs?cursor=junk").await;
    assert_eq!(
        (answer.0, answer.field()),
        (StatusCode::BAD_REQUEST, Some("cursor"))
    );
    assert_eq!(
        api.get("/api/v2/index/jobs").await.0,
        StatusCode::UNAUTHORIZED
    );
}
