//! Backups through the resource market (spec/resources.md): a user backs up a file by size and
//! reliability target (the engine picks k of n and the holders), lists, restores and deletes
//! its backups; a peer lists the fragments it holds and reports them (a missing one is
//! repaired). peerex places and meters the fragments; the peers carry the bytes.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use peerex_engine::{Amount, Op};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::http::error::{written, ApiError, ApiResult, Refused, Written};
use crate::http::extract::{Body, IdempotencyKey, PathId, User};
use crate::state::AppState;
use crate::views::{self, After, BackupView, FragmentReportView, RestoreView};
use crate::writer::Action;

/// Longest file name.
const MAX_FILE: usize = 200;
/// Most files in one fragment report.
const MAX_REPORTED: usize = 10_000;

#[derive(Deserialize, ToSchema)]
pub struct NewBackup {
    pub file: String,
    /// The file's size in bytes.
    pub bytes: u64,
    /// The wanted file availability, e.g. "0.99999" (default).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "0.99999")]
    pub target: Option<Amount>,
}

/// Backs up a file: 201 with its (k, n) and holders.
#[utoipa::path(post, path = "/backups", tag = "resources", security(("bearer" = [])), request_body = NewBackup,
    responses((status = 201, description = "the file's coding and holders", body = BackupView), Refused))]
pub async fn put(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<NewBackup>,
) -> ApiResult<Written> {
    if b.file.is_empty() || b.file.chars().count() > MAX_FILE {
        return Err(ApiError::bad_request("invalid_argument", format!("a file name has 1 to {MAX_FILE} characters")));
    }
    let target = b.target.unwrap_or(Amount(999_990));
    let op = Op::Backup { file: b.file.clone(), owner: user.name.clone(), bytes: b.bytes, target };
    let action = Action::engine(op, Some(&user.name), After::Backup(b.file));
    written(StatusCode::CREATED, state.submit(action, key.scoped(&user.name)).await)
}

/// The caller's backups.
#[utoipa::path(get, path = "/backups", tag = "resources", security(("bearer" = [])),
    responses((status = 200, description = "the caller's backups", body = Vec<BackupView>), Refused))]
pub async fn list(State(state): State<AppState>, user: User) -> Json<Vec<BackupView>> {
    Json(views::resources::backups(&state.shared.engine(), &user.name))
}

/// Only the owner may restore or delete a backup (read once the readers' engine has the
/// owner's own writes: a backup stored a moment ago is found).
async fn own(state: &AppState, user: &User, file: &str) -> ApiResult<()> {
    state.own_writes(&user.name).await?;
    let engine = state.shared.engine();
    match views::resources::backup(&engine, file) {
        Some(b) if b.owner == user.name => Ok(()),
        Some(_) => Err(ApiError::forbidden("only the owner may restore or delete a backup")),
        None => Err(ApiError::new(404, "unknown_file", format!("no backup {file:?}"))),
    }
}

/// Restores a file: k online holders serve it (metered; allowed also when frozen).
#[utoipa::path(post, path = "/backups/{id}/restore", tag = "resources", security(("bearer" = [])), params(("id" = String, Path, description = "the file")),
    responses((status = 200, description = "the holders that serve the restore", body = RestoreView), Refused))]
pub async fn restore(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    PathId(file): PathId,
) -> ApiResult<Written> {
    own(&state, &user, &file).await?;
    let action = Action::engine(Op::RetrieveFile { file: file.clone() }, Some(&user.name), After::Restore(file));
    written(StatusCode::OK, state.submit(action, key.scoped(&user.name)).await)
}

/// Deletes a backup; its holders free the space.
#[utoipa::path(delete, path = "/backups/{id}", tag = "resources", security(("bearer" = [])), params(("id" = String, Path, description = "the file")),
    responses((status = 200, description = "deleted"), Refused))]
pub async fn delete(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    PathId(file): PathId,
) -> ApiResult<Written> {
    own(&state, &user, &file).await?;
    let action = Action::engine(Op::DeleteFile { file }, Some(&user.name), After::Nothing);
    written(StatusCode::OK, state.submit(action, key.scoped(&user.name)).await)
}

/// The fragments the caller's peer holds (and must serve).
#[utoipa::path(get, path = "/peers/me/fragments", tag = "resources", security(("bearer" = [])),
    responses((status = 200, description = "the files whose fragment the caller's peer holds", body = Vec<BackupView>), Refused))]
pub async fn held(State(state): State<AppState>, user: User) -> Json<Vec<BackupView>> {
    Json(views::resources::held_fragments(&state.shared.engine(), &user.name))
}

#[derive(Deserialize, ToSchema)]
pub struct Report {
    /// The files whose fragment the peer holds.
    pub files: Vec<String>,
}

/// The caller's peer reports the fragments it holds; the missing ones are repaired.
#[utoipa::path(post, path = "/peers/fragments", tag = "resources", security(("bearer" = [])), request_body = Report,
    responses((status = 200, description = "what was lost and repaired", body = FragmentReportView), Refused))]
pub async fn report(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<Report>,
) -> ApiResult<Written> {
    if b.files.len() > MAX_REPORTED || b.files.iter().any(|f| f.is_empty() || f.chars().count() > MAX_FILE) {
        return Err(ApiError::bad_request(
            "invalid_argument",
            format!("at most {MAX_REPORTED} files of 1 to {MAX_FILE} characters"),
        ));
    }
    let op = Op::ReportFragments { peer: user.name.clone(), files: b.files };
    let action = Action::engine(op, Some(&user.name), After::FragmentReport);
    written(StatusCode::OK, state.submit(action, key.scoped(&user.name)).await)
}
