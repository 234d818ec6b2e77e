//! The `PhotoSource` contract: what every photo source does the same way, run by each
//! adapter's tests against its real backend through [`photo_source_contract!`].
//!
//! The adapter's setup seeds its backend with [`content`] and a byte limit of [`LIMIT`]:
//! `async fn(&[(&str, Vec<u8>)], u64) -> Guarded<impl PhotoSource>`.

use facepass_domain::PhotoKey;
use facepass_domain::ports::{PhotoSource, PhotoSourceError};

/// The byte limit the contract's sources are created with.
pub const LIMIT: u64 = 50;

/// The objects every contract source holds: a small photo in a session folder, one exactly at
/// the limit, one over it.
pub fn content() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("sessions/s1/p1.jpg", b"hello".to_vec()),
        ("at-limit.jpg", vec![1u8; LIMIT as usize]),
        ("big.jpg", vec![7u8; 2 * LIMIT as usize]),
    ]
}

fn key(k: &str) -> PhotoKey {
    PhotoKey::parse(k).expect("a valid key")
}

pub async fn a_photo_is_fetched_whole(source: &impl PhotoSource) {
    let bytes = source.fetch(&key("sessions/s1/p1.jpg")).await;
    assert_eq!(bytes.expect("fetched").as_slice(), b"hello");
}

pub async fn a_photo_at_the_limit_is_fetched(source: &impl PhotoSource) {
    let bytes = source.fetch(&key("at-limit.jpg")).await.expect("fetched");
    assert_eq!(bytes.as_slice().len() as u64, LIMIT);
}

pub async fn a_photo_over_the_limit_is_too_large(source: &impl PhotoSource) {
    assert_eq!(
        source.fetch(&key("big.jpg")).await,
        Err(PhotoSourceError::TooLarge { limit_bytes: LIMIT })
    );
}

pub async fn missing_keys_and_prefixes_are_not_found(source: &impl PhotoSource) {
    for missing in [
        "sessions/s1/nope.jpg",
        "sessions/s1",
        "sessions/s1/p1.jpg/x",
    ] {
        assert_eq!(
            source.fetch(&key(missing)).await,
            Err(PhotoSourceError::NotFound),
            "{missing}"
        );
    }
}

pub async fn a_reachable_source_is_healthy(source: &impl PhotoSource) {
    source.health().await.expect("healthy");
}

/// Expands to one test per contract case. `$setup` is an async function
/// `fn(&[(&str, Vec<u8>)], u64) -> Guarded<impl PhotoSource>`.
#[macro_export]
macro_rules! photo_source_contract {
    ($setup:path) => {
        $crate::photo_source_contract!(@cases $setup;
            a_photo_is_fetched_whole,
            a_photo_at_the_limit_is_fetched,
            a_photo_over_the_limit_is_too_large,
            missing_keys_and_prefixes_are_not_found,
            a_reachable_source_is_healthy,
        );
    };
    (@cases $setup:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let seeded = $setup(
                    &$crate::photo_source::content(),
                    $crate::photo_source::LIMIT,
                )
                .await;
                $crate::photo_source::$case(&seeded.value).await;
            }
        )*
    };
}
