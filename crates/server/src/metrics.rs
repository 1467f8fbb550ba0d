//! Counters and latency histograms, rendered in the Prometheus text format at /metrics.
//! Hand-rolled atomics: a handful of series do not need a metrics framework.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Debug, Default)]
pub struct Histogram {
    counts: [AtomicU64; 12],
    over: AtomicU64,
    sum_us: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        match BUCKETS.iter().position(|b| secs <= *b) {
            Some(i) => {
                if let Some(c) = self.counts.get(i) {
                    c.fetch_add(1, Ordering::Relaxed);
                }
            }
            None => {
                self.over.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.sum_us.fetch_add(d.as_micros().min(u64::MAX as u128) as u64, Ordering::Relaxed);
    }

    fn render(&self, name: &str, help: &str, out: &mut String) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (b, c) in BUCKETS.iter().zip(self.counts.iter()) {
            cumulative += c.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {cumulative}");
        }
        cumulative += self.over.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
        let sum = self.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {cumulative}");
    }
}

#[derive(Debug, Default)]
pub struct Metrics {
    pub commands_applied: AtomicU64,
    pub commands_refused: AtomicU64,
    pub batches: AtomicU64,
    pub http_requests: AtomicU64,
    pub rate_limited: AtomicU64,
    /// All-or-nothing batches refused and undone (writer.rs `UndoBudget`).
    pub atomic_undone: AtomicU64,
    /// From enqueueing a request for the writer to its reply (after the commit).
    pub command_latency: Histogram,
    /// One batch's transaction, from begin to commit.
    pub commit_latency: Histogram,
}

/// Gauges read at scrape time.
pub struct Gauges {
    pub queue_depth: usize,
    pub open_offers: usize,
    pub users: usize,
    /// Whether this process is the writer (always, without `--cluster`).
    pub writer: bool,
    /// The last log seq applied, and how far behind the database's log that is.
    pub applied_seq: i64,
    pub lag: i64,
    /// Times this process became the writer after starting as a replica.
    pub failovers: u64,
}

impl Metrics {
    pub fn render(&self, g: &Gauges) -> String {
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, v: &AtomicU64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}", v.load(Ordering::Relaxed));
        };
        counter(&mut out, "peerex_commands_applied_total", "Commands applied and committed.", &self.commands_applied);
        counter(&mut out, "peerex_commands_refused_total", "Commands the engine refused.", &self.commands_refused);
        counter(&mut out, "peerex_batches_total", "Group-commit transactions.", &self.batches);
        counter(&mut out, "peerex_http_requests_total", "HTTP requests received.", &self.http_requests);
        counter(&mut out, "peerex_rate_limited_total", "Requests answered 429.", &self.rate_limited);
        let help = "All-or-nothing batches refused and undone.";
        counter(&mut out, "peerex_atomic_batches_undone_total", help, &self.atomic_undone);
        let gauge = |out: &mut String, name: &str, help: &str, v: usize| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        };
        gauge(&mut out, "peerex_queue_depth", "Requests waiting for the writer.", g.queue_depth);
        gauge(&mut out, "peerex_open_offers", "Open or suspended offers.", g.open_offers);
        gauge(&mut out, "peerex_users", "Users known to the engine.", g.users);
        let _ = writeln!(
            out,
            "# HELP peerex_writer 1 if this process is the writer, 0 if a replica.\n# TYPE peerex_writer gauge\npeerex_writer {}",
            u8::from(g.writer)
        );
        let _ = writeln!(out, "# HELP peerex_applied_seq The last command log seq applied.\n# TYPE peerex_applied_seq gauge\npeerex_applied_seq {}", g.applied_seq);
        let _ = writeln!(out, "# HELP peerex_replication_lag_commands Commands committed but not yet applied here.\n# TYPE peerex_replication_lag_commands gauge\npeerex_replication_lag_commands {}", g.lag);
        let _ = writeln!(out, "# HELP peerex_failovers_total Times this process took over as the writer.\n# TYPE peerex_failovers_total counter\npeerex_failovers_total {}", g.failovers);
        self.command_latency.render(
            "peerex_command_latency_seconds",
            "Time from queueing a command to its durable acknowledgement.",
            &mut out,
        );
        self.commit_latency.render("peerex_commit_latency_seconds", "Time to commit one batch.", &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.commands_applied.fetch_add(3, Ordering::Relaxed);
        m.command_latency.observe(Duration::from_micros(700));
        m.command_latency.observe(Duration::from_secs(9));
        let text = m.render(&Gauges {
            queue_depth: 2,
            open_offers: 5,
            users: 1,
            writer: false,
            applied_seq: 40,
            lag: 2,
            failovers: 1,
        });
        assert!(text.contains("peerex_writer 0\n"));
        assert!(text.contains("peerex_replication_lag_commands 2\n"));
        assert!(text.contains("peerex_failovers_total 1\n"));
        assert!(text.contains("peerex_commands_applied_total 3\n"));
        assert!(text.contains("peerex_queue_depth 2\n"));
        assert!(text.contains("peerex_open_offers 5\n"));
        assert!(text.contains("peerex_command_latency_seconds_bucket{le=\"0.001\"} 1\n"));
        assert!(text.contains("peerex_command_latency_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert!(text.contains("peerex_command_latency_seconds_count 2\n"));
    }
}
