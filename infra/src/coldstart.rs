//! Cold start and memory of the function binaries, measured the way Lambda runs them: each binary
//! is started with `AWS_LAMBDA_RUNTIME_API` pointing at a local stand-in of the Lambda Runtime
//! API (`GET …/invocation/next`, `POST …/invocation/{id}/response`), handed one API Gateway
//! HTTP API (v2) request, and timed from `exec` to its posted response. The request is one the
//! function refuses before any AWS call (a forged webhook, an unsigned admin call, …), so the
//! figure is process start + runtime + configuration + handler, not the network. Peak RSS is
//! the process's `VmHWM`.

use anyhow::{Context, bail};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// One function to measure: its binary and the request it gets.
#[derive(Debug, Clone)]
pub struct Probe {
    pub binary: String,
    pub method: &'static str,
    pub path: &'static str,
    pub query: &'static str,
    pub headers: Vec<(&'static str, &'static str)>,
    pub body: &'static str,
}

/// The HTTP functions, each with a request it answers without touching AWS.
pub fn probes() -> Vec<Probe> {
    let probe = |binary: &str, method, path, query, headers: Vec<(&'static str, &'static str)>, body| Probe {
        binary: binary.to_owned(),
        method,
        path,
        query,
        headers,
        body,
    };
    let forged = vec![
        ("x-shopify-topic", "checkouts/update"),
        ("x-shopify-hmac-sha256", "Zm9yZ2Vk"),
        ("x-shopify-shop-domain", "cold-start.myshopify.com"),
        ("x-shopify-webhook-id", "cold-start-1"),
        ("content-type", "application/json"),
    ];
    vec![
        probe("webhooks", "POST", "/webhooks/shopify", "", forged, r#"{"token":"t"}"#),
        probe("links", "GET", "/r/not-a-token", "", vec![], ""),
        probe("admin-api", "GET", "/admin/settings", "", vec![], ""),
        probe("storefront-api", "GET", "/proxy/settings", "shop=cold-start.myshopify.com", vec![], ""),
        probe("auth", "GET", "/auth", "shop=evil.example.com", vec![], ""),
    ]
}

/// What one run measured.
#[derive(Debug, Clone)]
pub struct Measurement {
    pub binary: String,
    /// From `exec` to the first `GET …/next`: process start, runtime and configuration.
    pub init: Duration,
    /// From `exec` to the posted response of the first event.
    pub first_event: Duration,
    /// Peak resident set size, in KiB.
    pub peak_rss_kib: u64,
    /// The HTTP status the function answered.
    pub status: u16,
}

#[derive(Default)]
struct Runtime {
    event: Value,
    next_at: Option<Instant>,
    response: Option<(Instant, Value)>,
    handed_out: bool,
}

type Shared = (Arc<Mutex<Runtime>>, Arc<Notify>);

async fn next(State((runtime, _)): State<Shared>) -> axum::response::Response {
    let (event, first) = {
        let mut state = runtime.lock().unwrap();
        state.next_at.get_or_insert_with(Instant::now);
        let first = !state.handed_out;
        state.handed_out = true;
        (state.event.clone(), first)
    };
    if !first {
        // One event per process: park the runtime until it is killed.
        std::future::pending::<()>().await;
    }
    let deadline = (chrono::Utc::now() + chrono::Duration::seconds(30)).timestamp_millis().to_string();
    let mut headers = HeaderMap::new();
    headers.insert("lambda-runtime-aws-request-id", "cold-start-request".parse().unwrap());
    headers.insert("lambda-runtime-deadline-ms", deadline.parse().unwrap());
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:123456789012:function:cold-start".parse().unwrap(),
    );
    headers.insert("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000".parse().unwrap());
    (headers, axum::Json(event)).into_response()
}

async fn respond(
    State((runtime, done)): State<Shared>,
    Path(_id): Path<String>,
    body: axum::body::Bytes,
) -> &'static str {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    runtime.lock().unwrap().response = Some((Instant::now(), value));
    done.notify_one();
    "{}"
}

async fn init_error(State((runtime, done)): State<Shared>, body: axum::body::Bytes) -> &'static str {
    let text = String::from_utf8_lossy(&body).into_owned();
    runtime.lock().unwrap().response = Some((Instant::now(), json!({ "init_error": text })));
    done.notify_one();
    "{}"
}

/// The API Gateway HTTP API (payload 2.0) event of a probe.
fn event(probe: &Probe) -> Value {
    let headers: serde_json::Map<String, Value> =
        probe.headers.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
    json!({
        "version": "2.0",
        "routeKey": format!("{} {}", probe.method, probe.path),
        "rawPath": probe.path,
        "rawQueryString": probe.query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "coldstart", "domainName": "coldstart.example",
            "domainPrefix": "coldstart", "requestId": "cold-start-request", "routeKey": format!("{} {}", probe.method, probe.path),
            "stage": "$default", "time": "21/Nov/2026:00:00:00 +0000", "timeEpoch": 1_795_219_200_000_u64,
            "http": { "method": probe.method, "path": probe.path, "protocol": "HTTP/1.1",
                      "sourceIp": "127.0.0.1", "userAgent": "reclaim-cold-start" }
        },
        "body": probe.body,
        "isBase64Encoded": false
    })
}

/// The environment `template.yaml` gives every function, with local values.
fn environment(runtime_api: &str) -> Vec<(&'static str, String)> {
    [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api),
        ("AWS_LAMBDA_FUNCTION_NAME", "cold-start"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "cold-start"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "cold-start"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("RUST_LOG", "error"),
        ("TABLE_NAME", "reclaim"),
        ("SCHEDULE_GROUP", "reclaim-checks"),
        ("SCHEDULER_ROLE_ARN", "arn:aws:iam::123456789012:role/scheduler"),
        ("CHECK_FUNCTION_ARN", "arn:aws:lambda:us-east-1:123456789012:function:recovery-check"),
        ("SHOPIFY_API_SECRET", "cold-start-secret"),
        ("SHOPIFY_API_KEY", "cold-start-key"),
        ("LINK_SIGNING_SECRET", "cold-start-link-secret-0123456789abcdef"),
        ("PUBLIC_BASE_URL", "https://reclaim.example"),
        ("SENDER_EMAIL", "Reclaim <recover@reclaim.example>"),
        ("KMS_KEY_ID", "alias/reclaim-tokens"),
        ("JOBS_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/reclaim-jobs"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect()
}

/// Peak RSS of a running process, in KiB (Linux `VmHWM`).
fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                line.strip_prefix("VmHWM:").map(|v| v.trim().trim_end_matches(" kB").trim().to_owned())
            })
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Starts `binary` once against a fresh runtime stand-in and measures its first event.
pub async fn measure(dir: &FsPath, probe: &Probe) -> anyhow::Result<Measurement> {
    let runtime = Arc::new(Mutex::new(Runtime { event: event(probe), ..Runtime::default() }));
    let done = Arc::new(Notify::new());
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(respond))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(respond))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state((runtime.clone(), done.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?.to_string();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let binary: PathBuf = dir.join(&probe.binary);
    if !binary.exists() {
        bail!("{} not found: build the functions first (`cargo build --release`)", binary.display());
    }
    let started = Instant::now();
    let mut child = tokio::process::Command::new(&binary)
        .env_clear()
        .envs(environment(&address))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let pid = child.id().unwrap_or_default();
    tokio::time::timeout(Duration::from_secs(10), done.notified())
        .await
        .with_context(|| format!("{} did not answer within 10 s", probe.binary))?;
    let rss = peak_rss_kib(pid);
    child.kill().await.ok();
    server.abort();
    let state = runtime.lock().unwrap();
    let (answered_at, response) = state.response.clone().context("no response")?;
    if response.get("init_error").is_some() {
        bail!("{} failed to start: {}", probe.binary, response["init_error"]);
    }
    Ok(Measurement {
        binary: probe.binary.clone(),
        init: state.next_at.map(|t| t - started).unwrap_or_default(),
        first_event: answered_at - started,
        peak_rss_kib: rss,
        status: response["statusCode"].as_u64().unwrap_or(0) as u16,
    })
}

/// Measures every function `runs` times and prints the medians (and the worst peak RSS).
pub async fn run(dir: &FsPath, runs: usize) -> anyhow::Result<Vec<Measurement>> {
    let mut medians = Vec::new();
    println!("{:<16} {:>10} {:>14} {:>12} {:>7}", "function", "init", "first event", "peak RSS", "status");
    for probe in probes() {
        let mut all = Vec::with_capacity(runs);
        for _ in 0..runs.max(1) {
            all.push(measure(dir, &probe).await?);
        }
        all.sort_by_key(|m| m.first_event);
        let mut median = all[all.len() / 2].clone();
        median.peak_rss_kib = all.iter().map(|m| m.peak_rss_kib).max().unwrap_or(0);
        println!(
            "{:<16} {:>8.1} ms {:>11.1} ms {:>9.1} MB {:>7}",
            median.binary,
            median.init.as_secs_f64() * 1000.0,
            median.first_event.as_secs_f64() * 1000.0,
            median.peak_rss_kib as f64 / 1024.0,
            median.status
        );
        medians.push(median);
    }
    Ok(medians)
}
