//! Database errors → `StoreError`: lost or unreachable connections are `Unavailable` (the
//! caller may retry; nothing was committed), everything else `Unexpected`.

use facepass_domain::ports::StoreError;
use sea_orm::{DbErr, RuntimeErr};

pub fn store_error(e: DbErr) -> StoreError {
    let unavailable = match &e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(inner)) | DbErr::Query(RuntimeErr::SqlxError(inner)) => {
            matches!(
                inner.as_ref(),
                sea_orm::sqlx::Error::Io(_)
                    | sea_orm::sqlx::Error::PoolTimedOut
                    | sea_orm::sqlx::Error::PoolClosed
                    | sea_orm::sqlx::Error::WorkerCrashed
                    | sea_orm::sqlx::Error::Tls(_)
            ) || is_admin_shutdown(inner.as_ref())
        }
        _ => false,
    };
    if unavailable {
        StoreError::Unavailable(e.to_string())
    } else {
        StoreError::Unexpected(e.to_string())
    }
}

/// Postgres `57P01 admin_shutdown` / `57P02 crash_shutdown` / `57P03 cannot_connect_now`:
/// the server terminated this session.
fn is_admin_shutdown(e: &sea_orm::sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| code.starts_with("57P"))
}
