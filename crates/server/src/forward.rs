//! A replica's writes, forwarded to the writer process (docs/deploy.md): the writer the
//! database advertises (`writer_epoch.address`) takes each write as the domain [`Action`] it is,
//! with the writer's secret as proof that the replica reads the same database; the answer comes
//! back with the log seq the writer had committed, and the replica answers once its own engine
//! has applied that far, so a client reads its own write on the process it wrote through.
//!
//! Adapter layer above the writer: it speaks HTTP as a client of another peerex process (never
//! as a server; the writer's endpoint is `http/internal.rs`) and carries the writer's domain
//! types on the wire. The role it reads (`Cluster`) is below the writer.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cluster::Cluster;
use crate::store::Store;
use crate::views::View;
use crate::writer::{Action, Idempotency, Outcome, WriteError, WriteResult};

/// The header a forwarded write carries the writer's secret in.
pub const SECRET_HEADER: &str = "peerex-cluster-secret";
/// Where the writer takes forwarded writes.
pub const FORWARD_PATH: &str = "/internal/v1/submit";
/// How long a replica waits to have applied the writer's answer before answering anyway.
const CATCH_UP: Duration = Duration::from_secs(2);

/// A write a replica forwards to the writer.
#[derive(Debug, Serialize, Deserialize)]
pub struct Forwarded {
    pub action: Action,
    pub idempotency: Option<Idempotency>,
}

/// The writer's answer to a forwarded write: the outcome (its view as JSON) or the refusal.
#[derive(Debug, Serialize, Deserialize)]
pub struct ForwardedAnswer {
    pub result: Result<ForwardedOutcome, WriteError>,
    /// The last log seq the writer had committed (or applied) when it answered: at least the
    /// write's (`Cluster::written`). The field keeps its name for processes of one cluster
    /// running different versions during an upgrade.
    pub applied: i64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ForwardedOutcome {
    pub seq: Option<i64>,
    pub view: Option<Value>,
    pub replayed: bool,
}

impl ForwardedAnswer {
    pub fn of(result: WriteResult, applied: i64) -> ForwardedAnswer {
        let result = result.map(|o| ForwardedOutcome {
            seq: o.seq,
            view: o.view.as_ref().and_then(|v| serde_json::to_value(v).ok()),
            replayed: o.replayed,
        });
        ForwardedAnswer { result, applied }
    }
}

/// Forwards a write to the writer and waits for its answer (then for this process to have
/// applied it). A writer that cannot be reached, or is no longer the writer, answers
/// [`WriteError::NoWriter`]: retryable, and safe to retry with an Idempotency-Key.
pub async fn forward(
    cluster: &Cluster,
    store: &Store,
    action: Action,
    idempotency: Option<Idempotency>,
) -> WriteResult {
    let leader = match cluster.leader() {
        Some(l) => l,
        None => match store.leader().await {
            Ok(Some(l)) => {
                cluster.set_leader(Some(l.clone()));
                l
            }
            _ => return Err(WriteError::NoWriter),
        },
    };
    let body = Forwarded { action, idempotency };
    let sent = cluster
        .http()
        .post(format!("{}{FORWARD_PATH}", leader.address.trim_end_matches('/')))
        .header(SECRET_HEADER, &leader.secret)
        .json(&body)
        .send()
        .await;
    let answer = match sent {
        Ok(r) if r.status().is_success() => r.json::<ForwardedAnswer>().await.ok(),
        Ok(r) => {
            tracing::debug!("the writer at {} answered {}", leader.address, r.status());
            None
        }
        Err(e) => {
            tracing::debug!("the writer at {} is unreachable: {e}", leader.address);
            None
        }
    };
    let Some(answer) = answer else {
        // Read the writer again next time: it may have changed.
        cluster.set_leader(None);
        return Err(WriteError::NoWriter);
    };
    cluster.set_head(answer.applied);
    cluster.wait_applied(answer.applied, CATCH_UP).await;
    answer.result.map(|o| Outcome {
        seq: o.seq,
        view: o.view.map(View::Recorded),
        events: Vec::new(),
        replayed: o.replayed,
    })
}
