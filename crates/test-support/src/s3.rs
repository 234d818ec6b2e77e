//! Fresh buckets on the test S3 server (`cargo xtask services up`), each emptied and removed
//! when its guard goes, whether the test passed or not.

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;

/// The credentials `scripts/services.sh` configures.
pub const ACCESS_KEY: &str = "facepass-dev";
pub const SECRET_KEY: &str = "facepass-dev-secret";
pub const REGION: &str = "us-east-1";

/// `$FACEPASS_TEST_S3_ENDPOINT` or the services' default.
pub fn endpoint() -> String {
    std::env::var("FACEPASS_TEST_S3_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:58333".into())
}

/// A client of the test server (path-style, static credentials).
pub fn client() -> Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(
            ACCESS_KEY, SECRET_KEY, None, None, "tests",
        ))
        .force_path_style(true)
        .build();
    Client::from_conf(config)
}

/// A bucket of its own holding the given objects; removed with the guard.
#[derive(Debug)]
pub struct TestBucket {
    pub name: String,
}

impl TestBucket {
    /// A new bucket named `{prefix}-{uuid}` with `objects` (key, bytes) in it.
    pub async fn create(prefix: &str, objects: &[(impl AsRef<str>, Vec<u8>)]) -> Self {
        let name = format!("{prefix}-{}", uuid::Uuid::now_v7().simple());
        let client = client();
        client
            .create_bucket()
            .bucket(&name)
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!("{e:?}: start the test services with `cargo xtask services up`")
            });
        for (key, body) in objects {
            let key = key.as_ref();
            client
                .put_object()
                .bucket(&name)
                .key(key)
                .body(ByteStream::from(body.clone()))
                .send()
                .await
                .unwrap_or_else(|e| panic!("put {key}: {e:?}"));
        }
        Self { name }
    }
}

impl Drop for TestBucket {
    fn drop(&mut self) {
        let bucket = self.name.clone();
        crate::run_detached(async move {
            let client = client();
            let mut token = None;
            loop {
                let Ok(page) = client
                    .list_objects_v2()
                    .bucket(&bucket)
                    .set_continuation_token(token)
                    .send()
                    .await
                else {
                    break;
                };
                for object in page.contents() {
                    if let Some(key) = object.key() {
                        let _ = client.delete_object().bucket(&bucket).key(key).send().await;
                    }
                }
                token = page.next_continuation_token().map(str::to_owned);
                if token.is_none() {
                    break;
                }
            }
            let _ = client.delete_bucket().bucket(&bucket).send().await;
        });
    }
}
