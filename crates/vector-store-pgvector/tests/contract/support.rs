//! A fresh store on a database of its own, dropped with the test.

use facepass_domain::EmbeddingSpace;
use facepass_test_support::Guarded;
use facepass_test_support::postgres::TestDatabase;
use facepass_vector_store_pgvector::{PgOptions, PgVectorStore};

pub async fn fresh(space: EmbeddingSpace) -> Guarded<PgVectorStore> {
    let database = TestDatabase::create().await;
    let store = facepass_vector_store_pgvector::open(
        &database.url,
        space,
        &PgOptions::default(),
        facepass_store_contract::options(),
    )
    .await
    .expect("store opens and migrates");
    Guarded::new(store, database)
}
