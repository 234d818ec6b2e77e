//! [`Syntax`]: the pieces of SQL text that differ between backends, which each dialect gives.
//! The shared statements are written once with Postgres-style `$n` placeholders and these
//! pieces, so nothing in this crate branches on the backend.

use sea_orm::{DbBackend, Statement, Value};

/// The SQL text of one backend. Every method returns a fragment to splice into a statement
/// (with a leading space where it may be empty), never a whole statement.
pub trait Syntax: Send + Sync {
    /// The backend sea-orm binds the statements' values for.
    fn backend(&self) -> DbBackend;

    /// The statement's `$1, $2, ...` as this backend numbers its parameters (same binding
    /// order, reusable).
    fn placeholders(&self, sql: &str) -> String;

    /// Parameter `$n` (a hyphenated UUID bound as text) compared with a UUID column.
    fn uuid_param(&self, n: usize) -> String;

    /// Parameter `$n` (Unix milliseconds) as this backend's timestamp column type.
    fn millis_param(&self, n: usize) -> String;

    /// The timestamp column (or aggregate of one) `column` as Unix milliseconds.
    fn millis_column(&self, column: &str) -> String;

    /// A query whose one column (`value`) is each element of the JSON array of strings in
    /// parameter `$n`, compared bytewise.
    fn json_texts(&self, n: usize) -> String;

    /// [`Self::json_texts`] typed as a UUID column.
    fn json_uuids(&self, n: usize) -> String;

    /// The collation clause that orders a text column bytewise (empty where that is the
    /// default).
    fn bytewise(&self) -> &'static str;

    /// The clause that locks the rows a `SELECT` reads until the transaction ends (empty where
    /// the transaction's first write already holds the database's only write lock).
    fn for_update(&self) -> &'static str;

    /// [`Self::for_update`], skipping rows another transaction holds.
    fn for_update_skip_locked(&self) -> &'static str;

    /// The statement a write runs before it reads the session row, if any (SQLite: takes the
    /// generation counter, hence the database's write lock, first).
    fn generation_prelude(&self) -> Option<&'static str>;

    /// The statement a transaction that reads before it writes runs first, so that it holds
    /// the write lock from the start where the backend has one (SQLite: a read transaction
    /// cannot always become a writer); `None` where rows are locked as they are written.
    fn write_lock(&self) -> Option<&'static str>;

    /// A table expression, aliased `g`, whose column `v` is a fresh generation.
    fn fresh_generation(&self) -> &'static str;

    /// A scalar expression for a fresh generation, evaluated where it stands (on Postgres
    /// inside `ON CONFLICT DO UPDATE`, after the row's lock is taken).
    fn fresh_generation_value(&self) -> &'static str;

    /// The statement a session delete runs first to take the session row's lock, creating a
    /// row where none exists (`$1` the session); `None` where the delete's first write
    /// already holds the database's only write lock.
    fn lock_session_for_delete(&self) -> Option<&'static str>;

    /// The statement a migration step's transaction runs first so that processes starting
    /// together apply each step once; `None` where the step's first write serialises them.
    fn migration_lock(&self) -> Option<&'static str>;

    /// The statement run after biometric data is erased (a guest's faces, a watch's
    /// embeddings) so that the deleted bytes leave the database's files now, not at some
    /// later maintenance (SQLite: a WAL checkpoint; the deleted cells are zeroed by
    /// `secure_delete`); `None` where nothing can be done from a session.
    fn erasure_checkpoint(&self) -> Option<&'static str>;

    /// A statement of `sql` (with `$n` placeholders) and its values.
    fn statement(&self, sql: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(self.backend(), self.placeholders(sql), values)
    }
}
