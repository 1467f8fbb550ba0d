//! The README's first steps and docs/cli.md's session, run literally (line by line, through
//! `sh`) against the real server: the `peerex` binary on a free port with a fresh data
//! directory. A guide that stops working fails here.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The lines of every ```sh block of a Markdown file (after `from`, if given).
fn sh_lines(md: &str, from: &str) -> Vec<String> {
    let text = md.find(from).map_or(md, |i| &md[i..]);
    let mut lines = Vec::new();
    let mut inside = false;
    for l in text.lines() {
        if l.trim_start().starts_with("```") {
            inside = !inside && l.trim() == "```sh";
            continue;
        }
        if inside && !l.trim().is_empty() && !l.trim_start().starts_with('#') {
            lines.push(l.to_owned());
        }
    }
    lines
}

struct Session {
    dir: tempfile::TempDir,
    port: u16,
    servers: Vec<Child>,
    log: PathBuf,
}

impl Session {
    fn new() -> Session {
        let dir = tempfile::tempdir().unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(repo().join("examples"), dir.path().join("examples")).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = dir.path().join("server.log");
        Session { dir, port, servers: Vec::new(), log }
    }

    fn command(&self, line: &str) -> Command {
        let bin = Path::new(env!("CARGO_BIN_EXE_peerex")).parent().unwrap().to_owned();
        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(line)
            .current_dir(self.dir.path())
            .env("PATH", path)
            .env("PEEREX_DATA_DIR", self.dir.path().join("data"))
            .env("PEEREX_ADDR", format!("127.0.0.1:{}", self.port))
            .env("PEEREX_TICK_MS", "10")
            .env("PEEREX_RATE_PER_SEC", "100000")
            .env("PEEREX_RATE_BURST", "100000")
            .env("PEEREX_ARGON2_KIB", "1024")
            .env("PEEREX_SERVER", format!("http://127.0.0.1:{}", self.port))
            .env("PEEREX_CONFIG_DIR", self.dir.path().join("config"))
            .env_remove("PEEREX_TOKEN")
            .env_remove("PEEREX_AS")
            .env_remove("PEEREX_PASSWORD")
            .env_remove("NO_COLOR");
        c
    }

    /// Runs one line of a guide; `... &` starts a server and waits until it answers.
    fn run(&mut self, line: &str) -> String {
        let line = line.replace("cargo run --release -p peerex -- ", "peerex ");
        let line = line.split(" # ").next().unwrap_or(&line).trim_end().to_owned();
        if let Some(bg) = line.strip_suffix('&') {
            let log = std::fs::File::create(&self.log).unwrap();
            let child = self
                .command(&format!("exec {}", bg.trim()))
                .stdout(Stdio::null())
                .stderr(Stdio::from(log))
                .spawn()
                .unwrap();
            self.servers.push(child);
            self.wait_up();
            return String::new();
        }
        let out = self.command(&line).stdin(Stdio::null()).output().unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "`{line}` failed ({}):\n{stdout}\n{stderr}", out.status);
        stdout.into_owned()
    }

    fn wait_up(&self) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the server did not start: {}", std::fs::read_to_string(&self.log).unwrap_or_default());
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        for c in &mut self.servers {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The README's first steps: the first admin (with a password the server accepts), the server,
/// a replay and a simulation; the server's log in a file has no colour codes.
#[test]
fn the_readme_first_steps_run_as_written() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let lines = sh_lines(&readme, "## First steps");
    assert!(lines.iter().any(|l| l.contains("admin create-user root --admin")), "{lines:?}");
    let mut s = Session::new();
    for l in &lines {
        let out = s.run(l);
        if l.contains(" replay ") {
            let v: Value = serde_json::from_str(&out).unwrap();
            assert!(v["events"].as_u64().unwrap() > 0);
        }
    }
    // The server logged something, and not in colour.
    let log = std::fs::read_to_string(&s.log).unwrap();
    assert!(!log.is_empty());
    assert!(!log.contains('\u{1b}'), "ANSI codes in a log file: {log:?}");
}

fn field(out: &str, needle: &str) -> bool {
    out.lines().any(|l| l.contains(needle))
}

/// docs/cli.md's session, from the first admin to a resource economy of six peers over 24
/// sandbox days with backups, restores and prices that move.
#[test]
fn the_cli_guide_runs_as_written_against_the_real_server() {
    let guide = std::fs::read_to_string(repo().join("docs/cli.md")).unwrap();
    let lines = sh_lines(&guide, "## A session");
    assert!(lines.len() > 30, "{lines:?}");
    let mut s = Session::new();
    let mut outputs = Vec::new();
    for l in &lines {
        outputs.push((l.clone(), s.run(l)));
    }
    let out_of =
        |prefix: &str| outputs.iter().find(|(l, _)| l.starts_with(prefix)).map(|(_, o)| o.clone()).unwrap_or_default();
    // A signed-up user exists with 0 credits before any deposit.
    assert!(field(&out_of("peerex --as adam me"), "available  0"), "{}", out_of("peerex --as adam me"));
    // Fills with prices, at the placer's side price.
    let adam = out_of("peerex --as adam offer place buy_unfixed demo/app#1 2030-01-15T00:00:00Z 0.30 100");
    let beth = out_of("peerex --as beth offer place buy_fixed");
    assert!(field(&beth, "filled 100 at 0.7 = 70 credits"), "{beth}");
    assert!(field(&adam, "100 of 100 remaining (open)"), "{adam}");
    // Settlement by the sandbox clock: the series is settled for the fixed side.
    let settled = outputs.iter().rev().find(|(l, _)| l == "peerex series demo/app#1").unwrap().1.clone();
    assert!(settled.contains("settled") && settled.contains("fixed"), "{settled}");
    // No live price on a settled series.
    let closed = out_of("peerex issues --state closed");
    assert!(closed.contains("settled: fixed") && !closed.contains("0.7 "), "{closed}");
    let j: Value = serde_json::from_str(&s.run("peerex issues --state closed --json")).unwrap();
    assert!(j[0]["series"][0]["fixed_price"].is_null(), "{j}");
    assert_eq!(j[0]["series"][0]["open_interest"], 0, "paid out at settlement");
    // The market: created without an id, quoted without login, traded with cost/fee/price, resolved.
    assert!(field(&out_of("peerex --as adam market create"), "created market m1"));
    assert!(field(&out_of("peerex market quote m1 10"), "fee"), "{}", out_of("peerex market quote m1 10"));
    let trade = out_of("peerex --as beth market trade m1 10");
    assert!(trade.contains("cost") && trade.contains("fee") && trade.contains("price of outcome 1 now"), "{trade}");
    assert!(
        field(&out_of("peerex --as adam market resolve m1"), "resolved"),
        "{}",
        out_of("peerex --as adam market resolve m1")
    );
    // Issue 12: a statement decided by its arbiters, a maker's quotes on a thin book, a dispute.
    let all = |prefix: &str| -> Vec<String> {
        outputs.iter().filter(|(l, _)| l.starts_with(prefix)).map(|(_, o)| o.clone()).collect()
    };
    let shows = all("peerex arbitration show review/pr-7");
    assert!(shows[0].contains("decided by arbitration") && shows[0].contains("state waiting"), "{shows:?}");
    assert!(shows[1].contains("settled") && shows[1].contains("state decided"), "{shows:?}");
    assert!(field(&out_of("peerex disputes"), "24 hours"), "{}", out_of("peerex disputes"));
    let book = out_of("peerex book demo/app#2");
    assert!(book.contains("MAKER"), "{book}");
    let makers = all("peerex maker show demo/app#2");
    assert!(makers[0].contains("subsidy 13.862944") && makers[0].contains("FIXED PRICE"), "{makers:?}");
    assert!(makers[1].contains("returned to the funder") && makers[1].contains("(no quotes)"), "{makers:?}");
    let window = out_of("peerex arbitration show demo/app#2");
    assert!(window.contains("disputable until 2030-03-11T00:00:00Z"), "{window}");
    let disputed = out_of("peerex series demo/app#2");
    assert!(disputed.contains("DECIDED BY") && disputed.contains("arbitration"), "{disputed}");
    assert!(disputed.contains("settled"), "{disputed}");
    // The resource market: files placed, restored, prices moved.
    let ls = out_of("peerex --as p1 backup ls");
    assert!(ls.lines().count() >= 11, "{ls}");
    let show = s.run("peerex --as root admin-resources show --json");
    let v: Value = serde_json::from_str(&show).unwrap();
    assert!(v["days_settled"].as_u64().unwrap() >= 20, "{show}");
    let prices: Vec<f64> = v["prices"].as_array().unwrap().iter().map(|p| p.as_f64().unwrap()).collect();
    assert!(prices[1] != 1.0 || prices[2] != 1.0, "prices did not move: {prices:?}");
    assert!(v["files"].as_u64().unwrap() >= 60, "{show}");
    let balances = v["balances"].as_array().unwrap();
    assert!(balances.iter().filter(|b| b[1] != "0").count() >= 5, "{show}");
}
