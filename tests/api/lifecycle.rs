//! Data lifecycle through the real service (SQLite, fixture photos and models): reconcile,
//! expiry with the background purge, a guest's erasure by selfie and the deletion audit.
//! The same features on Postgres are the store contract's cases.

use std::time::Duration;

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::support::{API_KEY, Answer, TestApp, fixture_bytes, spawn_app};

impl TestApp {
    pub(crate) async fn diff(&self, session: &str, ids: &[String]) -> Answer {
        self.send(
            self.client
                .post(self.url(&format!("/api/v2/index/{session}/diff")))
                .header("X-API-Key", API_KEY)
                .json(&json!({ "photo_ids": ids })),
        )
        .await
    }

    pub(crate) async fn set_expiry(&self, session: &str, at: Value) -> Answer {
        self.send(
            self.client
                .put(self.url(&format!("/api/v2/index/{session}/expiry")))
                .header("X-API-Key", API_KEY)
                .json(&json!({ "expires_at": at })),
        )
        .await
    }

    pub(crate) async fn forget(&self, session: &str, selfies: &[&str]) -> Answer {
        let mut form = Form::new();
        for selfie in selfies {
            form = form.part("file", Part::bytes(fixture_bytes(selfie)));
        }
        self.send(
            self.client
                .post(self.url(&format!("/api/v2/index/{session}/forget")))
                .header("X-API-Key", API_KEY)
                .multipart(form),
        )
        .await
    }

    pub(crate) async fn audit(&self, query: &str) -> Answer {
        self.send(
            self.client
                .get(self.url(&format!("/api/v2/audit?{query}")))
                .header("X-API-Key", API_KEY),
        )
        .await
    }
}

/// The audit's id of the tests' API key: `k-` and 12 hex digits of its SHA-256.
fn test_key_id() -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(API_KEY.as_bytes());
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("k-{hex}")
}

/// An RFC 3339 timestamp of an answer, in UTC with `Z`.
fn time(value: &Value) -> String {
    let at: chrono::DateTime<chrono::Utc> = value.as_str().unwrap().parse().unwrap();
    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn photos(files: &[&str]) -> Vec<(String, String)> {
    files
        .iter()
        .map(|f| (crate::support::photo_id(f), (*f).to_owned()))
        .collect()
}

fn matched(answer: &Value) -> Vec<String> {
    answer["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["photo_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn diff_names_missing_and_orphaned_photos_and_takes_100k_long_ids() {
    let app = spawn_app(&[]).await;
    let indexed = photos(&["fr_obama.jpg", "fr_biden.jpg", "fr_obama1.jpg"]);
    app.batch("evt", &indexed, false).await.expect(200);
    let (obama, biden, obama1) = (&indexed[0].0, &indexed[1].0, &indexed[2].0);

    let listed = vec![
        biden.clone(),
        obama.clone(),
        "z-new".into(),
        "a-new".into(),
        obama.clone(),
    ];
    let diff = app.diff("evt", &listed).await.expect(200);
    assert_eq!(diff["indexed"], 2);
    assert_eq!(diff["missing"], json!(["a-new", "z-new"]));
    assert_eq!(diff["orphaned"], json!([obama1]));

    // 100,000 ids of 40 characters: a 4.3 MB body, over the JSON limit of other routes.
    let many: Vec<String> = (0..100_000).map(|i| format!("photo-{i:034}")).collect();
    let diff = app.diff("evt", &many).await.expect(200);
    assert_eq!(diff["missing"].as_array().unwrap().len(), 100_000);
    assert_eq!(diff["orphaned"].as_array().unwrap().len(), 3);
    let mut too_many = many;
    too_many.push("one-more".into());
    let refused = app
        .diff("evt", &too_many)
        .await
        .expect_error(400, "invalid_request");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains("photo_ids"), "{message}");
    let refused = app
        .diff("evt", &["bad id".to_owned()])
        .await
        .expect_error(400, "invalid_request");
    assert_eq!(refused["error"]["details"]["field"], "photo_ids[0]");
    let anonymous = app
        .send(
            app.client
                .post(app.url("/api/v2/index/evt/diff"))
                .json(&json!({"photo_ids": []})),
        )
        .await;
    anonymous.expect_error(401, "unauthorized");
}

#[tokio::test]
async fn expired_sessions_are_purged_in_the_background_and_audited() {
    let app = spawn_app(&[
        ("FACEPASS__RETENTION__PURGE_INTERVAL_SECS", "1"),
        ("FACEPASS__RETENTION__DEFAULT_DAYS", "30"),
    ])
    .await;
    app.batch("old", &photos(&["fr_obama.jpg", "fr_biden.jpg"]), false)
        .await
        .expect(200);
    // The default retention applies to a new session...
    let status = app.status("old").await.expect(200);
    let expires: chrono::DateTime<chrono::Utc> =
        status["expires_at"].as_str().unwrap().parse().unwrap();
    let days = (expires - chrono::Utc::now()).num_hours() as f64 / 24.0;
    assert!(
        (29.9..=30.1).contains(&days),
        "default expiry in {days} days"
    );
    // ...an indexing request may name its own, and `null` keeps the session.
    let body = json!({"session_id": "kept", "photos": [{"photo_id": "p1", "s3_key": "fr_biden2.jpg"}],
                      "expires_at": "2099-01-01T00:00:00Z"});
    app.send(
        app.client
            .post(app.url("/api/v2/index/batch"))
            .header("X-API-Key", API_KEY)
            .json(&body),
    )
    .await
    .expect(200);
    assert_eq!(
        time(&app.status("kept").await.expect(200)["expires_at"]),
        "2099-01-01T00:00:00Z"
    );
    let kept = app.set_expiry("kept", Value::Null).await.expect(200);
    assert_eq!(
        kept,
        json!({"session_id": "kept"}),
        "absent: kept until deleted"
    );

    let set = app
        .set_expiry("old", json!("2020-01-01T00:00:00Z"))
        .await
        .expect(200);
    assert_eq!(time(&set["expires_at"]), "2020-01-01T00:00:00Z");
    let mut purged = false;
    for _ in 0..50 {
        if app.status("old").await.expect(200)["indexed"] == false {
            purged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(purged, "the purge deleted the expired session");
    let selfie = fixture_bytes("fr_obama1.jpg");
    assert!(matched(&app.search("old", selfie, &[]).await.expect(200)).is_empty());
    assert_eq!(app.status("kept").await.expect(200)["photos_indexed"], 1);

    let audit = app.audit("session_id=old").await.expect(200);
    let event = &audit["events"][0];
    assert_eq!(event["action"], "expire");
    assert_eq!(
        (
            event["deleted_photos"].clone(),
            event["deleted_faces"].clone()
        ),
        (json!(2), json!(2))
    );
    assert_eq!(event["key_id"], Value::Null);
    let metrics = app
        .client
        .get(app.url("/api/v2/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("facepass_faces_deleted_total{action=\"expire\"} 2"),
        "{metrics}"
    );
    // Indexed again, the session starts clean (and gets the default retention again).
    app.index("old", "again", "fr_biden.jpg", false)
        .await
        .expect(200);
    let status = app.status("old").await.expect(200);
    assert_eq!(status["photos_indexed"], 1);
    assert!(status["expires_at"].as_str().unwrap() > "2026");
}

#[tokio::test]
async fn forget_erases_the_guest_and_keeps_the_people_beside_them() {
    let app = spawn_app(&[]).await;
    let files = [
        "fr_obama.jpg",
        "fr_obama2.jpg",
        "fr_two_people.jpg",
        "fr_biden.jpg",
    ];
    app.batch("evt", &photos(&files), false).await.expect(200);
    let group = crate::support::photo_id("fr_two_people.jpg");
    let before = matched(
        &app.search("evt", fixture_bytes("fr_obama1.jpg"), &[])
            .await
            .expect(200),
    );
    assert!(before.contains(&group), "obama is found before: {before:?}");

    let report = app
        .forget("evt", &["fr_obama1.jpg", "fr_obama3.jpg"])
        .await
        .expect(200);
    assert_eq!(report["session_id"], "evt");
    assert_eq!(report["deleted_faces"], 3);
    assert_eq!(report["photos_affected"], 3);
    let after = app.search("evt", fixture_bytes("fr_obama1.jpg"), &[]).await;
    assert!(
        after.status == 422 || matched(&after.body).is_empty(),
        "obama is gone: {:#}",
        after.body
    );
    let biden = matched(
        &app.search("evt", fixture_bytes("fr_biden2.jpg"), &[])
            .await
            .expect(200),
    );
    assert!(
        biden.contains(&group),
        "biden is still found in the group photo: {biden:?}"
    );
    let status = app.status("evt").await.expect(200);
    assert_eq!(status["photos_indexed"], 4, "the photos stay indexed");

    let audit = app.audit("limit=1").await.expect(200);
    let event = &audit["events"][0];
    assert_eq!(event["action"], "forget");
    assert_eq!(event["deleted_faces"], 3);
    assert_eq!(event["key_id"], test_key_id());
    // A selfie without a face deletes nothing.
    app.forget("evt", &["skimage_rocket.jpg"])
        .await
        .expect_error(422, "no_face_detected");
}

#[tokio::test]
async fn the_audit_lists_every_deletion_newest_first_by_key_fingerprint_in_pages() {
    let app = spawn_app(&[]).await;
    app.batch("evt", &photos(&["fr_obama.jpg", "fr_biden.jpg"]), false)
        .await
        .expect(200);
    let obama = crate::support::photo_id("fr_obama.jpg");
    app.delete_photo("evt", &obama).await.expect(200);
    app.delete_session("evt").await.expect(200);
    app.delete_session("other").await.expect(200);

    let all = app.audit("").await.expect(200);
    let events = all["events"].as_array().unwrap();
    let summary: Vec<(&str, &str, Value, Value)> = events
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["session_id"].as_str().unwrap(),
                e["deleted_photos"].clone(),
                e["photo_id"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("delete_session", "other", json!(0), Value::Null),
            ("delete_session", "evt", json!(1), Value::Null),
            ("delete_photo", "evt", json!(1), json!(obama)),
        ]
    );
    assert!(events.iter().all(|e| e["key_id"] == test_key_id()));
    assert!(
        !all.to_string().contains(API_KEY),
        "the key itself is never shown"
    );
    assert_eq!(all["next_cursor"], Value::Null);

    let first = app.audit("limit=2").await.expect(200);
    assert_eq!(first["events"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let rest = app
        .audit(&format!("limit=2&cursor={cursor}"))
        .await
        .expect(200);
    assert_eq!(rest["events"][0]["action"], "delete_photo");
    assert_eq!(rest["next_cursor"], Value::Null);
    assert_eq!(
        app.audit("since=2999-01-01T00:00:00Z").await.expect(200)["events"],
        json!([])
    );
    app.audit("cursor=abc")
        .await
        .expect_error(400, "invalid_request");
    app.audit("limit=0")
        .await
        .expect_error(400, "invalid_request");
    let anonymous = app.send(app.client.get(app.url("/api/v2/audit"))).await;
    anonymous.expect_error(401, "unauthorized");
}
