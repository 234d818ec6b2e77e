//! Fresh databases on the test PostgreSQL server (`cargo xtask services up`), each dropped
//! when its guard goes, whether the test passed or not.

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

/// The server `scripts/services.sh` starts.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:55432/postgres";

/// The maintenance database's URL: `$FACEPASS_TEST_DATABASE_URL` or the services' default.
pub fn admin_url() -> String {
    std::env::var("FACEPASS_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
}

async fn admin() -> DatabaseConnection {
    Database::connect(admin_url())
        .await
        .unwrap_or_else(|e| panic!("{e}: start the test services with `cargo xtask services up`"))
}

/// An empty database of its own; dropped (connections closed by force) with the guard.
#[derive(Debug)]
pub struct TestDatabase {
    pub url: String,
    pub name: String,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let name = format!("facepass_test_{}", uuid::Uuid::now_v7().simple());
        admin()
            .await
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create database");
        let base = admin_url();
        let server = base.rsplit_once('/').expect("a database in the URL").0;
        Self {
            url: format!("{server}/{name}"),
            name,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        crate::run_detached(async move {
            if let Ok(admin) = Database::connect(admin_url()).await {
                let _ = admin.execute_unprepared(&sql).await;
            }
        });
    }
}
