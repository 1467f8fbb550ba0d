//! HMAC-SHA256 webhook signatures, compared in constant time (`Mac::verify_slice`).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::WebhookError;

/// Checks `signature_hex` (lower- or upper-case hex, no prefix) against HMAC-SHA256(secret, body).
pub(crate) fn verify(secret: &[u8], body: &[u8], signature_hex: &str) -> Result<(), WebhookError> {
    if secret.is_empty() {
        return Err(WebhookError::NoSecret);
    }
    let given = hex::decode(signature_hex.trim()).map_err(|_| WebhookError::BadSignature)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| WebhookError::NoSecret)?;
    mac.update(body);
    mac.verify_slice(&given).map_err(|_| WebhookError::BadSignature)
}

/// The hex HMAC-SHA256 of `body`: what a tracker puts in its signature header (tests, tools).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(body);
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_right_signature_only() {
        // GitHub's documented example: secret "It's a Secret to Everybody", payload "Hello, World!".
        let sig = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(sign(b"It's a Secret to Everybody", b"Hello, World!"), sig);
        assert!(verify(b"It's a Secret to Everybody", b"Hello, World!", sig).is_ok());
        assert_eq!(verify(b"other", b"Hello, World!", sig), Err(WebhookError::BadSignature));
        assert_eq!(verify(b"It's a Secret to Everybody", b"Hello", sig), Err(WebhookError::BadSignature));
        assert_eq!(verify(b"It's a Secret to Everybody", b"Hello, World!", "zz"), Err(WebhookError::BadSignature));
        assert_eq!(verify(b"", b"x", sig), Err(WebhookError::NoSecret));
    }
}
