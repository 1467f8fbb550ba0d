//! Arbitrated series (statements, arbiters' reports, disputes, the operator's dispute window)
//! and automated market makers (issue 12; spec/exchange.md, docs/prediction.md). Bodies are
//! the engine commands' fields minus `user`; the engine checks every rule and refuses with a
//! stable code, changing nothing.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use peerex_engine::arbitrated::CaseParams;
use peerex_engine::{Amount, Op, Timestamp};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::http::error::{written, ApiError, ApiResult, Refused, Written};
use crate::http::exchange::check_issue;
use crate::http::extract::{Body, IdempotencyKey, Query, User};
use crate::state::AppState;
use crate::views::{self, After, Credits, DisputeSettingsView, IssueView, MakerView, TimeText};
use crate::writer::Action;

/// Longest statement in words (characters).
pub const MAX_STATEMENT: usize = 1000;

/// The optional arbitration parameters of a statement or a dispute.
#[derive(Deserialize, ToSchema, Default)]
pub struct ArbitrationParams {
    /// Admissible reports needed to decide (default 3; 2 to 10000).
    #[serde(default)]
    #[schema(minimum = 2, maximum = 10000)]
    pub min_reports: Option<u32>,
    /// Days a report window lasts (default 3; 1 to 365).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 365)]
    pub report_days: Option<i64>,
    /// Lower bound of the arbiters' reward scale k (default 1 credit; at most the bond).
    #[serde(default)]
    #[schema(value_type = Option<Credits>)]
    pub k_floor: Option<Amount>,
    /// Largest |fixed - unfixed| units an arbiter may hold and still report (default: no cap).
    #[serde(default)]
    #[schema(value_type = Option<Credits>)]
    pub position_cap: Option<Amount>,
    /// Mixed into the seed of the arbiters' peer draw (default 0).
    #[serde(default)]
    pub seed: Option<u64>,
}

impl ArbitrationParams {
    fn into_case(self) -> CaseParams {
        CaseParams {
            min_reports: self.min_reports,
            report_days: self.report_days,
            k_floor: self.k_floor,
            position_cap: self.position_cap,
            seed: self.seed,
        }
    }
}

/// The `open_statement` command's fields but `user`.
#[derive(Deserialize, ToSchema)]
pub struct OpenStatementBody {
    /// The key of the new issue that carries the statement (e.g. `review/pr-42`).
    #[schema(min_length = 1, max_length = 200)]
    pub issue: String,
    /// The statement in words; arbiters report whether it is true (fixed wins) or not.
    #[schema(min_length = 1, max_length = 1000)]
    pub statement: String,
    /// The series' one maturation: trading stops and the report window opens.
    #[schema(value_type = TimeText)]
    pub maturation: Timestamp,
    /// The sponsor's arbitration bond (pays the arbiters; the rest returns).
    #[schema(value_type = Credits)]
    pub bond: Amount,
    #[serde(flatten)]
    pub params: ArbitrationParams,
}

/// Open a series decided by arbitration: a statement in words with its maturation, the caller's
/// bond, and a report window after the maturation. Creates the issue and its one series.
#[utoipa::path(post, path = "/statements", tag = "arbitration", security(("bearer" = [])), request_body = OpenStatementBody,
    responses((status = 201, description = "the statement's issue with its series", body = IssueView), Refused))]
pub async fn open_statement(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<OpenStatementBody>,
) -> ApiResult<Written> {
    check_issue(&b.issue)?;
    let n = b.statement.chars().count();
    if b.statement.trim().is_empty() || n > MAX_STATEMENT {
        return Err(ApiError::bad_request(
            "invalid_argument",
            format!("statement has 1 to {MAX_STATEMENT} characters, not only spaces"),
        ));
    }
    let view = After::Issue(b.issue.clone());
    let op = Op::OpenStatement {
        user: user.name.clone(),
        issue: b.issue,
        statement: b.statement,
        maturation: b.maturation,
        bond: b.bond,
        params: b.params.into_case(),
    };
    let r = state.submit(Action::engine(op, Some(&user.name), view), key.scoped(&user.name)).await;
    written(StatusCode::CREATED, r)
}

/// An arbiter's report on an arbitrated series.
#[derive(Deserialize, ToSchema)]
pub struct SeriesReportBody {
    #[schema(min_length = 1, max_length = 200)]
    pub issue: String,
    #[schema(value_type = TimeText)]
    pub maturation: Timestamp,
    /// 1: the statement is true (fixed wins); 0: it is not.
    #[schema(minimum = 0, maximum = 1)]
    pub value: u8,
}

/// Report as an arbiter on an arbitrated series in its report window. Refused with
/// `not_eligible` for the bond's sponsor and for a position above the series' cap,
/// `already_reported` the second time, `invalid_state` outside the window.
#[utoipa::path(post, path = "/series/reports", tag = "arbitration", security(("bearer" = [])), request_body = SeriesReportBody,
    responses((status = 200, description = "the issue with its series", body = IssueView), Refused))]
pub async fn report(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<SeriesReportBody>,
) -> ApiResult<Written> {
    check_issue(&b.issue)?;
    if b.value > 1 {
        return Err(ApiError::bad_request("invalid_argument", format!("a report is 0 or 1, not {}", b.value)));
    }
    let view = After::Issue(b.issue.clone());
    let op = Op::ReportSeries { user: user.name.clone(), issue: b.issue, maturation: b.maturation, value: b.value };
    let r = state.submit(Action::engine(op, Some(&user.name), view), key.scoped(&user.name)).await;
    written(StatusCode::OK, r)
}

/// A dispute of a matured tracker series, by a bond.
#[derive(Deserialize, ToSchema)]
pub struct DisputeBody {
    #[schema(min_length = 1, max_length = 200)]
    pub issue: String,
    #[schema(value_type = TimeText)]
    pub maturation: Timestamp,
    /// The disputer's arbitration bond.
    #[schema(value_type = Credits)]
    pub bond: Amount,
    #[serde(flatten)]
    pub params: ArbitrationParams,
}

/// Dispute a matured tracker series within its dispute window: the bond turns its settlement
/// over to arbitration (too few admissible reports: the bond returns and the tracker decides).
#[utoipa::path(post, path = "/series/disputes", tag = "arbitration", security(("bearer" = [])), request_body = DisputeBody,
    responses((status = 200, description = "the issue with its series", body = IssueView), Refused))]
pub async fn dispute(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<DisputeBody>,
) -> ApiResult<Written> {
    check_issue(&b.issue)?;
    let view = After::Issue(b.issue.clone());
    let op = Op::Dispute {
        user: user.name.clone(),
        issue: b.issue,
        maturation: b.maturation,
        bond: b.bond,
        params: b.params.into_case(),
    };
    let r = state.submit(Action::engine(op, Some(&user.name), view), key.scoped(&user.name)).await;
    written(StatusCode::OK, r)
}

/// The operator's dispute window.
#[utoipa::path(get, path = "/disputes", tag = "arbitration",
    responses((status = 200, description = "how long a matured tracker series can be disputed", body = DisputeSettingsView)))]
pub async fn dispute_settings(State(state): State<AppState>) -> Json<DisputeSettingsView> {
    Json(views::mechanisms::dispute_settings(&state.shared.engine()))
}

#[derive(Deserialize, ToSchema)]
pub struct DisputeSettingsBody {
    /// Hours (0 to 2160) a matured tracker series waits for disputes before its tracker
    /// settles it; 0 turns disputes off.
    #[schema(minimum = 0, maximum = 2160)]
    pub hours: i64,
}

/// Set the dispute window (admin). It applies to series maturing from now on.
#[utoipa::path(post, path = "/admin/disputes", tag = "admin", security(("bearer" = [])), request_body = DisputeSettingsBody,
    responses((status = 200, description = "the dispute window", body = DisputeSettingsView), Refused))]
pub async fn configure_disputes(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<DisputeSettingsBody>,
) -> ApiResult<Written> {
    user.require_admin()?;
    let op = Op::ConfigureDisputes { hours: b.hours };
    let r = state.submit(Action::engine(op, Some(&user.name), After::DisputeSettings), key.scoped(&user.name)).await;
    written(StatusCode::OK, r)
}

/// A series named by its issue and maturation.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeriesName {
    #[param(min_length = 1, max_length = 200)]
    pub issue: String,
    #[param(value_type = TimeText)]
    pub maturation: String,
}

/// A series' automated market maker: subsidy, what it has lost so far, its quotes.
#[utoipa::path(get, path = "/makers", tag = "makers", params(SeriesName),
    responses((status = 200, description = "the series' market maker", body = MakerView), Refused))]
pub async fn get_maker(State(state): State<AppState>, Query(q): Query<SeriesName>) -> ApiResult<Json<MakerView>> {
    check_issue(&q.issue)?;
    let engine = state.shared.engine();
    views::mechanisms::maker(&engine, &q.issue, &q.maturation)?
        .map(Json)
        .ok_or_else(|| ApiError::new(404, "no_maker", "the series has no market maker"))
}

/// The `fund_maker` command's fields but `user`.
#[derive(Deserialize, ToSchema)]
pub struct FundMakerBody {
    /// An existing issue.
    #[schema(min_length = 1, max_length = 200)]
    pub issue: String,
    /// The series' maturation (the series is created if needed).
    #[schema(value_type = TimeText)]
    pub maturation: Timestamp,
    /// LMSR liquidity parameter b in units (0 < b <= 1000000): the caller pays b ln 2.
    #[schema(value_type = Credits)]
    pub b: Amount,
    /// Price levels quoted per side (1 to 50, default 5).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 50)]
    pub levels: Option<u32>,
}

/// Fund an automated market maker on a series: the caller pays the subsidy b ln 2, the most the
/// maker can lose; it quotes LMSR prices on the book until the maturation, and what it holds
/// at settlement returns to the caller.
#[utoipa::path(post, path = "/makers", tag = "makers", security(("bearer" = [])), request_body = FundMakerBody,
    responses((status = 201, description = "the market maker", body = MakerView), Refused))]
pub async fn fund_maker(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<FundMakerBody>,
) -> ApiResult<Written> {
    check_issue(&b.issue)?;
    let view = After::Maker(b.issue.clone(), b.maturation);
    let op =
        Op::FundMaker { user: user.name.clone(), issue: b.issue, maturation: b.maturation, b: b.b, levels: b.levels };
    let r = state.submit(Action::engine(op, Some(&user.name), view), key.scoped(&user.name)).await;
    written(StatusCode::CREATED, r)
}
