//! Shopify session tokens: the HS256 JWT an embedded app's front end sends as
//! `Authorization: Bearer …`, signed with the app's client secret, `aud` = the app's API key,
//! `dest` = `https://{shop}`. The shop comes only from a verified token.
//!
//! Shopify's documentation: "Session tokens for embedded apps" (payload fields iss, dest, aud,
//! sub, exp, nbf, iat, jti, sid).

use crate::model::ShopDomain;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECONDS: i64 = 10;

/// The claims Reclaim reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    pub iss: String,
    pub dest: String,
    pub aud: String,
    #[serde(default)]
    pub sub: Option<String>,
    pub exp: i64,
    pub nbf: i64,
    #[serde(default)]
    pub iat: Option<i64>,
}

/// Why a session token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("missing bearer token")]
    Missing,
    #[error("invalid session token")]
    Invalid,
    #[error("session token expired or not yet valid")]
    OutsideValidity,
}

/// Verifies a session token and returns the shop it speaks for.
pub fn verify_session_token(
    token: &str,
    api_key: &str,
    secret: &[u8],
    now: DateTime<Utc>,
) -> Result<ShopDomain, SessionError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[api_key]);
    // exp and nbf are checked below against the injected clock, with Shopify's leeway.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.required_spec_claims = ["exp", "nbf", "aud"].into_iter().map(str::to_owned).collect();
    let claims = jsonwebtoken::decode::<SessionClaims>(token, &DecodingKey::from_secret(secret), &validation)
        .map_err(|_| SessionError::Invalid)?
        .claims;
    let now = now.timestamp();
    if now > claims.exp + LEEWAY_SECONDS || now + LEEWAY_SECONDS < claims.nbf {
        return Err(SessionError::OutsideValidity);
    }
    let host = claims.dest.strip_prefix("https://").ok_or(SessionError::Invalid)?;
    let shop = ShopDomain::parse(host).map_err(|_| SessionError::Invalid)?;
    // The issuer is the same shop's admin.
    if claims.iss.trim_end_matches('/') != format!("https://{shop}/admin") {
        return Err(SessionError::Invalid);
    }
    Ok(shop)
}

/// Signs a session token the way Shopify does (for the local stack and tests).
pub fn sign_session_token(
    shop: &ShopDomain,
    api_key: &str,
    secret: &[u8],
    now: DateTime<Utc>,
    lifetime_seconds: i64,
) -> String {
    let claims = SessionClaims {
        iss: format!("https://{shop}/admin"),
        dest: format!("https://{shop}"),
        aud: api_key.to_owned(),
        sub: Some("42".into()),
        exp: now.timestamp() + lifetime_seconds,
        nbf: now.timestamp(),
        iat: Some(now.timestamp()),
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .expect("claims serialise")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn shop() -> ShopDomain {
        ShopDomain::parse("a-shop.myshopify.com").unwrap()
    }

    #[test]
    fn a_valid_token_names_its_shop() {
        let now = Utc::now();
        let token = sign_session_token(&shop(), "key", b"secret", now, 60);
        assert_eq!(verify_session_token(&token, "key", b"secret", now), Ok(shop()));
        assert_eq!(
            verify_session_token(&token, "key", b"secret", now + Duration::seconds(65)),
            Ok(shop()),
            "inside the leeway"
        );
    }

    #[test]
    fn bad_tokens_are_refused() {
        let now = Utc::now();
        let token = sign_session_token(&shop(), "key", b"secret", now, 60);
        assert_eq!(verify_session_token(&token, "key", b"other secret", now), Err(SessionError::Invalid));
        assert_eq!(verify_session_token(&token, "another app", b"secret", now), Err(SessionError::Invalid));
        assert_eq!(
            verify_session_token(&token, "key", b"secret", now + Duration::seconds(71)),
            Err(SessionError::OutsideValidity)
        );
        assert_eq!(
            verify_session_token(&token, "key", b"secret", now - Duration::seconds(11)),
            Err(SessionError::OutsideValidity)
        );
        assert_eq!(verify_session_token("not.a.jwt", "key", b"secret", now), Err(SessionError::Invalid));
    }
}
