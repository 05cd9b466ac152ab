//! The embedded app's page and assets: `GET /app` (the `application_url` Shopify opens inside the
//! admin) and `GET /app/assets/{file}`.
//!
//! The page is a shell: the `shopify-api-key` meta tag and App Bridge's script first (Shopify's
//! CDN in production, the local stand-in in the local stack), then the app's fingerprinted script
//! and styles, embedded into this binary at build time (`build.rs`). The app's data comes from the
//! admin API with App Bridge's ID tokens, so the page itself carries nothing of the shop. Its CSP
//! lets only the shop's own admin frame it (`frame-ancestors https://{shop}
//! https://admin.shopify.com`); the shop in the query string is parsed as a shop domain, and
//! anything else leaves only the admin's own origin.

use reclaim_core::model::ShopDomain;
use reclaim_core::web::{HttpRequest, Reply};

mod built {
    include!(concat!(env!("OUT_DIR"), "/app_assets.rs"));
}

/// Where the app's assets are served from.
const ASSET_PREFIX: &str = "/app/assets/";

/// The page Shopify opens in the admin.
pub fn page(request: &HttpRequest, api_key: &str, app_bridge_url: &str) -> Reply {
    let Some((script, styles)) = built::BUILT else {
        return Reply::page(503, "Reclaim's app is not built", "Run `make app` and build the function again.", "");
    };
    let shop = request.query_param("shop").and_then(|shop| ShopDomain::parse(&shop).ok());
    let frame_ancestors = match &shop {
        Some(shop) => format!("https://{shop} https://admin.shopify.com"),
        None => "https://admin.shopify.com".to_owned(),
    };
    let attribute =
        |text: &str| text.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;");
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"shopify-api-key\" content=\"{api_key}\">\
         <script src=\"{app_bridge}\"></script>\
         <link rel=\"stylesheet\" href=\"{ASSET_PREFIX}{styles}\">\
         <title>Reclaim</title></head>\
         <body><div id=\"root\"></div><script type=\"module\" src=\"{ASSET_PREFIX}{script}\"></script></body></html>\n",
        api_key = attribute(api_key),
        app_bridge = attribute(app_bridge_url),
    );
    // Only App Bridge's own directory on the CDN, not the whole host: merchants can upload files
    // to cdn.shopify.com. A relative URL (the local stand-in) is covered by 'self'.
    let app_bridge_source = url::Url::parse(app_bridge_url)
        .ok()
        .filter(|url| url.scheme() == "https")
        .and_then(|url| url.join("./").ok())
        .map(|directory| directory.to_string())
        .unwrap_or_default();
    let csp = format!(
        "default-src 'self'; script-src 'self' {app_bridge_source}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: https:; connect-src 'self' https://*.shopify.com; \
         frame-ancestors {frame_ancestors}; base-uri 'none'; object-src 'none'; form-action 'self'"
    );
    Reply {
        status: 200,
        headers: vec![
            ("content-type", "text/html; charset=utf-8".into()),
            ("cache-control", "no-store".into()),
            ("content-security-policy", csp),
            ("referrer-policy", "strict-origin-when-cross-origin".into()),
            ("x-content-type-options", "nosniff".into()),
        ],
        body,
    }
}

/// One of the app's assets: fingerprinted, so cached for a year; anything else is 404.
pub fn asset(request: &HttpRequest) -> Reply {
    let name = request.path.strip_prefix(ASSET_PREFIX).unwrap_or_default();
    match built::ASSETS.iter().find(|(asset, _, _)| *asset == name) {
        Some((_, content_type, content)) => Reply {
            status: 200,
            headers: vec![
                ("content-type", (*content_type).into()),
                ("cache-control", "public, max-age=31536000, immutable".into()),
                ("x-content-type-options", "nosniff".into()),
            ],
            body: (*content).to_owned(),
        },
        None => Reply::json(404, &serde_json::json!({ "error": "not_found", "message": "no such asset" })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path_and_query: &str) -> HttpRequest {
        let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
        HttpRequest {
            method: http::Method::GET,
            path: path.into(),
            query: (!query.is_empty()).then(|| query.into()),
            headers: Default::default(),
            body: Vec::new(),
        }
    }

    fn header<'a>(reply: &'a Reply, name: &str) -> &'a str {
        reply.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str()).unwrap_or_default()
    }

    const NOT_BUILT: &str = "the app is not built: run `make app` (make test does)";
    const CDN: &str = "https://cdn.shopify.com/shopifycloud/app-bridge.js";

    #[test]
    fn the_page_loads_app_bridge_first_and_only_the_shops_admin_may_frame_it() {
        let (script, styles) = built::BUILT.expect(NOT_BUILT);
        let reply = page(&get("/app?shop=demo-store.myshopify.com&host=abc&embedded=1"), "key-1", CDN);
        assert_eq!(reply.status, 200);
        let csp = header(&reply, "content-security-policy");
        assert!(csp.contains("frame-ancestors https://demo-store.myshopify.com https://admin.shopify.com;"), "{csp}");
        assert!(
            csp.contains("script-src 'self' https://cdn.shopify.com/shopifycloud/;"),
            "only App Bridge's directory: {csp}"
        );
        let body = &reply.body;
        assert!(body.contains(r#"<meta name="shopify-api-key" content="key-1">"#));
        let bridge = body.find(CDN).unwrap();
        assert!(bridge < body.find(script).unwrap() && bridge < body.find(styles).unwrap(), "App Bridge first");
        assert_eq!(header(&reply, "cache-control"), "no-store");
    }

    #[test]
    fn a_shop_that_is_not_a_shop_domain_frames_nothing_and_is_never_echoed() {
        built::BUILT.expect(NOT_BUILT);
        for hostile in ["evil.example", "x.myshopify.com%20https://evil.example", "%22%3E%3Cscript%3E"] {
            let reply = page(&get(&format!("/app?shop={hostile}")), "key", CDN);
            let csp = header(&reply, "content-security-policy");
            assert!(csp.contains("frame-ancestors https://admin.shopify.com;"), "{hostile}: {csp}");
            assert!(!csp.contains("evil") && !reply.body.contains("evil"), "{hostile}");
        }
    }

    #[test]
    fn assets_are_fingerprinted_and_cached_and_nothing_else_is_served() {
        assert_eq!(built::ASSETS.len(), 2, "{NOT_BUILT}");
        for (name, content_type, _) in built::ASSETS {
            let reply = asset(&get(&format!("/app/assets/{name}")));
            assert_eq!(reply.status, 200);
            assert_eq!(header(&reply, "content-type"), *content_type);
            assert_eq!(header(&reply, "cache-control"), "public, max-age=31536000, immutable");
        }
        for missing in ["/app/assets/", "/app/assets/../Cargo.toml", "/app/assets/app.js", "/app/assets/manifest.json"]
        {
            assert_eq!(asset(&get(missing)).status, 404, "{missing}");
        }
    }
}
