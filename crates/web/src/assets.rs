//! The UI's CSS and JavaScript, embedded in the binary and served under content-hashed names
//! (`/static/app.3f2a9c1d.css`) with a year-long immutable cache: a new build changes the name.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

struct Asset {
    name: &'static str,
    body: &'static str,
    mime: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset { name: "app.css", body: include_str!("../static/app.css"), mime: "text/css; charset=utf-8" },
    Asset { name: "live.js", body: include_str!("../static/live.js"), mime: "text/javascript; charset=utf-8" },
    Asset { name: "forms.js", body: include_str!("../static/forms.js"), mime: "text/javascript; charset=utf-8" },
    Asset {
        name: "resources.js",
        body: include_str!("../static/resources.js"),
        mime: "text/javascript; charset=utf-8",
    },
];

/// name -> hashed name, and hashed name -> asset.
fn table() -> &'static Vec<(String, &'static Asset)> {
    static T: OnceLock<Vec<(String, &'static Asset)>> = OnceLock::new();
    T.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| {
                let h = hex::encode(&Sha256::digest(a.body.as_bytes())[..6]);
                let (stem, ext) = a.name.rsplit_once('.').unwrap_or((a.name, ""));
                (format!("{stem}.{h}.{ext}"), a)
            })
            .collect()
    })
}

/// The URL of an embedded asset by its plain name.
pub fn url(name: &str) -> String {
    table().iter().find(|(_, a)| a.name == name).map(|(h, _)| format!("/static/{h}")).unwrap_or_default()
}

pub async fn serve(Path(file): Path<String>) -> Response {
    match table().iter().find(|(h, _)| *h == file) {
        Some((h, a)) => {
            let mut r = a.body.into_response();
            let hs = r.headers_mut();
            hs.insert(header::CONTENT_TYPE, HeaderValue::from_static(a.mime));
            hs.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
            if let Ok(v) = HeaderValue::from_str(&format!("\"{h}\"")) {
                hs.insert(header::ETAG, v);
            }
            r
        }
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_carry_a_content_hash() {
        let u = super::url("app.css");
        assert!(u.starts_with("/static/app.") && u.ends_with(".css") && u.len() > "/static/app..css".len() + 8, "{u}");
        assert_eq!(super::url("nope.js"), "");
    }
}
