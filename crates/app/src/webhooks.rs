//! Webhook delivery per [Standard Webhooks](https://www.standardwebhooks.com/): every replica
//! writes the guest watches' due `watch.matched` webhooks to the outbox (the job queue writes
//! `index.job.completed` there when a job finishes), claims due webhooks from it, signs each
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of
//! "{id}.{timestamp}.{body}">`), POSTs it, and records the outcome: 2xx delivered, 410 Gone
//! disables the target, anything else (or no answer) is retried on the standard schedule.
//! At least once: a receiver deduplicates by `webhook-id`, the same on every attempt.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use facepass_domain::jobs::{Delivery, DeliveryOutcome, JobId, webhook_retry_at};
use facepass_domain::ports::{Embedder, PhotoSource, VectorStore};
use hmac::{Hmac, Mac};
use poem_openapi::types::ToJSON;
use sha2::Sha256;

use crate::api::jobs::JobBody;
use crate::api::state::AppState;
use crate::api::watches::notice_json;

/// How long a deliverer holds a webhook (longer than an attempt can take).
const LEASE: Duration = Duration::from_secs(120);

/// Signs webhook bodies with the key of a `whsec_` secret.
#[derive(Clone)]
pub struct Signer {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(..)")
    }
}

impl Signer {
    /// The signer of `secret` (`whsec_` and the base64 key).
    pub fn new(secret: &str) -> anyhow::Result<Self> {
        let key = secret
            .strip_prefix("whsec_")
            .and_then(|k| STANDARD.decode(k).ok())
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                anyhow::anyhow!("webhooks.secret must be whsec_ followed by a base64 key")
            })?;
        let mac = Hmac::<Sha256>::new_from_slice(&key)
            .map_err(|e| anyhow::anyhow!("webhooks.secret: {e}"))?;
        Ok(Self { mac })
    }

    /// The `webhook-signature` header of a message.
    pub fn sign(&self, id: &str, timestamp: i64, body: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// Starts this replica's deliverer on the state's task tracker (it stops with the state).
///
/// # Errors
/// When the HTTP client cannot be built.
pub fn start<E: Embedder, S: VectorStore, P: PhotoSource>(
    state: &Arc<AppState<E, S, P>>,
) -> anyhow::Result<()> {
    let settings = &state.webhook_settings;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(settings.timeout_secs))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let signer = Some(settings.secret.expose())
        .filter(|s| !s.is_empty())
        .map(Signer::new)
        .transpose()?;
    if signer.is_none() {
        tracing::warn!("webhooks.secret is not set: finished jobs are not announced");
    }
    let worker = format!("webhooks-{}", uuid::Uuid::now_v7().simple());
    let state = state.clone();
    state.tasks.clone().spawn(async move {
        let poll = Duration::from_millis(state.webhook_settings.poll_ms);
        while !state.stopping.load(Ordering::SeqCst) {
            announce_watches(&state).await;
            match state
                .jobs
                .claim_deliveries(&worker, 8, SystemTime::now(), LEASE)
                .await
            {
                Ok(due) => {
                    for delivery in due {
                        deliver(&state, &client, signer.as_ref(), delivery).await;
                    }
                }
                Err(error) => tracing::warn!(%error, "claiming webhooks failed; retrying"),
            }
            tokio::time::sleep(poll).await;
        }
    });
    Ok(())
}

/// Writes the `watch.matched` webhooks that are due to the outbox (delivered below like any
/// other). Without a `webhooks.url` nothing is announced: the matches stay readable.
async fn announce_watches<E, S, P>(state: &AppState<E, S, P>) {
    if state.webhook_settings.url.is_empty() {
        return;
    }
    let settings = &state.watch_settings;
    let interval = Duration::from_secs(settings.notify_interval_secs);
    match state
        .watches
        .notify_due(
            SystemTime::now(),
            interval,
            settings.notify_batch,
            &notice_json,
        )
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::info!(watches = n, "watch.matched webhooks written"),
        Err(error) => tracing::warn!(%error, "announcing guest watches failed; retrying"),
    }
}

/// The body of a webhook: a `watch.matched` event's data as written when it happened, an
/// `index.job.completed` event's the job as `GET /index/jobs/{id}` answers.
async fn body<E, S, P>(state: &AppState<E, S, P>, delivery: &Delivery) -> Result<String, String> {
    let (timestamp, data): (DateTime<Utc>, _) = match &delivery.payload {
        Some(payload) => (
            Utc::now(),
            serde_json::from_str(payload).map_err(|e| format!("stored webhook data: {e}"))?,
        ),
        None => {
            let id = JobId::parse(&delivery.subject).map_err(|e| e.to_string())?;
            let job = state
                .jobs
                .job(&id)
                .await
                .map_err(|e| e.to_string())?
                .ok_or("the job no longer exists")?;
            let at = job.finished_at.unwrap_or(job.created_at).into();
            (at, JobBody::from(job).to_json())
        }
    };
    let event = serde_json::json!({
        "type": delivery.event_type,
        "timestamp": timestamp.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": data,
    });
    Ok(event.to_string())
}

/// One attempt: what it came to, and the target it was for.
async fn attempt<E, S, P>(
    state: &AppState<E, S, P>,
    client: &reqwest::Client,
    signer: Option<&Signer>,
    delivery: &Delivery,
    target: &str,
) -> DeliveryOutcome {
    let Some(signer) = signer else {
        return DeliveryOutcome::Failed("webhooks.secret is not set".into());
    };
    match state.jobs.is_disabled(target).await {
        Ok(true) => return DeliveryOutcome::Failed("the target answered 410 Gone before".into()),
        Ok(false) => {}
        Err(error) => return retry(delivery, error.to_string()),
    }
    let body = match body(state, delivery).await {
        Ok(body) => body,
        Err(error) => return retry(delivery, error),
    };
    let timestamp = Utc::now().timestamp();
    let answer = client
        .post(target)
        .header("content-type", "application/json")
        .header("webhook-id", &delivery.event_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            signer.sign(&delivery.event_id, timestamp, &body),
        )
        .body(body)
        .send()
        .await;
    match answer {
        Ok(response) if response.status().is_success() => DeliveryOutcome::Delivered,
        Ok(response) if response.status() == reqwest::StatusCode::GONE => {
            DeliveryOutcome::Gone("410 Gone".into())
        }
        Ok(response) => retry(delivery, format!("answered {}", response.status())),
        Err(error) => retry(delivery, error.to_string()),
    }
}

fn retry(delivery: &Delivery, error: String) -> DeliveryOutcome {
    match webhook_retry_at(delivery.attempt, SystemTime::now()) {
        Some(at) => DeliveryOutcome::RetryAt(at, error),
        None => DeliveryOutcome::Failed(error),
    }
}

async fn deliver<E, S, P>(
    state: &AppState<E, S, P>,
    client: &reqwest::Client,
    signer: Option<&Signer>,
    delivery: Delivery,
) {
    let default = Some(state.webhook_settings.url.clone()).filter(|u| !u.is_empty());
    let Some(target) = delivery.target.clone().or(default) else {
        let none = DeliveryOutcome::Failed("no callback_url and no webhooks.url".into());
        record(state, &delivery, "", none).await;
        return;
    };
    let outcome = attempt(state, client, signer, &delivery, &target).await;
    record(state, &delivery, &target, outcome).await;
}

async fn record<E, S, P>(
    state: &AppState<E, S, P>,
    delivery: &Delivery,
    target: &str,
    outcome: DeliveryOutcome,
) {
    let result = match &outcome {
        DeliveryOutcome::Delivered => "delivered",
        DeliveryOutcome::RetryAt(..) => "retried",
        DeliveryOutcome::Failed(_) => "failed",
        DeliveryOutcome::Gone(_) => "gone",
    };
    state.metrics.webhooks.with_label_values(&[result]).inc();
    match &outcome {
        DeliveryOutcome::Delivered => {
            tracing::info!(subject = %delivery.subject, id = %delivery.event_id, target, "webhook delivered");
        }
        DeliveryOutcome::RetryAt(_, error)
        | DeliveryOutcome::Failed(error)
        | DeliveryOutcome::Gone(error) => {
            tracing::warn!(subject = %delivery.subject, id = %delivery.event_id, target, attempt = delivery.attempt, result, %error, "webhook not delivered");
        }
    }
    if let Err(error) = state
        .jobs
        .delivered(delivery, target, outcome, SystemTime::now())
        .await
    {
        tracing::warn!(%error, id = %delivery.event_id, "recording a webhook attempt failed; it is attempted again");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_with_an_independent_implementation() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let signer = Signer::new(secret).unwrap();
        let (id, body) = ("msg_p5jXN8AQM9LWM0D4loKWxJek", r#"{"test": 2432232314}"#);
        let timestamp = Utc::now().timestamp();
        let mut headers = poem::http::HeaderMap::new();
        headers.insert("webhook-id", id.parse().unwrap());
        headers.insert("webhook-timestamp", timestamp.to_string().parse().unwrap());
        let signature = signer.sign(id, timestamp, body);
        headers.insert("webhook-signature", signature.parse().unwrap());
        let verifier = standardwebhooks::Webhook::new(secret).unwrap();
        verifier.verify(body.as_bytes(), &headers).unwrap();
        let tampered = r#"{"test": 2432232315}"#;
        assert!(verifier.verify(tampered.as_bytes(), &headers).is_err());
        assert!(Signer::new("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(Signer::new("whsec_").is_err());
    }
}
