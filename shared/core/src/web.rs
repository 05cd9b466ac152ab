//! The framework-neutral response type shared by the Lambda handlers and the local gateway, and
//! the one mapping from a use-case error to a response. Responses never carry internals, secrets
//! or personal data: the detail goes to the log, the caller gets a stable code and message.

use crate::links::LinkError;
use crate::platform::DeliveryError;
use crate::platform::oauth::OAuthError;
use crate::ports::PortError;
use crate::push::RegistrationError;
use crate::usecases::UseCaseError;
use serde_json::json;

/// An HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

/// Whether a route answers people (HTML pages) or machines (JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Machine,
    Person,
}

impl Reply {
    /// A JSON response.
    pub fn json(status: u16, value: &impl serde::Serialize) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/json".into()), ("cache-control", "no-store".into())],
            body: serde_json::to_string(value).expect("responses serialise"),
        }
    }

    /// A small HTML page with a title and a message (both plain text, escaped here).
    pub fn page(status: u16, title: &str, message: &str, extra_html: &str) -> Self {
        let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
        let body = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"robots\" content=\"noindex\"><title>{title}</title></head>\
             <body style=\"font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1c1917\">\
             <h1 style=\"font-size:1.4rem\">{title}</h1><p>{message}</p>{extra_html}</body></html>",
            title = escape(title),
            message = escape(message),
        );
        Self {
            status,
            headers: vec![
                ("content-type", "text/html; charset=utf-8".into()),
                ("cache-control", "no-store".into()),
                ("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'".into()),
                ("referrer-policy", "no-referrer".into()),
            ],
            body,
        }
    }

    /// The response as an [`http::Response`], for any HTTP framework.
    pub fn into_http(self) -> http::Response<String> {
        let mut builder = http::Response::builder().status(self.status);
        for (name, value) in self.headers {
            builder = builder.header(name, value);
        }
        builder.body(self.body).unwrap_or_else(|_| {
            let mut fallback = http::Response::new(String::new());
            *fallback.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
            fallback
        })
    }

    /// A 302 to `location`, never cached and never leaking the token as a referrer.
    pub fn redirect(location: &str) -> Self {
        Self {
            status: 302,
            headers: vec![
                ("location", location.to_owned()),
                ("cache-control", "no-store".into()),
                ("referrer-policy", "no-referrer".into()),
            ],
            body: String::new(),
        }
    }
}

/// The one mapping from a use-case error to a response.
pub fn error_reply(error: &UseCaseError, audience: Audience) -> Reply {
    let (status, code, message) = match error {
        UseCaseError::Delivery(DeliveryError::BadSignature) => {
            (401, "invalid_signature", "missing or invalid signature".to_owned())
        }
        UseCaseError::Delivery(DeliveryError::TooLarge { limit }) => {
            (413, "payload_too_large", format!("body larger than {limit} bytes"))
        }
        UseCaseError::Delivery(DeliveryError::UnknownPlatform(_)) => {
            (404, "unknown_platform", "unknown platform".to_owned())
        }
        UseCaseError::Delivery(e @ (DeliveryError::MissingHeader(_) | DeliveryError::InvalidHeader { .. })) => {
            (400, "bad_header", e.to_string())
        }
        UseCaseError::Delivery(e @ DeliveryError::MalformedPayload(_)) => (400, "malformed_payload", e.to_string()),
        UseCaseError::Link(LinkError::Expired) => (410, "link_expired", "This link has expired.".to_owned()),
        UseCaseError::Link(LinkError::Invalid | LinkError::WrongKind) => {
            (400, "link_invalid", "This link is not valid.".to_owned())
        }
        UseCaseError::NotFound => (404, "not_found", "We could not find what this link points to.".to_owned()),
        UseCaseError::Port(PortError::Conflict) => (503, "busy", "Please try again.".to_owned()),
        UseCaseError::Port(PortError::Rejected(_) | PortError::Unavailable(_) | PortError::Gone(_)) => {
            (503, "unavailable", "Please try again later.".to_owned())
        }
        UseCaseError::Render(_) => (500, "internal", "Something went wrong on our side.".to_owned()),
        UseCaseError::Session(e) => (401, "unauthorized", e.to_string()),
        UseCaseError::Registration(e @ (RegistrationError::BadSignature | RegistrationError::Stale)) => {
            (401, "invalid_signature", e.to_string())
        }
        UseCaseError::Registration(e @ RegistrationError::Malformed(_)) => (400, "malformed_payload", e.to_string()),
        UseCaseError::Install(e) => {
            let status = match e {
                OAuthError::BadHmac | OAuthError::Stale => 401,
                OAuthError::BadState => 403,
                OAuthError::CodeReused => 409,
                OAuthError::BadShop | OAuthError::Missing(_) => 400,
            };
            if audience == Audience::Person {
                tracing::info!(%error, status, "install refused");
                return Reply::page(status, "Reclaim could not be installed", &e.to_string(), "");
            }
            (status, "install_refused", e.to_string())
        }
        UseCaseError::Forbidden => (403, "forbidden", error.to_string()),
        UseCaseError::BadRequest(message) => (400, "bad_request", message.clone()),
        UseCaseError::InvalidSettings(errors) => {
            let body = json!({ "error": "invalid_settings", "message": "settings refused; nothing was saved", "errors": errors });
            return Reply::json(400, &body);
        }
        UseCaseError::StaleVersion => {
            (409, "stale_version", "The settings changed since you loaded them; reload and try again.".to_owned())
        }
    };
    if status >= 500 {
        tracing::error!(%error, status, "request failed");
    } else {
        tracing::info!(%error, status, "request refused");
    }
    match audience {
        Audience::Machine => Reply::json(status, &json!({ "error": code, "message": message })),
        Audience::Person => {
            let title = if status >= 500 { "Something went wrong" } else { "This link does not work" };
            Reply::page(status, title, &message, "")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_contract() {
        let cases: Vec<(UseCaseError, u16)> = vec![
            (DeliveryError::BadSignature.into(), 401),
            (DeliveryError::MissingHeader("x-shopify-topic").into(), 400),
            (DeliveryError::MalformedPayload("eof".into()).into(), 400),
            (DeliveryError::TooLarge { limit: 1 }.into(), 413),
            (LinkError::Expired.into(), 410),
            (LinkError::Invalid.into(), 400),
            (PortError::Unavailable("ddb down at arn:aws:secret".into()).into(), 503),
        ];
        for (error, status) in cases {
            let reply = error_reply(&error, Audience::Machine);
            assert_eq!(reply.status, status, "{error}");
            assert!(!reply.body.contains("arn:aws"), "internals leak: {}", reply.body);
        }
    }

    #[test]
    fn pages_escape_text() {
        assert!(Reply::page(200, "<b>", "&", "").body.contains("&lt;b&gt;"));
    }
}
