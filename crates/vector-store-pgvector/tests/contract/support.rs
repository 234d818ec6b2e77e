//! Fresh databases on the test server.

use facepass_domain::EmbeddingSpace;
use facepass_vector_store_pgvector::{PgOptions, PgVectorStore, connect};
use facepass_vector_store_sql::contract::Fresh;
use sea_orm::ConnectionTrait;

pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:55432/postgres";

pub fn admin_url() -> String {
    std::env::var("FACEPASS_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
}

/// Creates an empty database and returns its URL and name.
pub async fn create_database() -> (String, String) {
    let admin = connect(
        &admin_url(),
        &PgOptions {
            max_connections: 1,
            ..Default::default()
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}: start the test server with `cargo xtask services up`"));
    let name = format!("facepass_test_{}", uuid::Uuid::now_v7().simple());
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create database");
    let base = admin_url();
    let url = format!(
        "{}/{name}",
        base.rsplit_once('/').expect("URL has a database").0
    );
    (url, name)
}

pub async fn drop_database(name: String) {
    if let Ok(admin) = connect(
        &admin_url(),
        &PgOptions {
            max_connections: 1,
            ..Default::default()
        },
    )
    .await
    {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
    }
}

pub async fn fresh(space: EmbeddingSpace) -> Fresh<PgVectorStore> {
    let (url, name) = create_database().await;
    let store = facepass_vector_store_pgvector::open(&url, space, &PgOptions::default())
        .await
        .expect("store opens and migrates");
    Fresh {
        store,
        cleanup: Some(Box::pin(drop_database(name))),
    }
}
