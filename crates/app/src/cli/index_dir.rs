//! `facepass index-dir DIR --session S`: index a local folder of photos into the configured
//! store through the same use case as `POST /index/batch`, with a progress bar.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use facepass_domain::use_cases::BatchItem;
use facepass_domain::{PhotoId, PhotoKey, SessionId};
use facepass_embedder_onnx::OnnxEmbedder;
use facepass_photo_source_fs::FsPhotoSource;
use indicatif::{ProgressBar, ProgressStyle};

use crate::adapters;
use crate::api::errors::ApiError;
use crate::metrics::Metrics;
use crate::settings::Settings;
use crate::wiring::UseCases;

#[derive(Debug, clap::Args)]
pub struct IndexDirArgs {
    /// Folder of photos (JPEG, PNG, WebP), searched recursively.
    pub dir: PathBuf,
    /// Session the photos belong to.
    #[arg(long)]
    pub session: String,
    /// Recompute photos that are already indexed.
    #[arg(long)]
    pub force: bool,
    /// Photos in flight at once (default: indexing.batch_concurrency).
    #[arg(long)]
    pub concurrency: Option<usize>,
}

const EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "webp"];

/// The image files below `dir`, as keys relative to it, sorted.
fn photos_below(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
            {
                let relative = path.strip_prefix(dir)?.to_string_lossy().replace('\\', "/");
                found.push(relative);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// A photo id from a relative path: characters outside the id alphabet become `_`.
pub fn photo_id_for(key: &str) -> String {
    let id: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_.:-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    id.chars()
        .rev()
        .take(128)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect()
}

pub fn run(settings: Settings, args: IndexDirArgs) -> anyhow::Result<()> {
    let session = SessionId::parse(args.session.as_str())?;
    let keys = photos_below(&args.dir)?;
    if keys.is_empty() {
        anyhow::bail!("no JPEG, PNG or WebP file below {}", args.dir.display());
    }
    let mut items = Vec::with_capacity(keys.len());
    let mut ids = std::collections::HashMap::new();
    for key in &keys {
        let id = photo_id_for(key);
        if let Some(other) = ids.insert(id.clone(), key.clone()) {
            anyhow::bail!("{other} and {key} would both be photo id {id}; rename one");
        }
        items.push(BatchItem {
            photo: PhotoId::parse(id)?,
            key: PhotoKey::parse(key.as_str())?,
        });
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let embedder = Arc::new(OnnxEmbedder::start(&settings.models.embedder_config()?)?);
        let store = Arc::new(adapters::open_store(&settings, facepass_domain::ports::Embedder::space(&*embedder)).await?);
        let photos = Arc::new(FsPhotoSource::new(&args.dir, settings.photos.max_bytes)?);
        let mut settings = settings;
        if let Some(concurrency) = args.concurrency {
            settings.indexing.batch_concurrency = concurrency;
        }
        // Keep the embedder's queue from overflowing: the batch waits for inference, it never
        // answers "overloaded" to itself.
        settings.indexing.batch_concurrency = settings
            .indexing
            .batch_concurrency
            .clamp(1, settings.models.queue.max(1));
        let stopping = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let metrics = Arc::new(Metrics::new()?);
        let use_cases = UseCases::new(
            embedder,
            store.clone(),
            photos,
            store,
            &settings,
            metrics,
            stopping,
        )?;
        // As the API does: a new session gets `retention.default_days`.
        use_cases.lifecycle.before_indexing(&session, None).await?;
        let batch = use_cases.index_batch;

        let bar = ProgressBar::new(items.len() as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} photos, {per_sec}, eta {eta} {msg}",
            )?
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        let report = batch
            .execute(&session, items, args.force, |_, _, _| bar.inc(1))
            .await;
        bar.finish_with_message("done");

        for (photo, error) in report.errors() {
            let api = ApiError::from(error.clone());
            eprintln!("failed {photo}: {} ({})", api.code.as_str(), error);
        }
        println!(
            "session {session}: {} photos, {} indexed ({} skipped), {} failed, {} faces, {} without faces",
            report.total,
            report.indexed,
            report.skipped,
            report.failed,
            report.faces_indexed,
            report.photos_without_faces
        );
        anyhow::Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photo_ids_keep_the_alphabet_and_replace_the_rest() {
        assert_eq!(photo_id_for("day 1/IMG_0001.JPG"), "day_1_IMG_0001.JPG");
        assert_eq!(photo_id_for("été.jpg"), "_t_.jpg");
        assert_eq!(
            photo_id_for(&format!("{}/a.jpg", "x".repeat(200))).len(),
            128
        );
    }
}
