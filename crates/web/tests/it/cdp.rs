//! A small Chrome DevTools Protocol client: launches Debian's headless `chromium` and drives
//! pages over one WebSocket (sessions in flat mode), polling for conditions with a timeout.

use std::io::BufRead;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

pub struct Browser {
    child: Child,
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    next: u64,
    _dir: tempfile::TempDir,
}

/// One tab in its own browser context (its own cookies).
#[derive(Clone, Debug)]
pub struct Tab {
    pub session: String,
    #[allow(dead_code)]
    pub target: String,
}

/// Where Chromium is: PEEREX_CHROMIUM, else the usual names on PATH.
pub fn chromium_path() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("PEEREX_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            let p = Path::new(dir).join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// The browser, or None (with a visible SKIPPED line) when there is none locally. Under
/// CI=true a missing browser fails the test.
pub fn browser_or_skip(test: &str) -> Option<Browser> {
    match chromium_path() {
        Some(p) => Some(Browser::launch(&p)),
        None => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{test}: CI=true but no Chromium found (install Debian's chromium or set PEEREX_CHROMIUM)");
            }
            println!("SKIPPED {test}: no Chromium installed (apt-get install chromium, or set PEEREX_CHROMIUM)");
            None
        }
    }
}

impl Browser {
    pub fn launch(path: &Path) -> Browser {
        let dir = tempfile::tempdir().expect("profile dir");
        let mut child = Command::new(path)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--font-render-hinting=none",
                "--remote-debugging-port=0",
                "--window-size=1280,900",
            ])
            .arg(format!("--user-data-dir={}", dir.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting chromium");
        // Chromium prints "DevTools listening on ws://..." on stderr.
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent {
                    if let Some(i) = line.find("ws://") {
                        let _ = tx.send(line[i..].trim().to_owned());
                        sent = true;
                    }
                }
            }
        });
        let url = rx.recv_timeout(Duration::from_secs(30)).expect("chromium did not print its DevTools URL");
        let (ws, _) = tungstenite::connect(url.as_str()).expect("connecting to chromium");
        Browser { child, ws, next: 0, _dir: dir }
    }

    /// Sends a command and waits for its answer (events in between are dropped).
    pub fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        match self.try_call(session, method, params) {
            Ok(v) => v,
            Err(e) => panic!("{method} failed: {e}"),
        }
    }

    /// [`Browser::call`], with the protocol's error as an `Err` (e.g. while a page navigates).
    pub fn try_call(&mut self, session: Option<&str>, method: &str, params: Value) -> Result<Value, Value> {
        self.next += 1;
        let id = self.next;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        self.ws.send(Message::Text(msg.to_string().into())).expect("cdp send");
        loop {
            let m = self.ws.read().expect("cdp read");
            let Message::Text(t) = m else { continue };
            let v: Value = serde_json::from_str(&t).expect("cdp json");
            if v["id"].as_u64() == Some(id) {
                if let Some(e) = v.get("error") {
                    return Err(e.clone());
                }
                return Ok(v["result"].clone());
            }
        }
    }

    /// A new tab in a fresh browser context (cookies of its own).
    pub fn new_tab(&mut self) -> Tab {
        let ctx = self.call(None, "Target.createBrowserContext", json!({}))["browserContextId"].clone();
        let target = self.call(None, "Target.createTarget", json!({"url": "about:blank", "browserContextId": ctx}))
            ["targetId"]
            .as_str()
            .expect("targetId")
            .to_owned();
        let session = self.call(None, "Target.attachToTarget", json!({"targetId": target, "flatten": true}))
            ["sessionId"]
            .as_str()
            .expect("sessionId")
            .to_owned();
        let tab = Tab { session, target };
        self.call(Some(&tab.session), "Page.enable", json!({}));
        self.size(&tab, 1280, 900, false);
        tab
    }

    pub fn size(&mut self, tab: &Tab, width: u32, height: u32, mobile: bool) {
        self.call(
            Some(&tab.session),
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        );
    }

    /// Evaluates an expression in the page (promises awaited) and returns its value.
    pub fn eval(&mut self, tab: &Tab, expr: &str) -> Value {
        let params = json!({"expression": expr, "returnByValue": true, "awaitPromise": true});
        let mut tries = 0;
        let r = loop {
            match self.try_call(Some(&tab.session), "Runtime.evaluate", params.clone()) {
                Ok(r) => break r,
                // Between two documents there is briefly no context to evaluate in.
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("evaluating {expr:.200}: {e}"),
            }
        };
        if let Some(ex) = r.get("exceptionDetails") {
            panic!("evaluating {expr:.200}: {ex}");
        }
        r["result"]["value"].clone()
    }

    /// Polls `expr` until it is true (or panics after `secs`, showing `what`).
    pub fn wait(&mut self, tab: &Tab, expr: &str, secs: u64, what: &str) {
        let until = Instant::now() + Duration::from_secs(secs);
        loop {
            // A page in the middle of navigating may have no context to evaluate in: retry.
            let r = self
                .try_call(
                    Some(&tab.session),
                    "Runtime.evaluate",
                    json!({"expression": format!("(function(){{try{{return !!({expr});}}catch(e){{return false;}}}})()"), "returnByValue": true}),
                )
                .unwrap_or(Value::Null);
            if r["result"]["value"] == json!(true) {
                return;
            }
            if Instant::now() > until {
                let text = self.eval(tab, "document.body ? document.body.innerText.slice(0, 3000) : ''");
                let url = self.eval(tab, "location.href");
                panic!("timed out waiting for {what} ({expr}) at {url}; page text:\n{}", text.as_str().unwrap_or(""));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Opens `url` and waits until the document is loaded.
    pub fn goto(&mut self, tab: &Tab, url: &str) {
        self.eval(tab, "window.__peerexOld = true");
        self.call(Some(&tab.session), "Page.navigate", json!({"url": url}));
        self.wait_loaded(tab, url);
    }

    /// Waits for a new document (after a navigation or a form post) to finish loading.
    pub fn wait_loaded(&mut self, tab: &Tab, what: &str) {
        self.wait(tab, "!window.__peerexOld && document.readyState === 'complete'", 20, what);
    }

    /// Sets a field's value as if typed (fires input and change).
    pub fn fill(&mut self, tab: &Tab, selector: &str, value: &str) {
        let js = format!(
            "(function(){{var e=document.querySelector({s});if(!e)throw new Error('no '+{s});e.focus();e.value={v};\
             e.dispatchEvent(new Event('input',{{bubbles:true}}));e.dispatchEvent(new Event('change',{{bubbles:true}}));return true;}})()",
            s = json!(selector),
            v = json!(value)
        );
        self.eval(tab, &js);
    }

    /// Clicks an element; when it submits a form, waits for the next page.
    pub fn click(&mut self, tab: &Tab, selector: &str) {
        let js = format!(
            "(function(){{var e=document.querySelector({s});if(!e)throw new Error('no '+{s});e.click();return true;}})()",
            s = json!(selector)
        );
        self.eval(tab, &js);
    }

    /// Submits by clicking `selector` and waits for the page it leads to.
    pub fn submit(&mut self, tab: &Tab, selector: &str) {
        self.eval(tab, "window.__peerexOld = true");
        self.click(tab, selector);
        self.wait_loaded(tab, selector);
    }

    pub fn text(&mut self, tab: &Tab, selector: &str) -> String {
        let js =
            format!("(function(){{var e=document.querySelector({});return e?e.innerText:'';}})()", json!(selector));
        self.eval(tab, &js).as_str().unwrap_or("").to_owned()
    }

    /// A PNG of the whole page at `width` (phone widths emulate a mobile device).
    pub fn screenshot(&mut self, tab: &Tab, width: u32, mobile: bool, path: &Path) {
        use base64::Engine as _;
        self.size(tab, width, if mobile { 844 } else { 900 }, mobile);
        let h = self.eval(tab, "Math.ceil(document.documentElement.scrollHeight)").as_u64().unwrap_or(900).min(6000);
        self.size(tab, width, h.max(if mobile { 844 } else { 900 }) as u32, mobile);
        let r = self.call(Some(&tab.session), "Page.captureScreenshot", json!({"format": "png"}));
        let png = base64::engine::general_purpose::STANDARD.decode(r["data"].as_str().unwrap_or("")).expect("png");
        std::fs::write(path, png).expect("writing a screenshot");
        self.size(tab, 1280, 900, false);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
