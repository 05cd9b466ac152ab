//! The framework-neutral HTTP types shared by the Lambda handlers and the local gateway: the
//! request every handler takes ([`HttpRequest`]), the routes each function declares ([`Route`];
//! the local gateway serves exactly these, and a test holds them equal to `template.yaml`), the
//! response ([`Reply`]) and the one mapping from a use-case error to a response. Responses never
//! carry internals, secrets or personal data: the detail goes to the log, the caller gets a
//! stable code and message.

use crate::links::LinkError;
use crate::platform::DeliveryError;
use crate::platform::oauth::OAuthError;
use crate::ports::PortError;
use crate::push::RegistrationError;
use crate::usecases::UseCaseError;
use serde_json::json;

/// An HTTP request, as every HTTP handler takes it.
#[derive(Debug, Clone, Default)]
pub struct HttpRequest {
    pub method: http::Method,
    /// The path without the query, e.g. `/r/abc`.
    pub path: String,
    /// The raw query string, without `?`.
    pub query: Option<String>,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// A header's value, if present and text.
    pub fn header(&self, name: impl http::header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The query's decoded pairs, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.query.as_deref().unwrap_or_default().as_bytes()).into_owned().collect()
    }

    /// The first value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// One route of the HTTP API: a method and a path template in API Gateway's syntax, where a
/// segment `{name}` matches any one non-empty segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
}

impl Route {
    pub const fn new(method: &'static str, path: &'static str) -> Self {
        Self { method, path }
    }

    /// The path parameters, in order, when a request with `method` and `path` takes this route.
    pub fn matches<'a>(&self, method: &http::Method, path: &'a str) -> Option<Vec<&'a str>> {
        if method.as_str() != self.method {
            return None;
        }
        let mut template = self.path.split('/');
        let mut actual = path.split('/');
        let mut parameters = Vec::new();
        loop {
            match (template.next(), actual.next()) {
                (None, None) => return Some(parameters),
                (Some(expected), Some(segment)) if expected.starts_with('{') && expected.ends_with('}') => {
                    if segment.is_empty() {
                        return None;
                    }
                    parameters.push(segment);
                }
                (Some(expected), Some(segment)) if expected == segment => {}
                _ => return None,
            }
        }
    }
}

/// The route of `routes` that a request takes, with its path parameters.
pub fn find_route<'r, 'a>(routes: &'r [Route], request: &'a HttpRequest) -> Option<(&'r Route, Vec<&'a str>)> {
    routes.iter().find_map(|route| route.matches(&request.method, &request.path).map(|params| (route, params)))
}

/// The JSON 404 of a machine-facing function.
pub fn no_such_route() -> Reply {
    Reply::json(404, &json!({ "error": "not_found", "message": "no such route" }))
}

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
        UseCaseError::Port(
            PortError::Rejected(_) | PortError::Unavailable(_) | PortError::Ambiguous(_) | PortError::Gone(_),
        ) => (503, "unavailable", "Please try again later.".to_owned()),
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
        UseCaseError::TooManyRequests => (429, "rate_limited", "Too many requests; try again in a minute.".to_owned()),
        UseCaseError::CartNotSeen => (409, "cart_not_seen", error.to_string()),
        UseCaseError::CartHasContact => (409, "cart_has_contact", error.to_string()),
        UseCaseError::BadRequest(message) => (400, "bad_request", message.clone()),
        UseCaseError::InvalidSettings(errors) => {
            let body = json!({ "error": "invalid_settings", "message": "settings refused; nothing was saved", "errors": errors });
            return Reply::json(400, &body);
        }
        UseCaseError::StaleVersion => {
            (409, "stale_version", "The settings changed since you loaded them; reload and try again.".to_owned())
        }
        UseCaseError::DeliveryInProgress => {
            (409, "in_progress", "This delivery is being processed; retry later.".to_owned())
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

    #[test]
    fn routes_match_their_method_and_every_segment() {
        let route = Route::new("GET", "/r/{token}");
        assert_eq!(route.matches(&http::Method::GET, "/r/abc"), Some(vec!["abc"]));
        for (method, path) in [
            (http::Method::POST, "/r/abc"),
            (http::Method::GET, "/r/"),
            (http::Method::GET, "/r"),
            (http::Method::GET, "/r/abc/def"),
            (http::Method::GET, "/s/abc"),
        ] {
            assert_eq!(route.matches(&method, path), None, "{method} {path}");
        }
        let fixed = Route::new("POST", "/admin/sender-health/resume");
        assert_eq!(fixed.matches(&http::Method::POST, "/admin/sender-health/resume"), Some(vec![]));
        assert_eq!(fixed.matches(&http::Method::POST, "/admin/sender-health"), None);
    }
}
